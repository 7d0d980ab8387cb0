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
