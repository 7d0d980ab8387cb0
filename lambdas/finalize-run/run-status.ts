/**
 * How a run ended, and why in words a person can act on: the verdict `manifest.json` and the
 * run-finished event carry.
 */
import { ERROR_NAMES } from '../shared/errors.js';
import { describeFailure, type RunState } from '../shared/run/state-payloads.js';
import type { RunRecords } from './run-records.js';

/** How a run ended, in `manifest.json` and the run-finished event. */
export type RunStatus = 'SUCCEEDED' | 'COMPLETED_WITH_ERRORS' | 'FAILED' | 'CANCELLED';

export interface RunVerdict {
  readonly status: RunStatus;
  /** Why the run did not fully succeed; absent when it did. */
  readonly reason?: string;
}

/**
 * The run's status from how its execution ended (a failure caught, a salvage after a timeout or a
 * stop) and what its records say: jobs that did not succeed, chunks refused or abandoned, answers
 * tied to no key, failed requests and rejected lines.
 */
export function decideStatus(run: RunState, records: RunRecords): RunVerdict {
  const { plan, poll, collected, ledgers } = records;
  // A run that ended early still had its finished jobs collected (Stop Batch Jobs, then Collect).
  const salvaged = collected
    ? `; the jobs that had finished were collected (${collected.succeededCount} answers), the others cancelled`
    : '';
  const failure = run.failure ? `; then ${describeFailure(run.failure)}` : '';
  if (run.salvage?.status === 'ABORTED') {
    const cause = run.salvage.cause ? ` (${run.salvage.cause})` : '';
    return { status: 'CANCELLED', reason: `the run was cancelled${cause}${salvaged}${failure}` };
  }
  if (run.salvage?.status === 'TIMED_OUT') {
    return {
      status: 'FAILED',
      reason: `execution ${run.salvage.executionName} timed out${salvaged}${failure}`,
    };
  }
  if (run.failure?.Error === ERROR_NAMES.runBudget) {
    // No job ever existed: nothing was salvaged, and Collect answered each accepted key.
    const answered =
      plan && collected
        ? `; each of the ${plan.acceptedCount} accepted requests has an error line in results.jsonl saying so`
        : '';
    return { status: 'FAILED', reason: `${describeFailure(run.failure)}${answered}` };
  }
  if (run.failure) return { status: 'FAILED', reason: `${describeFailure(run.failure)}${salvaged}` };
  if (!plan || !collected)
    return { status: 'FAILED', reason: 'the run ended before its results were collected' };
  const unsuccessful = (poll?.jobs ?? []).filter((job) => job.state !== 'BATCH_STATE_SUCCEEDED');
  // A job whose requests were resubmitted is not a problem by itself: its keys' lines are the retry's.
  const resubmitted = new Set(plan.chunks.map((chunk) => chunk.retryOf).filter((of) => of !== undefined));
  const jobProblems = unsuccessful
    .filter((job) => !resubmitted.has(job.chunk))
    .map(
      (job) => `batch job ${job.batchName} ended ${job.state}${job.error ? `: ${job.error.message}` : ''}`,
    );
  for (const ledger of ledgers) {
    if (!ledger.createError || ledger.batchName) continue;
    const status = ledger.createError.code !== undefined ? ` (HTTP ${ledger.createError.code})` : '';
    jobProblems.push(
      `Gemini refused to create the batch job of chunk ${ledger.chunk}${status}; its requests were not sent`,
    );
  }
  const abandoned = poll?.abandonedChunks ?? [];
  if (abandoned.length > 0) {
    jobProblems.push(
      `Gemini refused the jobs of ${abandoned.length} chunk(s) (quota, 429) until the submit deadline; their requests were not sent`,
    );
  }
  const unmatched = collected.unmatchedCount ?? 0;
  if (unmatched > 0) {
    jobProblems.push(
      `${unmatched} answers Gemini returned could not be tied to a key (kept in unmatched.jsonl)`,
    );
  }
  if (collected.succeededCount === 0) {
    return {
      status: 'FAILED',
      reason: jobProblems.join('; ') || 'no request succeeded: every result is an error',
    };
  }
  if (collected.failedCount > 0 || plan.rejectedCount > 0) {
    const parts = [
      ...jobProblems,
      ...(collected.failedCount > 0
        ? [`${collected.failedCount} requests failed (see their error lines in results.jsonl)`]
        : []),
      ...(plan.rejectedCount > 0 ? [`${plan.rejectedCount} lines were rejected (see rejected.jsonl)`] : []),
    ];
    return { status: 'COMPLETED_WITH_ERRORS', reason: parts.join('; ') };
  }
  return { status: 'SUCCEEDED' };
}
