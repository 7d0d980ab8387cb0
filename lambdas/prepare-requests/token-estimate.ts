/**
 * A conservative estimate of a request's input tokens, used to keep each Gemini job under the
 * per-model enqueued-token cap. English runs about 4 characters per token; scripts such as CJK run
 * near 1 character per token, so non-ASCII characters count one token each. Over-estimating only
 * makes chunks a little smaller; under-estimating would make a job that Gemini refuses forever.
 */
export function estimateTokens(request: unknown): number {
  let ascii = 0;
  let other = 0;
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (let i = 0; i < value.length; i++) {
        if (value.charCodeAt(i) < 128) ascii += 1;
        else other += 1;
      }
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const [field, item] of Object.entries(value)) {
        // Text is what is billed; inline binary (base64 images, audio) is priced per media item.
        if (field !== 'data' && field !== 'inlineData' && field !== 'inline_data') visit(item);
      }
    }
  };
  visit(request);
  return Math.ceil(ascii / 4) + other;
}

/**
 * The same conservative estimate from a line's text and UTF-8 size alone, without walking the
 * request: each character counts a quarter token and each byte beyond the first of a multi-byte
 * character one more, so non-ASCII text counts at least a token per character. The line's JSON
 * syntax counts too, which only errs on the safe side. A request with inline media (`inlineMedia`:
 * the schema walk saw an `inlineData` part) falls back to `estimateTokens`, which skips base64
 * payloads: inline media is priced per item, not as text.
 */
export function estimateLineTokens(
  text: string,
  byteLength: number,
  request: unknown,
  inlineMedia: boolean,
): number {
  if (inlineMedia) return estimateTokens(request);
  return Math.ceil(text.length / 4) + (byteLength - text.length);
}
