import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectResults } from '../../../../lambdas/collect-results/collect-results.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import {
  ANSWER_USAGE,
  EMBED_TOKEN_COUNT,
  embedAnswer,
  errorAnswer,
  generateAnswer,
} from '../../../support/fake-gemini.js';
import {
  BUCKET,
  fixedNow,
  MODELS,
  RUN_ID,
  runState,
  usage,
  WORK,
  writeLedger,
  writePlan,
} from '../run-fixtures.js';
import { CollectTestbed, RESULTS_KEY } from './collect-testbed.js';

let t: CollectTestbed;

beforeEach(async () => {
  t = await CollectTestbed.create();
});

afterEach(async () => {
  await t.remove();
});

describe('collectResults: result line formats', () => {
  it("answers the keys of a refused OpenAI-format chunk in OpenAI's error shape", async () => {
    const plan = await writePlan(t.store, [{ kind: 'generate', keys: ['r-1', 'r-2'] }]);
    await t.store.putJson(BUCKET, WORK.plan, {
      ...plan,
      chunks: plan.chunks.map((chunk) => ({ ...chunk, format: 'openai' })),
    });
    await writeLedger(t.store, {
      chunk: 0,
      displayName: jobDisplayName(RUN_ID, 0),
      createError: { code: 400, message: 'refused' },
    });
    await t.store.putJson(BUCKET, WORK.pollStatus, {
      polledAt: fixedNow().toISOString(),
      jobs: [],
      refusedChunks: [0],
    });

    await collectResults(runState(), t.deps());

    expect(t.results()).toEqual([
      {
        custom_id: 'r-1',
        response: null,
        error: { code: 'CREATE_REFUSED', message: expect.stringContaining('refused to create') },
      },
      {
        custom_id: 'r-2',
        response: null,
        error: { code: 'CREATE_REFUSED', message: expect.stringContaining('refused to create') },
      },
    ]);
  });

  it('does not pass through a result line that names key twice, which readers could take for the other key', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a'] }]);
    const { response } = JSON.parse(generateAnswer('b'));
    // JSON.parse keeps the last `key`; a reader keeping the first would see b's answer.
    t.fake.finish(run.jobs[0] ?? '', {
      results: [`{"key":"b","response":${JSON.stringify(response)},"key":"a"}`],
    });
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(t.store.text(BUCKET, RESULTS_KEY)).toBe(`${JSON.stringify({ key: 'a', response })}\n`);
  });

  it('normalizes result lines to {key, response} whatever their field order or extra fields', async () => {
    const run = await t.submitted([{ kind: 'embed', keys: ['e1'] }]);
    const [job] = run.jobs as [string];
    const { response } = JSON.parse(embedAnswer('e1'));
    t.fake.finish(job, { results: [JSON.stringify({ response, metadata: { note: 'x' }, key: 'e1' })] });
    await t.polled(run);
    await collectResults(runState(), t.deps());
    expect(t.results()).toEqual([{ key: 'e1', response }]);
    expect(Object.keys(t.results()[0] ?? {})).toEqual(['key', 'response']);
  });

  it("passes Gemini's per-request errors through as {key, error}", async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['ok', 'bad'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, {
      results: [generateAnswer('ok'), errorAnswer('bad', 'Request contains an invalid argument.', 3)],
    });
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 1 });
    expect(t.results()[1]).toEqual({
      key: 'bad',
      error: { code: 3, message: 'Request contains an invalid argument.' },
    });
  });

  it('sums token usage per model, from usageMetadata and from embedding tokenCount strings', async () => {
    const run = await t.submitted([
      { kind: 'generate', keys: ['g1', 'g2', 'g3'] },
      { kind: 'embed', keys: ['e1', 'e2'] },
    ]);
    const [generateJob, embedJob] = run.jobs as [string, string];
    const thinking = {
      promptTokenCount: 4,
      candidatesTokenCount: 6,
      thoughtsTokenCount: 30,
      totalTokenCount: 40,
    };
    t.fake.finish(generateJob, {
      results: [generateAnswer('g1'), generateAnswer('g2', 'thought hard', thinking), errorAnswer('g3')],
    });
    t.fake.answer(embedJob);
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect((await t.summary())?.usageByModel).toEqual({
      [MODELS.generate]: usage({
        requestCount: 2,
        promptTokens: ANSWER_USAGE.promptTokenCount + 4,
        outputTokens: ANSWER_USAGE.candidatesTokenCount + 6,
        thoughtsTokens: 30,
        totalTokens: ANSWER_USAGE.totalTokenCount + 40,
      }),
      [MODELS.embed]: usage({
        requestCount: 2,
        promptTokens: 2 * EMBED_TOKEN_COUNT,
        outputTokens: 0,
        thoughtsTokens: 0,
        totalTokens: 2 * EMBED_TOKEN_COUNT,
      }),
    });
  });
});
