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
      /**
       * The bytes `text` was decoded from (without a BOM), when asked for (`withBytes`): a line sent
       * on as it was is written from them, not encoded again. A view of the stream's chunk, valid
       * until the next line is asked for.
       */
      readonly bytes?: Uint8Array;
    }
  | { readonly lineNumber: number; readonly problem: LineProblem; readonly excerpt: string };

export type LineProblem = 'too-long' | 'invalid-utf8';

export interface ReadLinesOptions {
  /** Longer lines are reported as `too-long` without being held in memory. */
  readonly maxLineBytes: number;
  /** Give each line its `bytes` too. @default false */
  readonly withBytes?: boolean;
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
 *
 * One step per line; {@link readJsonlBatches} is the same reader a chunk at a time.
 */
export async function* readJsonlLines(
  source: AsyncIterable<Uint8Array>,
  options: ReadLinesOptions,
): AsyncGenerator<JsonlLine> {
  for await (const batch of readJsonlBatches(source, options)) yield* batch;
}

/**
 * {@link readJsonlLines}, handing on every line that ends in one chunk of the stream at once:
 * a reader on the hot path then spends one generator step and one microtask per chunk, not per
 * line (at a million lines, those steps were a tenth of Prepare's time). A batch is never empty;
 * its lines' `bytes` are valid until the next batch is asked for.
 */
export async function* readJsonlBatches(
  source: AsyncIterable<Uint8Array>,
  { maxLineBytes, withBytes = false }: ReadLinesOptions,
): AsyncGenerator<JsonlLine[]> {
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

  /** The line ending at `end` of `chunk`, whose bytes in it begin at `from` (the rest is pending). */
  const finishLine = (chunk: Buffer, from: number, to: number): JsonlLine | undefined => {
    lineNumber += 1;
    const firstLine = atFileStart;
    atFileStart = false;
    if (overflowExcerpt !== undefined) {
      const excerpt = overflowExcerpt;
      overflowExcerpt = undefined;
      return { lineNumber, problem: 'too-long', excerpt };
    }
    let bytes = chunk;
    let start = from;
    let end = to;
    if (pending.length > 0) {
      bytes = Buffer.concat([...pending, chunk.subarray(from, to)]);
      start = 0;
      end = bytes.length;
    }
    const byteOffset = lineStart;
    const byteLength = end - start;
    pending = [];
    pendingBytes = 0;
    if (firstLine && bytes[start] === BOM[0] && bytes[start + 1] === BOM[1] && bytes[start + 2] === BOM[2])
      start += 3;
    // Decoded from the chunk itself, without a view per line. Lenient decoding is several times
    // faster than strict; invalid bytes become U+FFFD, so only a line containing U+FFFD (rare, and
    // possibly legitimate) needs the strict check.
    const text = bytes.toString('utf8', start, end);
    if (text.includes('\uFFFD')) {
      try {
        decoder.decode(bytes.subarray(start, end));
      } catch {
        return { lineNumber, problem: 'invalid-utf8', excerpt: excerptOf(bytes.subarray(start, end)) };
      }
    }
    if (text.trim() === '') return undefined;
    return withBytes
      ? { lineNumber, text, byteOffset, byteLength, bytes: bytes.subarray(start, end) }
      : { lineNumber, text, byteOffset, byteLength };
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

  for await (const piece of source) {
    if (piece.length === 0) continue;
    // One Buffer view per chunk, so each line decodes straight from it.
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    const batch: JsonlLine[] = [];
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
      if (overflowExcerpt === undefined && pendingBytes + (end - from) > maxLineBytes)
        hold(chunk.subarray(from, end));
      const line = overflowExcerpt === undefined ? finishLine(chunk, from, end) : finishLine(chunk, end, end);
      from = next;
      lineStart = consumed + from;
      if (newline !== -1 && newline < from) newline = chunk.indexOf(NEWLINE, from);
      if (carriageReturn !== -1 && carriageReturn < from)
        carriageReturn = chunk.indexOf(CARRIAGE_RETURN, from);
      if (line) batch.push(line);
    }
    if (from < chunk.length) hold(chunk.subarray(from));
    consumed += chunk.length;
    if (batch.length > 0) yield batch;
  }
  if (pendingBytes > 0 || overflowExcerpt !== undefined) {
    const line = finishLine(Buffer.alloc(0), 0, 0);
    if (line) yield [line];
  }
}
