/**
 * Which line first used each key, for millions of keys in bounded memory. A `Map<string, number>`
 * costs about 67 bytes a key — 135 MB for a 2 GB input — so keys are kept as 64-bit hashes with
 * their line number in typed arrays: 12 bytes a slot, open addressing, at most 3/4 full.
 *
 * The trade: two different keys with the same 64-bit hash look like a duplicate. For 2 million keys
 * that happens about once in 10 million runs, and the second line is then rejected with its reason
 * in `rejected.jsonl` — reported, never silently lost.
 */
export class KeyLineIndex {
  #capacity: number;
  /**
   * Slot `i` is `[3i]` high hash, `[3i + 1]` low hash, `[3i + 2]` the key's first line (0: empty,
   * lines count from 1). One array, not three: a probe of a table larger than the CPU's caches
   * then costs one cache miss, not three (a third of this class's time at a quarter million keys).
   */
  #slots: Uint32Array;
  #size = 0;

  constructor(initialCapacity = 1 << 16) {
    this.#capacity = 1 << Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.#slots = new Uint32Array(this.#capacity * SLOT);
  }

  get size(): number {
    return this.#size;
  }

  /** The line that first used `key`, or undefined; records `line` for it if it is new. */
  claim(key: string, line: number): number | undefined {
    hash64(key);
    const slots = this.#slots;
    const mask = this.#capacity - 1;
    for (let slot = hashHigh & mask; ; slot = (slot + 1) & mask) {
      const at = slot * SLOT;
      const existing = slots[at + 2] ?? 0;
      if (existing === 0) {
        slots[at] = hashHigh;
        slots[at + 1] = hashLow;
        slots[at + 2] = line;
        if (++this.#size * 4 > this.#capacity * 3) this.#grow();
        return undefined;
      }
      if (slots[at] === hashHigh && slots[at + 1] === hashLow) return existing;
    }
  }

  #grow(): void {
    const old = this.#slots;
    this.#capacity *= 2;
    const slots = new Uint32Array(this.#capacity * SLOT);
    const mask = this.#capacity - 1;
    for (let from = 0; from < old.length; from += SLOT) {
      const line = old[from + 2] ?? 0;
      if (line === 0) continue;
      const high = old[from] ?? 0;
      let slot = high & mask;
      while ((slots[slot * SLOT + 2] ?? 0) !== 0) slot = (slot + 1) & mask;
      slots[slot * SLOT] = high;
      slots[slot * SLOT + 1] = old[from + 1] ?? 0;
      slots[slot * SLOT + 2] = line;
    }
    this.#slots = slots;
  }
}

/** Words per slot: high hash, low hash, line. */
const SLOT = 3;

// The last hash computed: module variables instead of a returned pair, to allocate nothing per key.
let hashHigh = 0;
let hashLow = 0;

/** Two 32-bit hashes of the key's UTF-16 code units (FNV-1a and a multiply-xorshift), each finalised. */
function hash64(key: string): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 0x01000193);
    h2 = Math.imul(h2 ^ code, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  hashHigh = finalise(h1) >>> 0;
  hashLow = finalise(h2 ^ 0x27d4eb2f) >>> 0;
}

/** MurmurHash3's finaliser: spreads every input bit over the whole word. */
function finalise(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
