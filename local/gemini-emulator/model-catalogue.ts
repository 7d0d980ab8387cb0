/**
 * The models the emulator knows, as data: what `GET models/{model}` and `GET models` answer, which
 * models a batch may name, how their embedding answers report usage, and their enqueued-token caps.
 *
 * Current as of December 2026 from Google's pricing page (https://ai.google.dev/gemini-api/docs/pricing,
 * read 2026-10-07) and live captures of 2026-07-25. The `Model` field layout and method lists follow a saved
 * `models.list` answer of mid-2025 (generation models: `generateContent`, `countTokens`,
 * `createCachedContent`, `batchGenerateContent`; `gemini-embedding-001`: `embedContent`,
 * `countTextTokens`, `countTokens`) plus `asyncBatchEmbedContent`, which batch-capable embedding models
 * list in 2026 model tables (the mid-2025 answer predates batch embeddings). Each entry names its source.
 */

import { GoogleApiError } from './api-error.js';

/** How an embedding model's answers report their tokens. */
export type EmbeddingUsage =
  /** `"tokenCount": "N"` (int64 as a string), as `gemini-embedding-001` lines carry it. */
  | 'tokenCount'
  /** `"usageMetadata": {"promptTokenCount", "totalTokenCount"}`, as `gemini-embedding-2` lines do (capture of 2026-07-25). */
  | 'usageMetadata';

/** One model of the catalogue: Google's `Model` resource plus what the emulator needs to know. */
export interface CatalogueModel {
  /** The API id, without `models/`: what callers put in the URL. */
  readonly id: string;
  readonly baseModelId: string;
  readonly version: string;
  readonly displayName: string;
  readonly description: string;
  readonly inputTokenLimit: number;
  readonly outputTokenLimit: number;
  /** RPCs the model serves; a batch create needs `batchGenerateContent` or `asyncBatchEmbedContent`. */
  readonly supportedGenerationMethods: readonly string[];
  /** Set on thinking models, as Google's `Model` carries it. */
  readonly thinking?: boolean;
  /** Sampling defaults, on generation models only. */
  readonly temperature?: number;
  readonly maxTemperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  /** Embedding models only: the shape of `usage` in their answers. */
  readonly embeddingUsage?: EmbeddingUsage;
  /**
   * Tier 1 batch enqueued-token cap.
   * @default - 3,000,000 (`limits.defaultEnqueuedTokens`): Google stopped publishing per-model caps
   */
  readonly batchEnqueuedTokens?: number;
  /** Where the entry's facts come from, so each can be rechecked. */
  readonly source: string;
}

/** A model Google has switched off: unknown to the Models API, yet `batches.create` still takes jobs on it. */
export interface RetiredModel {
  readonly id: string;
  /** ISO date of the retirement. */
  readonly retiredOn: string;
  readonly source: string;
}

const MILLION_CONTEXT = 1_048_576;
const MAX_OUTPUT = 65_536;
const GENERATE_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];
const EMBED_METHODS = ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent'];
const THINKING_DEFAULTS = { thinking: true, temperature: 1, maxTemperature: 2, topP: 0.95, topK: 64 };

const PRICING = "Google's pricing page (https://ai.google.dev/gemini-api/docs/pricing) read 2026-10-07";
const MODELS_LIST_2025 = 'a saved models.list answer of mid-2025 (field layout and method list)';

function generationModel(
  id: string,
  displayName: string,
  description: string,
  version: string,
  source: string,
  batchEnqueuedTokens?: number,
): CatalogueModel {
  return {
    id,
    baseModelId: id,
    version,
    displayName,
    description,
    inputTokenLimit: MILLION_CONTEXT,
    outputTokenLimit: MAX_OUTPUT,
    supportedGenerationMethods: GENERATE_METHODS,
    ...THINKING_DEFAULTS,
    ...(batchEnqueuedTokens !== undefined ? { batchEnqueuedTokens } : {}),
    source,
  };
}

/** Every current model the emulator serves, newest first as Google lists them. */
export const GEMINI_MODELS: readonly CatalogueModel[] = [
  generationModel(
    'gemini-3.8-flash',
    'Gemini 3.8 Flash',
    'Gemini 3.8 Flash, our most intelligent workhorse model.',
    '001',
    `${PRICING}; model id, 1,048,576-token context and 65,536 output tokens from Google Cloud's Gemini 3.8 Flash model page`,
  ),
  generationModel(
    'gemini-3.5-flash',
    'Gemini 3.5 Flash',
    'Gemini 3.5 Flash.',
    '001',
    `${PRICING}; id as used in public code (2026)`,
  ),
  generationModel(
    'gemini-3.5-flash-lite',
    'Gemini 3.5 Flash-Lite',
    'Gemini 3.5 Flash-Lite.',
    '001',
    `${PRICING}; id as used in public code (2026)`,
    10_000_000,
  ),
  generationModel(
    'gemini-3.1-pro-preview',
    'Gemini 3.1 Pro Preview',
    'Preview release of Gemini 3.1 Pro.',
    '3.1-pro-preview',
    `${PRICING}; id from Google Cloud's Gemini 3.8 Flash comparison table`,
    5_000_000,
  ),
  generationModel(
    'gemini-3-flash-preview',
    'Gemini 3 Flash Preview',
    'Preview release of Gemini 3 Flash.',
    '3-flash-preview',
    "a third-party model table of 2026-04-19; id from Google Cloud's Gemini 3 Flash page",
  ),
  generationModel(
    'gemini-3.1-flash-lite-preview',
    'Gemini 3.1 Flash-Lite Preview',
    'Preview release of Gemini 3.1 Flash-Lite.',
    '3.1-flash-lite-preview',
    "a third-party model table of 2026-04-19; 1,048,576 / 65,535 tokens on Google Cloud's Gemini 3.1 Flash-Lite page",
    10_000_000,
  ),
  generationModel(
    'gemini-2.5-pro',
    'Gemini 2.5 Pro',
    'Stable release (June 17th, 2025) of Gemini 2.5 Pro',
    '2.5',
    `${MODELS_LIST_2025}; Tier 1 enqueued tokens from the rate-limits page (Nov 2025)`,
    5_000_000,
  ),
  generationModel(
    'gemini-2.5-flash',
    'Gemini 2.5 Flash',
    'Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to 1 million tokens, released in June of 2025.',
    '001',
    `${MODELS_LIST_2025}; Tier 1 enqueued tokens from the rate-limits page (Nov 2025)`,
    3_000_000,
  ),
  generationModel(
    'gemini-2.5-flash-lite',
    'Gemini 2.5 Flash-Lite',
    'Stable version of Gemini 2.5 Flash-Lite.',
    '001',
    `${MODELS_LIST_2025}; Tier 1 enqueued tokens from the rate-limits page (Nov 2025)`,
    10_000_000,
  ),
  {
    id: 'gemini-embedding-2',
    baseModelId: 'gemini-embedding-2',
    version: '2',
    displayName: 'Gemini Embedding 2',
    description: 'Obtain a distributed representation of text, images, audio, video and documents.',
    inputTokenLimit: 8192,
    outputTokenLimit: 1,
    supportedGenerationMethods: EMBED_METHODS,
    embeddingUsage: 'usageMetadata',
    batchEnqueuedTokens: 10_000_000,
    source:
      "capture of a gemini-embedding-2 inline batch, 2026-07-25 (usageMetadata); 8,192 input tokens from Google Cloud's Gemini Embedding 2 page",
  },
  {
    id: 'gemini-embedding-001',
    baseModelId: 'gemini-embedding-001',
    version: '001',
    displayName: 'Gemini Embedding 001',
    description: 'Obtain a distributed representation of a text.',
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: EMBED_METHODS,
    embeddingUsage: 'tokenCount',
    batchEnqueuedTokens: 10_000_000,
    source: `${MODELS_LIST_2025}; cookbook output lines carry tokenCount; Tier 1 enqueued tokens from the rate-limits page`,
  },
];

const RETIREMENT =
  'Gemini 2.0 models retired on 2026-06-01; jobs on gemini-2.0-flash all EXPIRED (python-genai #2439)';

/** Gemini 2.0 ids, all retired on 2026-06-01. */
export const RETIRED_MODELS: readonly RetiredModel[] = [
  'gemini-2.0-flash',
  'gemini-2.0-flash-001',
  'gemini-2.0-flash-exp',
  'gemini-2.0-flash-lite',
  'gemini-2.0-flash-lite-001',
  'gemini-2.0-flash-lite-preview',
  'gemini-2.0-flash-lite-preview-02-05',
  'gemini-2.0-flash-thinking-exp',
  'gemini-2.0-pro-exp',
].map((id) => ({ id, retiredOn: '2026-06-01', source: RETIREMENT }));

/** The cap a model's enqueued batch tokens are held to when its entry gives none. */
export const DEFAULT_ENQUEUED_TOKENS = 3_000_000;

/** The Tier 1 enqueued-token cap of every batch-capable model of `models`, by bare id. */
export function enqueuedTokenLimits(models: readonly CatalogueModel[]): Record<string, number> {
  return Object.fromEntries(
    models
      .filter((model) => batchMethodOf(model) !== undefined)
      .map((model) => [model.id, model.batchEnqueuedTokens ?? DEFAULT_ENQUEUED_TOKENS]),
  );
}

function batchMethodOf(model: CatalogueModel): string | undefined {
  return model.supportedGenerationMethods.find(
    (method) => method === 'batchGenerateContent' || method === 'asyncBatchEmbedContent',
  );
}

/** Google's `Model` resource for a catalogue entry, as `GET models/{model}` answers it. */
export function modelResource(model: CatalogueModel): Record<string, unknown> {
  return {
    name: `models/${model.id}`,
    baseModelId: model.baseModelId,
    version: model.version,
    displayName: model.displayName,
    description: model.description,
    inputTokenLimit: model.inputTokenLimit,
    outputTokenLimit: model.outputTokenLimit,
    supportedGenerationMethods: [...model.supportedGenerationMethods],
    ...(model.temperature !== undefined ? { temperature: model.temperature } : {}),
    ...(model.topP !== undefined ? { topP: model.topP } : {}),
    ...(model.topK !== undefined ? { topK: model.topK } : {}),
    ...(model.maxTemperature !== undefined ? { maxTemperature: model.maxTemperature } : {}),
    ...(model.thinking ? { thinking: true } : {}),
  };
}

/**
 * Google's 404 for a model it does not know or that does not serve `method`, in its own words
 * ("models/gemini-1.5-flash is not found for API version v1beta, or is not supported for
 * generateContent. Call ListModels …", seen in many public reports).
 */
export function modelNotFoundMessage(model: string, apiVersion: string, method: string): string {
  return (
    `models/${model} is not found for API version ${apiVersion}, or is not supported for ${method}. ` +
    'Call ListModels to see the list of available models and their supported methods.'
  );
}

/** What a batch create may go ahead on: a model of the catalogue, or a retired one (accepted, never run). */
export type BatchModel =
  | { readonly retired: false; readonly model: CatalogueModel }
  | { readonly retired: true; readonly model: undefined };

/** The catalogue one emulator serves: its models and the ids it treats as retired. */
export class ModelCatalogue {
  readonly #models: ReadonlyMap<string, CatalogueModel>;
  readonly #retired: ReadonlySet<string>;

  constructor(models: readonly CatalogueModel[], retired: readonly string[]) {
    this.#retired = new Set(retired);
    // A retired id is gone from the Models API even if a custom catalogue still lists it.
    this.#models = new Map(models.filter((model) => !this.#retired.has(model.id)).map((m) => [m.id, m]));
  }

  list(): CatalogueModel[] {
    return [...this.#models.values()];
  }

  /** The model called `id`, or undefined for an unknown or retired one. */
  find(id: string): CatalogueModel | undefined {
    return this.#models.get(id);
  }

  /**
   * The model a batch create on `id` by `method` (`batchGenerateContent`, `asyncBatchEmbedContent`)
   * runs on. Google refuses a model it does not know, or one that does not serve `method`, with 404;
   * a retired model it accepts (python-genai #2439).
   */
  forBatch(id: string, method: string, apiVersion: string): BatchModel {
    if (this.#retired.has(id)) return { retired: true, model: undefined };
    const model = this.#models.get(id);
    if (model === undefined || !model.supportedGenerationMethods.includes(method)) {
      throw new GoogleApiError(404, modelNotFoundMessage(id, apiVersion, method));
    }
    return { retired: false, model };
  }
}
