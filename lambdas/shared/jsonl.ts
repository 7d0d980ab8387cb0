/**
 * Reads JSONL from a byte stream one line at a time, in memory bounded by the longest line allowed,
 * whatever the file's size. Every line keeps its 1-based number so errors can say where they are.
 */

/** A line as text, or why its text could not be read. Blank lines are skipped but still counted. */
export type JsonlLine =
  | {
      readonly lineNumber: number;
      readonly text: string;
      /** Where the line starts in the stream, in bytes: lets a reader come back to it by position. */
      readonly byteOffset: number;
      /** The line's length in bytes, without its line break. */
      readonly byteLength: number;
    }
  | { readonly lineNumber: number; readonly problem: LineProblem; readonly excerpt: string };

export type LineProblem = 'too-long' | 'invalid-utf8';

export interface ReadLinesOptions {
  /** Longer lines are reported as `too-long` without being held in memory. */
  readonly maxLineBytes: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BOM = [0xef, 0xbb, 0xbf] as const;
const EXCERPT_BYTES = 120;

// ignoreBOM: the decoder must not strip U+FEFF from every line; only the file's first line has a BOM.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The first `EXCERPT_BYTES` of a line, decoded leniently: for error messages only. */
function excerptOf(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes.subarray(0, EXCERPT_BYTES));
}

/**
 * Splits a byte stream into lines: handles a UTF-8 BOM, lines split across chunks and a missing
 * final newline. LF, CRLF and a CR alone (old Mac files) each end a line, so line numbers are the
 * ones an editor shows; a CRLF split across two chunks is still one break. A raw CR cannot be part
 * of a JSON line (JSON escapes control characters), so reading it as a break loses nothing. A line
 * over `maxLineBytes` is skipped to its end and reported, so one bad line cannot exhaust memory; a
 * line that is not valid UTF-8 is reported rather than mangled.
 */
export async function* readJsonlLines(
  source: AsyncIterable<Uint8Array>,
  { maxLineBytes }: ReadLinesOptions,
): AsyncGenerator<JsonlLine> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let overflowExcerpt: string | undefined;
  let lineNumber = 0;
  let atFileStart = true;
  /** Bytes of the stream before the current chunk, and where the current line began. */
  let consumed = 0;
  let lineStart = 0;
  /** The last chunk ended in CR: a LF opening the next one belongs to that break. */
  let afterCarriageReturn = false;

  const finishLine = (tail: Uint8Array): JsonlLine | undefined => {
    lineNumber += 1;
    const firstLine = atFileStart;
    atFileStart = false;
    if (overflowExcerpt !== undefined) {
      const excerpt = overflowExcerpt;
      overflowExcerpt = undefined;
      return { lineNumber, problem: 'too-long', excerpt };
    }
    let bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    const byteOffset = lineStart;
    const byteLength = bytes.length;
    pending = [];
    pendingBytes = 0;
    if (firstLine && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2])
      bytes = bytes.subarray(3);
    // Lenient decoding is several times faster than strict; invalid bytes become U+FFFD, so only a
    // line containing U+FFFD (rare, and possibly legitimate) needs the strict check.
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
    if (text.includes('\uFFFD')) {
      try {
        decoder.decode(bytes);
      } catch {
        return { lineNumber, problem: 'invalid-utf8', excerpt: excerptOf(bytes) };
      }
    }
    return text.trim() === '' ? undefined : { lineNumber, text, byteOffset, byteLength };
  };

  const hold = (bytes: Uint8Array) => {
    if (overflowExcerpt !== undefined) return;
    if (pendingBytes + bytes.length > maxLineBytes) {
      overflowExcerpt = excerptOf(pending.length === 0 ? bytes : Buffer.concat([...pending, bytes]));
      pending = [];
      pendingBytes = 0;
      return;
    }
    // Copy: the stream may reuse its chunk buffers after we yield.
    pending.push(Uint8Array.prototype.slice.call(bytes));
    pendingBytes += bytes.length;
  };

  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    /** Where the current line's bytes begin in this chunk. */
    let from = 0;
    if (afterCarriageReturn) {
      afterCarriageReturn = false;
      if (chunk[0] === NEWLINE) {
        from = 1;
        lineStart = consumed + 1;
      }
    }
    // Both searches are memchr-fast; a file without CR pays one search per chunk for it.
    let newline = chunk.indexOf(NEWLINE, from);
    let carriageReturn = chunk.indexOf(CARRIAGE_RETURN, from);
    while (newline !== -1 || carriageReturn !== -1) {
      let end: number;
      let next: number;
      if (carriageReturn === -1 || (newline !== -1 && newline < carriageReturn)) {
        end = newline;
        next = newline + 1;
      } else {
        end = carriageReturn;
        next = carriageReturn + 1;
        if (next === chunk.length) afterCarriageReturn = true;
        else if (chunk[next] === NEWLINE) next += 1;
      }
      const piece = chunk.subarray(from, end);
      from = next;
      if (overflowExcerpt === undefined && pendingBytes + piece.length > maxLineBytes) hold(piece);
      const line = finishLine(overflowExcerpt === undefined ? piece : new Uint8Array());
      lineStart = consumed + from;
      if (newline !== -1 && newline < from) newline = chunk.indexOf(NEWLINE, from);
      if (carriageReturn !== -1 && carriageReturn < from)
        carriageReturn = chunk.indexOf(CARRIAGE_RETURN, from);
      if (line) yield line;
    }
    if (from < chunk.length) hold(chunk.subarray(from));
    consumed += chunk.length;
  }
  if (pendingBytes > 0 || overflowExcerpt !== undefined) {
    const line = finishLine(new Uint8Array());
    if (line) yield line;
  }
}

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

/** A stream whose first bytes have been read ahead: `body` still yields every byte, from the first. */
export interface PeekedStream {
  /** At least `bytes` bytes, unless the stream is shorter. */
  readonly head: Uint8Array;
  readonly body: AsyncIterable<Uint8Array>;
  /** Releases the source (an S3 response's socket) when `body` will not be read. */
  close(): Promise<void>;
}

/** Reads the first `bytes` bytes of a stream without losing them, e.g. to recognise its encoding. */
export async function peekStream(source: AsyncIterable<Uint8Array>, bytes: number): Promise<PeekedStream> {
  const iterator = source[Symbol.asyncIterator]();
  const early: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    // Copied: a source may reuse its buffer for the next chunk.
    early.push(Uint8Array.prototype.slice.call(next.value));
    size += next.value.length;
  }
  const head = Buffer.concat(early).subarray(0, bytes);
  const release = async () => {
    if (ended) return;
    ended = true;
    await iterator.return?.();
  };
  async function* body(): AsyncGenerator<Uint8Array> {
    // The source is released however reading stops: at its end, on an error, or by the reader.
    try {
      yield* early;
      while (!ended) {
        const next = await iterator.next();
        if (next.done) ended = true;
        else yield next.value;
      }
    } finally {
      await release();
    }
  }
  return { head, body: body(), close: release };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text nests objects and arrays more than `limit` levels deep, the outermost value
 * being level 1. Iterative, so no depth can overflow the stack, and cheap: strings, the bulk of a
 * request, are skipped with `indexOf`; it stops at the first level past the limit. Text that is
 * not valid JSON gets an answer too (JSON.parse says what is wrong with it).
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  // Depth needs as many brackets: counting them with indexOf (memchr-fast) clears most lines at
  // half the cost of the scan below.
  let brackets = 0;
  for (const open of ['{', '[']) {
    for (let at = text.indexOf(open); at !== -1 && brackets <= limit; at = text.indexOf(open, at + 1))
      brackets += 1;
  }
  if (brackets <= limit) return false;
  let depth = 0;
  for (let at = 0; at < text.length; at += 1) {
    const char = text.charCodeAt(at);
    if (char === QUOTE) {
      // The closing quote is the next one not escaped: preceded by an even run of backslashes.
      let close = text.indexOf('"', at + 1);
      while (close !== -1) {
        let backslash = close - 1;
        while (text.charCodeAt(backslash) === BACKSLASH) backslash -= 1;
        if ((close - 1 - backslash) % 2 === 0) break;
        close = text.indexOf('"', close + 1);
      }
      if (close === -1) return false;
      at = close;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth += 1;
      if (depth > limit) return true;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}

/** An escaped UTF-16 surrogate, `\ud800` to `\udfff`: the only way JSON text from valid UTF-8 can carry a lone one. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Where a parsed JSON value holds a string (or a member name) with a lone UTF-16 surrogate, as a
 * path such as `request.contents[0].parts[0].text`; undefined when it holds none. `text` is the
 * value's JSON text: most lines carry no surrogate escape at all and are answered from it alone.
 * Iterative, like {@link nestsDeeperThan}.
 */
export function loneSurrogateIn(text: string, value: unknown): string | undefined {
  // `includes` first: three times cheaper than the regex on the many lines with no escape at all.
  if (!text.includes('\\u') || !SURROGATE_ESCAPE.test(text)) return undefined;
  const stack: { readonly value: unknown; readonly path: string }[] = [{ value, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: current, path } = item;
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current)) return path || '(the value itself)';
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1)
        stack.push({ value: current[index], path: `${path}[${index}]` });
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [name, member] = entries[index] as [string, unknown];
        const memberPath = path === '' ? name : `${path}.${name}`;
        if (LONE_SURROGATE.test(name)) return `${memberPath} (its name)`;
        stack.push({ value: member, path: memberPath });
      }
    }
  }
  return undefined;
}
