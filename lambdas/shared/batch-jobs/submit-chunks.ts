import pLimit from 'p-limit';
import type { RunInput, RunRef } from '../run/state-payloads.js';
import type { RunPlan } from '../run/work-records.js';
import { type AdmissionDeps, admitChunks } from './admit-chunks.js';
import { type ChunkJobDeps, type ChunkOutcome, createChunkJob } from './create-chunk-job.js';

/** Chunks uploaded and created at once: enough to overlap uploads, few enough for Lambda's network and /tmp. */
export const DEFAULT_SUBMIT_CONCURRENCY = 4;

export interface SubmitChunksDeps extends ChunkJobDeps {
  /** @default DEFAULT_SUBMIT_CONCURRENCY */
  readonly concurrency?: number;
  /**
   * The queue every run of the stack shares in front of Gemini's quota ({@link admitChunks}).
   * @default - none: every chunk asks Gemini at once, as a run alone on its project may
   */
  readonly admission?: AdmissionDeps;
}

export interface SubmitOutcome {
  /** Chunks that have a Gemini job. */
  readonly submitted: number;
  /** Chunks Gemini refused for now (429) or could not take (5xx, unreachable): tried again by the poll loop. */
  readonly waiting: number;
  /**
   * Chunks Gemini refused to create a job for, for good (HTTP 4xx other than 408 and 429): done,
   * without a job; their ledgers say why, and Collect answers their keys with it.
   */
  readonly refused: number;
}

/**
 * Gives every chunk of the plan its one Gemini job ({@link createChunkJob}: how a chunk gets it at
 * most once, and what a 429, a 5xx or a refusal leaves behind), `concurrency` chunks at a time.
 * With `admission`, chunks ask in the queue's order across runs, behind its gate. Throws the first
 * failure only once every chunk has settled.
 */
export async function submitChunks(
  run: RunRef & Pick<RunInput, 'uploadedAt'>,
  plan: RunPlan,
  deps: SubmitChunksDeps,
): Promise<SubmitOutcome> {
  const concurrency = deps.concurrency ?? DEFAULT_SUBMIT_CONCURRENCY;
  if (deps.admission) {
    const admitted = await admitChunks(run, plan.chunks, { ...deps, concurrency, admission: deps.admission });
    return countOutcomes([...admitted.values()]);
  }
  const limit = pLimit(concurrency);
  // allSettled, not all: a failure must not return while other chunks are mid-create, or a retry
  // could race them (and a frozen Lambda could resume them in a later invocation).
  const settled = await Promise.allSettled(
    plan.chunks.map((chunk) => limit(() => createChunkJob(run, chunk, deps))),
  );
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return countOutcomes(settled.map((result) => (result as PromiseFulfilledResult<ChunkOutcome>).value));
}

function countOutcomes(outcomes: readonly ChunkOutcome[]): SubmitOutcome {
  const counted = (wanted: ChunkOutcome) => outcomes.filter((outcome) => outcome === wanted).length;
  return { submitted: counted('submitted'), waiting: counted('waiting'), refused: counted('refused') };
}
