import { RunStateError } from '../shared/errors.js';
import {
  type BatchJobStatus,
  type GeminiBatchApi,
  isTerminalState,
} from '../shared/gemini/gemini-batch-api.js';
import { workKeys } from '../shared/layout.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { JobStatusRecord, PollStatus } from '../shared/run-records.js';
import type { PollState, RunState } from '../shared/run-state.js';
import { readLedgers, readPlan, readPollStatus } from '../shared/run-store.js';

/** The poll loop's backoff: early polls are frequent, later ones rare, never more than `maxSeconds` apart. */
export interface PollSchedule {
  readonly initialSeconds: number;
  readonly maxSeconds: number;
  readonly backoffRate: number;
}

/** Seconds to wait before poll number `attempt + 1`; the first wait (attempt 0) is `initialSeconds`. */
export function nextWaitSeconds(
  attempt: number,
  { initialSeconds, maxSeconds, backoffRate }: PollSchedule,
): number {
  return Math.min(maxSeconds, Math.round(initialSeconds * backoffRate ** attempt));
}

export interface PollDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  readonly schedule: PollSchedule;
  readonly now?: () => Date;
}

/** What `poll-status.json` keeps of a job: its chunk and what Gemini said of it. */
export function toJobStatusRecord(
  chunk: number,
  { name, displayName: _displayName, ...status }: BatchJobStatus,
): JobStatusRecord {
  return { chunk, batchName: name, ...status };
}

/**
 * One pass of the poll loop: asks Gemini about every job not yet terminal (terminal ones are not
 * asked again), records every job's state in `poll-status.json`, and tells the loop whether all
 * are done and how long to wait before the next pass.
 */
export async function pollBatchJobs(run: RunState, deps: PollDeps): Promise<PollState> {
  const { store, gemini, schedule } = deps;
  const plan = await readPlan(store, run);
  const ledgers = await readLedgers(store, run, plan);
  const previous = new Map((await readPollStatus(store, run))?.jobs.map((job) => [job.batchName, job]));

  const jobs: JobStatusRecord[] = [];
  for (const ledger of ledgers) {
    if (!ledger.batchName)
      throw new RunStateError(`chunk ${ledger.chunk} of run ${run.runId} has no batch job`);
    const known = previous.get(ledger.batchName);
    if (known && isTerminalState(known.state)) {
      jobs.push(known);
      continue;
    }
    jobs.push(toJobStatusRecord(ledger.chunk, await gemini.getBatch(ledger.batchName)));
  }
  if (jobs.length !== plan.chunks.length) {
    throw new RunStateError(
      `run ${run.runId} has ${plan.chunks.length} chunks but ${jobs.length} batch jobs`,
    );
  }
  const record: PollStatus = { polledAt: (deps.now?.() ?? new Date()).toISOString(), jobs };
  await store.putJson(run.bucket, workKeys(run.runId).pollStatus, record);

  const attempt = (run.poll?.attempt ?? 0) + 1;
  return {
    attempt,
    waitSeconds: nextWaitSeconds(attempt, schedule),
    allDone: jobs.every((job) => isTerminalState(job.state)),
    requestCount: jobs.reduce((sum, job) => sum + job.requestCount, 0),
    completedCount: jobs.reduce((sum, job) => sum + job.successfulCount + job.failedCount, 0),
  };
}
