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
  #high: Uint32Array;
  #low: Uint32Array;
  /** First line of the key in each slot; 0 marks an empty slot (lines count from 1). */
  #lines: Uint32Array;
  #size = 0;

  constructor(initialCapacity = 1 << 16) {
    this.#capacity = 1 << Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.#high = new Uint32Array(this.#capacity);
    this.#low = new Uint32Array(this.#capacity);
    this.#lines = new Uint32Array(this.#capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** The line that first used `key`, or undefined; records `line` for it if it is new. */
  claim(key: string, line: number): number | undefined {
    hash64(key);
    const mask = this.#capacity - 1;
    for (let slot = hashHigh & mask; ; slot = (slot + 1) & mask) {
      const existing = this.#lines[slot] ?? 0;
      if (existing === 0) {
        this.#high[slot] = hashHigh;
        this.#low[slot] = hashLow;
        this.#lines[slot] = line;
        if (++this.#size * 4 > this.#capacity * 3) this.#grow();
        return undefined;
      }
      if (this.#high[slot] === hashHigh && this.#low[slot] === hashLow) return existing;
    }
  }

  #grow(): void {
    const [high, low, lines] = [this.#high, this.#low, this.#lines];
    this.#capacity *= 2;
    this.#high = new Uint32Array(this.#capacity);
    this.#low = new Uint32Array(this.#capacity);
    this.#lines = new Uint32Array(this.#capacity);
    const mask = this.#capacity - 1;
    for (let old = 0; old < lines.length; old++) {
      const line = lines[old] ?? 0;
      if (line === 0) continue;
      let slot = (high[old] ?? 0) & mask;
      while ((this.#lines[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
      this.#high[slot] = high[old] ?? 0;
      this.#low[slot] = low[old] ?? 0;
      this.#lines[slot] = line;
    }
  }
}

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
