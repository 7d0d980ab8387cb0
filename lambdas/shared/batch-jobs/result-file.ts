/**
 * A job's result file, downloaded to disk, read one line at a time: Collect reads its answers,
 * Poll looks through it for transient errors to send again.
 */
import { createReadStream } from 'node:fs';
import { type JsonlLine, readJsonlLines } from '../jsonl.js';

/**
 * Result lines can be long (embeddings of 3072 floats, long generations); a bound still applies.
 * Also the bound on a chunk's keys file lines (see `run/chunk-keys-file.ts`).
 */
export const MAX_RESULT_LINE_BYTES = 64 * 1024 * 1024;

/** The lines of a downloaded result file, one at a time; with their bytes when `withBytes` (see `JsonlLine`). */
export function readResultLines(path: string, withBytes = false): AsyncGenerator<JsonlLine> {
  return readJsonlLines(createReadStream(path), { maxLineBytes: MAX_RESULT_LINE_BYTES, withBytes });
}
