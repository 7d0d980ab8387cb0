import type { BatchJob } from './batch-job.js';

export type BatchState =
  | 'BATCH_STATE_PENDING'
  | 'BATCH_STATE_RUNNING'
  | 'BATCH_STATE_SUCCEEDED'
  | 'BATCH_STATE_FAILED'
  | 'BATCH_STATE_CANCELLED'
  | 'BATCH_STATE_EXPIRED';

/** A job as seen at one instant of the emulator clock. */
export interface JobView {
  readonly state: BatchState;
  readonly updateTimeMs: number;
  readonly endTimeMs: number | undefined;
  /** `google.rpc.Status` for a failed job. */
  readonly error: { readonly code: number; readonly message: string } | undefined;
  readonly stats: { readonly requests: number; readonly succeeded: number; readonly failed: number };
}

const TERMINAL: ReadonlySet<BatchState> = new Set([
  'BATCH_STATE_SUCCEEDED',
  'BATCH_STATE_FAILED',
  'BATCH_STATE_CANCELLED',
  'BATCH_STATE_EXPIRED',
]);

export const isTerminal = (state: BatchState): boolean => TERMINAL.has(state);

/** gRPC INTERNAL: what a failed job's `error.code` carries. */
const INTERNAL = 13;

/**
 * Where `job` stands at `now` on the emulator clock: a function of the clock alone, so polling
 * faster does not make a job finish sooner. A job not finished `jobTtlMs` after its creation expires.
 */
export function viewJob(job: BatchJob, now: number, jobTtlMs: number): JobView {
  const expiresAtMs = job.createTimeMs + jobTtlMs;
  const requests = job.scan.requests;
  const nothingDone = { requests, succeeded: 0, failed: 0 };
  const ended = (
    state: BatchState,
    atMs: number,
    stats = nothingDone,
    error?: JobView['error'],
  ): JobView => ({
    state,
    updateTimeMs: atMs,
    endTimeMs: atMs,
    error,
    stats,
  });

  if (job.cancelledAtMs !== undefined) {
    return ended('BATCH_STATE_CANCELLED', job.cancelledAtMs, progress(job, job.cancelledAtMs));
  }
  const finishAtMs =
    job.runningAtMs !== undefined && job.processing.done
      ? Math.max(job.doneAtMs, job.processing.atMs)
      : undefined;
  if (finishAtMs !== undefined && finishAtMs <= now && finishAtMs < expiresAtMs && job.processing.done) {
    if (job.processing.error !== undefined) {
      return ended('BATCH_STATE_FAILED', finishAtMs, nothingDone, {
        code: INTERNAL,
        message: job.processing.error,
      });
    }
    if (job.plannedEnd === 'BATCH_STATE_FAILED') {
      const message = job.failMessage ?? 'Emulated job failure injected by a job-outcome fault.';
      return ended('BATCH_STATE_FAILED', finishAtMs, nothingDone, { code: INTERNAL, message });
    }
    if (job.plannedEnd === 'BATCH_STATE_EXPIRED') return ended('BATCH_STATE_EXPIRED', finishAtMs);
    return ended('BATCH_STATE_SUCCEEDED', finishAtMs, job.processing.counts ?? nothingDone);
  }
  if (now >= expiresAtMs) return ended('BATCH_STATE_EXPIRED', expiresAtMs);
  if (job.runningAtMs === undefined || now < job.runningAtMs) {
    return {
      state: 'BATCH_STATE_PENDING',
      updateTimeMs: job.createTimeMs,
      endTimeMs: undefined,
      error: undefined,
      stats: nothingDone,
    };
  }
  return {
    state: 'BATCH_STATE_RUNNING',
    updateTimeMs: job.runningAtMs,
    endTimeMs: undefined,
    error: undefined,
    stats: progress(job, now),
  };
}

/** Requests answered by `atMs`, growing linearly over the running time. */
function progress(job: BatchJob, atMs: number): JobView['stats'] {
  const requests = job.scan.requests;
  if (
    job.runningAtMs === undefined ||
    atMs <= job.runningAtMs ||
    !job.processing.done ||
    !job.processing.counts
  ) {
    return { requests, succeeded: 0, failed: 0 };
  }
  const span = Math.max(1, job.doneAtMs - job.runningAtMs);
  const share = Math.min(1, (atMs - job.runningAtMs) / span);
  const { succeeded, failed } = job.processing.counts;
  return { requests, succeeded: Math.floor(succeeded * share), failed: Math.floor(failed * share) };
}
