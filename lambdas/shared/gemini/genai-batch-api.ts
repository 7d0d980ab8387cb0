import { stat } from 'node:fs/promises';
import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { GeminiRateLimitError, GeminiRequestError, GeminiUnavailableError } from '../errors.js';
import {
  type BatchJobStatus,
  type BatchSearch,
  type BatchSearchOptions,
  type CreateBatchRequest,
  type FoundBatch,
  type GeminiBatchApi,
  type InlineRequest,
  type InlineResponse,
  type ModelInfo,
  OPENAI_ENDPOINTS,
  type UploadOptions,
} from './gemini-batch-api.js';

/** Google documents the Files and Batch APIs under v1beta; SDK 3.x would default to v1. */
const API_VERSION = 'v1beta';
const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
/**
 * How many of the newest files to search for an upload's display name before concluding there is
 * none. The search for jobs by display name (`findBatchesByDisplayName`) is bounded by time instead.
 */
const RECOVERY_SCAN_LIMIT = 1000;

/** The SDK renames `BATCH_STATE_*` to `JOB_STATE_*`; the pipeline speaks REST's names. */
function restState(state: string | undefined): string {
  return state ? state.replace(/^JOB_STATE_/, 'BATCH_STATE_') : 'BATCH_STATE_UNSPECIFIED';
}

/**
 * OpenAI statuses as the compat layer reports them, in the pipeline's `BATCH_STATE_*` terms. Only
 * `in_progress` and `completed` have been seen live; the rest follow OpenAI's meanings.
 */
const OPENAI_STATES: Readonly<Record<string, string>> = {
  validating: 'BATCH_STATE_PENDING',
  in_progress: 'BATCH_STATE_RUNNING',
  finalizing: 'BATCH_STATE_RUNNING',
  completed: 'BATCH_STATE_SUCCEEDED',
  failed: 'BATCH_STATE_FAILED',
  expired: 'BATCH_STATE_EXPIRED',
  cancelling: 'BATCH_STATE_CANCELLED',
  cancelled: 'BATCH_STATE_CANCELLED',
};

/**
 * MIME types tried for a JSONL upload, in order. `application/jsonl` first: it names the content,
 * and when Gemini does not take it the failure is an immediate, free `Unsupported MIME type` on the
 * upload (python-genai #1547; "works inconsistently", cookbook #1008). `application/json` is the
 * fallback because it is the one type reported to have worked every time (python-genai #1248) —
 * not first, because a file mislabelled as one JSON document could instead fail later, at create
 * time or as a FAILED job, where nothing can fall back.
 */
export const UPLOAD_MIME_TYPES = ['application/jsonl', 'application/json'] as const;

/**
 * Google's partial-response `fields` system parameter
 * (https://cloud.google.com/apis/docs/system-parameters) for a poll: state, counts, error and the
 * responses file — never inline answers, which a succeeded inline batch carries twice. Gemini that
 * ignores the mask is still read safely: see {@link scanOperation}.
 */
export const STATUS_FIELDS =
  'name,done,error,metadata(state,displayName,batchStats,output/responsesFile),response/responsesFile';
/** One copy of an inline batch's answers, `metadata.output`, instead of that copy and `response`. */
export const INLINE_ANSWER_FIELDS = 'metadata/output';

/**
 * Bounds on what one read of an operation holds in memory. Operations are streamed through
 * {@link scanOperation}: the envelope (everything but inline answers: names, state, counts) is
 * kept, up to {@link MAX_OPERATION_ENVELOPE_BYTES}; each inline answer is held alone, up to
 * {@link MAX_INLINE_ANSWER_BYTES} (the bound Collect applies to a result line); the answers of
 * one copy kept together, up to {@link MAX_INLINE_ANSWERS_BYTES}. Submit sizes inline batches so
 * their answers are estimated well below this (`DEFAULT_INLINE_MAX_ANSWER_BYTES`, 32 MiB for both
 * copies). File downloads stream to disk and are not an in-memory read.
 */
export const MAX_OPERATION_ENVELOPE_BYTES = 4 * 1024 * 1024;
/** See {@link MAX_OPERATION_ENVELOPE_BYTES}. */
export const MAX_INLINE_ANSWER_BYTES = 64 * 1024 * 1024;
/** See {@link MAX_OPERATION_ENVELOPE_BYTES}. */
export const MAX_INLINE_ANSWERS_BYTES = 256 * 1024 * 1024;

export interface GenaiBatchApiOptions {
  readonly apiKey: string;
  /** The emulator's URL offline; Gemini's own otherwise. */
  readonly baseUrl?: string;
}

/** Failures the JS SDK throws as plain Errors while Gemini has not finished an upload: transient. */
const UNFINISHED_UPLOAD = /upload status is not finalized|did not return the x-goog(?:le)?-upload-url/i;

/**
 * Turns a client failure into the pipeline's named errors, which the state machine retries (429,
 * 5xx, network, an unfinished upload) or does not (any other 4xx).
 */
export function toPipelineError(error: unknown, doing: string): Error {
  if (error instanceof OpenAI.APIConnectionError) {
    return new GeminiUnavailableError(`could not reach Gemini to ${doing}: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof ApiError || (error instanceof OpenAI.APIError && error.status !== undefined)) {
    const message = `Gemini refused to ${doing} (HTTP ${error.status}): ${error.message}`;
    if (error.status === 429) return new GeminiRateLimitError(message, { cause: error });
    if (error.status === 408 || error.status >= 500)
      return new GeminiUnavailableError(message, { cause: error });
    return new GeminiRequestError(message, { cause: error, status: error.status });
  }
  if (error instanceof TypeError) {
    return new GeminiUnavailableError(`could not reach Gemini to ${doing}: ${error.message}`, {
      cause: error,
    });
  }
  // The SDK's own words for an upload Gemini has not finished (its source: TODO b/401391430).
  if (error instanceof Error && error.constructor === Error && UNFINISHED_UPLOAD.test(error.message)) {
    return new GeminiUnavailableError(`Gemini did not finish the upload to ${doing}: ${error.message}`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function attempt<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toPipelineError(error, doing);
  }
}

interface RawOutput {
  readonly responsesFile?: string;
  readonly inlinedResponses?: { readonly inlinedResponses?: readonly InlineResponse[] };
}

interface RawOperation {
  readonly name: string;
  readonly metadata?: {
    readonly state?: string;
    readonly displayName?: string;
    readonly batchStats?: Record<string, string | undefined>;
    readonly output?: RawOutput;
  };
  readonly response?: RawOutput;
  readonly error?: { readonly code?: number; readonly message?: string };
}

/** The GeminiBatchApi port over the real `@google/genai` SDK, plus raw REST where the SDK drops fields. */
export class GenaiBatchApi implements GeminiBatchApi {
  readonly #ai: GoogleGenAI;
  /** Gemini's OpenAI-compatible batch layer, for OpenAI-format chunks; files still go through #ai. */
  readonly #openai: OpenAI;
  readonly #apiKey: string;
  readonly #baseUrl: string;
  /** Set once Gemini answers a `fields` mask with 400: later reads go without one. */
  #fieldsRefused = false;

  constructor({ apiKey, baseUrl }: GenaiBatchApiOptions) {
    this.#apiKey = apiKey;
    this.#baseUrl = (baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.#ai = new GoogleGenAI({
      apiKey,
      apiVersion: API_VERSION,
      ...(baseUrl ? { httpOptions: { baseUrl: this.#baseUrl } } : {}),
    });
    // Retries belong to the state machine, as for the Gemini SDK (which retries nothing by default).
    this.#openai = new OpenAI({ apiKey, baseURL: `${this.#baseUrl}/${API_VERSION}/openai/`, maxRetries: 0 });
  }

  getModel(model: string): Promise<ModelInfo | undefined> {
    const id = model.replace(/^models\//, '');
    return attempt(`look up model ${id}`, async () => {
      try {
        // Raw REST: the SDK's Model renames supportedGenerationMethods to supportedActions.
        const found = (await (
          await this.#fetch(`models/${encodeURIComponent(id)}`)
        ).json()) as Partial<ModelInfo>;
        return {
          name: found.name ?? `models/${id}`,
          supportedGenerationMethods: found.supportedGenerationMethods ?? [],
          ...(found.inputTokenLimit !== undefined ? { inputTokenLimit: found.inputTokenLimit } : {}),
          ...(found.outputTokenLimit !== undefined ? { outputTokenLimit: found.outputTokenLimit } : {}),
        };
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    });
  }

  /**
   * Uploads with {@link UPLOAD_MIME_TYPES} in order, moving on only when Gemini answers
   * `Unsupported MIME type`. An upload Gemini did not finish — its final answer has no `file`
   * (python-genai #1248, #1590), or the SDK's "Upload status is not finalized" — is a
   * GeminiUnavailableError: the caller retries, with `reuseUploaded` so that bytes Gemini kept
   * after all become that file instead of an orphan.
   */
  uploadJsonl(path: string, displayName: string, options: UploadOptions = {}): Promise<string> {
    return attempt(`upload the request file ${displayName}`, async () => {
      if (options.reuseUploaded) {
        const found = await this.#findUploaded(displayName, (await stat(path)).size);
        if (found) return found;
      }
      let file: { readonly name?: string } | undefined;
      for (const [index, mimeType] of UPLOAD_MIME_TYPES.entries()) {
        try {
          // `.jsonl` is not in the SDK's MIME table: without an explicit type the upload throws.
          file = await this.#ai.files.upload({ file: path, config: { mimeType, displayName } });
          break;
        } catch (error) {
          const unsupported =
            error instanceof ApiError && error.status === 400 && /unsupported mime type/i.test(error.message);
          if (!unsupported || index === UPLOAD_MIME_TYPES.length - 1) throw error;
        }
      }
      if (!file?.name) {
        throw new GeminiUnavailableError(
          `Gemini ended the upload of ${displayName} without naming the file (HTTP 200 with no file); uploading again`,
        );
      }
      return file.name;
    });
  }

  /** The newest ACTIVE file with this display name and size, if any: an earlier attempt's upload. */
  async #findUploaded(displayName: string, sizeBytes: number): Promise<string | undefined> {
    let scanned = 0;
    for await (const file of await this.#ai.files.list({ config: { pageSize: 100 } })) {
      if (
        file.displayName === displayName &&
        Number(file.sizeBytes) === sizeBytes &&
        (file.state === undefined || file.state === 'ACTIVE') &&
        file.name
      ) {
        return file.name;
      }
      if (++scanned >= RECOVERY_SCAN_LIMIT) break;
    }
    return undefined;
  }

  createBatch(request: CreateBatchRequest): Promise<string> {
    const { kind, model, displayName } = request;
    return attempt(`create batch job ${displayName}`, async () => {
      if ('inlineRequests' in request) return this.#createInline(request);
      const { fileName } = request;
      if (request.format === 'openai') {
        // The compat layer takes no display name; metadata carries it so recovery can find the job.
        const batch = await this.#openai.batches.create({
          input_file_id: fileName,
          endpoint: OPENAI_ENDPOINTS[kind],
          completion_window: '24h',
          metadata: { display_name: displayName },
        });
        return batch.id;
      }
      const job =
        kind === 'generate'
          ? await this.#ai.batches.create({ model, src: fileName, config: { displayName } })
          : await this.#ai.batches.createEmbeddings({ model, src: { fileName }, config: { displayName } });
      // The job exists but is not named: a wait, so that the next attempt finds it by display name
      // (`creating` stays set) instead of the chunk being taken for refused.
      if (!job.name) {
        throw new GeminiUnavailableError(`Gemini created batch ${displayName} but returned no name`);
      }
      return job.name;
    });
  }

  /**
   * Inline batches go over raw REST: the SDK's InlinedRequest rebuilds each request from its own
   * types (and gives embedding requests no metadata), while the pipeline passes users' REST
   * requests through untouched. Every request, generate or embed, carries its key in `metadata`:
   * Collect ties an inline answer to a key by that echo only.
   */
  async #createInline(
    request: CreateBatchRequest & { readonly inlineRequests: readonly InlineRequest[] },
  ): Promise<string> {
    const model = request.model.replace(/^models\//, '');
    const method = request.kind === 'generate' ? 'batchGenerateContent' : 'asyncBatchEmbedContent';
    const requests = request.inlineRequests.map(({ key, request: body }) => ({
      request: body,
      metadata: { key },
    }));
    const response = await this.#fetch(`models/${model}:${method}`, {
      method: 'POST',
      body: JSON.stringify({
        batch: { displayName: request.displayName, inputConfig: { requests: { requests } } },
      }),
    });
    // The created operation echoes no answers yet, but read it as any operation: streamed, bounded.
    return ((await scanResponse(response)).operation as RawOperation).name;
  }

  /** A raw REST call; Google's error answer becomes the SDK's ApiError, as the SDK would make it. */
  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.#baseUrl}/${API_VERSION}/${path}`, {
      ...init,
      headers: { 'x-goog-api-key': this.#apiKey, 'content-type': 'application/json', ...init.headers },
    });
    if (!response.ok) throw new ApiError({ message: await response.text(), status: response.status });
    return response;
  }

  /**
   * GETs an operation with a `fields` mask and streams it through {@link scanOperation}. A 400 to
   * the mask (Gemini refusing the mask itself) makes this and later reads go without it; the scan
   * keeps them small anyway.
   */
  async #readOperation(
    name: string,
    fields: string | undefined,
    answers?: AnswerSink,
  ): Promise<OperationScan & { readonly masked: boolean }> {
    if (fields !== undefined && !this.#fieldsRefused) {
      try {
        const scan = await scanResponse(await this.#fetch(`${name}?${operationQuery(fields)}`), answers);
        return { ...scan, masked: true };
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 400)) throw error;
        this.#fieldsRefused = true;
      }
    }
    const scan = await scanResponse(await this.#fetch(`${name}?${operationQuery(undefined)}`), answers);
    return { ...scan, masked: false };
  }

  /**
   * Reads the listing newest first, down to the first job created before `createdAfter`: Gemini's
   * native listing for Gemini-format chunks, the OpenAI-compatible layer's (matching
   * `metadata.display_name`) for OpenAI-format ones. A compat listing Gemini refuses with a 4xx
   * (Google does not document listing there) makes the search `incomplete`, not an error: the
   * caller decides, and records, what to do without it. 429 and 5xx are waits, as everywhere.
   */
  findBatchesByDisplayName(displayName: string, options: BatchSearchOptions): Promise<BatchSearch> {
    return attempt('list batch jobs', () =>
      options.format === 'openai'
        ? this.#searchOpenAi(displayName, options.createdAfter)
        : this.#searchNative(displayName, options.createdAfter),
    );
  }

  async #searchNative(displayName: string, createdAfter: Date): Promise<BatchSearch> {
    const found: FoundBatch[] = [];
    for await (const job of await this.#ai.batches.list({ config: { pageSize: 100 } })) {
      // NaN (no createTime) compares false: such a job never ends the search early.
      if (Date.parse(job.createTime ?? '') < createdAfter.getTime()) break;
      if (job.displayName === displayName && job.name) {
        found.push({
          name: job.name,
          state: restState(job.state),
          ...(job.createTime ? { createTime: job.createTime } : {}),
        });
      }
    }
    return { found };
  }

  async #searchOpenAi(displayName: string, createdAfter: Date): Promise<BatchSearch> {
    const found: FoundBatch[] = [];
    try {
      for await (const batch of this.#openai.batches.list({ limit: 100 })) {
        // `created_at` is whole seconds: the caller's margin covers the truncation.
        const created = typeof batch.created_at === 'number' ? batch.created_at * 1000 : Number.NaN;
        if (created < createdAfter.getTime()) break;
        if (batch.metadata?.display_name === displayName) {
          found.push({
            name: batch.id,
            state: OPENAI_STATES[batch.status] ?? 'BATCH_STATE_UNSPECIFIED',
            ...(Number.isFinite(created) ? { createTime: new Date(created).toISOString() } : {}),
          });
        }
      }
    } catch (error) {
      if (
        error instanceof OpenAI.APIError &&
        error.status !== undefined &&
        error.status < 500 &&
        error.status !== 429 &&
        error.status !== 408
      ) {
        return {
          found,
          incomplete: `Gemini refused to list batches on its OpenAI-compatible layer (HTTP ${error.status}), which Google does not document`,
        };
      }
      throw error;
    }
    return { found };
  }

  /**
   * Raw REST (the SDK's BatchJob drops batchStats and error, which are what the poller needs), with
   * {@link STATUS_FIELDS}: a poll never downloads inline answers; if Gemini ignores the mask, the
   * scan skips them without holding them.
   */
  getBatch(name: string): Promise<BatchJobStatus> {
    return attempt(`read batch job ${name}`, async () =>
      toBatchJobStatus((await this.#readOperation(name, STATUS_FIELDS)).operation as RawOperation),
    );
  }

  /**
   * One copy of the answers ({@link INLINE_ANSWER_FIELDS}). Gemini that ignores the mask sends both
   * copies: `metadata.output` is kept and `response` only when there is no `metadata.output`. A
   * masked answer holding no copy at all (a Gemini that put the answers only under `response`) is
   * read again without the mask rather than taken for "no answers".
   */
  getInlineResponses(name: string): Promise<readonly InlineResponse[]> {
    return attempt(`read the answers of ${name}`, async () => {
      const masked = new AnswerSink(name);
      const read = await this.#readOperation(name, INLINE_ANSWER_FIELDS, masked);
      if (masked.found || !read.masked) return masked.answers();
      const whole = new AnswerSink(name);
      await this.#readOperation(name, undefined, whole);
      return whole.answers();
    });
  }

  cancelBatch(name: string): Promise<void> {
    return attempt(`cancel ${name}`, async () => {
      try {
        await this.#ai.batches.cancel({ name });
      } catch (error) {
        // 400 FAILED_PRECONDITION: it ended meanwhile, which is all a cancel wants.
        if (error instanceof ApiError && (error.status === 400 || error.status === 404)) return;
        throw error;
      }
    });
  }

  downloadFile(fileName: string, path: string): Promise<void> {
    return attempt(`download ${fileName}`, () =>
      this.#ai.files.download({ file: fileName, downloadPath: path }),
    );
  }

  deleteFile(fileName: string): Promise<void> {
    return attempt(`delete ${fileName}`, async () => {
      try {
        await this.#ai.files.delete({ name: fileName });
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return;
        throw error;
      }
    });
  }
}

/** `prettyPrint=false` (the same system parameters): Google indents JSON by default, doubling a float array. */
function operationQuery(fields: string | undefined): string {
  return `${fields !== undefined ? `fields=${encodeURIComponent(fields)}&` : ''}prettyPrint=false`;
}

/**
 * Gathers the inline answers a scan finds, keeping one copy: `metadata` (`metadata.output`) when
 * the operation has it, else `response`. Answers of a copy that is not kept are never parsed.
 */
class AnswerSink {
  #kept: string | undefined;
  #items: InlineResponse[] = [];
  #bytes = 0;
  constructor(private readonly name: string) {}

  get found(): boolean {
    return this.#kept !== undefined;
  }

  /** A copy's answer array starts. */
  start(copy: string): void {
    if (this.#kept === 'metadata') return;
    if (this.#kept === undefined || copy === 'metadata') {
      this.#kept = copy;
      this.#items = [];
      this.#bytes = 0;
    }
  }

  add(copy: string, text: string): void {
    if (copy !== this.#kept) return;
    this.#bytes += text.length;
    if (this.#bytes > MAX_INLINE_ANSWERS_BYTES) {
      throw new GeminiRequestError(
        `the inline answers of ${this.name} pass ${MAX_INLINE_ANSWERS_BYTES} bytes, more than one read may hold; ` +
          'send chunks this large as files (see DEFAULT_INLINE_MAX_ANSWER_BYTES)',
      );
    }
    this.#items.push(JSON.parse(text) as InlineResponse);
  }

  answers(): readonly InlineResponse[] {
    return this.#items;
  }
}

interface OperationScan {
  /** The operation without its inline answers (each answer array is left empty). */
  readonly operation: unknown;
}

async function scanResponse(response: Response, answers?: AnswerSink): Promise<OperationScan> {
  if (!response.body) return { operation: await response.json() };
  return scanOperation(response.body as AsyncIterable<Uint8Array>, answers);
}

/** Where a scan sends the inline answers it finds. */
export interface ScanAnswers {
  /** An answer array starts under the operation's top-level member `copy` (`metadata`, `response`). */
  start(copy: string): void;
  /** One answer, as the JSON text Gemini sent. */
  add(copy: string, text: string): void;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
/** A member name longer than this is no name the scan looks for. */
const MAX_MEMBER_NAME_BYTES = 64;
/** Arrays under a member of this name hold inline answers: kept out of the envelope. */
const ANSWERS_MEMBER = 'inlinedResponses';
/** Arrays under a member of this name would hold inline requests, if Gemini echoed them: skipped. */
const REQUESTS_MEMBER = 'requests';

interface Frame {
  readonly array: boolean;
  /** Of an object: the member whose value comes next. */
  member: string | undefined;
  /** Of an object: a string here would be a member name. */
  expectMember: boolean;
  /** The operation's top-level member this container is under. */
  readonly copy: string | undefined;
}

/** Containers inside answers: only their depth matters. */
const INNER: Frame = { array: false, member: undefined, expectMember: false, copy: undefined };

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
const copyOf = (bytes: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(bytes);
const text = (pieces: readonly Uint8Array[]): string => Buffer.concat(pieces).toString('utf8');

/**
 * Reads an operation from a byte stream without holding its inline answers together: every array
 * under a member named `inlinedResponses` is cut out of the envelope (left as `[]`), and each of
 * its elements is handed to `answers` alone (or skipped, without answers). Arrays under `requests`
 * (inline requests, should Gemini ever echo `inputConfig` back) are cut out and skipped. Memory is the envelope
 * (at most {@link MAX_OPERATION_ENVELOPE_BYTES}) plus one answer (at most
 * {@link MAX_INLINE_ANSWER_BYTES}), whatever the operation's size — so a read stays small even when
 * Gemini ignores a `fields` mask and sends both copies of a big inline batch's answers.
 */
export async function scanOperation(
  source: AsyncIterable<Uint8Array>,
  answers?: ScanAnswers,
): Promise<OperationScan> {
  const stack: Frame[] = [];
  const envelope: Uint8Array[] = [];
  let envelopeBytes = 0;
  let inString = false;
  let escaped = false;
  let memberName: number[] | undefined;
  /** Depth of the answer array being cut out, or -1. */
  let cutDepth = -1;
  let cutCopy = '';
  /** Whether the array being cut holds answers (handed over) or requests (skipped). */
  let cutAnswers = false;
  let item:
    | { kind: 'container' | 'string' | 'scalar'; pieces: Uint8Array[]; bytes: number; from: number }
    | undefined;

  const keep = (bytes: Uint8Array) => {
    envelopeBytes += bytes.length;
    if (envelopeBytes > MAX_OPERATION_ENVELOPE_BYTES) {
      throw new GeminiUnavailableError(
        `Gemini's operation passes ${MAX_OPERATION_ENVELOPE_BYTES} bytes without its answers: not a batch operation`,
      );
    }
    envelope.push(copyOf(bytes));
  };

  for await (const chunk of source) {
    /** Where the envelope's next piece starts in this chunk, or -1 while inside an answer array. */
    let from = cutDepth < 0 ? 0 : -1;
    if (item) item.from = 0;
    const end = (at: number) => {
      if (!item) return;
      item.pieces.push(chunk.subarray(item.from, at));
      const answer = text(item.pieces);
      item = undefined;
      answers?.add(cutCopy, answer);
    };
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) {
          inString = false;
          if (memberName) {
            const top = stack[stack.length - 1];
            if (top) top.member = memberNameOf(memberName);
            memberName = undefined;
            continue;
          }
          if (item?.kind === 'string' && stack.length === cutDepth) end(i + 1);
          continue;
        }
        if (memberName && memberName.length <= MAX_MEMBER_NAME_BYTES) memberName.push(byte);
        continue;
      }
      if (item?.kind === 'scalar' && (byte === COMMA || byte === CLOSE_ARRAY || isSpace(byte))) end(i);
      const top = stack[stack.length - 1];
      const startsAnswer =
        cutAnswers && answers !== undefined && item === undefined && stack.length === cutDepth;
      switch (byte) {
        case QUOTE:
          inString = true;
          if (cutDepth < 0 && top && !top.array && top.expectMember) memberName = [];
          else if (startsAnswer) item = { kind: 'string', pieces: [], bytes: 0, from: i };
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY: {
          if (startsAnswer) item = { kind: 'container', pieces: [], bytes: 0, from: i };
          if (cutDepth >= 0) {
            stack.push(INNER);
            break;
          }
          const member = top && !top.array ? top.member : undefined;
          const copy = stack.length === 1 ? member : top?.copy;
          stack.push({
            array: byte === OPEN_ARRAY,
            member: undefined,
            expectMember: byte === OPEN_OBJECT,
            copy,
          });
          if (byte === OPEN_ARRAY && (member === ANSWERS_MEMBER || member === REQUESTS_MEMBER)) {
            cutDepth = stack.length;
            cutCopy = copy ?? '';
            cutAnswers = member === ANSWERS_MEMBER;
            keep(chunk.subarray(from, i + 1));
            from = -1;
            if (cutAnswers) answers?.start(cutCopy);
          }
          break;
        }
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          if (stack.length === cutDepth) {
            cutDepth = -1;
            from = i;
          }
          stack.pop();
          if (item?.kind === 'container' && stack.length === cutDepth) end(i + 1);
          break;
        case COLON:
          if (top && !top.array) top.expectMember = false;
          break;
        case COMMA:
          if (top && !top.array) top.expectMember = true;
          break;
        default:
          if (startsAnswer && !isSpace(byte)) item = { kind: 'scalar', pieces: [], bytes: 0, from: i };
      }
    }
    if (from >= 0) keep(chunk.subarray(from));
    if (item) {
      const rest = chunk.subarray(item.from);
      item.bytes += rest.length;
      if (item.bytes > MAX_INLINE_ANSWER_BYTES) {
        throw new GeminiRequestError(
          `an inline answer passes ${MAX_INLINE_ANSWER_BYTES} bytes, more than a read may hold`,
        );
      }
      item.pieces.push(copyOf(rest));
    }
  }
  if (stack.length > 0 || inString || item) {
    throw new GeminiUnavailableError(
      "Gemini's answer ended in the middle of the operation (a cut-off response)",
    );
  }
  try {
    return { operation: JSON.parse(text(envelope)) };
  } catch (error) {
    throw new GeminiUnavailableError(`Gemini's answer is not a JSON operation: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function memberNameOf(bytes: readonly number[]): string | undefined {
  if (bytes.length > MAX_MEMBER_NAME_BYTES) return undefined;
  try {
    return JSON.parse(`"${Buffer.from(bytes).toString('utf8')}"`) as string;
  } catch {
    return undefined;
  }
}

/** int64 counts arrive as strings and zero counts are left out, as proto3 JSON does. */
function count(stats: Record<string, string | undefined> | undefined, field: string): number {
  return Number(stats?.[field] ?? 0);
}

export function toBatchJobStatus(operation: RawOperation): BatchJobStatus {
  const { metadata, error } = operation;
  const stats = metadata?.batchStats;
  // The SDK reads results from metadata.output; `response` carries the same, and is the fallback.
  const responsesFile = metadata?.output?.responsesFile ?? operation.response?.responsesFile;
  return {
    name: operation.name,
    state: metadata?.state ?? 'BATCH_STATE_UNSPECIFIED',
    ...(metadata?.displayName !== undefined ? { displayName: metadata.displayName } : {}),
    requestCount: count(stats, 'requestCount'),
    successfulCount: count(stats, 'successfulRequestCount'),
    failedCount: count(stats, 'failedRequestCount'),
    ...(error
      ? { error: { ...(error.code !== undefined ? { code: error.code } : {}), message: error.message ?? '' } }
      : {}),
    ...(responsesFile ? { responsesFile } : {}),
  };
}
