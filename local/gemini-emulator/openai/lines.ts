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

/** The endpoints Gemini's compatibility layer documents for batches. */
export const OPENAI_BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings'] as const;
export type OpenAiBatchEndpoint = (typeof OPENAI_BATCH_ENDPOINTS)[number];

export function isOpenAiBatchEndpoint(value: unknown): value is OpenAiBatchEndpoint {
  return (OPENAI_BATCH_ENDPOINTS as readonly unknown[]).includes(value);
}

/** gRPC INVALID_ARGUMENT: a line the layer cannot read or translate. */
const INVALID_ARGUMENT = 3;
const MAX_CANDIDATES = 8;

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

/** An OpenAI chat-completions body → Gemini `GenerateContentRequest`. */
function translateChat(body: JsonObject): JsonObject {
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidRequestError('body.messages: must be a non-empty list of messages');
  }
  const contents: JsonObject[] = [];
  const systemTexts: string[] = [];
  messages.forEach((message: unknown, index) => {
    if (!isRecord(message)) throw new InvalidRequestError(`body.messages[${index}]: must be an object`);
    const texts = messageTexts(message.content, index);
    switch (message.role) {
      case 'system':
      case 'developer':
        systemTexts.push(texts.join('\n'));
        return;
      case 'user':
      case 'tool':
      case 'assistant': {
        const parts = texts.length > 0 ? texts.map((text) => ({ text })) : [{ text: '' }];
        contents.push({ role: message.role === 'assistant' ? 'model' : 'user', parts });
        return;
      }
      default:
        throw new InvalidRequestError(
          `body.messages[${index}].role: must be one of system, developer, user, assistant, tool; got ${JSON.stringify(message.role)}`,
        );
    }
  });
  return {
    contents,
    ...(systemTexts.length > 0 ? { systemInstruction: { parts: [{ text: systemTexts.join('\n') }] } } : {}),
    generationConfig: chatGenerationConfig(body),
  };
}

/** The text parts of a message's `content`: a string, or a list of parts of which `text` ones count. */
function messageTexts(content: unknown, index: number): string[] {
  if (typeof content === 'string') return [content];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) {
    throw new InvalidRequestError(`body.messages[${index}].content: must be a string or a list of parts`);
  }
  const texts: string[] = [];
  content.forEach((part: unknown, partIndex) => {
    const where = `body.messages[${index}].content[${partIndex}]`;
    if (!isRecord(part) || typeof part.type !== 'string') {
      throw new InvalidRequestError(`${where}: must be an object with a type`);
    }
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw new InvalidRequestError(`${where}.text: must be a string`);
      texts.push(part.text);
    }
    // image_url, input_audio, file …: accepted and ignored, as the native model ignores non-text parts.
  });
  return texts;
}

function chatGenerationConfig(body: JsonObject): JsonObject {
  const config: JsonObject = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) {
      throw new InvalidRequestError(
        `body.max_tokens: must be a positive integer, got ${JSON.stringify(maxTokens)}`,
      );
    }
    config.maxOutputTokens = maxTokens;
  }
  if (body.temperature !== undefined && body.temperature !== null) {
    const { temperature } = body;
    if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) {
      throw new InvalidRequestError(
        `body.temperature: must be a number from 0 to 2, got ${JSON.stringify(temperature)}`,
      );
    }
    config.temperature = temperature;
  }
  if (body.n !== undefined && body.n !== null) {
    if (!Number.isInteger(body.n) || (body.n as number) < 1 || (body.n as number) > MAX_CANDIDATES) {
      throw new InvalidRequestError(
        `body.n: must be an integer from 1 to ${MAX_CANDIDATES}, got ${JSON.stringify(body.n)}`,
      );
    }
    config.candidateCount = body.n;
  }
  const format = body.response_format;
  if (format !== undefined && format !== null) {
    if (!isRecord(format)) throw new InvalidRequestError('body.response_format: must be an object');
    if (format.type === 'json_schema') {
      const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
      if (!isRecord(schema)) {
        throw new InvalidRequestError(
          'body.response_format.json_schema.schema: must be a JSON Schema object',
        );
      }
      config.responseMimeType = 'application/json';
      config.responseJsonSchema = schema;
    } else if (format.type === 'json_object') {
      config.responseMimeType = 'application/json';
    } else if (format.type !== 'text') {
      throw new InvalidRequestError(
        `body.response_format.type: must be text, json_object or json_schema, got ${JSON.stringify(format.type)}`,
      );
    }
  }
  return config;
}

/** An OpenAI embeddings body → one Gemini `EmbedContentRequest` per input text. */
function translateEmbeddings(body: JsonObject): JsonObject[] {
  const { input, dimensions } = body;
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((text) => typeof text === 'string')) {
    throw new InvalidRequestError(
      'body.input: must be a string or a non-empty list of strings (token arrays are not supported)',
    );
  }
  if (body.encoding_format !== undefined && body.encoding_format !== 'float') {
    throw new InvalidRequestError(
      `body.encoding_format: only "float" is supported, got ${JSON.stringify(body.encoding_format)}`,
    );
  }
  return texts.map((text) => ({
    content: { parts: [{ text }] },
    ...(dimensions !== undefined && dimensions !== null ? { outputDimensionality: dimensions } : {}),
  }));
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
