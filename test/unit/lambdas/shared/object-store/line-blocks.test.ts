import { describe, expect, it } from 'vitest';
import { LineBlocks } from '../../../../../lambdas/shared/object-store/line-blocks.js';

/** Adds every line, then takes the rest: the blocks handed on, in order. */
function blocksOf(
  blockBytes: number,
  lines: readonly (string | Uint8Array)[],
): { blocks: Buffer[]; bytes: number } {
  const gathered = new LineBlocks(blockBytes);
  const blocks: Buffer[] = [];
  for (const line of lines) {
    const full = gathered.add(line);
    if (full) blocks.push(Buffer.from(full));
  }
  const rest = gathered.take();
  if (rest) blocks.push(rest);
  return { blocks, bytes: gathered.bytes };
}

describe('LineBlocks', () => {
  it('writes text and bytes alike, each line followed by a line break', () => {
    const { blocks, bytes } = blocksOf(1024, ['{"a":"é"}', Buffer.from('{"b":"€"}'), '']);
    expect(Buffer.concat(blocks).toString('utf8')).toBe('{"a":"é"}\n{"b":"€"}\n\n');
    expect(bytes).toBe(Buffer.byteLength('{"a":"é"}\n{"b":"€"}\n\n'));
  });

  it('hands on a block once it holds the block size, and never splits a line between blocks', () => {
    const line = 'x'.repeat(30);
    const { blocks } = blocksOf(64, [line, line, line, line, line]);
    expect(blocks.map((block) => block.toString())).toEqual([
      `${line}\n${line}\n${line}\n`.slice(0, 62),
      `${line}\n${line}\n`,
      `${line}\n`,
    ]);
  });

  it('gives a line longer than a block a block of its own, text of many bytes per character included', () => {
    const long = '€'.repeat(100);
    const { blocks, bytes } = blocksOf(64, ['a', long, Buffer.from(long), 'b']);
    expect(Buffer.concat(blocks).toString('utf8')).toBe(`a\n${long}\n${long}\nb\n`);
    expect(blocks.every((block) => block.toString('utf8').endsWith('\n'))).toBe(true);
    expect(bytes).toBe(2 + 2 * (300 + 1) + 2);
  });

  it('copies bytes it is given: the caller may reuse its buffer at once', () => {
    const gathered = new LineBlocks(1024);
    const reused = Buffer.from('{"a":1}');
    gathered.add(reused);
    reused.write('{"z":9}');
    expect(gathered.take()?.toString()).toBe('{"a":1}\n');
    expect(gathered.take()).toBeUndefined();
  });
});
