import { GeminiRateLimitError, GeminiUnavailableError } from '../shared/errors.js';
import { type BatchJobStatus, isTerminalState } from '../shared/gemini/gemini-batch-api.js';
import { workKeys } from '../shared/layout.js';
import type { JobStatusRecord, PollStatus } from '../shared/run-records.js';
import type { PollState, RunState } from '../shared/run-state.js';
import { readLedgers, readPlan, readPollStatus } from '../shared/run-store.js';
import { type SubmitChunksDeps, submitChunks } from '../shared/submit-chunks.js';

/** The poll loop's backoff: early polls are frequent, later ones rare, never more than `maxSeconds` apart. */
export interface PollSchedule {
  readonly initialSeconds: number;
  readonly maxSeconds: number;
  readonly backoffRate: number;
}

/**
 * 30 s first, ×1.5, at most 12 minutes apart. The cap keeps a 24-hour job within ~390 state
 * transitions (3 per poll: Wait, Poll, Choice); a 10-minute cap would take ~450. A job that ends is
 * noticed at most 12 minutes later.
 */
export const DEFAULT_POLL_SCHEDULE: PollSchedule = { initialSeconds: 30, maxSeconds: 720, backoffRate: 1.5 };

/** Seconds to wait before poll number `attempt + 1`; the first wait (attempt 0) is `initialSeconds`. */
export function nextWaitSeconds(
  attempt: number,
  { initialSeconds, maxSeconds, backoffRate }: PollSchedule,
): number {
  return Math.min(maxSeconds, Math.round(initialSeconds * backoffRate ** attempt));
}

/**
 * How long chunks may wait for Gemini to accept their job, counted from the upload: 12 hours, so a
 * job accepted at the last moment (Gemini expires jobs after 48 hours) still ends, and is collected,
 * within the default 72-hour execution timeout.
 */
export const DEFAULT_SUBMIT_DEADLINE_SECONDS = 12 * 60 * 60;

/** Poll also submits chunks still waiting for Gemini to accept them, so it needs what Submit needs. */
export interface PollDeps extends SubmitChunksDeps {
  readonly schedule: PollSchedule;
  /** @default DEFAULT_SUBMIT_DEADLINE_SECONDS */
  readonly submitDeadlineSeconds?: number;
}

/** What `poll-status.json` keeps of a job: its chunk and what Gemini said of it. */
export function toJobStatusRecord(
  chunk: number,
  { name, displayName: _displayName, ...status }: BatchJobStatus,
): JobStatusRecord {
  return { chunk, batchName: name, ...status };
}

/**
 * What a pass records of a job it could not read: the last record, or — for a job never read yet —
 * a state that is not terminal, so the job keeps the run polling and is never taken for a chunk
 * still waiting to be submitted (which the deadline could abandon while its job runs).
 */
function unreadRecord(
  known: JobStatusRecord | undefined,
  chunk: number,
  batchName: string,
  reason: string,
): JobStatusRecord {
  return known
    ? { ...known, readError: reason }
    : {
        chunk,
        batchName,
        state: 'BATCH_STATE_UNSPECIFIED',
        requestCount: 0,
        successfulCount: 0,
        failedCount: 0,
        readError: reason,
      };
}

/**
 * One pass of the poll loop: first submits chunks still waiting for Gemini to accept their job,
 * then asks Gemini about every job not yet terminal (terminal ones are not asked again), records
 * every job's state in `poll-status.json`, and tells the loop whether all are done and how long to
 * wait before the next pass.
 *
 * A read Gemini answers 429 or 5xx is a wait, never a failed run: the job keeps its last record
 * (with `readError`) and the pass is not done. After a 429 the pass reads no further job — the
 * quota is spent, more reads would only be refused — and waits twice as long as the last pass did
 * (at most `maxSeconds`) instead of following the schedule.
 */
export async function pollBatchJobs(run: RunState, deps: PollDeps): Promise<PollState> {
  const { store, gemini, schedule } = deps;
  const plan = await readPlan(store, run);
  // The last pass's record names each chunk's job; only chunks it lacks need their ledger read.
  const previous = new Map((await readPollStatus(store, run))?.jobs.map((job) => [job.chunk, job]));
  const unknown = { ...plan, chunks: plan.chunks.filter((chunk) => !previous.has(chunk.index)) };
  if (unknown.chunks.length > 0) await submitChunks(run, unknown, deps);
  const created = new Map(
    (await readLedgers(store, run, unknown)).map((ledger) => [ledger.chunk, ledger.batchName]),
  );

  const jobs: JobStatusRecord[] = [];
  let throttled: GeminiRateLimitError | undefined;
  for (const chunk of plan.chunks) {
    const known = previous.get(chunk.index);
    if (known && isTerminalState(known.state)) {
      jobs.push(known);
      continue;
    }
    const batchName = known?.batchName ?? created.get(chunk.index);
    if (!batchName) continue; // still waiting for Gemini to accept its job
    if (throttled) {
      jobs.push(unreadRecord(known, chunk.index, batchName, `not read: ${throttled.message}`));
      continue;
    }
    try {
      jobs.push(toJobStatusRecord(chunk.index, await gemini.getBatch(batchName)));
    } catch (error) {
      if (error instanceof GeminiRateLimitError) throttled = error;
      else if (!(error instanceof GeminiUnavailableError)) throw error;
      deps.log?.('could not read a batch job; keeping its last state', {
        chunk: chunk.index,
        batchName,
        error: error.name,
        reason: error.message,
      });
      jobs.push(unreadRecord(known, chunk.index, batchName, error.message));
    }
  }
  const now = deps.now?.() ?? new Date();
  const withJob = new Set(jobs.map((job) => job.chunk));
  const waiting = plan.chunks.filter((chunk) => !withJob.has(chunk.index)).map((chunk) => chunk.index);
  // Past the deadline, stop waiting: the run collects what it has instead of running into its timeout.
  const deadline =
    Date.parse(run.uploadedAt) + (deps.submitDeadlineSeconds ?? DEFAULT_SUBMIT_DEADLINE_SECONDS) * 1000;
  const abandonedChunks = waiting.length > 0 && now.getTime() >= deadline ? waiting : [];
  const waitingCount = waiting.length - abandonedChunks.length;
  const record: PollStatus = {
    polledAt: now.toISOString(),
    jobs,
    ...(abandonedChunks.length > 0 ? { abandonedChunks } : {}),
  };
  await store.putJson(run.bucket, workKeys(run.runId).pollStatus, record);

  const attempt = (run.poll?.attempt ?? 0) + 1;
  const scheduled = nextWaitSeconds(attempt, schedule);
  const lastWait = run.poll?.waitSeconds ?? schedule.initialSeconds;
  return {
    attempt,
    waitSeconds: throttled ? Math.min(schedule.maxSeconds, Math.max(scheduled, 2 * lastWait)) : scheduled,
    allDone: waitingCount === 0 && jobs.every((job) => isTerminalState(job.state)),
    waitingCount,
    requestCount: jobs.reduce((sum, job) => sum + job.requestCount, 0),
    completedCount: jobs.reduce((sum, job) => sum + job.successfulCount + job.failedCount, 0),
  };
}
