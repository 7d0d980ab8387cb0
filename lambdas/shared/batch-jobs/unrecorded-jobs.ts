/**
 * Finding the jobs a chunk may have without its ledger naming them: a create whose outcome is
 * unknown (the function died, or Gemini's answer was lost) may still have made one, or, across
 * retries, several. Submit's recovery and Stop Batch Jobs look for them by the chunk's display name
 * and keep the same one; Finalize looks for them the same way to cancel any still running.
 */
import { GeminiRequestError } from '../errors.js';
import {
  type BatchSearch,
  type FoundBatch,
  type GeminiBatchApi,
  isTerminalState,
  type RequestFormat,
} from '../gemini/gemini-batch-api.js';
import type { Log } from '../log.js';
import { type JobLedger, recoverySearchSince } from '../run/work-records.js';
import { isWait } from './refusals.js';

/** The jobs found under a chunk's display name, and how far back the search looked. */
export interface UnrecordedSearch extends BatchSearch {
  readonly since: Date;
}

/**
 * Lists the jobs Gemini holds under a chunk's display name, back to when its ledger started
 * creating (less the recovery margin, see `recoverySearchSince`).
 */
export async function searchUnrecorded(
  gemini: GeminiBatchApi,
  query: {
    readonly displayName: string;
    readonly format: RequestFormat;
    readonly ledger: Pick<JobLedger, 'creatingSince' | 'updatedAt'>;
  },
): Promise<UnrecordedSearch> {
  const since = recoverySearchSince(query.ledger);
  const search = await gemini.findBatchesByDisplayName(query.displayName, {
    format: query.format,
    createdAfter: since,
  });
  return { ...search, since };
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

/**
 * The ledger once a search found the chunk's job: it names the job kept ({@link rankRecovered}),
 * says it was recovered, no longer creating, and which other jobs were found (and which of those
 * Gemini would not cancel, for Finalize to ask again).
 */
export function recoveredLedger(
  ledger: JobLedger,
  found: {
    readonly kept: FoundBatch;
    readonly duplicates: readonly FoundBatch[];
    readonly leftRunning?: readonly string[];
    readonly at: string;
  },
): JobLedger {
  const { kept, duplicates, leftRunning = [], at } = found;
  return {
    ...ledger,
    batchName: kept.name,
    recovered: true,
    creating: false,
    ...(duplicates.length > 0 ? { duplicates: duplicates.map((job) => job.name) } : {}),
    ...(leftRunning.length > 0 ? { duplicatesLeftRunning: leftRunning } : {}),
    updatedAt: at,
  };
}

/**
 * Asks Gemini to cancel each duplicate still able to run; returns those it would not cancel for
 * now (429, 5xx, another refusal), for Finalize to ask again. A duplicate that already ended has
 * nothing left to stop. A failed cancel never fails the chunk: its own job is found and kept.
 */
export async function cancelDuplicates(
  gemini: GeminiBatchApi,
  duplicates: readonly FoundBatch[],
  context: {
    readonly chunk: number;
    readonly log?: Log;
  },
): Promise<string[]> {
  const leftRunning: string[] = [];
  for (const duplicate of duplicates) {
    if (isTerminalState(duplicate.state)) continue;
    try {
      await gemini.cancelBatch(duplicate.name);
    } catch (error) {
      if (!(isWait(error) || error instanceof GeminiRequestError)) throw error;
      leftRunning.push(duplicate.name);
      context.log?.('could not cancel a duplicate job; Finalize asks again', {
        chunk: context.chunk,
        batchName: duplicate.name,
        error: error.name,
        reason: error.message,
      });
    }
  }
  return leftRunning;
}
