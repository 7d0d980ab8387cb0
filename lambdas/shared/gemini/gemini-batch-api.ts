/**
 * The port through which the cores reach Gemini's Batch API. One adapter speaks to Gemini (or the
 * emulator) through `@google/genai`; unit tests use an in-memory fake.
 */

export type BatchKind = 'generate' | 'embed';

/**
 * How a chunk's lines are written: Gemini's own `{"key","request"}`, or OpenAI's batch lines
 * (`custom_id`, `method`, `url`, `body`), which go through Gemini's OpenAI-compatible batch layer.
 */
export type RequestFormat = 'gemini' | 'openai';

/** The OpenAI batch endpoint a kind of OpenAI-format chunk is created for. */
export const OPENAI_ENDPOINTS: Readonly<Record<BatchKind, '/v1/chat/completions' | '/v1/embeddings'>> = {
  generate: '/v1/chat/completions',
  embed: '/v1/embeddings',
};

/**
 * The Models API's `supportedGenerationMethods` entry a model needs for each kind of batch
 * (`models.batchGenerateContent`, `models.asyncBatchEmbedContent`).
 */
export const BATCH_METHODS: Readonly<Record<BatchKind, string>> = {
  generate: 'batchGenerateContent',
  embed: 'asyncBatchEmbedContent',
};

/** A model as the Models API (`GET models/{model}`) describes it. */
export interface ModelInfo {
  /** `models/…`. */
  readonly name: string;
  readonly supportedGenerationMethods: readonly string[];
  readonly inputTokenLimit?: number;
  readonly outputTokenLimit?: number;
}

/** The states a batch job never leaves. */
export const TERMINAL_BATCH_STATES = [
  'BATCH_STATE_SUCCEEDED',
  'BATCH_STATE_FAILED',
  'BATCH_STATE_CANCELLED',
  'BATCH_STATE_EXPIRED',
] as const;

/** A batch job as the REST resource describes it (`BATCH_STATE_*`, counts, error), not as the SDK does. */
export interface BatchJobStatus {
  readonly name: string;
  readonly state: string;
  readonly displayName?: string;
  readonly requestCount: number;
  readonly successfulCount: number;
  readonly failedCount: number;
  /** `google.rpc.Status` of a failed job. */
  readonly error?: { readonly code?: number; readonly message: string };
  /** `files/…` holding one result line per request, once the job has succeeded. */
  readonly responsesFile?: string;
}

/** One request of an inline batch, with the key its answer must come back under. */
export interface InlineRequest {
  readonly key: string;
  readonly request: Readonly<Record<string, unknown>>;
}

interface CreateBatchBase {
  readonly kind: BatchKind;
  /** Model id, with or without `models/`. */
  readonly model: string;
  /** `<runId>/<chunk>`: unique per chunk, which is what makes creation recoverable. */
  readonly displayName: string;
}

/**
 * A job over an uploaded file (`files/…`) of either format, or over Gemini-format requests sent
 * inline in the create call.
 */
export type CreateBatchRequest =
  | (CreateBatchBase & { readonly fileName: string; readonly format?: RequestFormat })
  | (CreateBatchBase & { readonly inlineRequests: readonly InlineRequest[] });

/**
 * One answer of an inline batch, as Gemini returned it. Its key is the one Gemini echoes in
 * `metadata.key` (the pipeline sends one with every inline request, generate and embed alike), and
 * nothing else: Gemini has been seen to return inline answers in another order than the requests,
 * and without the echo (docs/gemini-protocol.md), so the position of an answer proves nothing.
 */
export interface InlineResponse {
  readonly response?: unknown;
  readonly error?: unknown;
  readonly metadata?: { readonly key?: unknown };
}

/** A job found under a display name ({@link GeminiBatchApi.findBatchesByDisplayName}). */
export interface FoundBatch {
  /** `batches/…`. */
  readonly name: string;
  /** `BATCH_STATE_*` as the listing shows it: current enough to rank jobs by (its counts may be stale). */
  readonly state: string;
  /** When Gemini created the job, RFC 3339, if the listing says. */
  readonly createTime?: string;
}

/** Where and how far back {@link GeminiBatchApi.findBatchesByDisplayName} looks. */
export interface BatchSearchOptions {
  /**
   * The chunk's format: a Gemini-format job carries its display name natively; an OpenAI-format
   * one, created through the compat layer (which takes no display name), in `metadata.display_name`.
   */
  readonly format: RequestFormat;
  /**
   * Listings come newest first: the search stops at the first job created before this instant,
   * instead of reading the project's whole history. Jobs whose creation time is not given never stop it.
   */
  readonly createdAfter: Date;
}

/** What a search by display name found. */
export interface BatchSearch {
  /** Every job carrying the display name, newest first. */
  readonly found: readonly FoundBatch[];
  /**
   * Why the search could not look everywhere such a job could be (a listing Gemini refused), when
   * it could not: then an empty `found` proves nothing.
   */
  readonly incomplete?: string;
}

/** Options of an upload. */
export interface UploadOptions {
  /**
   * An earlier attempt to upload this file may have put it on Gemini without the pipeline learning
   * its name (the call failed or the function died after the bytes arrived): look for a file with
   * this display name and the same size first, and return it instead of uploading a second copy.
   */
  readonly reuseUploaded?: boolean;
}

/**
 * Every method may throw `GeminiRateLimitError` (HTTP 429: Gemini answers it on reads and listings
 * too, not only on create) or `GeminiUnavailableError` (5xx, 408, unreachable, an upload Gemini did
 * not finish); both are waits, not verdicts. `GeminiRequestError` is a refusal retrying cannot change.
 */
/**
 * Bytes to upload: their exact size, which Gemini's resumable upload declares before the first
 * byte, and how to open them (after Gemini has accepted the upload's start, and again from the
 * start for each resume of a request cut off part-way).
 */
export interface JsonlSource {
  readonly bytes: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

export interface GeminiBatchApi {
  /**
   * The model as the Models API describes it, or undefined when Gemini does not know it (a typo, or
   * a retired model: Gemini still accepts batch jobs on those, and they all end EXPIRED).
   */
  getModel(model: string): Promise<ModelInfo | undefined>;
  /**
   * Uploads JSONL bytes, streamed from `source` as they are read; returns the file's name,
   * `files/…`. An upload Gemini did not finish (no file in its final answer, a status that is not
   * final, fewer or more bytes than `source.bytes`) is a `GeminiUnavailableError`: retried.
   */
  uploadJsonl(source: JsonlSource, displayName: string, options?: UploadOptions): Promise<string>;
  /** Creates a batch job; returns its name, `batches/…`. Not idempotent on Gemini's side. */
  createBatch(request: CreateBatchRequest): Promise<string>;
  /**
   * Every job carrying this display name created since `options.createdAfter`, newest first: how
   * Submit recovers a job whose create answer was lost, and notices a second one made by a retry.
   */
  findBatchesByDisplayName(displayName: string, options: BatchSearchOptions): Promise<BatchSearch>;
  /** The job's state and counts, never its inline answers (a poll must stay a small read). */
  getBatch(name: string): Promise<BatchJobStatus>;
  /** The answers of a succeeded inline batch, in the order Gemini lists them (which is no proof of identity). */
  getInlineResponses(name: string): Promise<readonly InlineResponse[]>;
  /** Asks Gemini to stop a job; a job that has already ended is not an error. */
  cancelBatch(name: string): Promise<void>;
  /** Streams a file's bytes to a local path. */
  downloadFile(fileName: string, path: string): Promise<void>;
  /** Deletes a file; a file that is already gone is not an error. */
  deleteFile(fileName: string): Promise<void>;
}

/** Whether a job in this `BATCH_STATE_*` has ended: succeeded, failed, cancelled or expired. */
export function isTerminalState(state: string): boolean {
  return (TERMINAL_BATCH_STATES as readonly string[]).includes(state);
}
