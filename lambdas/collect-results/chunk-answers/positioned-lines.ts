/**
 * Lines of a result file read again by their byte position, through a few cached blocks. Answers
 * out of step are still near one another (Gemini and the emulator reorder within a window), so
 * reading each by its own `pread` made a read per answer: three million tiny answers took six
 * minutes of Collect. A block of `BLOCK_BYTES` read once serves every line in it; at most
 * `CACHED_BLOCKS` are kept, so memory stays bounded whatever the file's size or order.
 */

/** The part of `FileHandle.read` this needs: fill `buffer` from `position`, say how much was read. */
export type ReadAt = (buffer: Buffer, position: number) => Promise<number>;

export const BLOCK_BYTES = 1024 * 1024;
export const CACHED_BLOCKS = 8;

export class PositionedLines {
  readonly #readAt: ReadAt;
  /** Block index → its bytes; the map's order is the order of last use, oldest first. */
  readonly #blocks = new Map<number, Buffer>();

  constructor(readAt: ReadAt) {
    this.#readAt = readAt;
  }

  /** The UTF-8 text of the `length` bytes at `offset`. */
  async text(offset: number, length: number): Promise<string> {
    if (length === 0) return '';
    if (length > BLOCK_BYTES) return (await this.#bytes(offset, length)).toString('utf8');
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((offset + length - 1) / BLOCK_BYTES);
    const start = offset - first * BLOCK_BYTES;
    if (first === last) return (await this.#block(first)).toString('utf8', start, start + length);
    // A line across two blocks (it is at most one block long).
    const joined = Buffer.concat([await this.#block(first), await this.#block(last)]);
    return joined.toString('utf8', start, start + length);
  }

  async #block(index: number): Promise<Buffer> {
    const cached = this.#blocks.get(index);
    if (cached) {
      this.#blocks.delete(index);
      this.#blocks.set(index, cached);
      return cached;
    }
    const block = await this.#bytes(index * BLOCK_BYTES, BLOCK_BYTES);
    this.#blocks.set(index, block);
    if (this.#blocks.size > CACHED_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value as number);
    return block;
  }

  async #bytes(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const read = await this.#readAt(buffer, position);
    return read === length ? buffer : buffer.subarray(0, read);
  }
}
