import type { InlineResponse } from '../../shared/gemini/gemini-batch-api.js';
import type { BatchResult } from '../result-formats.js';
import { type FoundUnmatched, keptKey, strayReason } from '../unmatched.js';
import { type Answer, answerOrNoResult, type ChunkReading } from './key-answers.js';

/**
 * Answers from an inline batch, whose answers come back in the operation: tied to keys by the
 * `metadata.key` Gemini echoes, and only by it (see `collectResults`). Their order means nothing,
 * so a key with several different answers gets none (AMBIGUOUS_KEY); identical repeats are
 * DUPLICATE_KEY.
 */
export async function* inlineAnswers(
  reading: ChunkReading,
  responses: readonly InlineResponse[],
): AsyncGenerator<Answer> {
  const { chunk, keys, unmatched } = reading;
  const known = await keys.set();
  const byKey = new Map<string, number[]>();
  const strays: Omit<FoundUnmatched, 'answer'>[] = [];
  const unkeyed: number[] = [];
  for (const [index, response] of responses.entries()) {
    // As Gemini sent it: not necessarily an object.
    const key = typeof response === 'object' && response !== null ? response.metadata?.key : undefined;
    if (typeof key === 'string' && known.has(key)) {
      byKey.set(key, [...(byKey.get(key) ?? []), index]);
    } else if (strayReason(key) === 'NO_KEY') {
      unkeyed.push(index);
    } else {
      strays.push({ reason: 'UNKNOWN_KEY', index, key: keptKey(key) });
    }
  }
  const ambiguous = new Map<string, number>();
  for (const [key, [first = 0, ...repeats]] of byKey) {
    if (repeats.length === 0) continue;
    const text = JSON.stringify(responses[first]);
    const same = repeats.every((index) => JSON.stringify(responses[index]) === text);
    if (!same) ambiguous.set(key, repeats.length + 1);
    for (const index of same ? repeats : [first, ...repeats]) {
      strays.push({ reason: same ? 'DUPLICATE_KEY' : 'AMBIGUOUS_KEY', index, key });
    }
  }
  // The one tie without an echo that is provable: a job of one request answered once.
  const [only] = known;
  const eliminated =
    chunk.requestCount === 1 && known.size === 1 && responses.length === 1 && unkeyed.length === 1;
  if (eliminated && only !== undefined) byKey.set(only, [unkeyed.pop() ?? 0]);
  for (const index of unkeyed) strays.push({ reason: 'NO_KEY', index });
  for (const stray of strays.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
    await unmatched.keep({ ...stray, answer: responses[stray.index ?? 0] });
  }
  for (const at of await keys.inOrder()) {
    const [, key] = at;
    const answers = ambiguous.get(key);
    if (answers !== undefined) {
      yield reading.answers.unanswered(at, unmatched.ambiguousMessage(answers));
      continue;
    }
    const index = byKey.get(key)?.[0];
    const response = index === undefined ? undefined : responses[index];
    yield answerOrNoResult(
      reading,
      at,
      response && { result: response as BatchResult, carried: eliminated ? key : response.metadata?.key },
    );
  }
}
