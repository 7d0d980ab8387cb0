/**
 * `manifest.json`: what a run read, sent, got back and cost, what it left behind and where its
 * outputs are, built from the run's records once everything else is done.
 */
import { s3Uri } from '../shared/object-store/object-store.js';
import { type CostDates, type CostEstimate, estimateCost } from '../shared/pricing/cost-estimate.js';
import type { PriceTable } from '../shared/pricing/pricing.js';
import { resultKeys } from '../shared/run/bucket-layout.js';
import type { RunState } from '../shared/run/state-payloads.js';
import {
  emptyModelUsage,
  type ModelUsage,
  type RunCostEstimate,
  type RunPlan,
} from '../shared/run/work-records.js';
import type { CleanupReport } from './gemini-cleanup.js';
import type { RunRecords } from './run-records.js';
import { runRisks } from './run-risks.js';
import type { RunStatus, RunVerdict } from './run-status.js';

/**
 * The run's cost, estimated before and measured after: `total` and the fields beside it price the
 * usage Gemini reported (`actualUsd` is `total`); `estimatedUsd` and `estimate` are what Prepare
 * expected before any job existed, and the cap the run was held to.
 */
export interface ManifestCost extends CostEstimate {
  readonly actualUsd: number;
  /** Absent when the run ended before Prepare wrote its plan, or for a plan without an estimate. */
  readonly estimatedUsd?: number;
  readonly estimate?: RunCostEstimate;
}

/** `results/<stem>/<runId>/manifest.json`: written last, so its presence means the run is over. */
export interface Manifest {
  readonly runId: string;
  readonly status: RunStatus;
  /** Why the run did not fully succeed, in words a person can act on. */
  readonly reason?: string;
  readonly input: {
    readonly bucket: string;
    readonly key: string;
    readonly versionId?: string;
    /** The ETag of the upload the run read: exactly that version of the file, never a later one. */
    readonly etag?: string;
    readonly sizeBytes?: number;
  };
  readonly counts: {
    readonly lines: number;
    readonly accepted: number;
    readonly rejected: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly missingResults: number;
    readonly duplicateResults: number;
    readonly unknownResults: number;
    /** Answers Gemini returned that no key received, kept in unmatched.jsonl. */
    readonly unmatchedResults: number;
    /**
     * Requests sent again in a later round — transient line errors (429, 5xx, timeouts) re-batched,
     * and the requests of expired or stuck jobs resubmitted — counted once per resend.
     */
    readonly linesRetried: number;
    /** The rounds of resends the run made (0: every request was sent once). */
    readonly retryRounds: number;
  };
  readonly usage: { readonly byModel: Readonly<Record<string, ModelUsage>>; readonly total: ModelUsage };
  /**
   * What the run cost at batch prices, estimated from the usage Gemini reported, with the price
   * entries used (model, effective dates, source) and the instant that picked them; beside it, the
   * estimate made before any job existed and the run's cap (see {@link ManifestCost}).
   */
  readonly cost: ManifestCost;
  readonly jobs: readonly {
    readonly chunk: number;
    readonly kind: string;
    readonly model: string;
    readonly requests: number;
    readonly batchName?: string;
    /** Whether the requests went inline in the create call (answers in the operation) or as a file. */
    readonly inline?: boolean;
    readonly state?: string;
    /** The job's error; for a chunk Gemini refused to create a job for, that refusal (no `batchName`). */
    readonly error?: { readonly code?: number; readonly message: string };
    readonly recovered?: boolean;
    /** Other jobs found under the chunk's display name at recovery: cancelled, never collected. */
    readonly duplicates?: readonly string[];
  }[];
  /**
   * What this run could not rule out, in words a person can act on: jobs that may exist on Gemini
   * without the run knowing them. Absent when there is none.
   */
  readonly risks?: readonly string[];
  readonly timings: {
    readonly uploadedAt: string;
    readonly preparedAt?: string;
    readonly collectedAt?: string;
    readonly finishedAt: string;
  };
  readonly outputs: {
    readonly results?: string;
    readonly rejected?: string;
    /** Answers Gemini returned that no key received, as they came (present once results are collected). */
    readonly unmatched?: string;
    readonly manifest: string;
  };
  readonly cleanup: CleanupReport;
}

export interface ManifestParams {
  readonly run: RunState;
  readonly records: RunRecords;
  readonly verdict: RunVerdict;
  readonly cleanup: CleanupReport;
  readonly prices: PriceTable;
  readonly inputPrefix: string;
  readonly finishedAt: Date;
}

/** The manifest of a run: its records summed up, each job with its ledger's and last poll's state. */
export function buildManifest({
  run,
  records,
  verdict,
  cleanup,
  prices,
  inputPrefix,
  finishedAt,
}: ManifestParams): Manifest {
  const { plan, ledgers, poll, collected } = records;
  const keys = resultKeys(run.key, run.runId, inputPrefix);
  const jobsByChunk = new Map(poll?.jobs.map((job) => [job.chunk, job]));
  const ledgerByChunk = new Map(ledgers.map((ledger) => [ledger.chunk, ledger]));
  const usageByModel = collected?.usageByModel ?? {};
  const total = emptyModelUsage();
  for (const usage of Object.values(usageByModel)) {
    for (const field of Object.keys(total) as (keyof ModelUsage)[]) total[field] += usage[field];
  }
  return {
    runId: run.runId,
    status: verdict.status,
    reason: verdict.reason,
    input: {
      bucket: run.bucket,
      key: run.key,
      versionId: run.versionId,
      etag: run.etag,
      sizeBytes: run.sizeBytes,
    },
    counts: {
      lines: plan?.lineCount ?? 0,
      accepted: plan?.acceptedCount ?? 0,
      rejected: plan?.rejectedCount ?? 0,
      succeeded: collected?.succeededCount ?? 0,
      failed: collected?.failedCount ?? 0,
      missingResults: collected?.missingCount ?? 0,
      duplicateResults: collected?.duplicateResultCount ?? 0,
      unknownResults: collected?.unknownResultCount ?? 0,
      unmatchedResults: collected?.unmatchedCount ?? 0,
      ...retryCounts(plan),
    },
    usage: { byModel: usageByModel, total },
    cost: manifestCost(estimateCost(usageByModel, prices, costDates(run, records, finishedAt)), plan),
    jobs: (plan?.chunks ?? []).map((chunk) => {
      const job = jobsByChunk.get(chunk.index);
      const ledger = ledgerByChunk.get(chunk.index);
      return {
        chunk: chunk.index,
        kind: chunk.kind,
        model: chunk.model,
        requests: chunk.requestCount,
        batchName: ledger?.batchName,
        inline: ledger?.batchName ? ledger.inline : undefined,
        state: job?.state,
        // A chunk Gemini refused to create a job for has no poll record: its refusal is its error.
        error: job ? job.error : ledger?.createError,
        recovered: ledger?.recovered || undefined,
        duplicates: ledger?.duplicates?.length ? ledger.duplicates : undefined,
      };
    }),
    risks: runRisks(records),
    timings: {
      uploadedAt: run.uploadedAt,
      preparedAt: plan?.preparedAt,
      collectedAt: collected?.collectedAt,
      finishedAt: finishedAt.toISOString(),
    },
    outputs: {
      results: collected ? s3Uri(run.bucket, keys.results) : undefined,
      rejected: plan ? s3Uri(run.bucket, keys.rejected) : undefined,
      unmatched: collected ? s3Uri(run.bucket, keys.unmatched) : undefined,
      manifest: s3Uri(run.bucket, keys.manifest),
    },
    cleanup,
  };
}

/** The actual cost with the plan's estimate beside it. */
function manifestCost(actual: CostEstimate, plan: RunPlan | undefined): ManifestCost {
  const estimate = plan?.estimate;
  return {
    ...actual,
    actualUsd: actual.total,
    estimatedUsd: estimate?.estimatedUsd,
    estimate,
  };
}

/** What the plan's retry chunks add up to: requests sent again, and in how many rounds. */
function retryCounts(plan: RunPlan | undefined): { linesRetried: number; retryRounds: number } {
  const retries = (plan?.chunks ?? []).filter((chunk) => (chunk.round ?? 0) > 0);
  return {
    linesRetried: retries.reduce((sum, chunk) => sum + chunk.requestCount, 0),
    retryRounds: Math.max(0, ...retries.map((chunk) => chunk.round ?? 0)),
  };
}

/** A timestamp from a run record, or undefined when it is missing or not a date. */
function dateOf(text: string | undefined): Date | undefined {
  const date = text ? new Date(text) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/**
 * The instant that picks each model's price. Gemini bills a batch request when it processes it,
 * somewhere between the job's creation and its end, and the upload is not that time: a job may
 * queue for up to 48 hours, and Submit may wait hours on quota. The last poll saw the jobs end (at
 * most one poll interval, 12 minutes, later), so its time prices the run, or Collect's when there
 * is no poll record; the upload time marks the start, so a price change in between is noted.
 */
function costDates(run: RunState, { poll, collected }: RunRecords, finishedAt: Date): CostDates {
  const at = dateOf(poll?.polledAt) ?? dateOf(collected?.collectedAt) ?? finishedAt;
  const since = dateOf(run.uploadedAt);
  return since ? { at, since } : { at };
}
