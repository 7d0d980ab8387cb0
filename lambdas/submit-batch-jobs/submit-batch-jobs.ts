import { type SubmitChunksDeps, submitChunks } from '../shared/batch-jobs/submit-chunks.js';
import { readPlan } from '../shared/run/read-work-records.js';
import type { RunState, SubmittedRun } from '../shared/run/state-payloads.js';

export type SubmitDeps = SubmitChunksDeps;

/**
 * Creates the run's Gemini jobs, one per chunk, never two. How is in `shared/batch-jobs/`
 * (`submitChunks`), not here: Poll Batch Jobs submits the chunks that waited with the same code.
 * Chunks Gemini refuses for now (429) or cannot take (5xx) are left waiting, even all of them: the
 * poll loop submits them as running jobs finish, and gives up on them at the submit deadline. A
 * 429 is a wait, never a failed run by itself. A chunk Gemini refuses for good (a 4xx other than
 * 408 and 429) is in neither count: it is done without a job, and the run goes on with the others.
 */
export async function submitBatchJobs(run: RunState, deps: SubmitDeps): Promise<SubmittedRun> {
  const plan = await readPlan(deps.store, run);
  const { submitted, waiting } = await submitChunks(run, plan, deps);
  return { chunkCount: plan.chunks.length, submittedCount: submitted, waitingCount: waiting };
}
