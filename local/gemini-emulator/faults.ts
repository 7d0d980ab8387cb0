/**
 * The SDK-facing operations a fault can target, named after the `@google/genai` methods, and after
 * the `openai` SDK's methods (prefixed `openai.`) for the OpenAI-compatible layer.
 */
export const ENDPOINTS = [
  'files.upload',
  'files.uploadChunk',
  'files.get',
  'files.list',
  'files.download',
  'files.delete',
  'batches.create',
  'batches.createEmbeddings',
  'batches.get',
  'batches.list',
  'batches.cancel',
  'batches.delete',
  'models.get',
  'models.list',
  'openai.batches.create',
  'openai.batches.retrieve',
  'openai.batches.list',
  'openai.batches.cancel',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/**
 * When a fault fires: on each of the next `times` matching calls, or on each matching call with
 * probability `rate` (drawn from the emulator's seed, so a run replays exactly). Neither means once.
 */
export interface FaultTrigger {
  readonly times?: number;
  readonly rate?: number;
}

/**
 * An HTTP error answer instead of the real one, e.g. 429 on `batches.create` twice. A 429 is always
 * Google's generic quota body (`RESOURCE_EXHAUSTED` with its `google.rpc.Help` link), on any endpoint.
 */
export interface HttpErrorFault extends FaultTrigger {
  readonly kind: 'http-error';
  readonly endpoint: Endpoint | '*';
  readonly status: 429 | 500 | 502 | 503 | 504 | number;
  /**
   * The error's message text.
   * @default - for 429 Google's "You exceeded your current quota…", otherwise "Emulated <status> injected by an http-error fault."
   */
  readonly message?: string;
}

/** The socket is destroyed without an answer, as a load balancer reset looks to a client. */
export interface DropConnectionFault extends FaultTrigger {
  readonly kind: 'drop-connection';
  readonly endpoint: Endpoint | '*';
}

/**
 * An upload chunk whose connection is reset after `afterBytes` of its body. Of those bytes the
 * upload keeps the whole granules (8 MiB) that arrived, as a `query` then reports; a client resumes
 * from there.
 */
export interface InterruptUploadFault extends FaultTrigger {
  readonly kind: 'interrupt-upload';
  readonly afterBytes: number;
}

/**
 * Per-request error lines in job output: for requests whose JSON contains `marker`, and/or for a
 * `rate` share of all requests (chosen by hashing the seed with the request's position and key).
 */
export interface LineErrorFault {
  readonly kind: 'line-error';
  readonly marker?: string;
  readonly rate?: number;
  /** @default 13 (INTERNAL) */
  readonly code?: number;
  readonly message?: string;
  /**
   * Fail only the first `times` requests the fault covers, then pass the rest (the fault is then
   * gone): how a test makes a request fail once and succeed when it is sent again.
   * @default - every covered request, for as long as the fault is active
   */
  readonly times?: number;
}

/**
 * Changes how matching new jobs end: `FAILED` (with an `error`), `EXPIRED` (no results),
 * `STUCK_PENDING` (never starts, so it expires after 48 h of emulator clock) or `SLOW`
 * (`runningMs` of running time instead of the configured timing).
 */
export interface JobOutcomeFault extends FaultTrigger {
  readonly kind: 'job-outcome';
  readonly outcome: 'FAILED' | 'EXPIRED' | 'STUCK_PENDING' | 'SLOW';
  /** Only jobs whose display name contains this. @default - every job */
  readonly displayName?: string;
  /** Running time for `SLOW`. @default 1 hour */
  readonly runningMs?: number;
  /** `error.message` for `FAILED`. */
  readonly errorMessage?: string;
}

/**
 * The upload is stored whole, but the finalizing chunk is answered HTTP 200 with `{}`: no `file`,
 * so the SDK's `files.upload` resolves to `undefined` (python-genai #1248, #1590).
 */
export interface UploadNoFileFault extends FaultTrigger {
  readonly kind: 'upload-no-file';
}

/**
 * The upload is stored whole (an assumption: every byte arrived), but the finalizing chunk's 2xx
 * answer lacks `x-goog-upload-status: final`. What the JS SDK then throws depends on the header:
 * - `'cancelled'` (another value than `final`): at once, `Error("Failed to upload file: Upload
 *   status is not finalized.")`, the error docs/gemini-protocol.md reports;
 * - `'active'`: at once, `Error("All content has been uploaded, but the upload status is not
 *   finalized.")`, the case of the SDK's TODO b/401391430;
 * - `'absent'`: the SDK re-sends the chunk three times, 1 s, 2 s and 4 s apart (the emulator answers
 *   each re-send the same way), then throws "Failed to upload file: Upload status is not finalized.".
 */
export interface UploadNotFinalFault extends FaultTrigger {
  readonly kind: 'upload-not-final';
  /** @default 'cancelled' */
  readonly status?: 'cancelled' | 'active' | 'absent';
}

/**
 * An upload start declaring `mimeType` is refused with 400 `INVALID_ARGUMENT` "Unsupported MIME
 * type: <type>": `application/jsonl` "works inconsistently" (google-gemini/cookbook #1008).
 */
export interface RefuseMimeTypeFault extends FaultTrigger {
  readonly kind: 'refuse-mime-type';
  /** Compared case-insensitively. @default 'application/jsonl' */
  readonly mimeType?: string;
}

/**
 * A file job that has SUCCEEDED is read (`batches.get`) without its result file: no `output` under
 * `metadata` nor `response`, as if Gemini set the state before naming the file. Seen by this
 * pipeline about once in 25 runs: a poller that took the job for finished then had no file to read.
 * Each read it spoils counts once against `times`; listings and inline jobs are left alone.
 */
export interface LateResponsesFileFault extends FaultTrigger {
  readonly kind: 'late-responses-file';
  /** Only jobs whose display name contains this. @default - every file job */
  readonly displayName?: string;
}

export type Fault =
  | HttpErrorFault
  | DropConnectionFault
  | InterruptUploadFault
  | LineErrorFault
  | JobOutcomeFault
  | UploadNoFileFault
  | UploadNotFinalFault
  | RefuseMimeTypeFault
  | LateResponsesFileFault;

/** What a `refuse-mime-type` fault refuses when it names no type. */
export const DEFAULT_REFUSED_MIME_TYPE = 'application/jsonl';

export type HttpFault = HttpErrorFault | DropConnectionFault;

/** Refuses a fault that could never fire as written, naming the bad value. */
export function validateFault(fault: Fault): void {
  const trigger = fault as FaultTrigger;
  if (trigger.times !== undefined && !(Number.isInteger(trigger.times) && trigger.times > 0)) {
    throw new RangeError(`fault.times must be a positive integer, got ${trigger.times}`);
  }
  if (trigger.rate !== undefined && !(trigger.rate >= 0 && trigger.rate <= 1)) {
    throw new RangeError(`fault.rate must be between 0 and 1, got ${trigger.rate}`);
  }
  switch (fault.kind) {
    case 'http-error':
    case 'drop-connection':
      if (fault.endpoint !== '*' && !ENDPOINTS.includes(fault.endpoint)) {
        throw new RangeError(
          `unknown fault endpoint '${fault.endpoint}'; use one of ${ENDPOINTS.join(', ')} or '*'`,
        );
      }
      if (fault.kind === 'http-error' && !(fault.status >= 400 && fault.status <= 599)) {
        throw new RangeError(`http-error status must be 400..599, got ${fault.status}`);
      }
      return;
    case 'interrupt-upload':
      if (!(Number.isInteger(fault.afterBytes) && fault.afterBytes >= 0)) {
        throw new RangeError(
          `interrupt-upload afterBytes must be a non-negative integer, got ${fault.afterBytes}`,
        );
      }
      return;
    case 'line-error':
      if (fault.marker === undefined && fault.rate === undefined) {
        throw new RangeError('a line-error fault needs a marker, a rate, or both');
      }
      return;
    case 'job-outcome':
      if (!['FAILED', 'EXPIRED', 'STUCK_PENDING', 'SLOW'].includes(fault.outcome)) {
        throw new RangeError(`unknown job outcome '${fault.outcome}'`);
      }
      return;
    case 'upload-no-file':
    case 'refuse-mime-type':
    case 'late-responses-file':
      return;
    case 'upload-not-final':
      if (fault.status !== undefined && !['cancelled', 'active', 'absent'].includes(fault.status)) {
        throw new RangeError(
          `upload-not-final status must be cancelled, active or absent, got '${fault.status}'`,
        );
      }
      return;
    default:
      throw new RangeError(`unknown fault kind '${(fault as { kind: unknown }).kind}'`);
  }
}
