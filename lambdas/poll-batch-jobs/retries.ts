import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readResultLines } from '../shared/batch-jobs/result-file.js';
import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import { isJsonObject } from '../shared/json.js';
import { readJsonlLines } from '../shared/jsonl.js';
import type { Log } from '../shared/log.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { chunkId, workKeys } from '../shared/run/bucket-layout.js';
import { type KeyAtLine, readChunkKeyLines } from '../shared/run/chunk-keys-file.js';
import type { RunInput, RunRef } from '../shared/run/state-payloads.js';
import type { ChunkPlan, JobStatusRecord, RunPlan } from '../shared/run/work-records.js';

/** Rounds in which requests that failed transiently are sent again. */
export const DEFAULT_LINE_RETRY_ROUNDS = 2;
/** Times the requests of an expired (or stuck) job are resubmitted, split in halves. */
export const DEFAULT_EXPIRED_RESUBMIT_ROUNDS = 1;
/**
 * How long a job may stay PENDING before Poll cancels and resubmits it: 12 hours. A job Gemini has
 * not started in 12 hours is unlikely to start soon, and the timeout must leave room before the
 * retry cutoff (23 h by default): a job created at the upload is found stuck at 12 h and resubmitted
 * in time; one created at the submit deadline (12 h) is found stuck at 24 h, past the cutoff, and is
 * left to Gemini to expire.
 */
export const DEFAULT_PENDING_TIMEOUT_SECONDS = 12 * 60 * 60;
/**
 * How long after the upload retry and resubmitted chunks may still be created (and wait for
 * Gemini to accept them): 23 hours, the default 72-hour execution timeout less the 48 hours Gemini
 * lets a job run before it expires it, less an hour to notice, collect and finalize. A job created
 * at the cutoff still ends, and is collected, before the execution times out.
 */
export const DEFAULT_RETRY_CUTOFF_SECONDS = 23 * 60 * 60;

/**
 * Per-request error codes that say "try again later", as Gemini writes them in a result line's
 * `google.rpc.Status`: gRPC codes 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED, 13 INTERNAL and 14
 * UNAVAILABLE, and the HTTP statuses they map to (504, 429, 500, 503), which some lines carry instead.
 */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([4, 8, 13, 14, 429, 500, 503, 504]);
const TRANSIENT_STATUSES: ReadonlySet<string> = new Set([
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
  'UNAVAILABLE',
]);

/**
 * Whether one answer is an error worth sending again: a Gemini `{"error": {code, status}}` whose
 * code or status is transient, or an OpenAI-format answer whose `status_code` (or `error.code`) is
 * 429, 500, 503 or 504. Anything else — a 400, an answer, a shape this code does not know — is not.
 */
export function isTransientAnswer(answer: unknown): boolean {
  if (typeof answer !== 'object' || answer === null) return false;
  const { response, error } = answer as { response?: unknown; error?: unknown };
  if (error !== undefined && error !== null) {
    const { code, status } = error as { code?: unknown; status?: unknown };
    if (typeof code === 'number' && TRANSIENT_CODES.has(code)) return true;
    if (typeof code === 'string' && TRANSIENT_STATUSES.has(code)) return true;
    if (typeof status === 'string' && TRANSIENT_STATUSES.has(status)) return true;
    return false;
  }
  // OpenAI's batch output: `{"custom_id","response":{"status_code","body"}}` without `error`.
  const statusCode = (response as { status_code?: unknown } | undefined)?.status_code;
  return typeof statusCode === 'number' && statusCode >= 429 && TRANSIENT_CODES.has(statusCode);
}

export interface RetryDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  readonly tmpDir: string;
  /** @default DEFAULT_LINE_RETRY_ROUNDS */
  readonly lineRetryRounds?: number;
  /** @default DEFAULT_EXPIRED_RESUBMIT_ROUNDS */
  readonly expiredResubmitRounds?: number;
  /** @default DEFAULT_RETRY_CUTOFF_SECONDS */
  readonly retryCutoffSeconds?: number;
  readonly log?: Log;
}

/** The instant after which no retry chunk is created nor waited for. */
export function retryCutoff(uploadedAt: string, seconds = DEFAULT_RETRY_CUTOFF_SECONDS): number {
  return Date.parse(uploadedAt) + seconds * 1000;
}

/** Whether a chunk's ended job is one whose requests are resubmitted whole (split), not line by line. */
export function endedUnstarted(job: JobStatusRecord): boolean {
  return (
    job.state === 'BATCH_STATE_EXPIRED' ||
    (job.cancelledAsStuck === true && job.state === 'BATCH_STATE_CANCELLED')
  );
}

/**
 * Once every job of the newest round has ended, looks through them for requests to send again and
 * writes them as the next round's chunks, appended to the plan (with their `[line, key]` files, so
 * Collect's merge keeps input order):
 * - a job that expired, or that Poll cancelled as stuck, has all its requests resubmitted in two
 *   halves (one chunk if it held one request), while its lineage has been resubmitted fewer than
 *   `expiredResubmitRounds` times; after that its keys keep the job's error;
 * - a job that succeeded has the requests whose answer is a transient error ({@link
 *   isTransientAnswer}), and no other answer, sent again in one chunk, while its lineage has had
 *   fewer than `lineRetryRounds` such rounds.
 *
 * Deterministic in what Gemini returned, so a retried pass rewrites the same chunks before the plan
 * names them. Writes the plan (with `retriedThrough`) only when the round had not been looked
 * through; returns the chunks it added. Past the retry cutoff nothing is added.
 */
export async function planRetries(
  run: Pick<RunInput, 'bucket' | 'runId' | 'uploadedAt'>,
  plan: RunPlan,
  jobs: ReadonlyMap<number, JobStatusRecord>,
  now: Date,
  deps: RetryDeps,
): Promise<ChunkPlan[]> {
  const round = Math.max(0, ...plan.chunks.map((chunk) => chunk.round ?? 0));
  if ((plan.retriedThrough ?? -1) >= round) return [];
  if (now.getTime() >= retryCutoff(run.uploadedAt, deps.retryCutoffSeconds)) {
    deps.log?.('past the retry cutoff: no request is sent again', { round });
    return [];
  }
  const lineRounds = deps.lineRetryRounds ?? DEFAULT_LINE_RETRY_ROUNDS;
  const resubmitRounds = deps.expiredResubmitRounds ?? DEFAULT_EXPIRED_RESUBMIT_ROUNDS;
  let nextIndex = Math.max(-1, ...plan.chunks.map((chunk) => chunk.index)) + 1;
  const added: ChunkPlan[] = [];
  for (const chunk of plan.chunks) {
    if ((chunk.round ?? 0) !== round) continue;
    const job = jobs.get(chunk.index);
    if (!job) continue; // refused or never accepted: nothing was sent, nothing to send again
    const resubmits = chunk.resubmits ?? 0;
    const base = { round: round + 1, retryOf: chunk.index };
    if (endedUnstarted(job)) {
      if (resubmits >= resubmitRounds) continue;
      const reason = job.state === 'BATCH_STATE_EXPIRED' ? 'EXPIRED' : 'STUCK_PENDING';
      const half = Math.ceil(chunk.requestCount / 2);
      const parts: ((position: number) => boolean)[] =
        chunk.requestCount >= 2 ? [(at) => at < half, (at) => at >= half] : [() => true];
      for (const part of parts) {
        const written = await writeRetryChunk(deps.store, run, chunk, nextIndex, (at) => part(at), {
          ...base,
          retryReason: reason,
          resubmits: resubmits + 1,
        });
        if (written) {
          added.push(written);
          nextIndex += 1;
        }
      }
      continue;
    }
    if (job.state !== 'BATCH_STATE_SUCCEEDED' || round - resubmits >= lineRounds) continue;
    if (answeredInFull(job)) continue;
    const failed = await transientKeys(run, chunk, job, deps);
    if (failed.size === 0) continue;
    const written = await writeRetryChunk(deps.store, run, chunk, nextIndex, (_at, key) => failed.has(key), {
      ...base,
      retryReason: 'LINE_ERRORS',
      ...(resubmits > 0 ? { resubmits } : {}),
    });
    if (written) {
      added.push(written);
      nextIndex += 1;
    }
  }
  await deps.store.putJson(run.bucket, workKeys(run.runId).plan, {
    ...plan,
    chunks: [...plan.chunks, ...added],
    retriedThrough: round,
  } satisfies RunPlan);
  if (added.length > 0) {
    deps.log?.('sending requests again in new chunks', {
      round: round + 1,
      chunks: added.map((chunk) => chunk.index),
      requests: added.reduce((sum, chunk) => sum + chunk.requestCount, 0),
    });
  }
  return added;
}

/**
 * Whether Gemini's counts say every request of the job succeeded: then its results hold no error
 * to retry, and are not read (a file job's would otherwise be downloaded twice, here and by
 * Collect). Counts Gemini did not report (all zero) prove nothing, so the results are read.
 */
function answeredInFull(job: JobStatusRecord): boolean {
  return job.failedCount === 0 && job.successfulCount > 0 && job.successfulCount >= job.requestCount;
}

/**
 * The keys of a succeeded job whose every answer is a transient error. Memory holds one entry per
 * key answered with an error, at most the chunk's requests; a file job's results stream from disk.
 */
async function transientKeys(
  run: RunRef,
  chunk: ChunkPlan,
  job: JobStatusRecord,
  deps: RetryDeps,
): Promise<Set<string>> {
  // Both bounded by the chunk's keys: answers under keys it never sent are not sent again either.
  const transient = new Set<string>();
  const answered = new Set<string>();
  const see = (key: unknown, answer: unknown) => {
    if (typeof key !== 'string') return;
    (isTransientAnswer(answer) ? transient : answered).add(key);
  };
  const keyOf = (answer: Record<string, unknown>) =>
    chunk.format === 'openai' ? answer.custom_id : answer.key;
  // As Poll recorded it from the ledger; a record without it went inline unless it names a file.
  const inline = job.inline ?? !job.responsesFile;
  if (inline) {
    for (const response of await deps.gemini.getInlineResponses(job.batchName)) {
      if (typeof response === 'object' && response !== null) see(response.metadata?.key, response);
    }
  } else {
    if (!job.responsesFile) return new Set();
    const path = join(deps.tmpDir, `${run.runId}-${chunkId(chunk.index)}-retry-scan.jsonl`);
    try {
      await deps.gemini.downloadFile(job.responsesFile, path);
      for await (const line of readResultLines(path)) {
        if (!('text' in line)) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line.text);
        } catch {
          continue;
        }
        if (isJsonObject(parsed)) see(keyOf(parsed), parsed);
      }
    } finally {
      await rm(path, { force: true });
    }
  }
  // A key also answered otherwise keeps that answer (or Collect's verdict on the pair): not resent.
  for (const key of answered) transient.delete(key);
  return transient;
}

/**
 * Writes the requests of `source` that `select` picks (by position in the chunk and key) as chunk
 * `index`, with its `[line, key]` file, reading the source's two files in lockstep. Undefined when
 * nothing was picked (nothing is written then).
 */
async function writeRetryChunk(
  store: ObjectStore,
  run: RunRef,
  source: ChunkPlan,
  index: number,
  select: (position: number, key: string) => boolean,
  fields: Pick<ChunkPlan, 'round' | 'retryOf' | 'retryReason' | 'resubmits'>,
): Promise<ChunkPlan | undefined> {
  const work = workKeys(run.runId);
  const requests = readJsonlLines(await store.read(run.bucket, source.key), {
    maxLineBytes: source.bytes + 1,
  })[Symbol.asyncIterator]();
  const keys = (await readChunkKeyLines(store, run.bucket, source))[Symbol.asyncIterator]();
  const writer = store.openLineWriter(run.bucket, work.chunk(index));
  const keysWriter = store.openLineWriter(run.bucket, work.chunkKeys(index));
  let count = 0;
  let firstLine = 0;
  try {
    for (let position = 0; ; position++) {
      const [request, pair] = await Promise.all([requests.next(), keys.next()]);
      if (request.done || pair.done) break;
      if (!('text' in request.value) || !('text' in pair.value)) continue;
      const [line, key] = JSON.parse(pair.value.text) as KeyAtLine;
      if (!select(position, key)) continue;
      if (count === 0) firstLine = line;
      count += 1;
      await writer.write(request.value.text);
      await keysWriter.write(pair.value.text);
    }
  } catch (error) {
    await Promise.allSettled([writer.abort(), keysWriter.abort()]);
    throw error;
  } finally {
    await Promise.allSettled([requests.return?.(undefined), keys.return?.(undefined)]);
  }
  if (count === 0) {
    await Promise.allSettled([writer.abort(), keysWriter.abort()]);
    return undefined;
  }
  const [{ bytes }] = await Promise.all([writer.close(), keysWriter.close()]);
  const { round: _round, retryOf: _retryOf, retryReason: _reason, resubmits: _resubmits, ...kept } = source;
  return {
    ...kept,
    index,
    key: work.chunk(index),
    keysKey: work.chunkKeys(index),
    requestCount: count,
    bytes,
    // Proportional to the source's estimate: the same requests, fewer of them.
    estimatedTokens: Math.ceil((source.estimatedTokens * count) / Math.max(1, source.requestCount)),
    firstLine,
    ...fields,
  };
}
