/**
 * Recognises an upload that is not UTF-8 JSONL at all (compressed, or UTF-16/UTF-32 text) from its
 * first bytes, so that Prepare rejects the file with one reason instead of every line with its own.
 */

/**
 * What a whole file is, when it is not UTF-8 text at all: recognised from its first bytes, so that
 * a compressed or UTF-16 file gets one reason instead of one rejection per line.
 */
export type FileEncoding =
  | { readonly kind: 'compressed'; readonly format: 'gzip' | 'zip' | 'zstd' | 'bzip2' | 'xz' }
  | { readonly kind: 'text'; readonly format: 'UTF-16' | 'UTF-32'; readonly byteOrder: 'little' | 'big' };

/** How many bytes {@link sniffFileEncoding} wants to see, when the file has that many. */
export const SNIFF_BYTES = 64;

/**
 * Signatures that no JSONL text can start with: a JSON line starts with whitespace, `{`, `[`, a
 * quote, a digit, `-`, `t`, `f`, `n` or a UTF-8 BOM, never with one of these.
 */
const COMPRESSED_SIGNATURES: readonly { readonly bytes: readonly number[]; readonly format: string }[] = [
  { bytes: [0x1f, 0x8b], format: 'gzip' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], format: 'zip' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], format: 'zstd' },
  { bytes: [0x42, 0x5a, 0x68], format: 'bzip2' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], format: 'xz' },
];

const startsWith = (head: Uint8Array, bytes: readonly number[]): boolean =>
  head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte);

/**
 * Recognises a file that is compressed (gzip, zip, zstd, bzip2, xz) or UTF-16/UTF-32 text, with or
 * without a byte order mark, from its first bytes ({@link SNIFF_BYTES} are enough); undefined for
 * anything else, UTF-8 with or without a BOM included. Without a BOM, UTF-16 shows as NUL bytes
 * interleaved with ASCII ones: JSON text in UTF-8 never holds a NUL byte.
 */
export function sniffFileEncoding(head: Uint8Array): FileEncoding | undefined {
  // UTF-32 first: its little-endian BOM begins with UTF-16's.
  if (startsWith(head, [0xff, 0xfe, 0x00, 0x00]))
    return { kind: 'text', format: 'UTF-32', byteOrder: 'little' };
  if (startsWith(head, [0x00, 0x00, 0xfe, 0xff])) return { kind: 'text', format: 'UTF-32', byteOrder: 'big' };
  if (startsWith(head, [0xff, 0xfe])) return { kind: 'text', format: 'UTF-16', byteOrder: 'little' };
  if (startsWith(head, [0xfe, 0xff])) return { kind: 'text', format: 'UTF-16', byteOrder: 'big' };
  for (const { bytes, format } of COMPRESSED_SIGNATURES) {
    if (startsWith(head, bytes)) return { kind: 'compressed', format } as FileEncoding;
  }
  // Without a BOM: ASCII in UTF-16 is a NUL byte beside every byte, always on the same side; in
  // UTF-32, three in every four. Most, not all: a non-ASCII character fills its unit.
  const nulShare = (unit: number, index: number): number => {
    const units = Math.floor(head.length / unit);
    let nuls = 0;
    for (let at = index; at < units * unit; at += unit) if (head[at] === 0) nuls += 1;
    return units === 0 ? 0 : nuls / units;
  };
  const mostly = (share: number) => share >= 0.75;
  if (head.length >= 8) {
    const [b0, b1, b2, b3] = [0, 1, 2, 3].map((index) => nulShare(4, index)) as [
      number,
      number,
      number,
      number,
    ];
    if (b0 === 0 && mostly(b1) && mostly(b2) && mostly(b3))
      return { kind: 'text', format: 'UTF-32', byteOrder: 'little' };
    if (b3 === 0 && mostly(b0) && mostly(b1) && mostly(b2))
      return { kind: 'text', format: 'UTF-32', byteOrder: 'big' };
  }
  if (head.length >= 4) {
    const [even, odd] = [nulShare(2, 0), nulShare(2, 1)];
    if (even === 0 && mostly(odd)) return { kind: 'text', format: 'UTF-16', byteOrder: 'little' };
    if (odd === 0 && mostly(even)) return { kind: 'text', format: 'UTF-16', byteOrder: 'big' };
  }
  return undefined;
}
