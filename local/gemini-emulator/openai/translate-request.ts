/**
 * OpenAI request bodies translated to Gemini requests, as Gemini's OpenAI-compatible layer reads
 * them; a body the layer cannot translate throws `InvalidRequestError`, which its line answers.
 */
import { isRecord, type JsonObject } from '../json-fields.js';
import { InvalidRequestError } from '../model/index.js';

const MAX_CANDIDATES = 8;

/** An OpenAI chat-completions body → Gemini `GenerateContentRequest`. */
export function translateChat(body: JsonObject): JsonObject {
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
export function translateEmbeddings(body: JsonObject): JsonObject[] {
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
