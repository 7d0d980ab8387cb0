import { describe, expect, it } from 'vitest';
import {
  BLOCK_BYTES,
  CACHED_BLOCKS,
  PositionedLines,
} from '../../../../lambdas/collect-results/chunk-answers/positioned-lines.js';

/** A file in memory, counting the reads made of it. */
function fileOf(bytes: Buffer) {
  const reads: number[] = [];
  const lines = new PositionedLines(async (buffer, position) => {
    reads.push(position);
    return bytes.copy(buffer, 0, position, position + buffer.length);
  });
  return { lines, reads };
}

/** `count` lines of varied lengths, some of multi-byte characters, and where each is. */
function jsonl(count: number, width = 90) {
  const texts = Array.from({ length: count }, (_, i) => `{"key":"k${i}","text":"${'é'.repeat(i % width)}"}`);
  const bytes = Buffer.from(`${texts.join('\n')}\n`);
  const at: { offset: number; length: number }[] = [];
  let offset = 0;
  for (const text of texts) {
    const length = Buffer.byteLength(text);
    at.push({ offset, length });
    offset += length + 1;
  }
  return { texts, bytes, at };
}

describe('PositionedLines', () => {
  it('reads every line back by its position, those across a block boundary included', async () => {
    const { texts, bytes, at } = jsonl(30_000);
    expect(bytes.length).toBeGreaterThan(3 * BLOCK_BYTES);
    const { lines } = fileOf(bytes);

    // Backwards, so each block is read again after others were.
    for (let i = texts.length - 1; i >= 0; i--) {
      const { offset, length } = at[i] as { offset: number; length: number };
      expect(await lines.text(offset, length)).toBe(texts[i]);
    }
  });

  it('reads a block once for every nearby line it holds, instead of a read per line', async () => {
    const { texts, bytes, at } = jsonl(20_000);
    const { lines, reads } = fileOf(bytes);
    // Out of order, as a reordered result file is: within windows of 1,024 lines.
    for (let window = 0; window < texts.length; window += 1024) {
      for (let i = Math.min(window + 1023, texts.length - 1); i >= window; i--) {
        const { offset, length } = at[i] as { offset: number; length: number };
        await lines.text(offset, length);
      }
    }
    const blocks = Math.ceil(bytes.length / BLOCK_BYTES);
    expect(reads.length).toBeLessThanOrEqual(blocks + 1);
  });

  it(`keeps at most ${CACHED_BLOCKS} blocks, reading an evicted one again`, async () => {
    const bytes = Buffer.alloc((CACHED_BLOCKS + 2) * BLOCK_BYTES, 'a');
    const { lines, reads } = fileOf(bytes);
    for (let block = 0; block < CACHED_BLOCKS + 2; block++) await lines.text(block * BLOCK_BYTES, 10);
    await lines.text(0, 10);

    expect(reads).toEqual([...Array.from({ length: CACHED_BLOCKS + 2 }, (_, b) => b * BLOCK_BYTES), 0]);
  });

  it('reads a line longer than a block by itself, and an empty one as nothing', async () => {
    const long = 'x'.repeat(BLOCK_BYTES + 10);
    const { lines } = fileOf(Buffer.from(`${long}\n`));

    expect(await lines.text(0, long.length)).toBe(long);
    expect(await lines.text(5, 0)).toBe('');
  });
});
