import { asNumber, isRecord, readField } from '../json-fields.js';
import { InvalidRequestError } from './errors.js';
import { hash32 } from './hash.js';
import { estimateTokens, textOf } from './tokens.js';

/** Output size of gemini-embedding-001 when `outputDimensionality` is not given. */
const DEFAULT_DIMENSIONS = 3072;
/** Each word lands in a few buckets so that one unlucky collision does not dominate similarity. */
const BUCKETS_PER_WORD = 2;

/** A Gemini REST `EmbedContentResponse` as the emulator returns it. */
export interface EmbedContentResponseJson {
  embedding: { values: number[] };
  /** int64, so proto3 JSON encodes it as a decimal string. */
  tokenCount: string;
}

/**
 * Produces a deterministic fake embedding for a Gemini `EmbedContentRequest`.
 *
 * The vector is a feature-hashed bag of words: every lower-cased word of the content's text adds ±1
 * to a few hash-chosen dimensions, and the sum is scaled to unit length. Texts that share words
 * therefore have a higher cosine similarity than unrelated ones, which is enough to exercise
 * retrieval code, although it captures no meaning. Empty text maps to the first basis vector.
 * `taskType`, `title` and `model` are accepted and ignored.
 *
 * @throws {InvalidRequestError} when `content` is missing or has no `parts` list, or when
 * `outputDimensionality` is not an integer from 1 to 3072.
 */
export function embedContent(request: unknown): EmbedContentResponseJson {
  if (!isRecord(request)) {
    throw new InvalidRequestError('* EmbedContentRequest: request must be a JSON object');
  }
  const content = request.content;
  if (!isRecord(content)) {
    throw new InvalidRequestError('* EmbedContentRequest.content: content is not specified');
  }
  if (!Array.isArray(content.parts)) {
    throw new InvalidRequestError('* EmbedContentRequest.content.parts: content.parts must not be empty');
  }
  const requested = readField(request, 'outputDimensionality');
  const dimensions = requested === undefined || requested === null ? DEFAULT_DIMENSIONS : asNumber(requested);
  if (
    dimensions === undefined ||
    !Number.isInteger(dimensions) ||
    dimensions < 1 ||
    dimensions > DEFAULT_DIMENSIONS
  ) {
    throw new InvalidRequestError(
      `* EmbedContentRequest.output_dimensionality: must be an integer from 1 to ${DEFAULT_DIMENSIONS}, got ${JSON.stringify(requested)}`,
    );
  }
  const text = textOf(content);
  return { embedding: { values: hashedVector(text, dimensions) }, tokenCount: String(estimateTokens(text)) };
}

function hashedVector(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    for (let bucket = 0; bucket < BUCKETS_PER_WORD; bucket++) {
      const hash = hash32(`${bucket}:${word}`);
      const index = (hash >>> 1) % dimensions;
      vector[index] = (vector[index] ?? 0) + ((hash & 1) === 1 ? 1 : -1);
    }
  }
  const norm = Math.hypot(...vector);
  // Also covers the rare case where every contribution cancels out.
  if (norm === 0) return vector.map((_, index) => (index === 0 ? 1 : 0));
  // Eight decimals keep the JSON compact; the rounding error per component is at most 5e-9, so even
  // at 3072 dimensions the length stays within about 3e-7 of 1.
  return vector.map((value) => Math.round((value / norm) * 1e8) / 1e8);
}
