/**
 * A batch job rendered as OpenAI's Batch object, the shape the OpenAI-compatible layer answers with.
 * Jobs are the same resources the native API serves; only the view differs.
 */
import { describeErrorCode } from '../api-error.js';
import type { BatchJob } from '../batch-job.js';
import type { BatchState, JobView } from '../job-view.js';
import type { OpenAiBatchEndpoint } from './lines.js';

export type OpenAiBatchStatus =
  | 'validating'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

/**
 * Native state → OpenAI status. Google does not document this mapping (only `in_progress` and
 * `completed` were seen live); the rest is the emulator's assumption. `cancelling` is reported for
 * `cancellingMs` after a cancel; `finalizing` never is.
 */
export const STATUS_BY_STATE: Readonly<
  Record<Exclude<BatchState, 'BATCH_STATE_CANCELLED'>, OpenAiBatchStatus>
> = {
  BATCH_STATE_PENDING: 'validating',
  BATCH_STATE_RUNNING: 'in_progress',
  BATCH_STATE_SUCCEEDED: 'completed',
  BATCH_STATE_FAILED: 'failed',
  BATCH_STATE_EXPIRED: 'expired',
};

export interface BatchObjectContext {
  /** Emulator time now, in ms. */
  readonly nowMs: number;
  readonly cancellingMs: number;
  readonly jobTtlMs: number;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The endpoint a native-created job would have had: it answers generate or embed requests. */
function endpointOf(job: BatchJob): OpenAiBatchEndpoint {
  return job.openai?.endpoint ?? (job.kind === 'embed' ? '/v1/embeddings' : '/v1/chat/completions');
}

/** OpenAI's Batch object for `job` as it stands in `view`. */
export function openAiBatchObject(job: BatchJob, view: JobView, context: BatchObjectContext) {
  const { nowMs, cancellingMs, jobTtlMs } = context;
  const cancelledAtMs = job.cancelledAtMs;
  const status: OpenAiBatchStatus =
    view.state === 'BATCH_STATE_CANCELLED'
      ? cancelledAtMs !== undefined && nowMs < cancelledAtMs + cancellingMs
        ? 'cancelling'
        : 'cancelled'
      : STATUS_BY_STATE[view.state];
  const endedAtMs = view.endTimeMs;
  const ranAtMs =
    job.runningAtMs !== undefined && job.runningAtMs <= Math.min(nowMs, endedAtMs ?? nowMs)
      ? job.runningAtMs
      : undefined;
  const { requests, succeeded, failed } = view.stats;
  const outputFile =
    view.state === 'BATCH_STATE_SUCCEEDED' && job.processing.done ? (job.outputFile ?? null) : null;
  const errors = view.error
    ? {
        object: 'list',
        data: [
          {
            code: describeErrorCode(view.error.code).status,
            message: view.error.message,
            param: null,
            line: null,
          },
        ],
      }
    : undefined;
  return {
    id: job.name,
    object: 'batch',
    endpoint: endpointOf(job),
    ...(errors ? { errors } : {}),
    input_file_id: job.source.type === 'file' ? job.source.fileName : null,
    completion_window: job.openai?.completionWindow ?? '24h',
    status,
    output_file_id: outputFile,
    error_file_id: null,
    created_at: seconds(job.createTimeMs),
    ...(ranAtMs !== undefined ? { in_progress_at: seconds(ranAtMs) } : {}),
    expires_at: seconds(job.createTimeMs + jobTtlMs),
    ...(status === 'completed' && endedAtMs !== undefined ? { completed_at: seconds(endedAtMs) } : {}),
    ...(status === 'failed' && endedAtMs !== undefined ? { failed_at: seconds(endedAtMs) } : {}),
    ...(status === 'expired' && endedAtMs !== undefined ? { expired_at: seconds(endedAtMs) } : {}),
    ...(cancelledAtMs !== undefined ? { cancelling_at: seconds(cancelledAtMs) } : {}),
    ...(status === 'cancelled' && cancelledAtMs !== undefined
      ? { cancelled_at: seconds(cancelledAtMs + cancellingMs) }
      : {}),
    request_counts: { total: requests, completed: succeeded, failed },
    metadata: job.openai?.metadata ?? null,
  };
}
