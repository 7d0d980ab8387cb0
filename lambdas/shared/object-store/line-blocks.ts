/**
 * Gathers the lines a `LineWriter` is given into byte blocks before they reach a stream. Lines are
 * encoded straight into the block (`Buffer#write`) or copied into it when they are bytes already:
 * a line read from a file and sent on as it was is never decoded and encoded again. Joining strings
 * first (`block += line`) built a rope that V8 had to flatten, often into a two-byte string as soon
 * as one line was not ASCII, and then encode: a fifth of Prepare's time in the profile
 * (docs/benchmarks.md, "Where the time goes").
 */

const NEWLINE = 0x0a;

export class LineBlocks {
  readonly #blockBytes: number;
  #block: Buffer;
  #used = 0;
  /** Every byte added so far, line breaks included: the object's size. */
  bytes = 0;

  constructor(blockBytes: number) {
    this.#blockBytes = blockBytes;
    this.#block = Buffer.allocUnsafe(blockBytes);
  }

  /**
   * Appends a line and its line break. Returns a block to hand on when this one is full (then
   * `take` is not needed), else undefined.
   */
  add(line: string | Uint8Array): Buffer | undefined {
    // Room for the worst case: three UTF-8 bytes per UTF-16 code unit. Exact only for long lines,
    // where counting first is cheap next to the copy.
    const room =
      typeof line !== 'string'
        ? line.length + 1
        : line.length * 3 < this.#blockBytes
          ? line.length * 3 + 1
          : Buffer.byteLength(line) + 1;
    let full: Buffer | undefined;
    if (this.#used + room > this.#block.length) {
      full = this.take();
      if (room > this.#block.length) this.#block = Buffer.allocUnsafe(room);
    }
    let written = line.length;
    if (typeof line === 'string') written = this.#block.write(line, this.#used);
    else this.#block.set(line, this.#used);
    this.#block[this.#used + written] = NEWLINE;
    this.#used += written + 1;
    this.bytes += written + 1;
    if (full === undefined && this.#used >= this.#blockBytes) full = this.take();
    return full;
  }

  /** The bytes gathered since the last block handed on (possibly none); the next ones go to a new block. */
  take(): Buffer | undefined {
    if (this.#used === 0) return undefined;
    const block = this.#block.subarray(0, this.#used);
    this.#block = Buffer.allocUnsafe(this.#blockBytes);
    this.#used = 0;
    return block;
  }
}
