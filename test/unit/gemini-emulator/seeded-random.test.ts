import { describe, expect, it } from 'vitest';
import { seededPermutation, seededRandom } from '../../../local/gemini-emulator/seeded-random.js';

describe('seeded permutations', () => {
  it('is never the identity for two or more items, whatever the seed', () => {
    for (let seed = 0; seed < 200; seed++) {
      for (const length of [2, 3, 5, 17]) {
        const order = seededPermutation(length, seededRandom(seed, 'test', length));
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length }, (_, i) => i));
        expect(order).not.toEqual(Array.from({ length }, (_, i) => i));
      }
    }
  });

  it('replays for the same seed and parts, and differs for others', () => {
    const order = (seed: number, part: string) => seededPermutation(20, seededRandom(seed, part));
    expect(order(1, 'a')).toEqual(order(1, 'a'));
    expect(order(1, 'a')).not.toEqual(order(2, 'a'));
    expect(order(1, 'a')).not.toEqual(order(1, 'b'));
  });

  it('leaves zero or one item as it is', () => {
    expect(seededPermutation(0, seededRandom(1))).toEqual([]);
    expect(seededPermutation(1, seededRandom(1))).toEqual([0]);
  });
});
