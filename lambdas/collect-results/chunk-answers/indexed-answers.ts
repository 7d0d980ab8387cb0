import { open } from 'node:fs/promises';
import { readResultLines } from '../../shared/batch-jobs/result-file.js';
import type { KeyAtLine } from '../../shared/run/chunk-keys-file.js';
import { parseResult } from '../result-formats.js';
import { type Answer, answerOrNoResult, type ChunkReading } from './key-answers.js';
import { PositionedLines } from './positioned-lines.js';
import { type KeyedLinePosition, keyedLine, readKeyedLine } from './result-lines.js';

/** Where a result file fell out of step with its chunk's keys, and what is left to answer. */
export interface OutOfStep {
  /** The first key the file did not answer in step. */
  readonly first: KeyAtLine;
  /** The keys after it, in chunk order. */
  readonly rest: Iterator<KeyAtLine>;
  readonly known: ReadonlySet<string>;
  /** The file's first line out of step: lines before it were read at their request's place. */
  readonly inStepBefore: number;
}

/**
 * Answers the remaining keys from a result file that is not in request order: one pass indexes the
 * byte position of each key's first answer (strangers go to unmatched.jsonl), then each key's
 * answer is read by position, through a few cached blocks. Memory holds one position per key of
 * this chunk, not the answers.
 *
 * A key answered more than once: a line read in step, at its request's place (before line
 * `inStepBefore`), was already used and its repeats are DUPLICATE_KEY; out of step, where position
 * says nothing, repeats identical to the first are DUPLICATE_KEY and the first is used, but if they
 * differ the key gets none of them (AMBIGUOUS_KEY): one of them may be another key's, misfiled.
 */
export async function* indexedAnswers(
  reading: ChunkReading,
  path: string,
  from: OutOfStep,
): AsyncGenerator<Answer> {
  const { format, unmatched } = reading;
  const positions = new Map<string, KeyedLinePosition>();
  /** Keys with different answers, and how many answers carry each. */
  const ambiguous = new Map<string, number>();
  const file = await open(path);
  const lines = new PositionedLines(
    async (buffer, position) => (await file.read(buffer, 0, buffer.length, position)).bytesRead,
  );
  try {
    for await (const line of readResultLines(path)) {
      const found = await keyedLine(reading, line, from.known);
      if (!found) continue;
      const first = positions.get(found.key);
      if (!first) {
        // The position only: the text is read again when the key's turn comes.
        positions.set(found.key, {
          key: found.key,
          line: found.line,
          offset: found.offset,
          length: found.length,
        });
        continue;
      }
      const seen = ambiguous.get(found.key);
      const differs =
        first.line >= from.inStepBefore &&
        (seen !== undefined ||
          first.length !== found.length ||
          (await readKeyedLine(lines, first)) !== found.text);
      if (differs) ambiguous.set(found.key, (seen ?? 1) + 1);
      await unmatched.keep(
        { reason: differs ? 'AMBIGUOUS_KEY' : 'DUPLICATE_KEY', line: found.line, key: found.key },
        found.text,
      );
    }
    // Keys answered in lockstep before the file fell out of step were indexed too; their later
    // repeats went to unmatched above, and they are not walked again below.
    for (let next: KeyAtLine | undefined = from.first; next; ) {
      const [, key] = next;
      const at = positions.get(key);
      const answers = ambiguous.get(key);
      if (at && answers !== undefined) {
        await unmatched.keep({ reason: 'AMBIGUOUS_KEY', line: at.line, key }, await readKeyedLine(lines, at));
        yield reading.answers.unanswered(next, unmatched.ambiguousMessage(answers));
      } else {
        const raw = at && (await readKeyedLine(lines, at));
        const result = raw === undefined ? undefined : parseResult(raw);
        yield answerOrNoResult(
          reading,
          next,
          result && raw !== undefined ? { result, carried: format.keyOf(result), raw } : undefined,
        );
      }
      const step = from.rest.next();
      next = step.done ? undefined : step.value;
    }
  } finally {
    await file.close();
  }
}
