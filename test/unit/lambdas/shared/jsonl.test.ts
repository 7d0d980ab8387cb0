import { describe, expect, it } from 'vitest';
import { type JsonlLine, readJsonlBatches, readJsonlLines } from '../../../../lambdas/shared/jsonl.js';

/** Streams `content` in pieces of `size` bytes, as a network stream would. */
async function* inPieces(content: string | Buffer, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(content);
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function readAll(
  content: string | Buffer,
  { pieceBytes = 1024, maxLineBytes = 1024 } = {},
): Promise<JsonlLine[]> {
  const lines: JsonlLine[] = [];
  for await (const line of readJsonlLines(inPieces(content, pieceBytes), { maxLineBytes })) {
    // Offsets have their own test; the others are about what text comes out.
    if ('text' in line) lines.push({ lineNumber: line.lineNumber, text: line.text } as JsonlLine);
    else lines.push(line);
  }
  return lines;
}

const PIECE_SIZES = [1, 2, 3, 7, 64, 4096];

describe('readJsonlLines', () => {
  it.each(PIECE_SIZES)(
    'gives each line its byte offset and length, read in %i-byte pieces',
    async (pieceBytes) => {
      const content = Buffer.from('{"a":1}\r\n\n  \n{"é":"ü"}\r{"c":3}\r\r\n{"d":4}');
      const lines = [];
      for await (const line of readJsonlLines(inPieces(content, pieceBytes), { maxLineBytes: 1024 }))
        lines.push(line);

      const texts = lines.map((line) =>
        'text' in line
          ? content.subarray(line.byteOffset, line.byteOffset + line.byteLength).toString('utf8')
          : '',
      );
      expect(texts).toEqual(['{"a":1}', '{"é":"ü"}', '{"c":3}', '{"d":4}']);
    },
  );

  it('strips a UTF-8 byte order mark from the first line', async () => {
    expect(await readAll('\uFEFF{"a":1}\n{"b":2}\n')).toEqual([
      { lineNumber: 1, text: '{"a":1}' },
      { lineNumber: 2, text: '{"b":2}' },
    ]);
  });

  it('strips the byte order mark even when it arrives one byte at a time', async () => {
    expect(await readAll('\uFEFF{"a":1}\n', { pieceBytes: 1 })).toEqual([{ lineNumber: 1, text: '{"a":1}' }]);
  });

  it('keeps U+FEFF at the start of a later line, where it is not a byte order mark', async () => {
    expect(await readAll('{"a":1}\n\uFEFF{"b":2}\n')).toEqual([
      { lineNumber: 1, text: '{"a":1}' },
      { lineNumber: 2, text: '\uFEFF{"b":2}' },
    ]);
  });

  it('ends lines at CRLF without keeping the carriage return', async () => {
    for (const pieceBytes of PIECE_SIZES) {
      expect(await readAll('{"a":1}\r\n{"b":2}\r\n', { pieceBytes })).toEqual([
        { lineNumber: 1, text: '{"a":1}' },
        { lineNumber: 2, text: '{"b":2}' },
      ]);
    }
  });

  it('ends lines at a CR alone (old Mac files), in every piece size', async () => {
    for (const pieceBytes of PIECE_SIZES) {
      expect(await readAll('{"a":1}\r{"b":2}\r\r{"c":3}\r', { pieceBytes })).toEqual([
        { lineNumber: 1, text: '{"a":1}' },
        { lineNumber: 2, text: '{"b":2}' },
        { lineNumber: 4, text: '{"c":3}' },
      ]);
    }
  });

  it('numbers lines right when LF, CRLF and CR endings mix, a CRLF split across pieces being one break', async () => {
    const content = '{"a":1}\r\n{"b":2}\r{"c":3}\n\r\n{"d":4}\n\r{"e":5}';
    for (const pieceBytes of PIECE_SIZES) {
      expect(await readAll(content, { pieceBytes })).toEqual([
        { lineNumber: 1, text: '{"a":1}' },
        { lineNumber: 2, text: '{"b":2}' },
        { lineNumber: 3, text: '{"c":3}' },
        { lineNumber: 5, text: '{"d":4}' },
        { lineNumber: 7, text: '{"e":5}' },
      ]);
    }
  });

  it('reads a CRLF whose CR ends one piece and whose LF starts the next as one break', async () => {
    async function* split(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('{"a":1}\r');
      yield Buffer.from('\n{"b":2}\r');
      yield Buffer.from('');
      yield Buffer.from('\n{"c":3}');
    }
    const lines = [];
    for await (const line of readJsonlLines(split(), { maxLineBytes: 100 })) lines.push(line);
    expect(lines).toEqual([
      { lineNumber: 1, text: '{"a":1}', byteOffset: 0, byteLength: 7 },
      { lineNumber: 2, text: '{"b":2}', byteOffset: 9, byteLength: 7 },
      { lineNumber: 3, text: '{"c":3}', byteOffset: 18, byteLength: 7 },
    ]);
  });

  it('ends a too-long line at a CR and reads the next line correctly', async () => {
    for (const pieceBytes of PIECE_SIZES) {
      const lines = await readAll(`${'y'.repeat(60)}\r{"b":2}\r`, { maxLineBytes: 20, pieceBytes });
      expect(lines).toEqual([
        { lineNumber: 1, problem: 'too-long', excerpt: expect.stringMatching(/^y+$/) },
        { lineNumber: 2, text: '{"b":2}' },
      ]);
    }
  });

  it('skips blank and whitespace-only lines but still counts them in line numbers', async () => {
    expect(await readAll('{"a":1}\n\n   \n\t\r\n \t \n{"b":2}\n\n')).toEqual([
      { lineNumber: 1, text: '{"a":1}' },
      { lineNumber: 6, text: '{"b":2}' },
    ]);
  });

  it('reads a last line that has no final newline', async () => {
    for (const pieceBytes of PIECE_SIZES) {
      expect(await readAll('{"a":1}\n{"b":2}', { pieceBytes })).toEqual([
        { lineNumber: 1, text: '{"a":1}' },
        { lineNumber: 2, text: '{"b":2}' },
      ]);
    }
  });

  it('yields nothing for an empty stream', async () => {
    expect(await readAll('')).toEqual([]);
  });

  it('joins a line that arrives one byte at a time', async () => {
    const long = JSON.stringify({
      key: 'k',
      request: { contents: [{ parts: [{ text: 'x'.repeat(500) }] }] },
    });
    const short = '{"b":2}';
    expect(await readAll(`${long}\n${short}\n`, { pieceBytes: 1 })).toEqual([
      { lineNumber: 1, text: long },
      { lineNumber: 2, text: short },
    ]);
  });

  it('accepts a line of exactly the limit', async () => {
    const line = `"${'x'.repeat(18)}"`; // 20 bytes
    expect(await readAll(`${line}\n`, { maxLineBytes: 20, pieceBytes: 3 })).toEqual([
      { lineNumber: 1, text: line },
    ]);
  });

  it('reports a too-long line with an excerpt of its start and reads the next line correctly', async () => {
    const long = `{"key":"long","text":"${'y'.repeat(60)}"}`;
    for (const pieceBytes of PIECE_SIZES) {
      const lines = await readAll(`{"a":1}\n${long}\n{"b":2}\n`, { maxLineBytes: 20, pieceBytes });
      expect(lines).toHaveLength(3);
      expect(lines[0]).toEqual({ lineNumber: 1, text: '{"a":1}' });
      expect(lines[1]).toMatchObject({ lineNumber: 2, problem: 'too-long' });
      const excerpt = (lines[1] as { excerpt: string }).excerpt;
      expect(excerpt.length).toBeGreaterThan(0);
      expect(long.startsWith(excerpt)).toBe(true);
      expect(lines[2]).toEqual({ lineNumber: 3, text: '{"b":2}' });
    }
  });

  it('reads the next line correctly after a too-long line that spans several chunks', async () => {
    const long = 'z'.repeat(200);
    // 7-byte pieces: the long line crosses ~30 chunk boundaries before its newline.
    const lines = await readAll(`${long}\n{"next":true}\n`, { maxLineBytes: 32, pieceBytes: 7 });
    expect(lines).toEqual([
      { lineNumber: 1, problem: 'too-long', excerpt: expect.stringMatching(/^z+$/) },
      { lineNumber: 2, text: '{"next":true}' },
    ]);
  });

  it('reports a too-long last line that has no final newline', async () => {
    for (const pieceBytes of PIECE_SIZES) {
      const lines = await readAll(`{"a":1}\n${'w'.repeat(100)}`, { maxLineBytes: 20, pieceBytes });
      expect(lines).toEqual([
        { lineNumber: 1, text: '{"a":1}' },
        { lineNumber: 2, problem: 'too-long', excerpt: expect.stringMatching(/^w+$/) },
      ]);
    }
  });

  it('keeps the excerpt of a very long line short', async () => {
    const lines = await readAll(`${'v'.repeat(100_000)}\n`, { maxLineBytes: 1000, pieceBytes: 4096 });
    expect(lines).toHaveLength(1);
    const excerpt = (lines[0] as { excerpt: string }).excerpt;
    expect(excerpt.length).toBeGreaterThan(0);
    expect(excerpt.length).toBeLessThanOrEqual(200);
  });

  it('reports a line that is not valid UTF-8 with its line number and reads on', async () => {
    const content = Buffer.concat([
      Buffer.from('{"a":1}\n\n'),
      Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"t":"\xff\xfe"}
      Buffer.from('\n{"b":2}\n'),
    ]);
    for (const pieceBytes of PIECE_SIZES) {
      expect(await readAll(content, { pieceBytes })).toEqual([
        { lineNumber: 1, text: '{"a":1}' },
        { lineNumber: 3, problem: 'invalid-utf8', excerpt: expect.stringContaining('{"t":"') },
        { lineNumber: 4, text: '{"b":2}' },
      ]);
    }
  });

  it('decodes a multi-byte character split across chunks', async () => {
    const line = '{"t":"héllo € 𝄞 日本語"}';
    for (const pieceBytes of PIECE_SIZES) {
      expect(await readAll(`${line}\n${line}`, { pieceBytes })).toEqual([
        { lineNumber: 1, text: line },
        { lineNumber: 2, text: line },
      ]);
    }
  });

  it('is not confused by a source that reuses its buffer for the next chunk', async () => {
    const content = Buffer.from('{"first":"line"}\n{"second":"line"}\n{"third"');
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const buffer = new Uint8Array(5);
      for (let offset = 0; offset < content.length; offset += buffer.length) {
        const piece = content.subarray(offset, offset + buffer.length);
        buffer.fill(0x21);
        buffer.set(piece);
        yield buffer.subarray(0, piece.length);
      }
    }
    const lines: JsonlLine[] = [];
    for await (const line of readJsonlLines(reusing(), { maxLineBytes: 100 })) lines.push(line);
    expect(lines.map((line) => ('text' in line ? [line.lineNumber, line.text] : line))).toEqual([
      [1, '{"first":"line"}'],
      [2, '{"second":"line"}'],
      [3, '{"third"'],
    ]);
  });
});

describe('readJsonlBatches', () => {
  const content = Buffer.concat([
    Buffer.from('\uFEFF{"a":1}\r\n\n  \n{"é":"ü"}\r{"c":3}\r\r\n{"toolong":"xxxxxxxxxxxxxxxxxxxx"}\n'),
    Buffer.from([0xff, 0x0a]),
    Buffer.from('{"d":4}'),
  ]);

  it.each(PIECE_SIZES)(
    'hands on the lines one by one reading does, in %i-byte pieces',
    async (pieceBytes) => {
      const single: JsonlLine[] = [];
      for await (const line of readJsonlLines(inPieces(content, pieceBytes), { maxLineBytes: 24 }))
        single.push(line);
      const batched: JsonlLine[] = [];
      for await (const batch of readJsonlBatches(inPieces(content, pieceBytes), { maxLineBytes: 24 })) {
        expect(batch.length).toBeGreaterThan(0);
        batched.push(...batch);
      }
      expect(batched).toEqual(single);
      expect(batched.map((line) => ('text' in line ? line.text : line.problem))).toEqual([
        '{"a":1}',
        '{"é":"ü"}',
        '{"c":3}',
        'too-long',
        'invalid-utf8',
        '{"d":4}',
      ]);
    },
  );

  it('gives every line that ends in a chunk in one batch, with its bytes', async () => {
    const batches: JsonlLine[][] = [];
    const source = inPieces('{"a":1}\n{"b":2}\n{"c"', 16);
    for await (const batch of readJsonlBatches(source, { maxLineBytes: 100, withBytes: true }))
      batches.push(batch);
    expect(batches.map((batch) => batch.map((line) => ('text' in line ? line.text : '')))).toEqual([
      ['{"a":1}', '{"b":2}'],
      ['{"c"'],
    ]);
    const first = batches[0]?.[0];
    expect(first && 'bytes' in first && Buffer.from(first.bytes ?? []).toString()).toBe('{"a":1}');
  });
});
