import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { GeminiRateLimitError, GeminiRequestError, GeminiUnavailableError } from '../errors.js';
import {
  type BatchJobStatus,
  type CreateBatchRequest,
  type GeminiBatchApi,
  type InlineRequest,
  type InlineResponse,
  type ModelInfo,
  OPENAI_ENDPOINTS,
} from './gemini-batch-api.js';

/** Google documents the Files and Batch APIs under v1beta; SDK 3.x would default to v1. */
const API_VERSION = 'v1beta';
const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
/** How many of the newest jobs to search for a display name before concluding there is none. */
const RECOVERY_SCAN_LIMIT = 1000;

export interface GenaiBatchApiOptions {
  readonly apiKey: string;
  /** The emulator's URL offline; Gemini's own otherwise. */
  readonly baseUrl?: string;
}

/**
 * Turns a client failure into the pipeline's named errors, which the state machine retries (429,
 * 5xx, network) or does not (any other 4xx).
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
    return new GeminiRequestError(message, { cause: error });
  }
  if (error instanceof TypeError) {
    return new GeminiUnavailableError(`could not reach Gemini to ${doing}: ${error.message}`, {
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

interface RawOperation {
  readonly name: string;
  readonly metadata?: {
    readonly state?: string;
    readonly displayName?: string;
    readonly batchStats?: Record<string, string | undefined>;
    readonly output?: {
      readonly responsesFile?: string;
      readonly inlinedResponses?: { readonly inlinedResponses?: readonly InlineResponse[] };
    };
  };
  readonly error?: { readonly code?: number; readonly message?: string };
}

/** The GeminiBatchApi port over the real `@google/genai` SDK, plus raw REST where the SDK drops fields. */
export class GenaiBatchApi implements GeminiBatchApi {
  readonly #ai: GoogleGenAI;
  /** Gemini's OpenAI-compatible batch layer, for OpenAI-format chunks; files still go through #ai. */
  readonly #openai: OpenAI;
  readonly #apiKey: string;
  readonly #baseUrl: string;

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
        const found = await this.#rest<Partial<ModelInfo>>(`models/${encodeURIComponent(id)}`);
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

  uploadJsonl(path: string, displayName: string): Promise<string> {
    return attempt('upload a request file', async () => {
      // `.jsonl` is not in the SDK's MIME table: without an explicit type the upload throws.
      const file = await this.#ai.files.upload({
        file: path,
        config: { mimeType: 'application/jsonl', displayName },
      });
      if (!file.name) throw new GeminiRequestError('Gemini accepted an upload but returned no file name');
      return file.name;
    });
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
      if (!job.name) throw new GeminiRequestError(`Gemini created batch ${displayName} but returned no name`);
      return job.name;
    });
  }

  /**
   * Inline batches go over raw REST: the SDK's InlinedRequest rebuilds each request from its own
   * types, while the pipeline passes users' REST requests through untouched. Generate requests carry
   * their key in `metadata`; embedding requests cannot, and are matched by position.
   */
  async #createInline(
    request: CreateBatchRequest & { readonly inlineRequests: readonly InlineRequest[] },
  ): Promise<string> {
    const model = request.model.replace(/^models\//, '');
    const method = request.kind === 'generate' ? 'batchGenerateContent' : 'asyncBatchEmbedContent';
    const requests = request.inlineRequests.map(({ key, request: body }) =>
      request.kind === 'generate' ? { request: body, metadata: { key } } : { request: body },
    );
    const operation = await this.#rest<RawOperation>(`models/${model}:${method}`, {
      method: 'POST',
      body: JSON.stringify({
        batch: { displayName: request.displayName, inputConfig: { requests: { requests } } },
      }),
    });
    return operation.name;
  }

  /** A raw REST call with Google's error shape turned into the SDK's ApiError, as the SDK would. */
  async #rest<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${this.#baseUrl}/${API_VERSION}/${path}`, {
      ...init,
      headers: { 'x-goog-api-key': this.#apiKey, 'content-type': 'application/json', ...init.headers },
    });
    if (!response.ok) throw new ApiError({ message: await response.text(), status: response.status });
    return (await response.json()) as T;
  }

  findBatchByDisplayName(displayName: string): Promise<string | undefined> {
    return attempt('list batch jobs', async () => {
      let scanned = 0;
      for await (const job of await this.#ai.batches.list({ config: { pageSize: 100 } })) {
        if (job.displayName === displayName) return job.name;
        if (++scanned >= RECOVERY_SCAN_LIMIT) break;
      }
      return this.#findOpenAiBatch(displayName);
    });
  }

  /**
   * A job created through the OpenAI-compatible layer carries its display name in metadata only.
   * Google does not document listing there: if the listing is refused, there is nothing to find.
   */
  async #findOpenAiBatch(displayName: string): Promise<string | undefined> {
    try {
      let scanned = 0;
      for await (const batch of this.#openai.batches.list({ limit: 100 })) {
        if (batch.metadata?.display_name === displayName) return batch.id;
        if (++scanned >= RECOVERY_SCAN_LIMIT) break;
      }
    } catch (error) {
      if (
        error instanceof OpenAI.APIError &&
        error.status !== undefined &&
        error.status < 500 &&
        error.status !== 429
      ) {
        return undefined;
      }
      throw error;
    }
    return undefined;
  }

  getBatch(name: string): Promise<BatchJobStatus> {
    // Raw REST: the SDK's BatchJob drops batchStats and error, which are what the poller needs.
    return attempt(`read batch job ${name}`, async () =>
      toBatchJobStatus(await this.#rest<RawOperation>(name)),
    );
  }

  getInlineResponses(name: string): Promise<readonly InlineResponse[]> {
    return attempt(`read the answers of ${name}`, async () => {
      const operation = await this.#rest<RawOperation>(name);
      return operation.metadata?.output?.inlinedResponses?.inlinedResponses ?? [];
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

/** int64 counts arrive as strings and zero counts are left out, as proto3 JSON does. */
function count(stats: Record<string, string | undefined> | undefined, field: string): number {
  return Number(stats?.[field] ?? 0);
}

export function toBatchJobStatus(operation: RawOperation): BatchJobStatus {
  const { metadata, error } = operation;
  const stats = metadata?.batchStats;
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
    ...(metadata?.output?.responsesFile ? { responsesFile: metadata.output.responsesFile } : {}),
  };
}
