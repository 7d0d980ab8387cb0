import { type FoundBatch, type GeminiBatchApi, isTerminalState } from '../shared/gemini/gemini-batch-api.js';
import { type ObjectStore, s3Uri } from '../shared/object-store/object-store.js';
import { resultKeys } from '../shared/run/bucket-layout.js';
import {
  readCollectSummary,
  readLedgers,
  readPlan,
  readPollStatus,
} from '../shared/run/read-work-records.js';
import { describeFailure, type RunState } from '../shared/run/state-payloads.js';
import {
  type CollectSummary,
  emptyModelUsage,
  type JobLedger,
  type ModelUsage,
  type PollStatus,
  type RunPlan,
  type RunStatus,
  recoverySearchSince,
} from '../shared/run/work-records.js';
import {
  type CostDates,
  type CostEstimate,
  DEFAULT_BATCH_PRICES,
  estimateCost,
  type PriceTable,
} from './pricing.js';

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
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface FinalizedRun {
  readonly status: RunStatus;
  readonly manifest: string;
}

/** The event's `detail`: enough to act on without reading the manifest. */
export interface RunFinishedDetail {
  readonly runId: string;
  readonly status: RunStatus;
  readonly reason?: string;
  readonly input: string;
  readonly manifest: string;
  /** Absent when the run ended before results were collected. */
  readonly results?: string;
  readonly counts: Manifest['counts'];
}

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
   * entries used (model, effective dates, source) and the instant that picked them.
   */
  readonly cost: CostEstimate;
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
  readonly cleanup: {
    readonly cancelledJobs: readonly string[];
    readonly deletedFiles: readonly string[];
    readonly problems: readonly string[];
  };
}

function decideStatus(
  run: RunState,
  plan: RunPlan | undefined,
  poll: PollStatus | undefined,
  collected: CollectSummary | undefined,
  ledgers: readonly JobLedger[] = [],
): { status: RunStatus; reason?: string } {
  // A run that ended early still had its finished jobs collected (Stop Batch Jobs, then Collect).
  const salvaged = collected
    ? `; the jobs that had finished were collected (${collected.succeededCount} answers), the others cancelled`
    : '';
  const failure = run.failure ? `; then ${describeFailure(run.failure)}` : '';
  if (run.salvage?.status === 'ABORTED') {
    const cause = run.salvage.cause ? ` (${run.salvage.cause})` : '';
    return { status: 'CANCELLED', reason: `the run was cancelled${cause}${salvaged}${failure}` };
  }
  if (run.salvage?.status === 'TIMED_OUT') {
    return {
      status: 'FAILED',
      reason: `execution ${run.salvage.executionName} timed out${salvaged}${failure}`,
    };
  }
  if (run.failure) return { status: 'FAILED', reason: `${describeFailure(run.failure)}${salvaged}` };
  if (!plan || !collected)
    return { status: 'FAILED', reason: 'the run ended before its results were collected' };
  const unsuccessful = (poll?.jobs ?? []).filter((job) => job.state !== 'BATCH_STATE_SUCCEEDED');
  // A job whose requests were resubmitted is not a problem by itself: its keys' lines are the retry's.
  const resubmitted = new Set(plan.chunks.map((chunk) => chunk.retryOf).filter((of) => of !== undefined));
  const jobProblems = unsuccessful
    .filter((job) => !resubmitted.has(job.chunk))
    .map(
      (job) => `batch job ${job.batchName} ended ${job.state}${job.error ? `: ${job.error.message}` : ''}`,
    );
  for (const ledger of ledgers) {
    if (!ledger.createError || ledger.batchName) continue;
    const status = ledger.createError.code !== undefined ? ` (HTTP ${ledger.createError.code})` : '';
    jobProblems.push(
      `Gemini refused to create the batch job of chunk ${ledger.chunk}${status}; its requests were not sent`,
    );
  }
  const abandoned = poll?.abandonedChunks ?? [];
  if (abandoned.length > 0) {
    jobProblems.push(
      `Gemini refused the jobs of ${abandoned.length} chunk(s) (quota, 429) until the submit deadline; their requests were not sent`,
    );
  }
  const unmatched = collected.unmatchedCount ?? 0;
  if (unmatched > 0) {
    jobProblems.push(
      `${unmatched} answers Gemini returned could not be tied to a key (kept in unmatched.jsonl)`,
    );
  }
  if (collected.succeededCount === 0) {
    return {
      status: 'FAILED',
      reason: jobProblems.join('; ') || 'no request succeeded: every result is an error',
    };
  }
  if (collected.failedCount > 0 || plan.rejectedCount > 0) {
    const parts = [
      ...jobProblems,
      ...(collected.failedCount > 0
        ? [`${collected.failedCount} requests failed (see their error lines in results.jsonl)`]
        : []),
      ...(plan.rejectedCount > 0 ? [`${plan.rejectedCount} lines were rejected (see rejected.jsonl)`] : []),
    ];
    return { status: 'COMPLETED_WITH_ERRORS', reason: parts.join('; ') };
  }
  return { status: 'SUCCEEDED' };
}

/** What the plan's retry chunks add up to: requests sent again, and in how many rounds. */
function retryCounts(plan: RunPlan | undefined): { linesRetried: number; retryRounds: number } {
  const retries = (plan?.chunks ?? []).filter((chunk) => (chunk.round ?? 0) > 0);
  return {
    linesRetried: retries.reduce((sum, chunk) => sum + chunk.requestCount, 0),
    retryRounds: Math.max(0, ...retries.map((chunk) => chunk.round ?? 0)),
  };
}

/**
 * Ends every run, successful or not: cancels jobs a failed run leaves running, deletes the files
 * the run put on Gemini (keeping result files that were never collected), writes `manifest.json`
 * last — its presence means the run is over — and announces the run on the event bus.
 */
export async function finalizeRun(run: RunState, deps: FinalizeDeps): Promise<FinalizedRun> {
  const { store } = deps;
  const plan = await readPlan(store, run).catch(() => undefined);
  const ledgers: JobLedger[] = plan ? await readLedgers(store, run, plan) : [];
  const poll = await readPollStatus(store, run);
  const collected = await readCollectSummary(store, run);
  const { status, reason } = decideStatus(run, plan, poll, collected, ledgers);
  const cleanup = await cleanUpGemini(plan, ledgers, poll, collected !== undefined, deps);

  const keys = resultKeys(run.key, run.runId, deps.inputPrefix);
  const jobsByChunk = new Map(poll?.jobs.map((job) => [job.chunk, job]));
  const ledgerByChunk = new Map(ledgers.map((ledger) => [ledger.chunk, ledger]));
  const finishedAt = deps.now?.() ?? new Date();
  const total = emptyModelUsage();
  for (const usage of Object.values(collected?.usageByModel ?? {})) {
    for (const field of Object.keys(total) as (keyof ModelUsage)[]) total[field] += usage[field];
  }
  const manifest: Manifest = {
    runId: run.runId,
    status,
    ...(reason ? { reason } : {}),
    input: {
      bucket: run.bucket,
      key: run.key,
      ...(run.versionId ? { versionId: run.versionId } : {}),
      ...(run.etag ? { etag: run.etag } : {}),
      ...(run.sizeBytes !== undefined ? { sizeBytes: run.sizeBytes } : {}),
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
    usage: { byModel: collected?.usageByModel ?? {}, total },
    cost: estimateCost(
      collected?.usageByModel ?? {},
      deps.prices ?? DEFAULT_BATCH_PRICES,
      costDates(run, poll, collected, finishedAt),
    ),
    jobs: (plan?.chunks ?? []).map((chunk) => {
      const job = jobsByChunk.get(chunk.index);
      const ledger = ledgerByChunk.get(chunk.index);
      return {
        chunk: chunk.index,
        kind: chunk.kind,
        model: chunk.model,
        requests: chunk.requestCount,
        ...(ledger?.batchName ? { batchName: ledger.batchName } : {}),
        ...(ledger?.batchName && ledger.inline !== undefined ? { inline: ledger.inline } : {}),
        ...(job ? { state: job.state } : {}),
        ...(job?.error ? { error: job.error } : {}),
        ...(!job && ledger?.createError ? { error: ledger.createError } : {}),
        ...(ledger?.recovered ? { recovered: true } : {}),
        ...(ledger?.duplicates?.length ? { duplicates: ledger.duplicates } : {}),
      };
    }),
    ...withRisks(plan, ledgers),
    timings: {
      uploadedAt: run.uploadedAt,
      ...(plan ? { preparedAt: plan.preparedAt } : {}),
      ...(collected ? { collectedAt: collected.collectedAt } : {}),
      finishedAt: finishedAt.toISOString(),
    },
    outputs: {
      ...(collected ? { results: s3Uri(run.bucket, keys.results) } : {}),
      ...(plan ? { rejected: s3Uri(run.bucket, keys.rejected) } : {}),
      ...(collected ? { unmatched: s3Uri(run.bucket, keys.unmatched) } : {}),
      manifest: s3Uri(run.bucket, keys.manifest),
    },
    cleanup,
  };
  await store.putJson(run.bucket, keys.manifest, manifest);
  await deps.publish({
    runId: run.runId,
    status,
    ...(reason ? { reason } : {}),
    input: s3Uri(run.bucket, run.key),
    manifest: manifest.outputs.manifest,
    ...(manifest.outputs.results ? { results: manifest.outputs.results } : {}),
    counts: manifest.counts,
  });
  return { status, manifest: keys.manifest };
}

/**
 * The manifest's `risks`: jobs that may exist on Gemini unknown to the run. An OpenAI-format chunk
 * that got a job was created through the compat layer, which takes no display name: finding it
 * again after a crash rests on that layer listing batches and echoing `metadata`, which Google
 * does not document. A chunk created again after a lookup found nothing may have a second job,
 * unless a later lookup back to the same time found its jobs.
 */
function withRisks(plan: RunPlan | undefined, ledgers: readonly JobLedger[]): { risks?: string[] } {
  const risks: string[] = [];
  const byChunk = new Map(ledgers.map((ledger) => [ledger.chunk, ledger]));
  const compat = (plan?.chunks ?? []).filter(
    (chunk) => chunk.format === 'openai' && byChunk.get(chunk.index)?.batchName,
  );
  if (compat.length > 0) {
    risks.push(
      `chunk(s) ${compat.map((chunk) => chunk.index).join(', ')} went through Gemini's OpenAI-compatible batch layer, ` +
        'which takes no display name: each job carries its name in metadata.display_name, and finding a job again ' +
        'after Submit dies between creating and recording it rests on that layer listing batches and echoing their ' +
        'metadata, neither documented by Google; had such a lookup missed, the chunk would have been created again ' +
        '(its ledger records every such lookup) and the first job would run unrecorded',
    );
  }
  for (const ledger of ledgers) {
    const lookups = ledger.emptyLookups ?? [];
    // A later lookup, back to the same time, found the chunk's jobs and kept or cancelled each one.
    if (lookups.length === 0 || ledger.recovered) continue;
    const incomplete = lookups.find((lookup) => lookup.incomplete)?.incomplete;
    risks.push(
      `chunk ${ledger.chunk}: a create call's answer was lost and ${lookups.length} lookup(s) by display name ` +
        `found no job (listing back to ${lookups[0]?.since}${incomplete ? `; ${incomplete}` : ''}) before the chunk ` +
        `was created again: if the lost call made a job after all, a second job named "${ledger.displayName}" ` +
        'exists that this run neither collected nor cancelled',
    );
  }
  return risks.length > 0 ? { risks } : {};
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
function costDates(
  run: RunState,
  poll: PollStatus | undefined,
  collected: CollectSummary | undefined,
  finishedAt: Date,
): CostDates {
  const at = dateOf(poll?.polledAt) ?? dateOf(collected?.collectedAt) ?? finishedAt;
  const since = dateOf(run.uploadedAt);
  return since ? { at, since } : { at };
}

async function cleanUpGemini(
  plan: RunPlan | undefined,
  ledgers: readonly JobLedger[],
  poll: PollStatus | undefined,
  resultsCollected: boolean,
  deps: FinalizeDeps,
): Promise<Manifest['cleanup']> {
  const cancelledJobs: string[] = [];
  const deletedFiles: string[] = [];
  const problems: string[] = [];
  if (ledgers.length === 0) return { cancelledJobs, deletedFiles, problems };
  const stateOf = new Map(poll?.jobs.map((job) => [job.batchName, job.state]));
  const formatOf = new Map(plan?.chunks.map((chunk) => [chunk.index, chunk.format]));
  let gemini: GeminiBatchApi;
  try {
    gemini = await deps.gemini();
  } catch (error) {
    return {
      cancelledJobs,
      deletedFiles,
      problems: [`could not reach Gemini to clean up: ${(error as Error).message}`],
    };
  }
  const attempt = async (what: string, action: () => Promise<void>) => {
    try {
      await action();
      return true;
    } catch (error) {
      problems.push(`could not ${what}: ${(error as Error).message}`);
      deps.log?.('clean-up step failed', { what, error: (error as Error).message });
      return false;
    }
  };
  for (const ledger of ledgers) {
    const batchName = ledger.batchName;
    // Submit may have died between creating a job and recording it: look for any job under the
    // chunk's display name as Submit's recovery does (back to the creating time), and cancel each
    // one still running. A create Gemini refused (with no earlier outcome unknown) made nothing.
    const refused = ledger.createError !== undefined && !ledger.creating;
    if (!batchName && !refused && (ledger.creating || ledger.uploadedFile)) {
      let unrecorded: readonly FoundBatch[] = [];
      await attempt(`look up ${ledger.displayName}`, async () => {
        ({ found: unrecorded } = await gemini.findBatchesByDisplayName(ledger.displayName, {
          format: formatOf.get(ledger.chunk) ?? 'gemini',
          createdAfter: recoverySearchSince(ledger),
        }));
      });
      for (const { name, state } of unrecorded) {
        if (isTerminalState(state)) continue;
        if (await attempt(`cancel ${name}`, () => gemini.cancelBatch(name))) cancelledJobs.push(name);
      }
    }
    const state = batchName ? stateOf.get(batchName) : undefined;
    // A job still running when the run ends would go on costing money for results nobody collects.
    if (batchName && !(state && isTerminalState(state))) {
      const name = batchName;
      if (await attempt(`cancel ${name}`, () => gemini.cancelBatch(name))) cancelledJobs.push(name);
    }
    // Duplicates Submit could not cancel when it found them would run, and bill, for nobody.
    for (const name of ledger.duplicatesLeftRunning ?? []) {
      if (await attempt(`cancel ${name}`, () => gemini.cancelBatch(name))) cancelledJobs.push(name);
    }
    if (ledger.uploadedFile) {
      const file = ledger.uploadedFile;
      if (await attempt(`delete ${file}`, () => gemini.deleteFile(file))) deletedFiles.push(file);
    }
  }
  // Result files are deleted only once collected: until then they are the only copy of the answers.
  if (resultsCollected) {
    for (const job of poll?.jobs ?? []) {
      const file = job.responsesFile;
      if (file && (await attempt(`delete ${file}`, () => gemini.deleteFile(file)))) deletedFiles.push(file);
    }
  }
  return { cancelledJobs, deletedFiles, problems };
}
