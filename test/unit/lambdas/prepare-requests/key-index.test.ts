import { describe, expect, it } from 'vitest';
import { KeyLineIndex } from '../../../../lambdas/prepare-requests/key-index.js';

describe('KeyLineIndex', () => {
  it('returns the first line of a key seen before, and nothing for a new key', () => {
    const index = new KeyLineIndex();
    expect(index.claim('a', 1)).toBeUndefined();
    expect(index.claim('b', 2)).toBeUndefined();
    expect(index.claim('a', 3)).toBe(1);
    expect(index.claim('a', 4)).toBe(1);
    expect(index.size).toBe(2);
  });

  it('keeps every key through growth, telling 200,000 distinct keys apart', () => {
    const index = new KeyLineIndex(16);
    for (let i = 0; i < 200_000; i++) expect(index.claim(`key-${i}`, i + 1)).toBeUndefined();
    for (let i = 0; i < 200_000; i += 997) expect(index.claim(`key-${i}`, 999_999)).toBe(i + 1);
    expect(index.size).toBe(200_000);
  });

  it('tells apart keys that differ only in case, order or non-ASCII characters', () => {
    const index = new KeyLineIndex();
    const keys = ['ab', 'ba', 'AB', 'a\u0000b', 'é', 'e\u0301', '東京', '京東', ''];
    for (const [i, key] of keys.entries()) expect(index.claim(key, i + 1)).toBeUndefined();
  });
});
