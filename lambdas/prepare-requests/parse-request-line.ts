import { type BatchKind, OPENAI_ENDPOINTS, type RequestFormat } from '../shared/gemini/gemini-batch-api.js';
import { hasMemberCount, isJsonObject } from '../shared/json.js';
import { misspeltContents, unknownFieldsReason } from './field-suggestions.js';
import { loneSurrogateIn, nestsDeeperThan } from './json-checks.js';
import { lastRequestHasInlineMedia, unknownRequestFields } from './request-schema.js';

/** Keys longer than this are refused: they are identifiers, and they are repeated in every result. */
export const MAX_KEY_LENGTH = 256;

/**
 * How deep a line may nest objects and arrays, its own object being level 1. Gemini parses
 * requests with protobuf's JSON parser, whose default limit is 100 levels for the whole body
 * ("Message too deep. Max recursion depth reached"), and an inline batch job sends each request 5
 * levels deeper than its line (`batch.inputConfig.requests.requests[i].request`): a line within 95
 * levels fits every way a chunk is sent. It also keeps every later walk of the request (token
 * estimates, re-serialising, Submit's and the SDK's own) far from the stack's limit, where a line
 * 10,000 levels deep would crash a whole run.
 */
export const MAX_NESTING_DEPTH = 95;

export interface DefaultModels {
  readonly generate: string;
  readonly embed: string;
}

export type ParsedRequestLine =
  | {
      readonly ok: true;
      readonly format: RequestFormat;
      readonly key: string;
      readonly kind: BatchKind;
      readonly model: string;
      /** The request itself: what its size and tokens are estimated from. */
      readonly request: Readonly<Record<string, unknown>>;
      /** The line as Gemini receives it in a chunk: `{"key","request"}`, or the OpenAI line. */
      readonly line: Readonly<Record<string, unknown>>;
      /** The input line is already exactly `line`, so its text can be sent as it is. */
      readonly verbatim: boolean;
      /** A part carries inline media (base64), which the token estimate skips; always false for OpenAI lines. */
      readonly inlineMedia: boolean;
    }
  | { readonly ok: false; readonly reason: string };

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

const reject = (reason: string): ParsedRequestLine => ({ ok: false, reason });

/** Why a line's key (its `key`, or an OpenAI line's `custom_id`) cannot be used; undefined when it can. */
function keyProblem(field: 'key' | 'custom_id', key: unknown): string | undefined {
  if (typeof key !== 'string' || key.trim() === '') {
    return `"${field}" must be a non-empty string, got ${typeof key === 'string' ? 'an empty string' : describe(key)}`;
  }
  if (key.length > MAX_KEY_LENGTH)
    return `"${field}" is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}`;
  return undefined;
}

/** `models/gemini-embedding-001` → `gemini-embedding-001`. */
const bareModel = (model: string): string => model.replace(/^models\//, '');

/**
 * Reads one input line: `{"key", "request"}` for generate or embed, or a bare
 * request without `key`, which is keyed `line-<n>`. The kind follows the request's shape:
 * `contents` is generateContent, `content` is embedContent. A Gemini-format request must use only
 * field names Gemini's v1beta schema knows (`request-schema.ts`); OpenAI-format lines go through
 * Gemini's OpenAI layer, whose body is not that schema, and are not checked against it. Every
 * refusal says what to fix.
 */
export function parseRequestLine(text: string, lineNumber: number, models: DefaultModels): ParsedRequestLine {
  // Before parsing: JSON.parse itself copes with any depth, but what comes after does not.
  if (nestsDeeperThan(text, MAX_NESTING_DEPTH)) return reject(TOO_DEEP);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return reject(`not valid JSON: ${(error as Error).message}`);
  }
  const lone = loneSurrogateIn(text, value);
  if (lone !== undefined) return reject(loneSurrogateReason(lone));
  if (!isJsonObject(value)) return reject(`expected a JSON object, got ${describe(value)}`);
  if ('custom_id' in value || ('body' in value && 'url' in value)) return parseOpenAiLine(value, models);

  const wrapped = 'request' in value;
  let request: unknown = value.request;
  if (!wrapped) {
    // A bare request may still carry a key; it is the line's key, not part of what Gemini receives.
    // Copied only here: the common wrapped line allocates nothing for it.
    const { key: _key, ...bare } = value;
    request = bare;
  }
  if (!isJsonObject(request)) return reject(`"request" must be a JSON object, got ${describe(request)}`);

  // The common case, `{"key": "…", "request": {…}}` and nothing else, is sent exactly as written.
  const verbatim = wrapped && typeof value.key === 'string' && hasMemberCount(value, 2);
  let key = `line-${lineNumber}`;
  if ('key' in value) {
    const problem = keyProblem('key', value.key);
    if (problem !== undefined) return reject(problem);
    key = value.key as string;
  }

  if ('contents' in request) {
    const { contents } = request;
    if (!Array.isArray(contents) || contents.length === 0) {
      return reject('"request.contents" must be a non-empty array of Content objects');
    }
    for (let turn = 0; turn < contents.length; turn++) {
      const content: unknown = contents[turn];
      if (!isJsonObject(content) || !Array.isArray(content.parts))
        return reject(`"request.contents[${turn}]" must be an object with a "parts" array`);
    }
    const unknown = unknownRequestFields('generate', request);
    if (unknown.length > 0) return reject(unknownFieldsReason(unknown));
    return {
      ok: true,
      format: 'gemini',
      key,
      kind: 'generate',
      model: models.generate,
      request,
      line: { key, request },
      verbatim,
      inlineMedia: lastRequestHasInlineMedia(),
    };
  }
  if ('content' in request) {
    if (!isJsonObject(request.content) || !Array.isArray(request.content.parts)) {
      return reject('"request.content" must be an object with a "parts" array');
    }
    const unknown = unknownRequestFields('embed', request);
    if (unknown.length > 0) return reject(unknownFieldsReason(unknown));
    const model = typeof request.model === 'string' ? bareModel(request.model) : models.embed;
    return {
      ok: true,
      format: 'gemini',
      key,
      kind: 'embed',
      model,
      request,
      line: { key, request },
      verbatim,
      inlineMedia: lastRequestHasInlineMedia(),
    };
  }
  return reject(
    (wrapped
      ? '"request" has neither "contents" (text generation) nor "content" (embedding)'
      : 'no request: expected {"key": "...", "request": {...}} or a bare request with "contents" or "content"') +
      misspeltContents(request),
  );
}

const TOO_DEEP = `JSON nested deeper than ${MAX_NESTING_DEPTH} levels: Gemini refuses requests nested past 100 levels, and an inline batch job adds 5 around each request; flatten the request`;

/**
 * A string that is not Unicode text: UTF-8 cannot encode a lone surrogate, so Gemini's parser
 * refuses it (or would have to replace it, changing the prompt); an inline job would fail whole.
 */
const loneSurrogateReason = (path: string): string =>
  `${path} holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair), which is not Unicode text and cannot be sent to Gemini: keep both halves of the pair, or remove it`;

const OPENAI_KINDS: Readonly<Record<string, BatchKind>> = Object.fromEntries(
  Object.entries(OPENAI_ENDPOINTS).map(([kind, url]) => [url, kind as BatchKind]),
);

/**
 * An OpenAI batch line, `{"custom_id","method":"POST","url","body"}`, for chat completions or
 * embeddings: sent through Gemini's OpenAI-compatible batch layer, answered in OpenAI's shape.
 */
function parseOpenAiLine(value: Record<string, unknown>, models: DefaultModels): ParsedRequestLine {
  const { custom_id, method, url, body } = value;
  const problem = keyProblem('custom_id', custom_id);
  if (problem !== undefined) return reject(problem);
  const key = custom_id as string;
  if (method !== 'POST') return reject(`"method" must be "POST", got ${JSON.stringify(method)}`);
  const kind = typeof url === 'string' ? OPENAI_KINDS[url] : undefined;
  if (!kind) {
    return reject(
      `"url" must be "/v1/chat/completions" or "/v1/embeddings" (what Gemini's OpenAI batch layer serves), got ${JSON.stringify(url)}`,
    );
  }
  if (!isJsonObject(body)) return reject(`"body" must be a JSON object, got ${describe(body)}`);
  if (kind === 'generate' && !(Array.isArray(body.messages) && body.messages.length > 0)) {
    return reject('"body.messages" must be a non-empty array for /v1/chat/completions');
  }
  if (
    kind === 'embed' &&
    !(typeof body.input === 'string' || (Array.isArray(body.input) && body.input.length > 0))
  ) {
    return reject('"body.input" must be a string or a non-empty array for /v1/embeddings');
  }
  const model = typeof body.model === 'string' && body.model !== '' ? bareModel(body.model) : models[kind];
  const line = { custom_id: key, method, url, body: { ...body, model } };
  return {
    ok: true,
    format: 'openai',
    key,
    kind,
    model,
    request: body,
    line,
    verbatim: false,
    inlineMedia: false,
  };
}
