import type { Answer, BatchKind, LineCodec } from './line-codec.js';
import {
  type EmbedContentResponseJson,
  embedContent,
  generateContent,
  InvalidRequestError,
  promptTokens,
} from './model/index.js';
import type { EmbeddingUsage } from './model-catalogue.js';
import { unknownFieldsLineError } from './unknown-fields.js';

/** gRPC INVALID_ARGUMENT, the code Google puts on lines it could not read. */
const INVALID_ARGUMENT = 3;

/**
 * An embedding answer in the shape its model reports usage: `tokenCount` (a string, as
 * `gemini-embedding-001` lines carry it) or `usageMetadata` (as `gemini-embedding-2` lines do,
 * capture of 2026-07-25).
 */
function embeddingAnswer(response: EmbedContentResponseJson, usage: EmbeddingUsage): unknown {
  if (usage === 'tokenCount') return response;
  const tokens = Number(response.tokenCount);
  return {
    embedding: response.embedding,
    usageMetadata: { promptTokenCount: tokens, totalTokenCount: tokens },
  };
}

/** Answers one request as the model would, or with the error Gemini would write for it. */
export function answerRequest(
  kind: BatchKind,
  model: string,
  request: unknown,
  embeddingUsage: EmbeddingUsage = 'tokenCount',
): Answer {
  try {
    return {
      response:
        kind === 'generate'
          ? generateContent(model, request)
          : embeddingAnswer(embedContent(request), embeddingUsage),
    };
  } catch (error) {
    if (error instanceof InvalidRequestError)
      return { error: { code: INVALID_ARGUMENT, message: error.message } };
    throw error;
  }
}

interface ParsedLine {
  readonly key: unknown;
  readonly request: unknown;
  /** Every top-level field but `request`, echoed on the output line as Gemini does (go-genai #513). */
  readonly echoed?: Readonly<Record<string, unknown>>;
  readonly problem?: string;
}

/** One input line → its key and request, or why it cannot be read. Blank lines are not requests. */
function parseLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return {
      key: undefined,
      request: undefined,
      problem: `Invalid JSON payload received. ${(error as Error).message}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { key: undefined, request: undefined, problem: 'Invalid request line: expected a JSON object.' };
  }
  const { request, ...echoed } = value as Record<string, unknown>;
  const { key } = echoed;
  if (request === undefined) {
    return { key, request, echoed, problem: 'Invalid request line: the "request" field is required.' };
  }
  return { key, request, echoed };
}

/** How native lines are answered beyond their kind and model. */
export interface NativeLineOptions {
  /** @default 'tokenCount' */
  readonly embeddingUsage?: EmbeddingUsage;
  /** A request with a field Gemini's schema lacks gets an error line. @default false */
  readonly refuseUnknownFields?: boolean;
}

/**
 * Gemini's native line format: `{"key", "request", …}` in, `{"response", "key", …}` or
 * `{"error", "key", …}` out, echoing every top-level field of the input line but `request`
 * (go-genai #513). Google writes `response` before `key`, so the emulator does too: consumers must
 * not rely on key order. A line that cannot be read becomes an error line for that line rather than
 * failing the job, an assumption about Gemini's behaviour.
 */
export function nativeCodec(kind: BatchKind, model: string, options: NativeLineOptions = {}): LineCodec {
  const { embeddingUsage = 'tokenCount', refuseUnknownFields = false } = options;
  return {
    scanLine(line) {
      const parsed = parseLine(line);
      return { model, tokens: parsed.problem ? 0 : promptTokens(parsed.request) };
    },
    answerLine(line, index, lineFault) {
      const parsed = parseLine(line);
      const unknown =
        parsed.problem || !refuseUnknownFields ? undefined : unknownFieldsLineError(kind, parsed.request);
      const injected = parsed.problem || unknown ? undefined : lineFault(index, line);
      const answer: Answer = parsed.problem
        ? { error: { code: INVALID_ARGUMENT, message: parsed.problem } }
        : unknown
          ? { error: unknown }
          : injected
            ? { error: injected }
            : answerRequest(kind, model, parsed.request, embeddingUsage);
      // The answer's own fields win over input fields of the same name.
      const { response: _response, error: _error, ...echoed } = parsed.echoed ?? {};
      return { text: JSON.stringify({ ...answer, ...echoed }), failed: 'error' in answer };
    },
  };
}
