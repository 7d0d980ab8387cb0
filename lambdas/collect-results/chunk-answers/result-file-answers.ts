import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { MAX_RESULT_LINE_BYTES } from '../../shared/batch-jobs/result-file.js';
import { readJsonlBatches } from '../../shared/jsonl.js';
import type { KeyAtLine } from '../../shared/run/chunk-keys-file.js';
import { inBatches } from '../merge-in-input-order.js';
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
 *
 * In batches, a block of the file at a time: the lockstep costs no generator step per line.
 */
export async function* resultFileAnswers(reading: ChunkReading, path: string): AsyncGenerator<Answer[]> {
  const { keys, format, unmatched } = reading;
  const expected = await keys.inOrder();
  // With bytes: a line passed through is written as it was read.
  const results = readJsonlBatches(createReadStream(path), {
    maxLineBytes: MAX_RESULT_LINE_BYTES,
    withBytes: true,
  });
  let next = 0;
  let known: Set<string> | undefined;
  try {
    for await (const lines of results) {
      const answers: Answer[] = [];
      for (const read of lines) {
        const at = expected[next];
        if (at === undefined) {
          // Every key answered in step: what is left repeats a key or strays.
          known ??= await keys.set();
          const found = await keyedLine(reading, read, known);
          if (found)
            await unmatched.keep({ reason: 'DUPLICATE_KEY', line: found.line, key: found.key }, found.text);
          continue;
        }
        const raw = 'text' in read ? read.text : undefined;
        const parsed = raw === undefined ? undefined : parseResult(raw);
        const carried = parsed && format.keyOf(parsed);
        if (parsed !== undefined && carried === at[1]) {
          const rawBytes = 'text' in read ? read.bytes : undefined;
          answers.push(reading.answers.answered(at, { result: parsed, carried, raw, rawBytes }));
          next += 1;
          continue;
        }
        if (answers.length > 0) yield answers;
        yield* outOfStep(reading, path, expected, next, read.lineNumber);
        return;
      }
      if (answers.length > 0) yield answers;
    }
    // The file ended before the keys did.
    if (next < expected.length) yield* outOfStep(reading, path, expected, next, Number.POSITIVE_INFINITY);
  } finally {
    await results.return(undefined);
    await rm(path, { force: true });
  }
}

/** The keys from `expected[next]` on, answered by position: the file fell out of step before `inStepBefore`. */
async function* outOfStep(
  reading: ChunkReading,
  path: string,
  expected: readonly KeyAtLine[],
  next: number,
  inStepBefore: number,
): AsyncGenerator<Answer[]> {
  const rest = expected.slice(next + 1).values();
  const first = expected[next] as KeyAtLine;
  const known = await reading.keys.set();
  yield* inBatches(indexedAnswers(reading, path, { first, rest, known, inStepBefore }));
}
