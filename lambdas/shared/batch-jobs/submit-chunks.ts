import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { GeminiRateLimitError, GeminiRequestError, GeminiUnavailableError } from '../errors.js';
import {
  type BatchKind,
  type BatchSearch,
  type FoundBatch,
  type GeminiBatchApi,
  type InlineRequest,
  isTerminalState,
  type RequestFormat,
} from '../gemini/gemini-batch-api.js';
import { readJsonlLines } from '../jsonl.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { chunkId, jobDisplayName, workKeys } from '../run/bucket-layout.js';
import {
  type ChunkPlan,
  type EmptyLookup,
  type JobLedger,
  type RunPlan,
  recoverySearchSince,
} from '../run/work-records.js';

/**
 * Gemini refuses inline batches over 20 MB (the whole create request). Chunks up to this size go
 * inline — no upload round trip — leaving room for the request's JSON envelope.
 */
export const DEFAULT_INLINE_MAX_BYTES = 15 * 1024 * 1024;
/**
 * The most a chunk's inline answers may be estimated to weigh, both copies counted (a succeeded
 * inline batch's operation carries them under `metadata.output` and again under `response`):
 * 32 MiB. Heavier chunks are uploaded, and their answers come back as a file that streams to disk.
 * Reads ask for one copy and stream the operation (`scanOperation`), so an underestimate costs
 * time, not memory; the bound keeps one GET of an operation — which cannot resume — short.
 */
export const DEFAULT_INLINE_MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** Chunks uploaded and created at once: enough to overlap uploads, few enough for Lambda's network and /tmp. */
export const DEFAULT_SUBMIT_CONCURRENCY = 4;

/**
 * The most of Gemini's refusal a ledger keeps: Collect repeats it on every key of the chunk (up
 * to 200,000 lines), and Google's field-violation answers can run long. The start names the field.
 */
export const MAX_CREATE_ERROR_CHARS = 2000;

/**
 * What Gemini's JSON spends on one embedding value: up to ~20 characters (`-0.0034119852`,
 * `1.2345678e-05`), a separator and, pretty-printed, a line break and indentation. A 2026 capture
 * measured about 48 KB per inline answer at 768 dimensions, both copies: ~31 bytes a value a copy.
 */
export const EMBED_BYTES_PER_VALUE = 32;
/** Dimensions of an embedding without `outputDimensionality`, by model; others get the largest. */
const EMBED_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-004': 768,
  'embedding-001': 768,
};
/** gemini-embedding-001 and gemini-embedding-2 answer 3072 values unless told fewer. */
export const DEFAULT_EMBED_DIMENSIONS = 3072;
/**
 * Output tokens assumed for a generate request without `maxOutputTokens`. Conservative for answers
 * (most are far shorter), not a hard ceiling (2.5 models may write up to 65,536).
 */
export const DEFAULT_OUTPUT_TOKENS = 8192;
/** UTF-8 bytes per output token in JSON: ~4 for English, more for multi-byte scripts and escapes. */
export const BYTES_PER_OUTPUT_TOKEN = 8;
/** Per answer besides its text or values: usage metadata, finish reason, safety ratings, the key. */
export const ANSWER_OVERHEAD_BYTES = 1024;
/** The operation of a succeeded inline batch repeats its answers. */
const ANSWER_COPIES = 2;

const positive = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
const field = (object: unknown, camel: string, snake: string): unknown => {
  if (typeof object !== 'object' || object === null) return undefined;
  const record = object as Record<string, unknown>;
  return record[camel] ?? record[snake];
};

/**
 * What the answer to one request will add to an inline batch's operation, both copies counted:
 * `outputDimensionality` (or the model's default) values for an embedding; `maxOutputTokens` (or
 * {@link DEFAULT_OUTPUT_TOKENS}) times `candidateCount` for a generation. camelCase or snake_case.
 */
export function estimateAnswerBytes(kind: BatchKind, model: string, request: unknown): number {
  let bytes: number;
  if (kind === 'embed') {
    const own = field(request, 'model', 'model');
    const id = (typeof own === 'string' ? own : model).replace(/^models\//, '');
    const dimensions =
      positive(field(request, 'outputDimensionality', 'output_dimensionality')) ??
      EMBED_DIMENSIONS[id] ??
      DEFAULT_EMBED_DIMENSIONS;
    bytes = dimensions * EMBED_BYTES_PER_VALUE;
  } else {
    const config = field(request, 'generationConfig', 'generation_config');
    const tokens = positive(field(config, 'maxOutputTokens', 'max_output_tokens')) ?? DEFAULT_OUTPUT_TOKENS;
    const candidates = positive(field(config, 'candidateCount', 'candidate_count')) ?? 1;
    bytes = tokens * BYTES_PER_OUTPUT_TOKEN * candidates;
  }
  return (bytes + ANSWER_OVERHEAD_BYTES) * ANSWER_COPIES;
}

export interface SubmitChunksDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  /** Where file chunks are staged for upload (Lambda's /tmp). */
  readonly tmpDir: string;
  /** @default DEFAULT_INLINE_MAX_BYTES */
  readonly inlineMaxBytes?: number;
  /** @default DEFAULT_INLINE_MAX_ANSWER_BYTES */
  readonly inlineMaxAnswerBytes?: number;
  /**
   * Send embedding chunks inline too. Off by default: an inline answer is tied to its key only by
   * the `metadata.key` Gemini echoes, which for embeddings rests on one public capture (2026-07-25);
   * without it every answer of the chunk would lose its key (kept in unmatched.jsonl, never
   * guessed). Result-file lines always carry their key.
   * @default false
   */
  readonly inlineEmbeddings?: boolean;
  readonly concurrency?: number;
  readonly now?: () => Date;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface SubmitOutcome {
  /** Chunks that have a Gemini job. */
  readonly submitted: number;
  /** Chunks Gemini refused for now (429) or could not take (5xx, unreachable): tried again by the poll loop. */
  readonly waiting: number;
  /**
   * Chunks Gemini refused to create a job for, for good (HTTP 4xx other than 408 and 429): done,
   * without a job; their ledgers say why, and Collect answers their keys with it.
   */
  readonly refused: number;
}

/** What became of one chunk. */
type ChunkOutcome = 'submitted' | 'waiting' | 'refused';

/**
 * Gives every chunk of the plan one Gemini job, at most once however often it runs. Each step is
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
 * Recovery lists jobs back to the ledger's `creatingSince` (less {@link RECOVERY_MARGIN_MS}). If it
 * finds several under the chunk's name (a retry created one while an earlier create's lost answer
 * had made another), it keeps one ({@link rankRecovered}), cancels the others and records them in
 * the ledger as `duplicates`. If it finds none, the chunk is created again, and that lookup is
 * written to the ledger (`emptyLookups`) before the create call, so a job the listing missed is
 * never a silent second one.
 *
 * A create Gemini refuses for a reason waiting cannot change (HTTP 4xx other than 408 and 429: a
 * bad request, an unknown model) fails that chunk, not the run: the ledger keeps the refusal as
 * `createError`, no job is made, and the other chunks go on. Any other failure still throws.
 */
export async function submitChunks(
  run: { readonly bucket: string; readonly runId: string },
  plan: RunPlan,
  deps: SubmitChunksDeps,
): Promise<SubmitOutcome> {
  const limit = pLimit(deps.concurrency ?? DEFAULT_SUBMIT_CONCURRENCY);
  // allSettled, not all: a failure must not return while other chunks are mid-create, or a retry
  // could race them (and a frozen Lambda could resume them in a later invocation).
  const settled = await Promise.allSettled(
    plan.chunks.map((chunk) => limit(() => submitChunk(run, chunk, deps))),
  );
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  const outcomes = settled.map((result) => (result as PromiseFulfilledResult<ChunkOutcome>).value);
  const counted = (wanted: ChunkOutcome) => outcomes.filter((outcome) => outcome === wanted).length;
  return { submitted: counted('submitted'), waiting: counted('waiting'), refused: counted('refused') };
}

/** Gemini's answers that mean "not now": a quota (429), or Gemini unavailable or unreachable. */
const isWait = (error: unknown): error is GeminiRateLimitError | GeminiUnavailableError =>
  error instanceof GeminiRateLimitError || error instanceof GeminiUnavailableError;

/**
 * Gemini's HTTP refusals that no wait can change: 4xx other than 408 (a timeout) and 429 (a quota).
 * A `GeminiRequestError` without a status is the adapter's own verdict, not Gemini's: not one.
 */
export function isFinalRefusal(error: unknown): error is GeminiRequestError & { readonly status: number } {
  if (!(error instanceof GeminiRequestError) || error.status === undefined) return false;
  return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

/** How far along a job is, for choosing among jobs of one chunk: lower is further. */
function progressRank(state: string): number {
  switch (state) {
    case 'BATCH_STATE_SUCCEEDED':
      return 0;
    case 'BATCH_STATE_RUNNING':
      return 1;
    case 'BATCH_STATE_PENDING':
      return 2;
    default:
      // Ended without answers (failed, cancelled, expired) last; states this code does not know before them.
      return isTerminalState(state) ? 4 : 3;
  }
}

/**
 * The jobs found under one chunk's display name (newest first, as listed), the one to keep first:
 * the furthest along (SUCCEEDED, then RUNNING, then PENDING, then ended without answers), and among
 * equals the oldest (queued longest): by creation time, and where that ties (the compat layer
 * gives whole seconds) or is missing, by place in the listing, the oldest last. Keeping the
 * furthest along keeps answers Gemini may already have; the order is also stable across retries:
 * the jobs a first attempt cancelled rank last on the next, so a retry after a crash between
 * cancelling and recording keeps the same job.
 */
export function rankRecovered(found: readonly FoundBatch[]): FoundBatch[] {
  const created = (job: FoundBatch) => {
    const time = Date.parse(job.createTime ?? '');
    return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
  };
  return found
    .map((job, listed) => ({ job, listed }))
    .sort(
      (a, b) =>
        progressRank(a.job.state) - progressRank(b.job.state) ||
        created(a.job) - created(b.job) ||
        b.listed - a.listed,
    )
    .map(({ job }) => job);
}

/** What a chunk's ledger keeps of Gemini's final refusal of its upload or its create. */
function refusal(
  step: 'upload' | 'create',
  error: { readonly status?: number; readonly message: string },
): NonNullable<JobLedger['createError']> {
  const message =
    step === 'upload' ? `the upload of the chunk's requests was refused: ${error.message}` : error.message;
  return {
    ...(error.status !== undefined ? { code: error.status } : {}),
    message:
      message.length > MAX_CREATE_ERROR_CHARS ? `${message.slice(0, MAX_CREATE_ERROR_CHARS)}…` : message,
  };
}

async function submitChunk(
  run: { readonly bucket: string; readonly runId: string },
  chunk: ChunkPlan,
  deps: SubmitChunksDeps,
): Promise<ChunkOutcome> {
  const { store, gemini } = deps;
  const ledgerKey = workKeys(run.runId).ledger(chunk.index);
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  const record = (ledger: JobLedger) => store.putJson(run.bucket, ledgerKey, ledger);
  const displayName = jobDisplayName(run.runId, chunk.index);
  const wait = (doing: string, error: Error): 'waiting' => {
    deps.log?.(`Gemini did not ${doing} for now; the chunk waits and is tried again`, {
      chunk: chunk.index,
      error: error.name,
      reason: error.message,
    });
    return 'waiting';
  };
  let ledger: JobLedger = (await store.getJson<JobLedger>(run.bucket, ledgerKey)) ?? {
    chunk: chunk.index,
    displayName,
    updatedAt: now(),
  };
  if (ledger.batchName) return 'submitted';
  if (ledger.createError) return 'refused';

  // An earlier create's outcome is unknown (it died, or its answer was lost): look before creating.
  const outcomeUnknown = ledger.creating === true;
  let emptyLookup: EmptyLookup | undefined;
  if (outcomeUnknown) {
    const since = recoverySearchSince(ledger);
    let search: BatchSearch;
    try {
      search = await gemini.findBatchesByDisplayName(displayName, {
        format: chunk.format,
        createdAfter: since,
      });
    } catch (error) {
      // Without the listing the job may exist: creating now could pay twice.
      if (isWait(error)) return wait('list jobs to look for this chunk', error);
      throw error;
    }
    const [kept, ...duplicates] = rankRecovered(search.found);
    if (kept) {
      const leftRunning = await cancelDuplicates(chunk.index, duplicates, deps);
      deps.log?.('recovered a job created before a crash', {
        chunk: chunk.index,
        batchName: kept.name,
        ...(duplicates.length > 0 ? { duplicates: duplicates.map((job) => job.name) } : {}),
      });
      await record({
        ...ledger,
        batchName: kept.name,
        recovered: true,
        creating: false,
        ...(duplicates.length > 0 ? { duplicates: duplicates.map((job) => job.name) } : {}),
        ...(leftRunning.length > 0 ? { duplicatesLeftRunning: leftRunning } : {}),
        updatedAt: now(),
      });
      return 'submitted';
    }
    emptyLookup = {
      at: now(),
      since: since.toISOString(),
      ...(search.incomplete ? { incomplete: search.incomplete } : {}),
    };
    deps.log?.('found no job for a create whose outcome is unknown; creating the chunk again', {
      chunk: chunk.index,
      since: emptyLookup.since,
      ...(search.incomplete ? { incomplete: search.incomplete } : {}),
    });
  }

  // Gemini's OpenAI-compatible layer creates batches from files only; a chunk once uploaded stays a file.
  const inlineCandidate =
    chunk.format === 'gemini' &&
    (chunk.kind === 'generate' || deps.inlineEmbeddings === true) &&
    chunk.bytes <= (deps.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES) &&
    !ledger.uploadedFile &&
    !ledger.uploading;
  const read = inlineCandidate
    ? await readInlineRequests(
        store,
        run.bucket,
        chunk,
        deps.inlineMaxAnswerBytes ?? DEFAULT_INLINE_MAX_ANSWER_BYTES,
      )
    : undefined;
  let source:
    | { readonly fileName: string; readonly format: RequestFormat }
    | { readonly inlineRequests: readonly InlineRequest[] };
  if (read?.requests) {
    source = { inlineRequests: read.requests };
  } else {
    if (read) {
      deps.log?.('sending the chunk as a file: its inline answers would weigh too much', {
        chunk: chunk.index,
        answerBytesEstimate: read.answerBytes,
      });
    }
    if (!ledger.uploadedFile) {
      // A retry after an upload that failed or died midway first looks for the file Gemini may have kept.
      const reuseUploaded = ledger.uploading === true;
      if (!reuseUploaded) {
        ledger = { ...ledger, uploading: true, updatedAt: now() };
        await record(ledger);
      }
      let uploadedFile: string;
      try {
        uploadedFile = await uploadChunk(run, chunk, displayName, deps, reuseUploaded);
      } catch (error) {
        if (isWait(error)) return wait('take the upload', error);
        if (isFinalRefusal(error)) {
          // An upload refused for a reason waiting cannot fix (a 4xx) fails this chunk, not the run.
          await record({ ...ledger, createError: refusal('upload', error), updatedAt: now() });
          deps.log?.("Gemini refused the chunk's upload; its keys will carry the refusal", {
            chunk: chunk.index,
            status: error.status,
            reason: error.message,
          });
          return 'refused';
        }
        throw error;
      }
      const { uploading: _uploaded, ...rest } = ledger;
      ledger = { ...rest, uploadedFile, updatedAt: now() };
      await record(ledger);
    }
    source = { fileName: ledger.uploadedFile ?? '', format: chunk.format };
  }

  const inline = 'inlineRequests' in source;
  const at = now();
  ledger = {
    ...ledger,
    inline,
    ...(read ? { answerBytesEstimate: read.answerBytes } : {}),
    creating: true,
    // The first attempt whose outcome is still unknown bounds how far back a later lookup must go.
    creatingSince: outcomeUnknown ? (ledger.creatingSince ?? ledger.updatedAt) : at,
    // Written before the create: a second job the lookup missed is never made without a record.
    ...(emptyLookup ? { emptyLookups: [...(ledger.emptyLookups ?? []), emptyLookup] } : {}),
    updatedAt: at,
  };
  await record(ledger);
  let batchName: string;
  try {
    batchName = await gemini.createBatch({ kind: chunk.kind, model: chunk.model, displayName, ...source });
  } catch (error) {
    if (error instanceof GeminiRateLimitError) {
      // A 429 created nothing: without this, every later attempt would first search for the job by
      // name. Unless an earlier attempt's outcome is still unknown: then the next one looks again.
      if (!outcomeUnknown) {
        const { creatingSince: _unused, ...rest } = ledger;
        await record({ ...rest, creating: false, updatedAt: now() });
      }
      return wait('accept the job (quota)', error);
    }
    // A 5xx or a timeout may come after Gemini made the job: `creating` stays, so the next attempt
    // looks for it by display name before creating one.
    if (error instanceof GeminiUnavailableError) return wait('answer the create call', error);
    if (isFinalRefusal(error)) {
      // The refusal made nothing; `creating` stays only if an earlier attempt's outcome is unknown,
      // so that Finalize still looks for that job.
      const { creatingSince: _unused, ...rest } = ledger;
      await record({
        ...(outcomeUnknown ? ledger : { ...rest, creating: false }),
        createError: refusal('create', error),
        updatedAt: now(),
      });
      deps.log?.("Gemini refused to create the chunk's job; its keys will carry the refusal", {
        chunk: chunk.index,
        status: error.status,
        reason: error.message,
      });
      return 'refused';
    }
    throw error;
  }
  await record({ ...ledger, batchName, creating: false, updatedAt: now() });
  deps.log?.('created batch job', { chunk: chunk.index, batchName, requests: chunk.requestCount, inline });
  return 'submitted';
}

/**
 * Asks Gemini to cancel each duplicate still able to run; returns those it would not cancel for
 * now (429, 5xx, another refusal), for Finalize to ask again. A duplicate that already ended has
 * nothing left to stop. A failed cancel never fails the chunk: its own job is found and kept.
 */
async function cancelDuplicates(
  chunk: number,
  duplicates: readonly FoundBatch[],
  deps: SubmitChunksDeps,
): Promise<string[]> {
  const leftRunning: string[] = [];
  for (const duplicate of duplicates) {
    if (isTerminalState(duplicate.state)) continue;
    try {
      await deps.gemini.cancelBatch(duplicate.name);
    } catch (error) {
      if (!(isWait(error) || error instanceof GeminiRequestError)) throw error;
      leftRunning.push(duplicate.name);
      deps.log?.('could not cancel a duplicate job; Finalize asks again', {
        chunk,
        batchName: duplicate.name,
        error: error.name,
        reason: error.message,
      });
    }
  }
  return leftRunning;
}

/**
 * A chunk small enough to send inline, read back into `{key, request}` pairs while estimating what
 * its answers will weigh ({@link estimateAnswerBytes}); no requests once the estimate passes
 * `maxAnswerBytes`, and reading stops there.
 */
async function readInlineRequests(
  store: ObjectStore,
  bucket: string,
  chunk: ChunkPlan,
  maxAnswerBytes: number,
): Promise<{ readonly requests?: InlineRequest[]; readonly answerBytes: number }> {
  const requests: InlineRequest[] = [];
  let answerBytes = 0;
  for await (const line of readJsonlLines(await store.read(bucket, chunk.key), {
    maxLineBytes: chunk.bytes + 1,
  })) {
    if (!('text' in line)) continue;
    const request = JSON.parse(line.text) as InlineRequest;
    answerBytes += estimateAnswerBytes(chunk.kind, chunk.model, request.request);
    if (answerBytes > maxAnswerBytes) return { answerBytes };
    requests.push(request);
  }
  return { requests, answerBytes };
}

/** Stages a chunk on local disk and uploads it: the SDK's upload streams from a path in 8 MiB chunks. */
async function uploadChunk(
  run: { readonly bucket: string; readonly runId: string },
  chunk: ChunkPlan,
  displayName: string,
  deps: SubmitChunksDeps,
  reuseUploaded: boolean,
): Promise<string> {
  const path = join(deps.tmpDir, `${run.runId}-${chunkId(chunk.index)}.jsonl`);
  try {
    await deps.store.downloadToFile(run.bucket, chunk.key, path);
    return await deps.gemini.uploadJsonl(path, displayName, { reuseUploaded });
  } finally {
    await rm(path, { force: true });
  }
}
