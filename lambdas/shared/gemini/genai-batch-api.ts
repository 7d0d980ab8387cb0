/**
 * The adapter only names each call for the errors it throws; what each call does lives in
 * `genai/`, one file per concern:
 *
 * - `clients.ts`: the SDK and the raw REST client (native and OpenAI-compatible), built once
 * - `pipeline-errors.ts`: client failures → `GeminiRateLimitError` / `GeminiUnavailableError` / `GeminiRequestError`
 * - `models.ts`: the Models API
 * - `files.ts`: upload (MIME fallback, reuse of an earlier upload), download, delete
 * - `batch-jobs.ts`: create (file, OpenAI-format, inline) and cancel
 * - `openai-batches.ts`: create and list on the OpenAI-compatible layer, over REST
 * - `batch-search.ts`: jobs by display name, bounded by creation time
 * - `operation-read.ts`: a job's status and its inline answers, with a `fields` mask
 * - `operation-scan.ts`: the streaming read of an operation that never holds its answers together
 */
import type {
  BatchJobStatus,
  BatchSearch,
  BatchSearchOptions,
  CreateBatchRequest,
  GeminiBatchApi,
  InlineResponse,
  JsonlSource,
  ModelInfo,
  UploadOptions,
} from './gemini-batch-api.js';
import { cancelBatch, createBatch } from './genai/batch-jobs.js';
import { findBatches } from './genai/batch-search.js';
import { createClients, type GenaiBatchApiOptions, type GenaiClients } from './genai/clients.js';
import { deleteFile, downloadFile, uploadJsonl } from './genai/files.js';
import { getModel } from './genai/models.js';
import { OperationReader } from './genai/operation-read.js';
import { attempt } from './genai/pipeline-errors.js';

export type { GenaiBatchApiOptions } from './genai/clients.js';

/**
 * The GeminiBatchApi port over the real `@google/genai` SDK, Gemini's OpenAI-compatible layer (for
 * OpenAI-format chunks) and raw REST where the SDK drops or renames fields.
 */
export class GenaiBatchApi implements GeminiBatchApi {
  readonly #clients: GenaiClients;
  readonly #operations: OperationReader;

  constructor(options: GenaiBatchApiOptions) {
    this.#clients = createClients(options);
    this.#operations = new OperationReader(this.#clients.rest);
  }

  getModel(model: string): Promise<ModelInfo | undefined> {
    return attempt(`look up model ${model.replace(/^models\//, '')}`, () =>
      getModel(this.#clients.rest, model),
    );
  }

  uploadJsonl(source: JsonlSource, displayName: string, options: UploadOptions = {}): Promise<string> {
    return attempt(`upload the request file ${displayName}`, () =>
      uploadJsonl(this.#clients, { ...options, source, displayName }),
    );
  }

  createBatch(request: CreateBatchRequest): Promise<string> {
    return attempt(`create batch job ${request.displayName}`, () => createBatch(this.#clients, request));
  }

  findBatchesByDisplayName(displayName: string, options: BatchSearchOptions): Promise<BatchSearch> {
    return attempt('list batch jobs', () => findBatches(this.#clients, displayName, options));
  }

  getBatch(name: string): Promise<BatchJobStatus> {
    return attempt(`read batch job ${name}`, () => this.#operations.status(name));
  }

  getInlineResponses(name: string): Promise<readonly InlineResponse[]> {
    return attempt(`read the answers of ${name}`, () => this.#operations.inlineAnswers(name));
  }

  cancelBatch(name: string): Promise<void> {
    return attempt(`cancel ${name}`, () => cancelBatch(this.#clients.ai, name));
  }

  downloadFile(fileName: string, path: string): Promise<void> {
    return attempt(`download ${fileName}`, () => downloadFile(this.#clients.ai, fileName, path));
  }

  deleteFile(fileName: string): Promise<void> {
    return attempt(`delete ${fileName}`, () => deleteFile(this.#clients.ai, fileName));
  }
}
