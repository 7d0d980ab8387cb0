import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import type { Log } from '../shared/log.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { DEFAULT_BATCH_PRICES } from '../shared/pricing/batch-prices.js';
import type { PriceTable } from '../shared/pricing/pricing.js';
import { resultKeys } from '../shared/run/bucket-layout.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { cleanUpGemini } from './gemini-cleanup.js';
import { buildManifest } from './manifest.js';
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
  return { status: verdict.status, manifest: key };
}
