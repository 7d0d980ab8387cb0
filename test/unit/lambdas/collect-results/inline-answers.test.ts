import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectResults } from '../../../../lambdas/collect-results/collect-results.js';
import { embedAnswer, vectorOf } from '../../../support/fake-gemini.js';
import { runState } from '../run-fixtures.js';
import { CollectTestbed, keysOf, textOf, vectorIn } from './collect-testbed.js';

let t: CollectTestbed;

beforeEach(async () => {
  t = await CollectTestbed.create();
});

afterEach(async () => {
  await t.remove();
});

describe('collectResults: inline answers', () => {
  it.each(['reversed', 'shuffled'] as const)(
    'ties inline answers of both kinds to their keys by the echoed key, answers %s',
    async (order) => {
      const run = await t.submittedInline([
        { kind: 'generate', keys: ['g1', 'g2', 'g3'] },
        { kind: 'embed', keys: ['e1', 'e2', 'e3'] },
      ]);
      t.fake.rough = { inlineOrder: order };
      for (const job of run.jobs) t.fake.answer(job);
      await t.polled(run);

      const outcome = await collectResults(runState(), t.deps());

      expect(outcome).toEqual({ succeededCount: 6, failedCount: 0 });
      expect(keysOf(t.results())).toEqual(['g1', 'g2', 'g3', 'e1', 'e2', 'e3']);
      for (const key of ['g1', 'g2', 'g3']) expect(textOf(t.resultOf(key))).toBe(`answer to ${key}`);
      for (const key of ['e1', 'e2', 'e3']) expect(vectorIn(t.resultOf(key))).toEqual(vectorOf(key));
      expect(t.unmatched()).toEqual([]);
    },
  );

  it('gives each of 30 keys of a shuffled inline embedding batch its own vector', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `doc-${i}`);
    const run = await t.submittedInline([{ kind: 'embed', keys }]);
    t.fake.rough = { inlineOrder: 'shuffled' };
    const [job] = run.jobs as [string];
    const batch = t.fake.answer(job);
    // The t.fake really did scramble them: position would have given most keys another key's vector.
    const misplaced = batch.inlineResponses?.filter((answer, i) => answer.metadata?.key !== keys[i]).length;
    expect(misplaced).toBeGreaterThan(20);
    await t.polled(run);

    await collectResults(runState(), t.deps());

    for (const key of keys) expect(vectorIn(t.resultOf(key))).toEqual(vectorOf(key));
  });

  it('never writes inline answers without their key under a key: NO_RESULT, and the answers kept in unmatched.jsonl', async () => {
    const run = await t.submittedInline([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    t.fake.rough = { dropInlineKeys: true };
    const [job] = run.jobs as [string];
    const answered = t.fake.answer(job).inlineResponses ?? [];
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 0, failedCount: 3 });
    for (const line of t.results()) {
      expect(line.error).toEqual({
        status: 'NO_RESULT',
        message: expect.stringMatching(
          new RegExp(
            `job ${job} .*3 answers that could not be tied to a key \\(3 without their key\\).*unmatched\\.jsonl`,
          ),
        ),
      });
    }
    expect(t.unmatched()).toEqual(
      answered.map((answer, index) => ({ job, chunk: 0, reason: 'NO_KEY', index, answer })),
    );
    expect(await t.summary()).toMatchObject({ unmatchedCount: 3, unknownResultCount: 3, missingCount: 3 });
  });

  it('answers the keys whose echo came back and only those, whatever the order', async () => {
    const run = await t.submittedInline([{ kind: 'embed', keys: ['e1', 'e2', 'e3', 'e4'] }]);
    t.fake.rough = { inlineOrder: 'reversed', dropInlineKeys: (key) => key === 'e2' };
    const [job] = run.jobs as [string];
    t.fake.answer(job);
    await t.polled(run);

    await collectResults(runState(), t.deps());

    for (const key of ['e1', 'e3', 'e4']) expect(vectorIn(t.resultOf(key))).toEqual(vectorOf(key));
    expect(t.resultOf('e2')?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(t.unmatched()).toEqual([
      {
        job,
        chunk: 0,
        reason: 'NO_KEY',
        index: 2,
        answer: { response: JSON.parse(embedAnswer('e2')).response },
      },
    ]);
  });

  it('keeps inline answers that are not even objects in unmatched.jsonl', async () => {
    const run = await t.submittedInline([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    const batch = t.fake.answer(job);
    batch.inlineResponses = [null, ...(batch.inlineResponses ?? []).slice(1), 'text'] as never;
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(t.resultOf('a')?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(textOf(t.resultOf('b'))).toBe('answer to b');
    expect(t.unmatched()).toEqual([
      { job, chunk: 0, reason: 'NO_KEY', index: 0, answer: null },
      { job, chunk: 0, reason: 'NO_KEY', index: 2, answer: 'text' },
    ]);
  });

  it('ties the one unkeyed answer of a one-request inline job to that request', async () => {
    const run = await t.submittedInline([{ kind: 'generate', keys: ['only'] }]);
    t.fake.rough = { dropInlineKeys: true };
    t.fake.answer(run.jobs[0] ?? '');
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 0 });
    expect(textOf(t.resultOf('only'))).toBe('answer to only');
    expect(t.unmatched()).toEqual([]);
  });

  it('ties nothing by elimination in a job of two requests, even with one key and one unkeyed answer left', async () => {
    const run = await t.submittedInline([{ kind: 'generate', keys: ['a', 'b'] }]);
    t.fake.rough = { dropInlineKeys: (key) => key === 'b' };
    t.fake.answer(run.jobs[0] ?? '');
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(textOf(t.resultOf('a'))).toBe('answer to a');
    expect(t.resultOf('b')?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(t.unmatched()).toMatchObject([{ reason: 'NO_KEY', index: 1 }]);
  });

  it('gives an inline key answered twice differently neither answer, and keeps both with the stranger', async () => {
    const run = await t.submittedInline([{ kind: 'generate', keys: ['g1', 'g2'] }]);
    t.fake.rough = { duplicateKeys: ['g1'], foreignKeys: ['zz'] };
    const [job] = run.jobs as [string];
    const answers = t.fake.answer(job).inlineResponses ?? [];
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 1 });
    expect(textOf(t.resultOf('g2'))).toBe('answer to g2');
    expect(t.resultOf('g1')?.error).toEqual({
      status: 'NO_RESULT',
      message: expect.stringContaining('2 answers carrying this key, not all the same'),
    });
    expect(t.unmatched()).toEqual([
      { job, chunk: 0, reason: 'AMBIGUOUS_KEY', key: 'g1', index: 0, answer: answers[0] },
      { job, chunk: 0, reason: 'AMBIGUOUS_KEY', key: 'g1', index: 2, answer: answers[2] },
      { job, chunk: 0, reason: 'UNKNOWN_KEY', key: 'zz', index: 3, answer: answers[3] },
    ]);
    expect(await t.summary()).toMatchObject({
      duplicateResultCount: 2,
      unknownResultCount: 1,
      unmatchedCount: 3,
    });
  });

  it('uses an inline answer Gemini repeated identically, keeping the repeat', async () => {
    const run = await t.submittedInline([{ kind: 'embed', keys: ['e1', 'e2'] }]);
    const [job] = run.jobs as [string];
    const batch = t.fake.answer(job);
    const [first, second] = batch.inlineResponses ?? [];
    batch.inlineResponses = [second ?? {}, first ?? {}, first ?? {}];
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(vectorIn(t.resultOf('e1'))).toEqual(vectorOf('e1'));
    expect(t.unmatched()).toEqual([
      { job, chunk: 0, reason: 'DUPLICATE_KEY', key: 'e1', index: 2, answer: first },
    ]);
  });
});
