/**
 * What the workflow's states pass each other in the Step Functions execution state: the run's
 * input, then each Lambda's result under the ResultPath named here (`$.prepared`, `$.poll`, …).
 * Only pointers and counts: request and result bodies stay in S3 (state payloads are capped at
 * 256 KiB), and what one function leaves for another is a record under `work/` (`work-records.ts`).
 */

/** Execution input, written by the start-run Lambda. */
export interface RunInput {
  /** Deterministic per upload: also the execution name, so a duplicate event starts nothing. */
  readonly runId: string;
  readonly bucket: string;
  readonly key: string;
  /** The uploaded version, in a versioned bucket: what Prepare reads, whatever is uploaded later. */
  readonly versionId?: string;
  /**
   * The upload's ETag (unquoted, as S3's event carries it). Without a version id, Prepare reads
   * the object only while it still has these bytes, and fails the run if it was replaced.
   */
  readonly etag?: string;
  readonly sizeBytes?: number;
  /** When the upload happened (the S3 event's time), ISO 8601. */
  readonly uploadedAt: string;
  /**
   * Set on a salvage run: the run's first execution ended where no Catch could see it (it timed out,
   * or was stopped, which is how a run is cancelled). The salvage execution stops the run's jobs,
   * collects what finished and writes the manifest.
   */
  readonly salvage?: RunSalvage;
}

/** Which run a record belongs to: its bucket and id, all that finds its records under `work/<runId>/`. */
export type RunRef = Pick<RunInput, 'bucket' | 'runId'>;

/** Why a run is being salvaged: how its first execution ended, as Step Functions reported it. */
export interface RunSalvage {
  readonly status: 'TIMED_OUT' | 'ABORTED';
  /** The execution that ended. */
  readonly executionName: string;
  /** What Step Functions (or whoever stopped it) gave as the cause. */
  readonly cause?: string;
}

/** `$.prepared`: what Prepare Requests made of the input. */
export interface PreparedRun {
  readonly chunkCount: number;
  readonly acceptedCount: number;
  readonly rejectedCount: number;
}

/** `$.submitted`: what Submit Batch Jobs did. */
export interface SubmittedRun {
  readonly chunkCount: number;
  /** Chunks with a Gemini job so far. */
  readonly submittedCount: number;
  /** Chunks Gemini refused for now (429: quota); the poll loop submits them as capacity frees. */
  readonly waitingCount: number;
}

/** `$.poll`: where the poll loop stands; the Wait state reads `waitSeconds`, the Choice `allDone`. */
export interface PollState {
  readonly attempt: number;
  readonly waitSeconds: number;
  readonly allDone: boolean;
  readonly requestCount?: number;
  readonly completedCount?: number;
  /** Chunks still waiting for Gemini to accept their job. */
  readonly waitingCount?: number;
}

/** `$.collected`: what Collect Results wrote. */
export interface CollectedRun {
  readonly succeededCount: number;
  readonly failedCount: number;
}

/** `$.failure`: what a Catch stores, as Step Functions writes it. */
export interface RunFailure {
  readonly Error: string;
  readonly Cause?: string;
}

/** "EmptyInputError: the file is empty" from a Catch's `{Error, Cause}`; Lambda puts JSON in Cause. */
export function describeFailure(failure: RunFailure): string {
  let message = failure.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Cause is plain text (Step Functions' own errors, timeouts): keep it as it is.
  }
  return message ? `${failure.Error}: ${message}` : failure.Error;
}

/** The full execution state as it grows from state to state. */
export interface RunState extends RunInput {
  readonly prepared?: PreparedRun;
  readonly submitted?: SubmittedRun;
  readonly poll?: PollState;
  readonly collected?: CollectedRun;
  readonly failure?: RunFailure;
}
