import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import type { Log } from '../shared/log.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { DEFAULT_BATCH_PRICES } from '../shared/pricing/batch-prices.js';
import type { PriceTable } from '../shared/pricing/pricing.js';
import { resultKeys } from '../shared/run/bucket-layout.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { noMetrics, type RunMetrics } from '../shared/run-metrics.js';
import { cleanUpGemini } from './gemini-cleanup.js';
import { buildManifest, type Manifest } from './manifest.js';
import { type RunFinishedDetail, runFinishedDetail } from './run-finished-event.js';
import { readRunRecords } from './run-records.js';
import { decideStatus, type RunStatus } from './run-status.js';

export type { Manifest } from './manifest.js';
export type { RunFinishedDetail } from './run-finished-event.js';

export interface FinalizeDeps {
  readonly store: ObjectStore;
  /** Created only when there is something to clean up on Gemini, so an empty input needs no key. */
  readonly gemini: () => Promise<GeminiBatchApi>;
  /** Puts the run-finished event on the bus. */
  readonly publish: (detail: RunFinishedDetail) => Promise<void>;
  readonly inputPrefix: string;
  /** @default DEFAULT_BATCH_PRICES */
  readonly prices?: PriceTable;
  readonly now?: () => Date;
  readonly log?: Log;
  /** Where the run's counts, tokens and cost go as metrics. @default noMetrics */
  readonly metrics?: RunMetrics;
}

export interface FinalizedRun {
  readonly status: RunStatus;
  readonly manifest: string;
}

/**
 * Ends every run, successful or not: decides its status, cancels jobs a failed run leaves running,
 * deletes the files the run put on Gemini (keeping result files that were never collected), writes
 * `manifest.json` last — its presence means the run is over — and announces the run on the event bus.
 */
export async function finalizeRun(run: RunState, deps: FinalizeDeps): Promise<FinalizedRun> {
  const { store } = deps;
  const records = await readRunRecords(store, run);
  const verdict = decideStatus(run, records);
  const cleanup = await cleanUpGemini({ records, gemini: deps.gemini, log: deps.log });
  const manifest = buildManifest({
    run,
    records,
    verdict,
    cleanup,
    prices: deps.prices ?? DEFAULT_BATCH_PRICES,
    inputPrefix: deps.inputPrefix,
    finishedAt: deps.now?.() ?? new Date(),
  });
  const key = resultKeys(run.key, run.runId, deps.inputPrefix).manifest;
  await store.putJson(run.bucket, key, manifest);
  await deps.publish(runFinishedDetail(run, manifest));
  // Last, once nothing can fail: a Finalize that Step Functions retries reports the run once.
  reportRunMetrics(manifest, deps.metrics ?? noMetrics);
  return { status: verdict.status, manifest: key };
}

/**
 * The run's line in the dashboard, from its manifest: the run and its requests by the run's
 * `status`, and per `model` the tokens Gemini reported (output counts thinking, billed as output)
 * and their cost at batch prices (a model without a price reports no cost rather than 0).
 */
export function reportRunMetrics(manifest: Manifest, metrics: RunMetrics): void {
  const byStatus = { status: manifest.status };
  metrics.add('RunsFinished', 1, byStatus);
  metrics.add('RequestsSucceeded', manifest.counts.succeeded, byStatus);
  metrics.add('RequestsFailed', manifest.counts.failed, byStatus);
  metrics.add('RequestsRejected', manifest.counts.rejected, byStatus);
  for (const [model, usage] of Object.entries(manifest.usage.byModel)) {
    const byModel = { model };
    metrics.add('InputTokens', usage.promptTokens, byModel);
    metrics.add('OutputTokens', usage.outputTokens + usage.thoughtsTokens, byModel);
    const cost = manifest.cost.byModel[model];
    if (cost) metrics.add('EstimatedCostUsd', cost.total, byModel);
  }
}
