import { describe, expect, it } from 'vitest';
import { estimateLineTokens, estimateTokens } from '../../../../lambdas/prepare-requests/token-estimate.js';

const line = (request: unknown) => {
  const text = JSON.stringify({ key: 'k', request });
  return [text, Buffer.byteLength(text)] as const;
};

describe('estimateTokens', () => {
  it('counts a quarter token per ASCII character and one per other character', () => {
    // Only string values count, not field names: 8 ASCII characters are 2 tokens.
    expect(estimateTokens({ contents: [{ parts: [{ text: 'abcdefgh' }] }] })).toBe(2);
    expect(estimateTokens({ text: '日本語' })).toBe(3);
  });

  it('skips inline media, which is not priced as text', () => {
    const withImage = {
      contents: [{ parts: [{ inlineData: { mimeType: 'image/png', data: 'A'.repeat(100_000) } }] }],
    };
    expect(estimateTokens(withImage)).toBeLessThan(100);
  });
});

describe('estimateLineTokens', () => {
  it.each([
    [
      'English text',
      { contents: [{ parts: [{ text: 'The quick brown fox jumps over the lazy dog. '.repeat(20) }] }] },
    ],
    ['Japanese text', { contents: [{ parts: [{ text: '吾輩は猫である。名前はまだ無い。'.repeat(20) }] }] }],
    ['mixed text', { contents: [{ parts: [{ text: 'naïve café — 東京 '.repeat(20) }] }] }],
  ])('never estimates fewer tokens than the field-by-field walk, for %s', (_label, request) => {
    const [text, bytes] = line(request);
    expect(estimateLineTokens(text, bytes, request, false)).toBeGreaterThanOrEqual(estimateTokens(request));
  });

  it('falls back to the walk for a request with inline media, so base64 is not counted as text', () => {
    const request = {
      contents: [{ parts: [{ inline_data: { mime_type: 'image/png', data: 'A'.repeat(100_000) } }] }],
    };
    const [text, bytes] = line(request);
    expect(estimateLineTokens(text, bytes, request, true)).toBe(estimateTokens(request));
  });
});
