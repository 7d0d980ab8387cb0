import { GeminiRateLimitError, type GeminiRequestError, GeminiUnavailableError } from '../errors.js';
import type { GeminiBatchApi, InlineRequest, RequestFormat } from '../gemini/gemini-batch-api.js';
import type { Log } from '../log.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { jobDisplayName, workKeys } from '../run/bucket-layout.js';
import type { RunRef } from '../run/state-payloads.js';
import type { ChunkPlan, EmptyLookup, JobLedger } from '../run/work-records.js';
import { noMetrics, type RunMetrics } from '../run-metrics.js';
import { type InlineChoice, type InlineRead, readForInline } from './inline-or-file.js';
import { isFinalRefusal, isWait, ledgerRefusal } from './refusals.js';
import {
  cancelDuplicates,
  rankRecovered,
  recoveredLedger,
  searchUnrecorded,
  type UnrecordedSearch,
} from './unrecorded-jobs.js';
import { uploadChunk } from './upload-chunk.js';

export interface ChunkJobDeps extends InlineChoice {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  readonly now?: () => Date;
  readonly log?: Log;
  /** Where jobs created and creates refused for quota are counted. @default noMetrics */
  readonly metrics?: RunMetrics;
}

/** What became of one chunk. */
export type ChunkOutcome = 'submitted' | 'waiting' | 'refused';

/** What every step of one chunk's submission works with. */
interface ChunkSteps {
  readonly run: RunRef;
  readonly chunk: ChunkPlan;
  readonly deps: ChunkJobDeps;
  readonly displayName: string;
  readonly now: () => string;
  /** Writes the chunk's ledger: each step is recorded before the next. */
  readonly record: (ledger: JobLedger) => Promise<void>;
  /** Logs a "not now" from Gemini: the chunk waits for the poll loop. */
  readonly wait: (doing: string, error: Error) => 'waiting';
}

/** What the chunk's job is created from: its requests inline, or its uploaded file. */
type JobSource =
  | { readonly fileName: string; readonly format: RequestFormat }
  | { readonly inlineRequests: readonly InlineRequest[] };

/**
 * Gives one chunk its Gemini job, at most once however often it runs. Each step is
 * recorded in the chunk's ledger before the next: an uploaded file is not uploaded again; a job is
 * not created again. Just before uploading, the ledger says `uploading`: a retry first looks for a
 * file Gemini kept under the chunk's display name. Just before creating, it says `creating`: if the
 * function dies between creating a job and recording it, the next attempt finds the job by its
 * display name (`<runId>/<chunk>`) instead of creating a second one.
 *
 * A 429 or 5xx on any call (recovery listing, upload, create) leaves the chunk waiting, never the
 * run failed: the poll loop tries again until the submit deadline. A 429 on create made nothing, so
 * `creating` is cleared; after a 5xx or timeout the job may exist, so it is kept, and the next
 * attempt looks for the job before creating one.
 *
 * Recovery lists jobs back to the ledger's `creatingSince` (less `RECOVERY_MARGIN_MS`). If it
 * finds several under the chunk's name (a retry created one while an earlier create's lost answer
 * had made another), it keeps one ({@link rankRecovered}), cancels the others and records them in
 * the ledger as `duplicates`. If it finds none, the chunk is created again, and that lookup is
 * written to the ledger (`emptyLookups`) before the create call, so a job the listing missed is
 * never a silent second one.
 *
 * An upload or create Gemini refuses for a reason waiting cannot change (HTTP 4xx other than 408
 * and 429: a bad request, an unknown model) fails the chunk, not the run: the ledger keeps the
 * refusal as `createError`, no job is made, and the chunk is done (`refused`). Any other failure
 * throws.
 */
export async function createChunkJob(
  run: RunRef,
  chunk: ChunkPlan,
  deps: ChunkJobDeps,
): Promise<ChunkOutcome> {
  const ledgerKey = workKeys(run.runId).ledger(chunk.index);
  const displayName = jobDisplayName(run.runId, chunk.index);
  const steps: ChunkSteps = {
    run,
    chunk,
    deps,
    displayName,
    now: () => (deps.now?.() ?? new Date()).toISOString(),
    record: (ledger) => deps.store.putJson(run.bucket, ledgerKey, ledger),
    wait: (doing, error) => {
      deps.log?.(`Gemini did not ${doing} for now; the chunk waits and is tried again`, {
        chunk: chunk.index,
        error: error.name,
        reason: error.message,
      });
      return 'waiting';
    },
  };
  let ledger: JobLedger = (await deps.store.getJson<JobLedger>(run.bucket, ledgerKey)) ?? {
    chunk: chunk.index,
    displayName,
    updatedAt: steps.now(),
  };
  if (ledger.batchName) return 'submitted';
  if (ledger.createError) return 'refused';

  // An earlier create's outcome is unknown (it died, or its answer was lost): look before creating.
  const outcomeUnknown = ledger.creating === true;
  let emptyLookup: EmptyLookup | undefined;
  if (outcomeUnknown) {
    const recovery = await recover(steps, ledger);
    if ('outcome' in recovery) return recovery.outcome;
    emptyLookup = recovery.emptyLookup;
  }

  const read = await readForInline(deps.store, run.bucket, chunk, ledger, deps);
  let source: JobSource;
  if (read?.requests) {
    source = { inlineRequests: read.requests };
  } else {
    if (read) {
      deps.log?.('sending the chunk as a file: its inline answers would weigh too much', {
        chunk: chunk.index,
        answerBytesEstimate: read.answerBytes,
      });
    }
    const uploaded = await upload(steps, ledger);
    if ('outcome' in uploaded) return uploaded.outcome;
    ledger = uploaded.ledger;
    source = { fileName: ledger.uploadedFile ?? '', format: chunk.format };
  }
  return create(steps, { ledger, source, read, outcomeUnknown, emptyLookup });
}

/**
 * Looks for the job a create whose outcome is unknown may have made. Found: keeps one, cancels the
 * others, records it. None: the lookup to record before the chunk is created again. A 429 or 5xx
 * on the listing leaves the chunk waiting: without it the job may exist, and creating could pay twice.
 */
async function recover(
  steps: ChunkSteps,
  ledger: JobLedger,
): Promise<{ readonly outcome: 'submitted' | 'waiting' } | { readonly emptyLookup: EmptyLookup }> {
  const { chunk, deps } = steps;
  let search: UnrecordedSearch;
  try {
    search = await searchUnrecorded(deps.gemini, {
      displayName: steps.displayName,
      format: chunk.format,
      ledger,
    });
  } catch (error) {
    if (isWait(error)) return { outcome: steps.wait('list jobs to look for this chunk', error) };
    throw error;
  }
  const [kept, ...duplicates] = rankRecovered(search.found);
  if (kept) {
    const leftRunning = await cancelDuplicates(deps.gemini, duplicates, {
      chunk: chunk.index,
      log: deps.log,
    });
    deps.log?.('recovered a job created before a crash', {
      chunk: chunk.index,
      batchName: kept.name,
      duplicates: duplicates.length > 0 ? duplicates.map((job) => job.name) : undefined,
    });
    await steps.record(recoveredLedger(ledger, { kept, duplicates, leftRunning, at: steps.now() }));
    return { outcome: 'submitted' };
  }
  const emptyLookup: EmptyLookup = {
    at: steps.now(),
    since: search.since.toISOString(),
    ...(search.incomplete ? { incomplete: search.incomplete } : {}),
  };
  deps.log?.('found no job for a create whose outcome is unknown; creating the chunk again', {
    chunk: chunk.index,
    since: emptyLookup.since,
    incomplete: search.incomplete,
  });
  return { emptyLookup };
}

/**
 * Uploads the chunk unless its ledger names the file already. Just before, the ledger says
 * `uploading`: a retry after an upload that failed or died midway first looks for the file Gemini
 * may have kept under the chunk's display name. The ledger naming the file, or the chunk's outcome.
 */
async function upload(
  steps: ChunkSteps,
  ledger: JobLedger,
): Promise<{ readonly ledger: JobLedger } | { readonly outcome: 'waiting' | 'refused' }> {
  if (ledger.uploadedFile) return { ledger };
  const { run, chunk, deps } = steps;
  const reuseUploaded = ledger.uploading === true;
  let uploading = ledger;
  if (!reuseUploaded) {
    uploading = { ...ledger, uploading: true, updatedAt: steps.now() };
    await steps.record(uploading);
  }
  let uploadedFile: string;
  try {
    uploadedFile = await uploadChunk(deps, {
      bucket: run.bucket,
      chunk,
      displayName: steps.displayName,
      reuseUploaded,
    });
  } catch (error) {
    if (isWait(error)) return { outcome: steps.wait('take the upload', error) };
    // An upload refused for a reason waiting cannot fix (a 4xx) fails this chunk, not the run.
    if (isFinalRefusal(error)) return { outcome: await refuse(steps, uploading, 'upload', error) };
    throw error;
  }
  const { uploading: _uploaded, ...rest } = uploading;
  const uploaded = { ...rest, uploadedFile, updatedAt: steps.now() };
  await steps.record(uploaded);
  return { ledger: uploaded };
}

/**
 * Creates the chunk's job. Just before, the ledger says `creating`, with any empty lookup: if the
 * function dies between creating the job and recording it, the next attempt finds the job by its
 * display name instead of creating a second one.
 */
async function create(
  steps: ChunkSteps,
  attempt: {
    readonly ledger: JobLedger;
    readonly source: JobSource;
    readonly read: InlineRead | undefined;
    /** An earlier create's outcome is still unknown. */
    readonly outcomeUnknown: boolean;
    readonly emptyLookup: EmptyLookup | undefined;
  },
): Promise<ChunkOutcome> {
  const { chunk, deps, displayName } = steps;
  const { source, read, outcomeUnknown, emptyLookup } = attempt;
  const inline = 'inlineRequests' in source;
  const at = steps.now();
  const ledger: JobLedger = {
    ...attempt.ledger,
    inline,
    // Kept from an earlier attempt when this one did not read the chunk (it is a file by now).
    ...(read ? { answerBytesEstimate: read.answerBytes } : {}),
    creating: true,
    // The first attempt whose outcome is still unknown bounds how far back a later lookup must go.
    creatingSince: outcomeUnknown ? (attempt.ledger.creatingSince ?? attempt.ledger.updatedAt) : at,
    // Written before the create: a second job the lookup missed is never made without a record.
    ...(emptyLookup ? { emptyLookups: [...(attempt.ledger.emptyLookups ?? []), emptyLookup] } : {}),
    updatedAt: at,
  };
  await steps.record(ledger);
  let batchName: string;
  try {
    batchName = await deps.gemini.createBatch({
      kind: chunk.kind,
      model: chunk.model,
      displayName,
      ...source,
    });
  } catch (error) {
    const { creatingSince: _unused, ...created } = ledger;
    const nothingMade = { ...created, creating: false };
    if (error instanceof GeminiRateLimitError) {
      // A 429 created nothing: without this, every later attempt would first search for the job by
      // name. Unless an earlier attempt's outcome is still unknown: then the next one looks again.
      if (!outcomeUnknown) await steps.record({ ...nothingMade, updatedAt: steps.now() });
      (deps.metrics ?? noMetrics).add('CreatesRefused', 1);
      return steps.wait('accept the job (quota)', error);
    }
    // A 5xx or a timeout may come after Gemini made the job: `creating` stays, so the next attempt
    // looks for it by display name before creating one.
    if (error instanceof GeminiUnavailableError) return steps.wait('answer the create call', error);
    // The refusal made nothing; `creating` stays only if an earlier attempt's outcome is unknown,
    // so that Finalize still looks for that job.
    if (isFinalRefusal(error)) return refuse(steps, outcomeUnknown ? ledger : nothingMade, 'create', error);
    throw error;
  }
  await steps.record({ ...ledger, batchName, creating: false, updatedAt: steps.now() });
  (deps.metrics ?? noMetrics).add('JobsCreated', 1);
  deps.log?.('created batch job', { chunk: chunk.index, batchName, requests: chunk.requestCount, inline });
  return 'submitted';
}

/** Records Gemini's final refusal of the chunk's upload or create: the chunk is done without a job. */
async function refuse(
  steps: ChunkSteps,
  ledger: JobLedger,
  step: 'upload' | 'create',
  error: GeminiRequestError & { readonly status: number },
): Promise<'refused'> {
  await steps.record({ ...ledger, createError: ledgerRefusal(step, error), updatedAt: steps.now() });
  steps.deps.log?.(
    step === 'upload'
      ? "Gemini refused the chunk's upload; its keys will carry the refusal"
      : "Gemini refused to create the chunk's job; its keys will carry the refusal",
    { chunk: steps.chunk.index, status: error.status, reason: error.message },
  );
  return 'refused';
}
