import type { BatchKind } from '../shared/gemini/gemini-batch-api.js';

/** Keys longer than this are refused: they are identifiers, and they are repeated in every result. */
export const MAX_KEY_LENGTH = 256;

export interface DefaultModels {
  readonly generate: string;
  readonly embed: string;
}

export type ParsedRequestLine =
  | {
      readonly ok: true;
      readonly key: string;
      readonly kind: BatchKind;
      readonly model: string;
      readonly request: Readonly<Record<string, unknown>>;
    }
  | { readonly ok: false; readonly reason: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

const reject = (reason: string): ParsedRequestLine => ({ ok: false, reason });

/** `models/gemini-embedding-001` → `gemini-embedding-001`. */
const bareModel = (model: string): string => model.replace(/^models\//, '');

/**
 * Reads one input line (DESIGN.md section 3): `{"key", "request"}` for generate or embed, or a bare
 * request without `key`, which is keyed `line-<n>`. The kind follows the request's shape:
 * `contents` is generateContent, `content` is embedContent. Every refusal says what to fix.
 */
export function parseRequestLine(text: string, lineNumber: number, models: DefaultModels): ParsedRequestLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return reject(`not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) return reject(`expected a JSON object, got ${describe(value)}`);
  if ('custom_id' in value || ('body' in value && 'url' in value)) {
    return reject(
      'OpenAI batch lines (custom_id, method, url, body) are not supported yet: use {"key", "request"}',
    );
  }

  const wrapped = 'request' in value;
  // A bare request may still carry a key; it is the line's key, not part of what Gemini receives.
  const { key: _key, ...bare } = value;
  const request = wrapped ? value.request : bare;
  if (!isObject(request)) return reject(`"request" must be a JSON object, got ${describe(request)}`);

  let key = `line-${lineNumber}`;
  if ('key' in value) {
    if (typeof value.key !== 'string' || value.key.trim() === '') {
      return reject(
        `"key" must be a non-empty string, got ${typeof value.key === 'string' ? 'an empty string' : describe(value.key)}`,
      );
    }
    if (value.key.length > MAX_KEY_LENGTH) {
      return reject(`"key" is ${value.key.length} characters long; the limit is ${MAX_KEY_LENGTH}`);
    }
    key = value.key;
  }

  if ('contents' in request) {
    const { contents } = request;
    if (!Array.isArray(contents) || contents.length === 0) {
      return reject('"request.contents" must be a non-empty array of Content objects');
    }
    const badTurn = contents.findIndex((turn) => !isObject(turn) || !Array.isArray(turn.parts));
    if (badTurn !== -1)
      return reject(`"request.contents[${badTurn}]" must be an object with a "parts" array`);
    return { ok: true, key, kind: 'generate', model: models.generate, request };
  }
  if ('content' in request) {
    if (!isObject(request.content) || !Array.isArray(request.content.parts)) {
      return reject('"request.content" must be an object with a "parts" array');
    }
    const model = typeof request.model === 'string' ? bareModel(request.model) : models.embed;
    return { ok: true, key, kind: 'embed', model, request };
  }
  return reject(
    wrapped
      ? '"request" has neither "contents" (text generation) nor "content" (embedding)'
      : 'no request: expected {"key": "...", "request": {...}} or a bare request with "contents" or "content"',
  );
}
