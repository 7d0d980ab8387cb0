import { createHash } from 'node:crypto';

const encoder = new TextEncoder();

/** 32-bit FNV-1a over the UTF-8 bytes of `text`: tiny, fast and stable across platforms. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * FNV-1a followed by the MurmurHash3 finaliser. The finaliser matters: raw FNV-1a's lowest bit is
 * just the parity of the input bytes' lowest bits, so using it for coin flips would be badly biased.
 */
export function hash32(text: string): number {
  let hash = fnv1a32(text);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Hex SHA-256 of `text`, for identifiers and seeds where collisions should be practically impossible. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
