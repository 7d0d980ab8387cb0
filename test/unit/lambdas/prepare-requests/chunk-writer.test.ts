import { describe, expect, it } from 'vitest';
import { keyPair } from '../../../../lambdas/prepare-requests/chunk-writer.js';

describe('keyPair', () => {
  it.each([
    'req-1',
    'a b/c:d.e_f',
    'naïve café — 東京 😀',
    'quote " inside',
    'back\\slash',
    'tab\there',
    'new\nline',
    '\u0000\u001f',
    'lone \ud800 half',
    '\u2028\u2029\u007f',
  ])('writes the pair JSON reads back as it was given, for %j', (key) => {
    const line = keyPair(7, key);
    expect(JSON.parse(line)).toEqual([7, key]);
    expect(line).toBe(JSON.stringify([7, key]));
  });
});
