import type { BatchKind, InlineRequest } from '../gemini/gemini-batch-api.js';
import { readJsonlLines } from '../jsonl.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { ChunkPlan, JobLedger } from '../run/work-records.js';

/**
 * Gemini refuses inline batches over 20 MB (the whole create request). Chunks up to this size go
 * inline — no upload round trip — leaving room for the request's JSON envelope.
 */
export const DEFAULT_INLINE_MAX_BYTES = 15 * 1024 * 1024;
/**
 * The most a chunk's inline answers may be estimated to weigh, both copies counted (a succeeded
 * inline batch's operation carries them under `metadata.output` and again under `response`):
 * 32 MiB. Heavier chunks are uploaded, and their answers come back as a file that streams to disk.
 * Reads ask for one copy and stream the operation (`scanOperation`), so an underestimate costs
 * time, not memory; the bound keeps one GET of an operation — which cannot resume — short.
 */
export const DEFAULT_INLINE_MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * What Gemini's JSON spends on one embedding value: up to ~20 characters (`-0.0034119852`,
 * `1.2345678e-05`), a separator and, pretty-printed, a line break and indentation. A 2026 capture
 * measured about 48 KB per inline answer at 768 dimensions, both copies: ~31 bytes a value a copy.
 */
export const EMBED_BYTES_PER_VALUE = 32;
/** Dimensions of an embedding without `outputDimensionality`, by model; others get the largest. */
const EMBED_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-004': 768,
  'embedding-001': 768,
};
/** gemini-embedding-001 and gemini-embedding-2 answer 3072 values unless told fewer. */
export const DEFAULT_EMBED_DIMENSIONS = 3072;
/**
 * Output tokens assumed for a generate request without `maxOutputTokens`. Conservative for answers
 * (most are far shorter), not a hard ceiling (2.5 models may write up to 65,536).
 */
export const DEFAULT_OUTPUT_TOKENS = 8192;
/** UTF-8 bytes per output token in JSON: ~4 for English, more for multi-byte scripts and escapes. */
export const BYTES_PER_OUTPUT_TOKEN = 8;
/** Per answer besides its text or values: usage metadata, finish reason, safety ratings, the key. */
export const ANSWER_OVERHEAD_BYTES = 1024;
/** The operation of a succeeded inline batch repeats its answers. */
const ANSWER_COPIES = 2;

/** Which chunks go inline rather than as an uploaded file. */
export interface InlineChoice {
  /** @default DEFAULT_INLINE_MAX_BYTES */
  readonly inlineMaxBytes?: number;
  /** @default DEFAULT_INLINE_MAX_ANSWER_BYTES */
  readonly inlineMaxAnswerBytes?: number;
  /**
   * Send embedding chunks inline too. Off by default: an inline answer is tied to its key only by
   * the `metadata.key` Gemini echoes, which for embeddings rests on one public capture (2026-07-25);
   * without it every answer of the chunk would lose its key (kept in unmatched.jsonl, never
   * guessed). Result-file lines always carry their key.
   * @default false
   */
  readonly inlineEmbeddings?: boolean;
}

const positive = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
const field = (object: unknown, camel: string, snake: string): unknown => {
  if (typeof object !== 'object' || object === null) return undefined;
  const record = object as Record<string, unknown>;
  return record[camel] ?? record[snake];
};

/**
 * What the answer to one request will add to an inline batch's operation, both copies counted:
 * `outputDimensionality` (or the model's default) values for an embedding; `maxOutputTokens` (or
 * {@link DEFAULT_OUTPUT_TOKENS}) times `candidateCount` for a generation. camelCase or snake_case.
 */
export function estimateAnswerBytes(kind: BatchKind, model: string, request: unknown): number {
  let bytes: number;
  if (kind === 'embed') {
    const own = field(request, 'model', 'model');
    const id = (typeof own === 'string' ? own : model).replace(/^models\//, '');
    const dimensions =
      positive(field(request, 'outputDimensionality', 'output_dimensionality')) ??
      EMBED_DIMENSIONS[id] ??
      DEFAULT_EMBED_DIMENSIONS;
    bytes = dimensions * EMBED_BYTES_PER_VALUE;
  } else {
    const config = field(request, 'generationConfig', 'generation_config');
    const tokens = positive(field(config, 'maxOutputTokens', 'max_output_tokens')) ?? DEFAULT_OUTPUT_TOKENS;
    const candidates = positive(field(config, 'candidateCount', 'candidate_count')) ?? 1;
    bytes = tokens * BYTES_PER_OUTPUT_TOKEN * candidates;
  }
  return (bytes + ANSWER_OVERHEAD_BYTES) * ANSWER_COPIES;
}

/** A chunk read back for an inline create: its requests, or none when the answers would weigh too much. */
export interface InlineRead {
  readonly requests?: InlineRequest[];
  /** The answers' estimated weight ({@link estimateAnswerBytes}), up to the request that passed the bound. */
  readonly answerBytes: number;
}

/**
 * A chunk that may go inline, read back into `{key, request}` pairs while estimating what its
 * answers will weigh; reading stops, with no requests, once the estimate passes
 * `inlineMaxAnswerBytes`. Undefined, unread, for a chunk that goes as a file whatever it weighs:
 * OpenAI-format (Gemini's compat layer creates batches from files only), an embedding chunk unless
 * `inlineEmbeddings`, one over `inlineMaxBytes`, or one already uploaded or being uploaded (a chunk
 * once uploaded stays a file).
 */
export async function readForInline(
  store: ObjectStore,
  bucket: string,
  chunk: ChunkPlan,
  ledger: JobLedger,
  choice: InlineChoice,
): Promise<InlineRead | undefined> {
  const candidate =
    chunk.format === 'gemini' &&
    (chunk.kind === 'generate' || choice.inlineEmbeddings === true) &&
    chunk.bytes <= (choice.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES) &&
    !ledger.uploadedFile &&
    !ledger.uploading;
  if (!candidate) return undefined;
  const maxAnswerBytes = choice.inlineMaxAnswerBytes ?? DEFAULT_INLINE_MAX_ANSWER_BYTES;
  const requests: InlineRequest[] = [];
  let answerBytes = 0;
  for await (const line of readJsonlLines(await store.read(bucket, chunk.key), {
    maxLineBytes: chunk.bytes + 1,
  })) {
    if (!('text' in line)) continue;
    const request = JSON.parse(line.text) as InlineRequest;
    answerBytes += estimateAnswerBytes(chunk.kind, chunk.model, request.request);
    if (answerBytes > maxAnswerBytes) return { answerBytes };
    requests.push(request);
  }
  return { requests, answerBytes };
}
