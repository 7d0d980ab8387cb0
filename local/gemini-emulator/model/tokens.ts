import { isRecord, readField } from '../json-fields.js';

/**
 * Estimates the token count of `text` as `ceil(length / 4)`.
 *
 * This is Google's documented rule of thumb for Gemini models ("a token is about 4 characters"), not
 * a real tokenizer: the emulator has no vocabulary, and the estimate only has to be plausible and
 * deterministic. Length is measured in UTF-16 code units, which over-counts some non-Latin scripts
 * slightly; that is acceptable for an emulator.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Concatenates the `text` of every part of a Gemini `Content` (`{ role?, parts: [{ text? }, ...] }`).
 *
 * Non-text parts (inline data, file data, function calls and so on) contribute nothing, and anything
 * that is not shaped like a `Content` yields the empty string, so callers can use this on unvalidated
 * input such as an optional `systemInstruction`.
 */
export function textOf(content: unknown): string {
  if (!isRecord(content) || !Array.isArray(content.parts)) return '';
  let text = '';
  for (const part of content.parts) {
    if (isRecord(part) && typeof part.text === 'string') text += part.text;
  }
  return text;
}

/**
 * Estimated input tokens of a request: its system instruction plus each turn of `contents` (generate)
 * or its `content` (embed), each counted on its own as a tokenizer sees turns. This is what usage
 * reports and what Gemini's enqueued-token quota is charged; a malformed request counts what it has.
 */
export function promptTokens(request: unknown): number {
  const contents = readField(request, 'contents');
  const turns = Array.isArray(contents) ? contents : [readField(request, 'content')];
  return turns.reduce(
    (sum: number, turn) => sum + estimateTokens(textOf(turn)),
    estimateTokens(textOf(readField(request, 'systemInstruction'))),
  );
}
