import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SNIFF_BYTES, sniffFileEncoding } from '../../../../lambdas/prepare-requests/file-encoding.js';

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
