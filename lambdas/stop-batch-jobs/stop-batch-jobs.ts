import { toJobStatusRecord } from '../shared/batch-jobs/job-status.js';
import { rankRecovered, recoveredLedger, searchUnrecorded } from '../shared/batch-jobs/unrecorded-jobs.js';
import { type GeminiBatchApi, isTerminalState } from '../shared/gemini/gemini-batch-api.js';
import type { Log } from '../shared/log.js';
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { jobDisplayName, workKeys } from '../shared/run/bucket-layout.js';
import { readLedgers, readPlan, readPollStatus } from '../shared/run/read-work-records.js';
import { describeFailure, type RunState } from '../shared/run/state-payloads.js';
import type { ChunkPlan, JobLedger, JobStatusRecord, PollStatus } from '../shared/run/work-records.js';

export interface StopDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  readonly now?: () => Date;
  readonly log?: Log;
}

/** `$.stopped`: what Stop Batch Jobs did. */
export interface StoppedRun {
  /** Jobs that were still pending or running, and were cancelled. */
  readonly cancelledCount: number;
  /** Jobs that had ended (succeeded or not): Collect takes what they hold. */
  readonly finishedCount: number;
  /** Chunks that never got a job: their keys are answered with the reason. */
  readonly unsubmittedCount: number;
}

/** Why the run is being stopped, in words for the keys it leaves unanswered. */
function stopReason(run: RunState): string {
  if (run.salvage?.status === 'ABORTED') return 'the run was cancelled';
  if (run.salvage?.status === 'TIMED_OUT') return 'the run timed out';
  return run.failure ? `the run failed (${describeFailure(run.failure)})` : 'the run stopped';
}

/**
 * Brings a run that is ending early to a state Collect can take whole: every job that already ended
 * is recorded as it ended, so its answers are collected; every job still pending or running is
 * cancelled (Gemini stops billing it) and recorded as cancelled; a job whose create may have
 * happened without being recorded is found by its display name and cancelled too; and chunks that
 * never got a job are marked, so their keys are answered with the reason instead of lost.
 *
 * Runs after any caught failure once jobs may exist, and in a salvage run after a timeout or a
 * cancel. Calling it again is harmless: cancelled jobs stay cancelled, ended ones stay ended.
 */
export async function stopBatchJobs(run: RunState, deps: StopDeps): Promise<StoppedRun> {
  const { store, gemini } = deps;
  const plan = await readPlan(store, run);
  const ledgers = new Map((await readLedgers(store, run, plan)).map((ledger) => [ledger.chunk, ledger]));
  const last = await readPollStatus(store, run);
  const previous = new Map(last?.jobs.map((job) => [job.chunk, job]));
  // A chunk Gemini refused for good keeps its refusal: Collect answers its keys with the reason.
  const refused = new Set(last?.refusedChunks);
  for (const ledger of ledgers.values()) if (ledger.createError) refused.add(ledger.chunk);
  const jobs: JobStatusRecord[] = [];
  const unsubmitted: number[] = [];
  let cancelledCount = 0;
  for (const chunk of plan.chunks) {
    if (refused.has(chunk.index)) continue;
    const known = previous.get(chunk.index);
    if (known && isTerminalState(known.state)) {
      jobs.push(known);
      continue;
    }
    const batchName = known?.batchName ?? (await recordedJob(run, chunk, ledgers.get(chunk.index), deps));
    if (!batchName) {
      unsubmitted.push(chunk.index);
      continue;
    }
    let status = await gemini.getBatch(batchName);
    if (!isTerminalState(status.state)) {
      await gemini.cancelBatch(batchName);
      cancelledCount += 1;
      deps.log?.('cancelled a batch job the run no longer waits for', { chunk: chunk.index, batchName });
      status = await gemini.getBatch(batchName);
    }
    jobs.push(toJobStatusRecord(chunk.index, status));
  }
  const reason = stopReason(run);
  const record: PollStatus = {
    polledAt: (deps.now?.() ?? new Date()).toISOString(),
    jobs,
    ...(unsubmitted.length > 0 ? { abandonedChunks: unsubmitted, abandonedReason: reason } : {}),
    ...(refused.size > 0 ? { refusedChunks: [...refused].sort((a, b) => a - b) } : {}),
  };
  await store.putJson(run.bucket, workKeys(run.runId).pollStatus, record);
  return {
    cancelledCount,
    finishedCount: jobs.length - cancelledCount,
    unsubmittedCount: unsubmitted.length,
  };
}

/**
 * The chunk's job as its ledger names it; or, when the ledger says a create was under way, the job
 * Gemini holds under the chunk's display name, looked for as Submit's recovery does (back to the
 * creating time): the furthest along is kept and recorded, so Finalize and Collect see it, and any
 * other copy is cancelled at once.
 */
async function recordedJob(
  run: RunState,
  chunk: ChunkPlan,
  ledger: JobLedger | undefined,
  deps: StopDeps,
): Promise<string | undefined> {
  if (ledger?.batchName) return ledger.batchName;
  if (!ledger?.creating) return undefined;
  const { found } = await searchUnrecorded(deps.gemini, {
    displayName: jobDisplayName(run.runId, chunk.index),
    format: chunk.format,
    ledger,
  });
  const [kept, ...duplicates] = rankRecovered(found);
  if (!kept) return undefined;
  for (const duplicate of duplicates) {
    if (!isTerminalState(duplicate.state)) await deps.gemini.cancelBatch(duplicate.name);
  }
  const at = (deps.now?.() ?? new Date()).toISOString();
  await deps.store.putJson(
    run.bucket,
    workKeys(run.runId).ledger(chunk.index),
    recoveredLedger(ledger, { kept, duplicates, at }),
  );
  return kept.name;
}
