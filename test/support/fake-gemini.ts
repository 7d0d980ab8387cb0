/**
 * The in-memory fake of the GeminiBatchApi port that the cores' unit tests run against. One file
 * over 300 lines because it is one class: the port's nine methods and the test controls that steer
 * them (queued failures, job states, rough answers, the clock, unlisted jobs) share the fake's
 * private state, which splitting the class would have to expose. The result lines it answers with
 * are built in `gemini-answer-lines.ts`.
 */
import { writeFile } from 'node:fs/promises';
import {
  GeminiRateLimitError,
  GeminiRequestError,
  GeminiUnavailableError,
} from '../../lambdas/shared/errors.js';
import {
  BATCH_METHODS,
  type BatchJobStatus,
  type BatchKind,
  type BatchSearch,
  type BatchSearchOptions,
  type CreateBatchRequest,
  type GeminiBatchApi,
  type InlineRequest,
  type InlineResponse,
  isTerminalState,
  type JsonlSource,
  type ModelInfo,
  type UploadOptions,
} from '../../lambdas/shared/gemini/gemini-batch-api.js';
import { answerAll, generateAnswer } from './gemini-answer-lines.js';

// Exported here too, for the tests that import them along with the fake.
export {
  ANSWER_USAGE,
  answerAll,
  EMBED_TOKEN_COUNT,
  embedAnswer,
  errorAnswer,
  generateAnswer,
  vectorOf,
} from './gemini-answer-lines.js';

/** The port's methods, by name: what `calls` counts and `failNext` can break. */
export type GeminiMethod = keyof GeminiBatchApi;

const METHODS: readonly GeminiMethod[] = [
  'getModel',
  'uploadJsonl',
  'createBatch',
  'findBatchesByDisplayName',
  'getBatch',
  'getInlineResponses',
  'cancelBatch',
  'downloadFile',
  'deleteFile',
];

/** One batch job as the fake keeps it; tests may read it and move it through its states. */
export interface FakeBatch {
  readonly name: string;
  readonly displayName: string;
  readonly kind: BatchKind;
  readonly model: string;
  /** The uploaded input file; '' for an inline batch. */
  readonly fileName: string;
  /** The requests of an inline batch. */
  readonly inlineRequests?: readonly InlineRequest[];
  inlineResponses?: readonly InlineResponse[];
  state: string;
  requestCount: number;
  successfulCount: number;
  failedCount: number;
  error?: BatchJobStatus['error'];
  responsesFile?: string;
  /** When the job was made, by the fake's `now`; none while the test has not set one. */
  readonly createTime?: string;
}

/** How a test ends a job: its final state, the result lines Gemini wrote, the job's error. */
export interface FinishOptions {
  /** @default 'BATCH_STATE_SUCCEEDED' */
  readonly state?: string;
  /** JSONL lines of the responses file; the file `files/out-<n>` is created only when given. */
  readonly results?: readonly string[];
  readonly error?: BatchJobStatus['error'];
}

/**
 * Ways the fake answers as roughly as Gemini has been reported to (docs/gemini-protocol.md). They
 * apply to the answers `answer()` writes; a test sets them on `rough` before ending its jobs.
 */
export interface Roughness {
  /** Inline answers in another order than the requests (js-genai #1207, python-genai #1909). */
  readonly inlineOrder?: 'reversed' | 'shuffled';
  /** Inline answers without the echoed key: all of them, or those of the keys the test picks (js-genai #1191). */
  readonly dropInlineKeys?: boolean | ((key: string) => boolean);
  /** Result-file lines in another order than the requests (python-genai #1909). */
  readonly fileOrder?: 'reversed' | 'shuffled';
  /** A second, different answer for each of these keys, inline or in the file. */
  readonly duplicateKeys?: readonly string[];
  /** Answers filed under keys that were never sent, inline or in the file. */
  readonly foreignKeys?: readonly string[];
}

/** Google's generic quota answer (langchain4j PR #3942): what `rateLimit` throws, as the adapter names it. */
export const QUOTA_MESSAGE =
  'Gemini refused the call (HTTP 429): {"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.Help"}]}}';

/**
 * An in-memory GeminiBatchApi for core unit tests. Uploads keep the file's content (`files/up-<n>`),
 * jobs are `batches/b-<n>` in `BATCH_STATE_PENDING` until the test moves them with `setState` or
 * `finish`. Every call is counted in `calls` (attempts, including the ones made to fail), and
 * `failNext` makes the next call of a method throw the given error once; `rateLimit` and
 * `unavailable` do so with a 429 or a 503 on any method; `failAfter` lets the call do its work
 * first (a create whose answer was lost after Gemini made the job). `rough` makes answers rough.
 */
export class FakeGemini implements GeminiBatchApi {
  /** Files by name: uploads and responses files. */
  readonly files = new Map<string, string>();
  /** Jobs by name, in creation order. */
  readonly batches = new Map<string, FakeBatch>();
  /** Every file name `deleteFile` was asked to delete, in order, whether it existed or not. */
  readonly deletedFiles: string[] = [];
  /** Every job name `cancelBatch` was asked to cancel, in order. */
  readonly cancelledBatches: string[] = [];
  /** How often each method was called. */
  readonly calls = Object.fromEntries(METHODS.map((method) => [method, 0])) as Record<GeminiMethod, number>;

  /** Display names of uploaded files, by file name. */
  readonly fileDisplayNames = new Map<string, string>();
  /** Files `uploadJsonl` handed back from an earlier upload instead of uploading again. */
  readonly reusedUploads: string[] = [];
  /** How the next answers are made rough; none by default. */
  rough: Roughness = {};
  /**
   * The fake's clock, for the jobs' `createTime`. Unset by default: jobs then have no creation
   * time, and searches by display name read every job, as Gemini's would read past them.
   */
  now: (() => Date) | undefined;
  /** Jobs the listings leave out, as a listing that lags behind a create would. */
  readonly unlisted = new Set<string>();
  /**
   * When set, `findBatchesByDisplayName` says it could not look everywhere, with this reason (as a
   * compat listing Gemini refuses does), though it still returns what it found.
   */
  searchIncomplete: string | undefined;

  readonly #failures = new Map<GeminiMethod, Error[]>();
  readonly #failuresAfter = new Map<GeminiMethod, Error[]>();
  readonly #failuresAt = new Map<string, Error>();
  #uploadCount = 0;
  #outputCount = 0;
  #batchCount = 0;

  /** The next call of `method` throws `error` (once); queued errors are thrown in order. */
  failNext(method: GeminiMethod, error: Error): this {
    const queue = this.#failures.get(method) ?? [];
    queue.push(error);
    this.#failures.set(method, queue);
    return this;
  }

  /** The next `times` calls of `method` answer 429 with Google's generic quota answer. */
  rateLimit(method: GeminiMethod, times = 1): this {
    for (let i = 0; i < times; i++) this.failNext(method, new GeminiRateLimitError(QUOTA_MESSAGE));
    return this;
  }

  /** The next `times` calls of `method` answer 503. */
  unavailable(method: GeminiMethod, times = 1): this {
    for (let i = 0; i < times; i++)
      this.failNext(method, new GeminiUnavailableError('Gemini refused the call (HTTP 503): unavailable'));
    return this;
  }

  /**
   * The next call of `method` is refused with HTTP `status`, a 4xx no wait changes, as the adapter
   * reports Gemini's (a misspelled field, an unknown model).
   */
  refuse(method: GeminiMethod, status = 400, message = 'Request contains an invalid argument.'): this {
    return this.failNext(
      method,
      new GeminiRequestError(`Gemini refused the call (HTTP ${status}): ${message}`, { status }),
    );
  }

  /** The next call of `method` does its work, then throws `error`: its answer was lost on the way. */
  failAfter(method: GeminiMethod, error: Error): this {
    const queue = this.#failuresAfter.get(method) ?? [];
    queue.push(error);
    this.#failuresAfter.set(method, queue);
    return this;
  }

  /**
   * Models the fake knows, by bare id. While empty, every model exists and supports both batch
   * methods; once a test adds one, only the models added exist.
   */
  readonly models = new Map<string, ModelInfo>();

  async getModel(model: string): Promise<ModelInfo | undefined> {
    this.#enter('getModel');
    const id = model.replace(/^models\//, '');
    if (this.models.size === 0) {
      return { name: `models/${id}`, supportedGenerationMethods: Object.values(BATCH_METHODS) };
    }
    return this.models.get(id);
  }

  async uploadJsonl(source: JsonlSource, displayName: string, options: UploadOptions = {}): Promise<string> {
    this.#enter('uploadJsonl');
    if (displayName === '') throw new GeminiRequestError('upload without a display name');
    const parts: Uint8Array[] = [];
    for await (const part of await source.open()) parts.push(part);
    const bytes = Buffer.concat(parts);
    // As Gemini: an upload that brings other than the size declared at its start is no file.
    if (bytes.length !== source.bytes) {
      throw new GeminiUnavailableError(`upload of ${bytes.length} bytes, ${source.bytes} declared`);
    }
    const content = bytes.toString('utf8');
    if (options.reuseUploaded) {
      const earlier = [...this.fileDisplayNames]
        .reverse()
        .find(([name, shown]) => shown === displayName && this.files.get(name) === content)?.[0];
      if (earlier) {
        this.reusedUploads.push(earlier);
        return earlier;
      }
    }
    const name = this.addFile(content, `files/up-${++this.#uploadCount}`);
    this.fileDisplayNames.set(name, displayName);
    this.#exit('uploadJsonl');
    return name;
  }

  async createBatch(request: CreateBatchRequest): Promise<string> {
    this.#enter('createBatch');
    const { kind, displayName } = request;
    const model = request.model.replace(/^models\//, '');
    if ('inlineRequests' in request) {
      const { name } = this.addBatch({
        kind,
        model,
        displayName,
        fileName: '',
        inlineRequests: request.inlineRequests,
      });
      this.#exit('createBatch');
      return name;
    }
    if (!this.files.has(request.fileName)) throw new GeminiRequestError(`no such file ${request.fileName}`);
    const { name } = this.addBatch({ kind, model, displayName, fileName: request.fileName });
    this.#exit('createBatch');
    return name;
  }

  async getInlineResponses(name: string): Promise<readonly InlineResponse[]> {
    this.#enter('getInlineResponses');
    return this.#batch(name).inlineResponses ?? [];
  }

  /** Every options object `findBatchesByDisplayName` was called with, in order. */
  readonly searches: BatchSearchOptions[] = [];

  async findBatchesByDisplayName(displayName: string, options: BatchSearchOptions): Promise<BatchSearch> {
    this.#enter('findBatchesByDisplayName');
    this.searches.push(options);
    const found = [];
    for (const batch of this.#listed()) {
      if (batch.createTime !== undefined && Date.parse(batch.createTime) < options.createdAfter.getTime())
        break;
      if (batch.displayName !== displayName) continue;
      found.push({ name: batch.name, state: batch.state, createTime: batch.createTime });
    }
    return { found, incomplete: this.searchIncomplete };
  }

  /** Jobs as a listing shows them: newest first, without the unlisted ones. */
  #listed(): FakeBatch[] {
    return [...this.batches.values()].reverse().filter((batch) => !this.unlisted.has(batch.name));
  }

  async getBatch(name: string): Promise<BatchJobStatus> {
    this.#enter('getBatch');
    return this.statusOf(name);
  }

  /** What `getBatch` would answer, without counting a call. */
  statusOf(name: string): BatchJobStatus {
    const batch = this.#batch(name);
    return {
      name: batch.name,
      state: batch.state,
      displayName: batch.displayName,
      requestCount: batch.requestCount,
      successfulCount: batch.successfulCount,
      failedCount: batch.failedCount,
      ...(batch.error ? { error: batch.error } : {}),
      ...(batch.responsesFile ? { responsesFile: batch.responsesFile } : {}),
    };
  }

  async cancelBatch(name: string): Promise<void> {
    this.#enter('cancelBatch');
    this.cancelledBatches.push(name);
    const batch = this.#batch(name);
    if (!isTerminalState(batch.state)) batch.state = 'BATCH_STATE_CANCELLED';
  }

  async downloadFile(fileName: string, path: string): Promise<void> {
    this.#enter('downloadFile');
    const content = this.files.get(fileName);
    if (content === undefined) throw new GeminiRequestError(`no such file ${fileName}`);
    await writeFile(path, content);
  }

  async deleteFile(fileName: string): Promise<void> {
    this.#enter('deleteFile');
    this.deletedFiles.push(fileName);
    this.files.delete(fileName);
  }

  // ---- test controls: none of these count as calls ----

  /** Puts a file on the fake directly; returns its name (`files/out-<n>` unless one is given). */
  addFile(content: string, name = `files/out-${++this.#outputCount}`): string {
    this.files.set(name, content);
    return name;
  }

  /** Puts a job on the fake directly, as if some earlier attempt had created it. */
  addBatch(init: {
    readonly kind: BatchKind;
    readonly model: string;
    readonly displayName: string;
    readonly fileName: string;
    readonly inlineRequests?: readonly InlineRequest[];
    readonly state?: string;
  }): FakeBatch {
    const batch: FakeBatch = {
      name: `batches/b-${++this.#batchCount}`,
      displayName: init.displayName,
      kind: init.kind,
      model: init.model,
      fileName: init.fileName,
      inlineRequests: init.inlineRequests,
      state: init.state ?? 'BATCH_STATE_PENDING',
      requestCount: init.inlineRequests?.length ?? this.inputLinesOf(init.fileName).length,
      successfulCount: 0,
      failedCount: 0,
      createTime: this.now?.().toISOString(),
    };
    this.batches.set(batch.name, batch);
    return batch;
  }

  setState(name: string, state: string): void {
    this.#batch(name).state = state;
  }

  /** Ends a job: sets its state and error, and writes its responses file when results are given. */
  finish(name: string, { state = 'BATCH_STATE_SUCCEEDED', results, error }: FinishOptions = {}): FakeBatch {
    const batch = this.#batch(name);
    batch.state = state;
    if (error) batch.error = error;
    if (results) {
      batch.responsesFile = this.addFile(results.map((line) => `${line}\n`).join(''));
      batch.successfulCount = results.filter((line) => 'response' in parsedOrEmpty(line)).length;
      batch.failedCount = results.filter((line) => 'error' in parsedOrEmpty(line)).length;
    }
    return batch;
  }

  /**
   * Succeeds a job with an answer for every request (see `answerAll`): in a responses file for a
   * file batch; as inline responses echoing each key in `metadata`, for an inline one. `rough`
   * reorders them, drops echoed keys, adds duplicates and strangers.
   */
  answer(name: string): FakeBatch {
    const batch = this.#batch(name);
    const { duplicateKeys = [], foreignKeys = [] } = this.rough;
    const lines = answerAll(this.inputLines(name));
    const extra = [
      ...duplicateKeys.map((key) => generateAnswer(key, `a second answer filed under ${key}`)),
      ...foreignKeys.map((key) => generateAnswer(key, `an answer for ${key}, never sent`)),
    ];
    if (!batch.inlineRequests) {
      return this.finish(name, { results: reorder([...lines, ...extra], this.rough.fileOrder, name) });
    }
    const drop = this.rough.dropInlineKeys ?? false;
    batch.state = 'BATCH_STATE_SUCCEEDED';
    batch.inlineResponses = reorder(
      [...lines, ...extra].map((line) => {
        const { key, response } = JSON.parse(line) as { key: string; response: unknown };
        const dropped = drop === true || (typeof drop === 'function' && drop(key));
        return dropped ? { response } : { response, metadata: { key } };
      }),
      this.rough.inlineOrder,
      name,
    );
    batch.successfulCount = lines.length;
    return batch;
  }

  /** The job carrying this display name; throws if there is none. */
  batchNamed(displayName: string): FakeBatch {
    const batch = [...this.batches.values()].find((candidate) => candidate.displayName === displayName);
    if (!batch) throw new Error(`the fake has no batch named ${displayName}`);
    return batch;
  }

  /** The job's requests as `{"key","request"}` lines: its input file's, or its inline requests. */
  inputLines(name: string): string[] {
    const batch = this.#batch(name);
    if (batch.inlineRequests) return batch.inlineRequests.map((request) => JSON.stringify(request));
    return this.inputLinesOf(batch.fileName);
  }

  /** The non-empty lines of a file the fake holds (none for an unknown file). */
  inputLinesOf(fileName: string): string[] {
    return (this.files.get(fileName) ?? '').split('\n').filter((line) => line.trim() !== '');
  }

  /** Call number `call` (1-based, counting every call so far) of `method` throws `error`. */
  failAt(method: GeminiMethod, call: number, error: Error): this {
    this.#failuresAt.set(`${method}#${call}`, error);
    return this;
  }

  #enter(method: GeminiMethod): void {
    this.calls[method] += 1;
    const planned = this.#failuresAt.get(`${method}#${this.calls[method]}`);
    if (planned) throw planned;
    const failure = this.#failures.get(method)?.shift();
    if (failure) throw failure;
  }

  #exit(method: GeminiMethod): void {
    const failure = this.#failuresAfter.get(method)?.shift();
    if (failure) throw failure;
  }

  #batch(name: string): FakeBatch {
    const batch = this.batches.get(name);
    if (!batch) throw new GeminiRequestError(`no such batch ${name}`);
    return batch;
  }
}

/** The items reversed, or shuffled the same way every time for the same seed. */
function reorder<T>(items: readonly T[], order: 'reversed' | 'shuffled' | undefined, seed: string): T[] {
  if (order === 'reversed') return [...items].reverse();
  if (order !== 'shuffled') return [...items];
  let state = [...seed].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) >>> 0, 7);
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) >>> 0;
    const j = state % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j] as T, shuffled[i] as T];
  }
  return shuffled;
}

/** A result line's fields; none for a line that is not a JSON object (tests feed Gemini bad lines too). */
function parsedOrEmpty(line: string): object {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}
