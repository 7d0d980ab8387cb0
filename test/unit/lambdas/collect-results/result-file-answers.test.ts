import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectResults } from '../../../../lambdas/collect-results/collect-results.js';
import { answerAll, errorAnswer, generateAnswer, vectorOf } from '../../../support/fake-gemini.js';
import { runState } from '../run-fixtures.js';
import { CollectTestbed, keysOf, textOf, vectorIn } from './collect-testbed.js';

let t: CollectTestbed;

beforeEach(async () => {
  t = await CollectTestbed.create();
});

afterEach(async () => {
  await t.remove();
});

describe('collectResults: answers from a result file', () => {
  it('keeps the answer read at its place in an in-order file over a later different repeat, counting the repeat', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    const [job] = run.jobs as [string];
    const again = generateAnswer('a', 'misfiled');
    t.fake.finish(job, { results: [generateAnswer('a'), generateAnswer('c'), again, generateAnswer('b')] });
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(keysOf(t.results())).toEqual(['a', 'b', 'c']);
    expect(t.results()[0]).toEqual({ key: 'a', response: JSON.parse(generateAnswer('a')).response });
    expect(t.unmatched()).toEqual([
      { job, chunk: 0, reason: 'DUPLICATE_KEY', key: 'a', line: 3, answer: JSON.parse(again) },
    ]);
    expect(await t.summary()).toMatchObject({
      duplicateResultCount: 1,
      unknownResultCount: 0,
      missingCount: 0,
    });
  });

  it('keeps duplicate and foreign result-file lines in unmatched.jsonl with their line, as they came', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    const second = generateAnswer('a', 'second');
    const stranger = generateAnswer('stranger');
    const unkeyed = JSON.stringify({ response: { candidates: [] } });
    t.fake.finish(job, {
      results: [generateAnswer('a'), second, generateAnswer('b'), stranger, unkeyed, 'not json'],
    });
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(textOf(t.resultOf('a'))).toBe('answer to a');
    expect(t.unmatched()).toEqual([
      { job, chunk: 0, reason: 'DUPLICATE_KEY', key: 'a', line: 2, answer: JSON.parse(second) },
      { job, chunk: 0, reason: 'UNKNOWN_KEY', key: 'stranger', line: 4, answer: JSON.parse(stranger) },
      { job, chunk: 0, reason: 'NO_KEY', line: 5, answer: JSON.parse(unkeyed) },
      { job, chunk: 0, reason: 'NOT_JSON', line: 6, text: 'not json' },
    ]);
    expect(await t.summary()).toMatchObject({ unmatchedCount: 4 });
  });

  it('keeps what follows a complete lockstep file in unmatched.jsonl too', async () => {
    const run = await t.submitted([{ kind: 'embed', keys: ['e1', 'e2'] }]);
    const [job] = run.jobs as [string];
    t.fake.rough = { duplicateKeys: ['e2'], foreignKeys: ['x'] };
    t.fake.answer(job);
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 2, failedCount: 0 });
    expect(vectorIn(t.resultOf('e2'))).toEqual(vectorOf('e2'));
    expect(t.unmatched().map(({ reason, key, line }) => ({ reason, key, line }))).toEqual([
      { reason: 'DUPLICATE_KEY', key: 'e2', line: 3 },
      { reason: 'UNKNOWN_KEY', key: 'x', line: 4 },
    ]);
  });

  it('gives every key its own answer from a shuffled result file, and none to a key answered twice differently', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k-${i}`);
    const run = await t.submitted([{ kind: 'generate', keys }]);
    t.fake.rough = { fileOrder: 'shuffled', duplicateKeys: ['k-3', 'k-17'], foreignKeys: ['n-1'] };
    t.fake.answer(run.jobs[0] ?? '');
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(keysOf(t.results())).toEqual(keys);
    for (const key of keys.filter((key) => key !== 'k-3' && key !== 'k-17')) {
      expect(textOf(t.resultOf(key))).toBe(`answer to ${key}`);
    }
    for (const key of ['k-3', 'k-17']) expect(t.resultOf(key)?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(
      t
        .unmatched()
        .map((line) => line.reason)
        .sort(),
    ).toEqual(['AMBIGUOUS_KEY', 'AMBIGUOUS_KEY', 'AMBIGUOUS_KEY', 'AMBIGUOUS_KEY', 'UNKNOWN_KEY']);
  });

  it('uses an out-of-order answer whose repeat is identical', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, { results: [generateAnswer('b'), generateAnswer('a'), generateAnswer('b')] });
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(textOf(t.resultOf('b'))).toBe('answer to b');
    expect(t.unmatched()).toMatchObject([{ reason: 'DUPLICATE_KEY', key: 'b', line: 3 }]);
  });

  it("gives every key missing from Gemini's output a NO_RESULT error", async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b', 'c', 'd'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, { results: [generateAnswer('b')] });
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 3 });
    const missing = t.results().filter((line) => line.error);
    expect(keysOf(missing).sort()).toEqual(['a', 'c', 'd']);
    for (const line of missing) {
      expect(line.error).toEqual({ status: 'NO_RESULT', message: expect.stringContaining(job) });
    }
    expect(await t.summary()).toMatchObject({ missingCount: 3 });
  });

  it('counts duplicate result lines and writes only the first', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, {
      results: [
        generateAnswer('a', 'first'),
        generateAnswer('b'),
        generateAnswer('a', 'second'),
        errorAnswer('a'),
      ],
    });
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 2, failedCount: 0 });
    expect(t.results().filter((line) => line.key === 'a')).toEqual([
      JSON.parse(generateAnswer('a', 'first')),
    ]);
    expect(await t.summary()).toMatchObject({ duplicateResultCount: 2 });
  });

  it('counts result lines for keys it never sent and does not write them', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, {
      results: [
        generateAnswer('a'),
        generateAnswer('stranger'),
        JSON.stringify({ response: { candidates: [] } }),
      ],
    });
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(keysOf(t.results())).toEqual(['a']);
    expect(await t.summary()).toMatchObject({ unknownResultCount: 2, succeededCount: 1 });
  });

  it('keeps one line per accepted key whatever mix of answers, errors, gaps and strays Gemini returns', async () => {
    const keys = Array.from({ length: 120 }, (_, i) => `k-${i}`);
    const run = await t.submitted([{ kind: 'generate', keys }]);
    const [job] = run.jobs as [string];
    const output = answerAll(t.fake.inputLines(job)).flatMap((line, i) => {
      if (i % 7 === 0) return []; // missing
      if (i % 5 === 0) return [errorAnswer(`k-${i}`)];
      if (i % 11 === 0) return [line, line]; // duplicated
      if (i % 13 === 0) return [line, generateAnswer(`other-${i}`)]; // plus a stray
      return [line];
    });
    t.fake.finish(job, { results: output });
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(keysOf(t.results()).sort()).toEqual([...keys].sort());
    expect(outcome.succeededCount + outcome.failedCount).toBe(keys.length);
  });

  it('counts a result line that is not JSON and still writes every key', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, { results: [generateAnswer('a'), '{"key":"b","response":'] });
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 1 });
    expect(t.results()[1]).toMatchObject({ key: 'b', error: { status: 'NO_RESULT' } });
    expect(await t.summary()).toMatchObject({ unknownResultCount: 1 });
  });
});
