import { DEFAULT_WAITING_POLL_SECONDS } from '../shared/batch-jobs/admit-chunks.js';
import { isWait } from '../shared/batch-jobs/refusals.js';
import { type SubmitChunksDeps, submitChunks } from '../shared/batch-jobs/submit-chunks.js';
import { GeminiRateLimitError } from '../shared/errors.js';
import { workKeys } from '../shared/run/bucket-layout.js';
import { readLedgers, readPlan, readPollStatus } from '../shared/run/read-work-records.js';
import type { PollState, RunState } from '../shared/run/state-payloads.js';
import {
  type ChunkPlan,
  type JobStatusRecord,
  type PollStatus,
  sentInline,
} from '../shared/run/work-records.js';
import { noMetrics } from '../shared/run-metrics.js';
import { isFinished, type JobReadDeps, readJob, unreadRecord } from './job-reads.js';
import { planRetries, type RetryDeps, retryCutoff } from './retries.js';

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
export interface PollDeps
  extends SubmitChunksDeps,
    JobReadDeps,
    Pick<RetryDeps, 'lineRetryRounds' | 'expiredResubmitRounds' | 'retryCutoffSeconds'> {
  readonly schedule: PollSchedule;
  /** Where a retry round stages a chunk's results to scan them (Lambda's /tmp). */
  readonly tmpDir: string;
  /** @default DEFAULT_SUBMIT_DEADLINE_SECONDS */
  readonly submitDeadlineSeconds?: number;
}

/**
 * One pass of the poll loop: first submits chunks still waiting for Gemini to accept their job,
 * then asks Gemini about every job not yet finished ({@link isFinished}: finished ones are not
 * asked again), records every job's state in `poll-status.json`, and tells the loop whether all
 * are done and how long to wait before the next pass. A chunk Gemini refused to create a job for,
 * for good, is done without one (`refusedChunks`).
 *
 * A file job Gemini reports SUCCEEDED without naming its responses file is not finished: it is
 * read again on later passes, for up to `responsesFileWaitSeconds` (an hour by default).
 *
 * A read Gemini answers 429 or 5xx is a wait, never a failed run: the job keeps its last record
 * (with `readError`) and the pass is not done. After a 429 the pass reads no further job — the
 * quota is spent, more reads would only be refused — and waits twice as long as the last pass did
 * (at most `maxSeconds`) instead of following the schedule.
 */
export async function pollBatchJobs(run: RunState, deps: PollDeps): Promise<PollState> {
  const { store, schedule } = deps;
  const plan = await readPlan(store, run);
  const now = deps.now?.() ?? new Date();
  // The last pass's record names each chunk's job or refusal; only chunks it lacks need their ledger read.
  const last = await readPollStatus(store, run);
  const previous = new Map(last?.jobs.map((job) => [job.chunk, job]));
  const refused = new Set(last?.refusedChunks);
  const unknown = {
    ...plan,
    chunks: plan.chunks.filter((chunk) => !previous.has(chunk.index) && !refused.has(chunk.index)),
  };
  const cutoff = retryCutoff(run.uploadedAt, deps.retryCutoffSeconds);
  // Past the deadline, stop waiting: the run collects what it has instead of running into its timeout.
  // A retry chunk, created later, may wait until the retry cutoff: a job accepted then still ends in time.
  const deadline =
    Date.parse(run.uploadedAt) + (deps.submitDeadlineSeconds ?? DEFAULT_SUBMIT_DEADLINE_SECONDS) * 1000;
  const pastDeadline = (chunk: ChunkPlan) => now.getTime() >= ((chunk.round ?? 0) > 0 ? cutoff : deadline);
  // In the shared queue, a chunk past its deadline no longer holds a place: runs behind it go first.
  const toSubmit = deps.admission ? unknown.chunks.filter((chunk) => !pastDeadline(chunk)) : unknown.chunks;
  if (toSubmit.length > 0) await submitChunks(run, { ...unknown, chunks: toSubmit }, deps);
  const created = new Map<number, { readonly batchName: string; readonly inline: boolean }>();
  for (const ledger of await readLedgers(store, run, unknown)) {
    if (ledger.batchName)
      created.set(ledger.chunk, { batchName: ledger.batchName, inline: sentInline(ledger) });
    else if (ledger.createError) refused.add(ledger.chunk);
  }

  const jobs: JobStatusRecord[] = [];
  let throttled: GeminiRateLimitError | undefined;
  for (const chunk of plan.chunks) {
    const known = previous.get(chunk.index);
    if (known && isFinished(known)) {
      jobs.push(known);
      continue;
    }
    const batchName = known?.batchName ?? created.get(chunk.index)?.batchName;
    if (!batchName) continue; // refused for good, or still waiting for Gemini to accept its job
    const job = { chunk, batchName, known, inline: known?.inline ?? created.get(chunk.index)?.inline };
    if (throttled) {
      jobs.push(unreadRecord(job, `not read: ${throttled.message}`));
      continue;
    }
    try {
      jobs.push(await readJob(job, { now, cutoff }, deps));
    } catch (error) {
      if (!isWait(error)) throw error;
      if (error instanceof GeminiRateLimitError) throttled = error;
      deps.log?.('could not read a batch job; keeping its last state', {
        chunk: chunk.index,
        batchName,
        error: error.name,
        reason: error.message,
      });
      jobs.push(unreadRecord(job, error.message));
    }
  }
  const withJob = new Set(jobs.map((job) => job.chunk));
  const waitingChunks = plan.chunks.filter((chunk) => !withJob.has(chunk.index) && !refused.has(chunk.index));
  const waiting = waitingChunks.map((chunk) => chunk.index);
  const abandonedChunks = waitingChunks.filter(pastDeadline).map((chunk) => chunk.index);
  for (const chunk of deps.admission ? abandonedChunks : []) {
    await deps.admission?.queue.remove({ runId: run.runId, uploadedAt: run.uploadedAt, chunk });
  }
  const waitingCount = waiting.length - abandonedChunks.length;
  const record: PollStatus = {
    polledAt: now.toISOString(),
    jobs,
    ...(abandonedChunks.length > 0 ? { abandonedChunks } : {}),
    ...(refused.size > 0 ? { refusedChunks: [...refused].sort((a, b) => a - b) } : {}),
  };
  await store.putJson(run.bucket, workKeys(run.runId).pollStatus, record);

  const attempt = (run.poll?.attempt ?? 0) + 1;
  const scheduled = nextWaitSeconds(attempt, schedule);
  const lastWait = run.poll?.waitSeconds ?? schedule.initialSeconds;
  let allDone = waitingCount === 0 && jobs.every(isFinished);
  let retryWaiting = 0;
  if (allDone) {
    // The round has ended: requests that failed transiently, and expired or stuck jobs, go again.
    const added = await planRetries(run, plan, new Map(jobs.map((job) => [job.chunk, job])), now, deps);
    if (added.length > 0) {
      const outcome = await submitChunks(run, { ...plan, chunks: added }, deps);
      retryWaiting = outcome.waiting;
      allDone = false;
    }
  }
  const requestCount = jobs.reduce((sum, job) => sum + job.requestCount, 0);
  const completedCount = jobs.reduce((sum, job) => sum + job.successfulCount + job.failedCount, 0);
  const metrics = deps.metrics ?? noMetrics;
  metrics.add('RequestsCompleted', completedCount);
  metrics.add('RequestsTotal', requestCount);
  // What the long-run alarm watches: a running execution has no age metric of its own.
  metrics.add('RunAgeSeconds', Math.max(0, (now.getTime() - Date.parse(run.uploadedAt)) / 1000));
  let waitSeconds = throttled ? Math.min(schedule.maxSeconds, Math.max(scheduled, 2 * lastWait)) : scheduled;
  // A run waiting in the shared queue comes back soon: when it reaches the head, it is the one to ask.
  if (deps.admission && waitingCount + retryWaiting > 0)
    waitSeconds = Math.min(waitSeconds, DEFAULT_WAITING_POLL_SECONDS);
  return {
    attempt,
    waitSeconds,
    allDone,
    waitingCount: waitingCount + retryWaiting,
    requestCount,
    completedCount,
  };
}
