import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type JsonlLine,
  loneSurrogateIn,
  nestsDeeperThan,
  peekStream,
  readJsonlLines,
  SNIFF_BYTES,
  sniffFileEncoding,
} from '../../../../lambdas/shared/jsonl.js';

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

describe('sniffFileEncoding', () => {
  const line = `${JSON.stringify({ key: 'k', request: { contents: [{ parts: [{ text: 'hello' }] }] } })}\n`;
  const head = (bytes: Buffer) => bytes.subarray(0, SNIFF_BYTES);
  /** UTF-32 of ASCII text: Node has no encoder for it. */
  const utf32 = (text: string, order: 'little' | 'big') =>
    Buffer.concat(
      [...text].map((char) => {
        const unit = Buffer.alloc(4);
        if (order === 'little') unit.writeUInt32LE(char.codePointAt(0) ?? 0);
        else unit.writeUInt32BE(char.codePointAt(0) ?? 0);
        return unit;
      }),
    );
  const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();

  it.each([
    ['gzip', gzipSync(line)],
    ['zip', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00])],
    ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00])],
    ['bzip2', Buffer.from('BZh91AY&SY')],
    ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00])],
  ])('recognises a %s-compressed file', (format, bytes) => {
    expect(sniffFileEncoding(head(bytes))).toEqual({ kind: 'compressed', format });
  });

  it.each([
    ['UTF-16', 'little', 'with a BOM', Buffer.from(`\uFEFF${line}`, 'utf16le')],
    ['UTF-16', 'big', 'with a BOM', utf16be(`\uFEFF${line}`)],
    ['UTF-16', 'little', 'without a BOM', Buffer.from(line, 'utf16le')],
    ['UTF-16', 'big', 'without a BOM', utf16be(line)],
    [
      'UTF-16',
      'little',
      'with non-ASCII text early on',
      Buffer.from('{"key":"ключ-1","request":{}}', 'utf16le'),
    ],
    ['UTF-32', 'little', 'with a BOM', utf32(`\uFEFF${line}`, 'little')],
    ['UTF-32', 'big', 'with a BOM', utf32(`\uFEFF${line}`, 'big')],
    ['UTF-32', 'little', 'without a BOM', utf32(line, 'little')],
    ['UTF-32', 'big', 'without a BOM', utf32(line, 'big')],
  ] as const)('recognises %s (%s-endian) text %s', (format, byteOrder, _, bytes) => {
    expect(sniffFileEncoding(head(bytes))).toEqual({ kind: 'text', format, byteOrder });
  });

  it('recognises a tiny UTF-16 file', () => {
    expect(sniffFileEncoding(Buffer.from('{}', 'utf16le'))).toMatchObject({ format: 'UTF-16' });
  });

  it.each([
    ['UTF-8', Buffer.from(line)],
    ['UTF-8 with a BOM', Buffer.from(`\uFEFF${line}`)],
    [
      'UTF-8 in other scripts',
      Buffer.from('{"key":"ключ","request":{"contents":[{"parts":[{"text":"日本語"}]}]}}'),
    ],
    ['an empty file', Buffer.alloc(0)],
    ['blank lines', Buffer.from('\n\r\n  \n')],
    ['one NUL byte in a line', Buffer.from('{"a":"\u0000"}\u0000\n{"b":2}\n')],
  ])('takes %s for what the line reader handles', (_, bytes) => {
    expect(sniffFileEncoding(head(bytes))).toBeUndefined();
  });
});

describe('peekStream', () => {
  /** A source that records whether it was released. */
  function source(pieces: readonly string[]) {
    const state = { released: false };
    async function* stream(): AsyncGenerator<Uint8Array> {
      try {
        for (const piece of pieces) yield Buffer.from(piece);
      } finally {
        state.released = true;
      }
    }
    return { stream: stream(), state };
  }
  const all = async (body: AsyncIterable<Uint8Array>) => {
    const pieces: Uint8Array[] = [];
    for await (const piece of body) pieces.push(piece);
    return Buffer.concat(pieces).toString();
  };

  it('reads the first bytes ahead and still yields every byte from the first', async () => {
    const { stream } = source(['ab', 'cd', 'ef', 'gh']);
    const peeked = await peekStream(stream, 5);
    expect(Buffer.from(peeked.head).toString()).toBe('abcde');
    expect(await all(peeked.body)).toBe('abcdefgh');
  });

  it('gives the whole stream as the head when it is shorter', async () => {
    const peeked = await peekStream(source(['ab']).stream, 64);
    expect(Buffer.from(peeked.head).toString()).toBe('ab');
    expect(await all(peeked.body)).toBe('ab');
  });

  it('releases the source when its reader stops early, even within the bytes read ahead', async () => {
    for (const stopAfter of [1, 3]) {
      const { stream, state } = source(['ab', 'cd', 'ef', 'gh']);
      const peeked = await peekStream(stream, 4);
      let pieces = 0;
      for await (const _ of peeked.body) if (++pieces === stopAfter) break;
      expect(state.released).toBe(true);
    }
  });

  it('releases the source when closed without reading the body', async () => {
    const { stream, state } = source(['ab', 'cd', 'ef']);
    const peeked = await peekStream(stream, 2);
    await peeked.close();
    expect(state.released).toBe(true);
  });
});

describe('nestsDeeperThan', () => {
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it('allows exactly the limit and refuses one level more', () => {
    expect(nestsDeeperThan(`{"a":${nested(4)}}`, 5)).toBe(false);
    expect(nestsDeeperThan(`{"a":${nested(5)}}`, 5)).toBe(true);
  });

  it('counts objects and arrays alike, and levels, not brackets', () => {
    expect(nestsDeeperThan('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
    expect(nestsDeeperThan('{"a":{"b":[{"c":1}]}}', 3)).toBe(true);
    expect(nestsDeeperThan(`[${Array.from({ length: 1000 }, () => '[[]]').join(',')}]`, 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes and all', () => {
    expect(nestsDeeperThan(`{"a":"${'['.repeat(50)}","b":"x\\"${'{'.repeat(50)}"}`, 1)).toBe(false);
    expect(nestsDeeperThan(`{"t":"say \\"[[[[\\" twice"}`, 1)).toBe(false);
  });

  it('ends a string at a quote after an escaped backslash', () => {
    // "\\\\" is a string holding one backslash; the bracket after it is structure.
    expect(nestsDeeperThan('{"a":"\\\\","b":[[]]}', 2)).toBe(true);
  });

  it('answers for a million levels without overflowing the stack', () => {
    expect(nestsDeeperThan(nested(1_000_000), 95)).toBe(true);
  });

  it('answers for text that is not JSON (JSON.parse says what is wrong)', () => {
    expect(nestsDeeperThan('{"open": "never closed', 1)).toBe(false);
    expect(nestsDeeperThan('[[[', 2)).toBe(true);
  });
});

describe('loneSurrogateIn', () => {
  const check = (text: string) => loneSurrogateIn(text, JSON.parse(text));

  it('finds a lone high or low surrogate and says where', () => {
    expect(check('{"request":{"contents":[{"parts":[{"text":"half \\ud83d"}]}]}}')).toBe(
      'request.contents[0].parts[0].text',
    );
    expect(check('{"a":["ok","\\ude00 alone"]}')).toBe('a[1]');
    expect(check('"\\udfff"')).toBe('(the value itself)');
  });

  it('finds one in a member name', () => {
    expect(check('{"a":{"\\ud800":1}}')).toBe('a.\ud800 (its name)');
  });

  it('accepts a surrogate pair, escaped or not, and an escaped backslash before "ud800"', () => {
    expect(check('{"t":"\\ud83d\\ude00"}')).toBeUndefined();
    expect(check('{"t":"😀"}')).toBeUndefined();
    expect(check('{"t":"\\\\ud800 is how you write it"}')).toBeUndefined();
  });
});
