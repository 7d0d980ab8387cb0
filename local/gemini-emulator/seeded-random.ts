import { createHash } from 'node:crypto';

/** A number in [0, 1) that depends only on its inputs: the basis of every seeded choice the emulator makes. */
export function seededFraction(seed: number, ...parts: readonly (string | number)[]): number {
  const digest = createHash('sha256')
    .update(`${seed}\u0000${parts.join('\u0000')}`)
    .digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * A fast stream of fractions in [0, 1) fixed by its inputs (mulberry32 seeded through
 * `seededFraction`), for choices made once per line of a file, where a hash per draw would cost.
 */
export function seededRandom(seed: number, ...parts: readonly (string | number)[]): () => number {
  let state = Math.floor(seededFraction(seed, 'random', ...parts) * 2 ** 32) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A seeded permutation of `0 … length-1` that is never the identity when `length` is 2 or more: a
 * shuffle that happened to keep the order would let code that matches by position pass by luck.
 */
export function seededPermutation(length: number, random: () => number): number[] {
  const order = Array.from({ length }, (_, index) => index);
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  if (length >= 2 && order.every((value, index) => value === index)) {
    [order[0], order[1]] = [1, 0];
  }
  return order;
}
