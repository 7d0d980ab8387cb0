import type { JsonlLine } from '../../shared/jsonl.js';
import { parseResult } from '../result-formats.js';
import { keptKey, strayReason } from '../unmatched.js';
import type { ChunkReading } from './key-answers.js';
import type { PositionedLines } from './positioned-lines.js';

/** Where a result line carrying a key of this chunk is in the file. */
export interface KeyedLinePosition {
  readonly key: string;
  readonly line: number;
  readonly offset: number;
  readonly length: number;
}

/** A result line carrying a key of this chunk, with its text. */
export interface KeyedLine extends KeyedLinePosition {
  readonly text: string;
}

/**
 * A result line carrying one of the chunk's keys (`known`), or undefined once a line carrying none
 * (no key, an unknown key, not JSON, unreadable) has been kept in unmatched.jsonl.
 */
export async function keyedLine(
  { format, unmatched }: Pick<ChunkReading, 'format' | 'unmatched'>,
  line: JsonlLine,
  known: ReadonlySet<string>,
): Promise<KeyedLine | undefined> {
  if (!('text' in line)) {
    await unmatched.keep({ reason: 'UNREADABLE', line: line.lineNumber, text: line.excerpt });
    return undefined;
  }
  const parsed = parseResult(line.text);
  if (parsed === undefined) {
    await unmatched.keep({ reason: 'NOT_JSON', line: line.lineNumber, text: line.text });
    return undefined;
  }
  const key = format.keyOf(parsed);
  if (typeof key !== 'string' || !known.has(key)) {
    await unmatched.keep({ reason: strayReason(key), line: line.lineNumber, key: keptKey(key) }, line.text);
    return undefined;
  }
  return { key, text: line.text, line: line.lineNumber, offset: line.byteOffset, length: line.byteLength };
}

/** A keyed line's text, read again by its position. */
export function readKeyedLine(lines: PositionedLines, at: KeyedLinePosition): Promise<string> {
  return lines.text(at.offset, at.length);
}
