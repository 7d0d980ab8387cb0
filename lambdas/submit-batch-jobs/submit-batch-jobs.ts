import type { RunState, SubmittedRun } from '../shared/run-state.js';
import { readPlan } from '../shared/run-store.js';
import { everyJobRefused, type SubmitChunksDeps, submitChunks } from '../shared/submit-chunks.js';

export type SubmitDeps = SubmitChunksDeps;

/**
 * Creates the run's Gemini jobs, one per chunk, never two (see `submitChunks`). Chunks Gemini
 * refuses for now are left waiting: the poll loop submits them as running jobs finish. Only when
 * Gemini accepts none does Submit fail with GeminiRateLimitError, which the state machine retries
 * with backoff.
 */
export async function submitBatchJobs(run: RunState, deps: SubmitDeps): Promise<SubmittedRun> {
  const plan = await readPlan(deps.store, run);
  const { submitted, waiting } = await submitChunks(run, plan, deps);
  if (submitted === 0 && waiting > 0) throw everyJobRefused(run.runId, waiting);
  return { chunkCount: plan.chunks.length, submittedCount: submitted, waitingCount: waiting };
}
