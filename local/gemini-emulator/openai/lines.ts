/**
 * OpenAI-format batch lines, as Gemini's OpenAI-compatible batch layer reads and writes them.
 *
 * In: `{"custom_id", "method": "POST", "url": "/v1/chat/completions" | "/v1/embeddings", "body"}`.
 * Each body is translated to a Gemini request, answered by the synthetic model, and translated back
 * in the shape Gemini was observed to write (cookbook output, Sept 2025), which is not OpenAI's:
 * no top-level `id` or `error`, no `request_id`, camelCase `finishReason` and usage fields,
 * `created` as a string, choices without `index`, and key order that varies between lines.
 */
import { describeErrorCode } from '../api-error.js';
import { isRecord, type JsonObject } from '../json-fields.js';
import type { LineAnswer, LineCodec, LineFault, LineScan, RequestStatus } from '../line-codec.js';
import {
  embedContent,
  type GenerateContentResponseJson,
  generateContent,
  InvalidRequestError,
  promptTokens,
} from '../model/index.js';
import { translateChat, translateEmbeddings } from './translate-request.js';

/** The endpoints Gemini's compatibility layer documents for batches. */
export const OPENAI_BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings'] as const;
export type OpenAiBatchEndpoint = (typeof OPENAI_BATCH_ENDPOINTS)[number];

export function isOpenAiBatchEndpoint(value: unknown): value is OpenAiBatchEndpoint {
  return (OPENAI_BATCH_ENDPOINTS as readonly unknown[]).includes(value);
}

/** gRPC INVALID_ARGUMENT: a line the layer cannot read or translate. */
const INVALID_ARGUMENT = 3;

/** A readable line, translated: the Gemini request(s) it stands for. */
type Translated =
  | { readonly kind: 'chat'; readonly model: string; readonly request: JsonObject }
  | { readonly kind: 'embeddings'; readonly model: string; readonly requests: readonly JsonObject[] };

interface ParsedLine {
  /** Echoed on the output line when the input line has a string `custom_id`. */
  readonly customId: string | undefined;
  readonly translated?: Translated;
  readonly problem?: string;
}

function parseLine(line: string, endpoint: OpenAiBatchEndpoint): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { customId: undefined, problem: `Invalid JSON payload received. ${(error as Error).message}` };
  }
  if (!isRecord(value))
    return { customId: undefined, problem: 'Invalid request line: expected a JSON object.' };
  const customId = typeof value.custom_id === 'string' ? value.custom_id : undefined;
  const fail = (problem: string): ParsedLine => ({ customId, problem });
  if (customId === undefined) return fail('Invalid request line: "custom_id" must be a string.');
  if (value.method !== 'POST') {
    return fail(`Invalid request line: "method" must be "POST", got ${JSON.stringify(value.method)}.`);
  }
  if (value.url !== endpoint) {
    return fail(
      `Invalid request line: "url" is ${JSON.stringify(value.url)} but this batch's endpoint is "${endpoint}".`,
    );
  }
  const { body } = value;
  if (!isRecord(body)) return fail('Invalid request line: "body" must be a JSON object.');
  if (typeof body.model !== 'string' || body.model.trim() === '') {
    return fail('Invalid request line: "body.model" must name a model.');
  }
  const model = body.model.replace(/^models\//, '');
  try {
    return {
      customId,
      translated:
        endpoint === '/v1/chat/completions'
          ? { kind: 'chat', model, request: translateChat(body) }
          : { kind: 'embeddings', model, requests: translateEmbeddings(body) },
    };
  } catch (error) {
    if (error instanceof InvalidRequestError) return fail(error.message);
    throw error;
  }
}

/** Two key orders per object, taken in turn, so consumers cannot come to rely on one. */
function ordered(entries: readonly (readonly [string, unknown])[], reverse: boolean): JsonObject {
  return Object.fromEntries(reverse ? [...entries].reverse() : entries);
}

const FINISH_REASONS: Readonly<Record<string, string>> = { STOP: 'stop', MAX_TOKENS: 'length' };

/** A chat.completion body as Gemini writes it into batch output (camelCase, `created` a string). */
function chatBody(
  model: string,
  response: GenerateContentResponseJson,
  created: string,
  reverse: boolean,
): JsonObject {
  const { promptTokenCount, candidatesTokenCount, totalTokenCount } = response.usageMetadata;
  const usage = ordered(
    [
      ['completionTokens', candidatesTokenCount],
      ['promptTokens', promptTokenCount],
      ['totalTokens', totalTokenCount],
    ],
    reverse,
  );
  const choices = response.candidates.map((candidate) =>
    ordered(
      [
        [
          'message',
          { role: 'assistant', content: candidate.content.parts.map((part) => part.text).join('') },
        ],
        ['finishReason', FINISH_REASONS[candidate.finishReason] ?? 'stop'],
      ],
      reverse,
    ),
  );
  return ordered(
    [
      ['id', response.responseId],
      ['usage', usage],
      ['object', 'chat.completion'],
      ['choices', choices],
      ['created', created],
      ['model', model],
    ],
    reverse,
  );
}

/** An embeddings list body as Gemini writes it: `model` echoed with its `models/` prefix. */
function embeddingsBody(model: string, requests: readonly JsonObject[], reverse: boolean): JsonObject {
  let tokens = 0;
  const data = requests.map((request, index) => {
    const response = embedContent(request);
    tokens += Number(response.tokenCount);
    return ordered(
      [
        ['object', 'embedding'],
        ['embedding', response.embedding.values],
        ['index', index],
      ],
      reverse,
    );
  });
  return ordered(
    [
      ['model', `models/${model}`],
      ['object', 'list'],
      ['data', data],
      [
        'usage',
        ordered(
          [
            ['promptTokens', tokens],
            ['totalTokens', tokens],
          ],
          reverse,
        ),
      ],
    ],
    reverse,
  );
}

/**
 * A failed line. Gemini's real shape is unknown; the emulator assumes an HTTP-style response whose
 * body is Google's error object: `{"status_code": 4xx/5xx, "body": {"error": {code, message, status}}}`.
 */
function errorResponse(error: RequestStatus): JsonObject {
  const { httpStatus, status } = describeErrorCode(error.code);
  return { status_code: httpStatus, body: { error: { code: httpStatus, message: error.message, status } } };
}

export interface OpenAiCodecOptions {
  readonly endpoint: OpenAiBatchEndpoint;
  /** Unix seconds written (as a string) into chat bodies' `created`. */
  readonly createdSeconds: number;
}

/** The OpenAI line format, for jobs created through the compatibility layer. */
export function openAiCodec({ endpoint, createdSeconds }: OpenAiCodecOptions): LineCodec {
  const created = String(createdSeconds);
  return {
    scanLine(line): LineScan {
      const { translated } = parseLine(line, endpoint);
      if (!translated) return { model: undefined, tokens: 0 };
      const tokens =
        translated.kind === 'chat'
          ? promptTokens(translated.request)
          : translated.requests.reduce((sum, request) => sum + promptTokens(request), 0);
      return { model: translated.model, tokens };
    },
    answerLine(line: string, index: number, lineFault: LineFault): LineAnswer {
      const { customId, translated, problem } = parseLine(line, endpoint);
      // Lines alternate key order at the top level, bodies every other pair of lines.
      const reverseLine = index % 2 === 1;
      const reverseBody = Math.floor(index / 2) % 2 === 1;
      let response: JsonObject;
      let failed = true;
      const injected = translated ? lineFault(index, line) : undefined;
      if (!translated) {
        response = errorResponse({ code: INVALID_ARGUMENT, message: problem ?? 'Invalid request line.' });
      } else if (injected) {
        response = errorResponse(injected);
      } else {
        try {
          const body =
            translated.kind === 'chat'
              ? chatBody(
                  translated.model,
                  generateContent(translated.model, translated.request),
                  created,
                  reverseBody,
                )
              : embeddingsBody(translated.model, translated.requests, reverseBody);
          response = { status_code: 200, body };
          failed = false;
        } catch (error) {
          if (!(error instanceof InvalidRequestError)) throw error;
          response = errorResponse({ code: INVALID_ARGUMENT, message: error.message });
        }
      }
      const entries: [string, unknown][] = [['response', response]];
      if (customId !== undefined) entries.push(['custom_id', customId]);
      return { text: JSON.stringify(ordered(entries, reverseLine)), failed };
    },
  };
}
