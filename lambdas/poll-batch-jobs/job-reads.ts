/**
 * What a pass of the poll loop makes of one job: whether it is finished, what it records of a job
 * it read (waiting for a late responses file, cancelling a job stuck PENDING) or could not read.
 */
import { toJobStatusRecord } from '../shared/batch-jobs/job-status.js';
import { isWait } from '../shared/batch-jobs/refusals.js';
import { type GeminiBatchApi, isTerminalState } from '../shared/gemini/gemini-batch-api.js';
import type { Log } from '../shared/log.js';
import type { ChunkPlan, JobStatusRecord } from '../shared/run/work-records.js';
import { DEFAULT_EXPIRED_RESUBMIT_ROUNDS, DEFAULT_PENDING_TIMEOUT_SECONDS } from './retries.js';

/**
 * How long Poll goes on reading a file job Gemini reports SUCCEEDED without naming its responses
 * file, counted from the pass that first saw it so: 1 hour. Gemini has been seen to report the
 * state before the file (a job recorded then came back with no answer for any key); an hour is
 * far past any such lag, and short beside the 48 hours Gemini keeps the job and its file. At the
 * bound the job counts as finished without a file: Collect asks Gemini once more, and if there is
 * still none, answers each of its keys with a NO_RESULT_FILE error naming the job.
 */
export const DEFAULT_RESPONSES_FILE_WAIT_SECONDS = 60 * 60;

export interface JobReadDeps {
  readonly gemini: GeminiBatchApi;
  /** @default DEFAULT_RESPONSES_FILE_WAIT_SECONDS */
  readonly responsesFileWaitSeconds?: number;
  /** @default DEFAULT_PENDING_TIMEOUT_SECONDS */
  readonly pendingTimeoutSeconds?: number;
  /** @default DEFAULT_EXPIRED_RESUBMIT_ROUNDS */
  readonly expiredResubmitRounds?: number;
  readonly log?: Log;
}

/**
 * Whether Poll is done with a job: it has ended, and, if it succeeded over a file, Gemini has
 * named the responses file (or Poll has given up waiting for it). An inline job's answers are in
 * its operation, so it is done when it ends.
 */
export function isFinished(job: JobStatusRecord): boolean {
  return isTerminalState(job.state) && !awaitsResponsesFile(job);
}

function awaitsResponsesFile(job: JobStatusRecord): boolean {
  return (
    job.state === 'BATCH_STATE_SUCCEEDED' &&
    job.inline === false &&
    !job.responsesFile &&
    job.responsesFileGivenUp !== true
  );
}

/**
 * What a pass records of a job it could not read: the last record, or — for a job never read yet —
 * a state that is not terminal, so the job keeps the run polling and is never taken for a chunk
 * still waiting to be submitted (which the deadline could abandon while its job runs).
 */
export function unreadRecord({ known, chunk, batchName }: JobToRead, reason: string): JobStatusRecord {
  return known
    ? { ...known, readError: reason }
    : {
        chunk: chunk.index,
        batchName,
        state: 'BATCH_STATE_UNSPECIFIED',
        requestCount: 0,
        successfulCount: 0,
        failedCount: 0,
        readError: reason,
      };
}

/** One job a pass reads: its chunk and name, what the last pass recorded of it, whether it went inline. */
export interface JobToRead {
  readonly chunk: ChunkPlan;
  readonly batchName: string;
  readonly known: JobStatusRecord | undefined;
  readonly inline: boolean | undefined;
}

/** What every read of one pass shares: the pass's clock, and the retry cutoff. */
export interface PassClock {
  readonly now: Date;
  /** The instant after which no retry chunk is created (`retryCutoff`). */
  readonly cutoff: number;
}

/**
 * Reads one job not finished yet and returns what the pass records of it: what Gemini says, how
 * long it has awaited its responses file or stayed PENDING, and whether Poll cancelled it as stuck.
 * A 429 or 5xx on the read is thrown: the pass keeps the last record ({@link unreadRecord}).
 */
export async function readJob(job: JobToRead, pass: PassClock, deps: JobReadDeps): Promise<JobStatusRecord> {
  const read = toJobStatusRecord(job.chunk.index, await deps.gemini.getBatch(job.batchName));
  const fresh = awaitResponsesFile({ ...read, inline: job.inline }, job, pass, deps);
  return watchPending(fresh, job, pass, deps);
}

/**
 * A fresh read of a file job that succeeded without naming its responses file: marked as awaited
 * since the first pass that saw it so, and given up on once `responsesFileWaitSeconds` have passed.
 */
function awaitResponsesFile(
  record: JobStatusRecord,
  { known }: JobToRead,
  { now }: PassClock,
  deps: JobReadDeps,
): JobStatusRecord {
  if (!awaitsResponsesFile(record)) {
    // Kept once the file is named: the record then says Gemini named it late.
    const awaited = known?.responsesFileAwaitedSince;
    return awaited && record.responsesFile ? { ...record, responsesFileAwaitedSince: awaited } : record;
  }
  const since = known?.responsesFileAwaitedSince ?? now.toISOString();
  const waitMs = (deps.responsesFileWaitSeconds ?? DEFAULT_RESPONSES_FILE_WAIT_SECONDS) * 1000;
  const givenUp = now.getTime() - Date.parse(since) >= waitMs;
  deps.log?.(
    givenUp
      ? 'Gemini still names no responses file for a succeeded job; giving up on it'
      : 'Gemini reports a job succeeded but names no responses file yet; reading it again next pass',
    { chunk: record.chunk, batchName: record.batchName, since },
  );
  return { ...record, responsesFileAwaitedSince: since, ...(givenUp ? { responsesFileGivenUp: true } : {}) };
}

/**
 * Tracks how long a job has been PENDING (from the first pass that saw it so) and, once that passes
 * the pending timeout, asks Gemini to cancel it, so that its requests are resubmitted like an
 * expired job's (see `planRetries`). Only while its requests may still be resubmitted: before the
 * retry cutoff and within `expiredResubmitRounds`; otherwise it is left to run or expire. A cancel
 * Gemini refuses for now is asked again on the next pass.
 */
async function watchPending(
  record: JobStatusRecord,
  { known, chunk }: JobToRead,
  { now, cutoff }: PassClock,
  deps: JobReadDeps,
): Promise<JobStatusRecord> {
  if (known?.cancelledAsStuck) return { ...record, cancelledAsStuck: true };
  if (record.state !== 'BATCH_STATE_PENDING') return record;
  const pendingSince = known?.pendingSince ?? now.toISOString();
  const waited = now.getTime() - Date.parse(pendingSince);
  const limitMs = (deps.pendingTimeoutSeconds ?? DEFAULT_PENDING_TIMEOUT_SECONDS) * 1000;
  const resubmittable =
    (chunk.resubmits ?? 0) < (deps.expiredResubmitRounds ?? DEFAULT_EXPIRED_RESUBMIT_ROUNDS) &&
    now.getTime() < cutoff;
  if (waited < limitMs || !resubmittable) return { ...record, pendingSince };
  try {
    await deps.gemini.cancelBatch(record.batchName);
  } catch (error) {
    if (!isWait(error)) throw error;
    deps.log?.('could not cancel a job stuck PENDING; asking again next pass', {
      chunk: record.chunk,
      batchName: record.batchName,
      reason: error.message,
    });
    return { ...record, pendingSince };
  }
  deps.log?.('cancelled a job stuck PENDING; its requests will be resubmitted', {
    chunk: record.chunk,
    batchName: record.batchName,
    pendingSince,
  });
  return { ...record, pendingSince, cancelledAsStuck: true };
}
