import { rm } from 'node:fs/promises';
import { readResultLines } from '../../shared/batch-jobs/result-file.js';
import { parseResult } from '../result-formats.js';
import { indexedAnswers } from './indexed-answers.js';
import type { Answer, ChunkReading } from './key-answers.js';
import { keyedLine } from './result-lines.js';

/**
 * Answers a chunk's keys from its job's downloaded result file at `path`, and removes the file.
 * Gemini writes results in request order, so the file is normally read in lockstep with the keys,
 * each line the next key's; at the first line out of step (a gap, a duplicate, an unknown key,
 * reordering) the rest is answered by position ({@link indexedAnswers}). Lines left after every
 * key is answered in step repeat a key or stray, and go to unmatched.jsonl.
 */
export async function* resultFileAnswers(reading: ChunkReading, path: string): AsyncGenerator<Answer> {
  const { keys, format, unmatched } = reading;
  const expected = keys.inOrder();
  // With bytes: a line passed through is written as it was read.
  const results = readResultLines(path, true);
  try {
    for (;;) {
      const next = await expected.next();
      if (next.done) break;
      const at = next.value;
      const [, key] = at;
      const result = await results.next();
      const read = !result.done && 'text' in result.value ? result.value : undefined;
      const raw = read?.text;
      const parsed = raw === undefined ? undefined : parseResult(raw);
      const carried = parsed && format.keyOf(parsed);
      if (parsed !== undefined && carried === key) {
        yield reading.answers.answered(at, { result: parsed, carried, raw, rawBytes: read?.bytes });
        continue;
      }
      yield* indexedAnswers(reading, path, {
        first: at,
        rest: expected,
        known: await keys.set(),
        inStepBefore: result.done ? Number.POSITIVE_INFINITY : result.value.lineNumber,
      });
      return;
    }
    let known: Set<string> | undefined;
    for await (const extra of results) {
      known ??= await keys.set();
      const found = await keyedLine(reading, extra, known);
      if (found)
        await unmatched.keep({ reason: 'DUPLICATE_KEY', line: found.line, key: found.key }, found.text);
    }
  } finally {
    await results.return(undefined);
    await rm(path, { force: true });
  }
}
