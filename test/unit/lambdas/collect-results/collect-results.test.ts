/**
 * Collect as a whole: every key once, in input order, whatever became of its chunk's job; what it
 * fetches and when; what it leaves behind; which failures it lets through. How answers are tied to
 * keys is in inline-answers and result-file-answers, the output shapes in result-formats. One file
 * past 300 lines because every case here needs the whole core on a whole run state; what a part can
 * show is in those files.
 */
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectResults } from '../../../../lambdas/collect-results/collect-results.js';
import { GeminiUnavailableError } from '../../../../lambdas/shared/errors.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import {
  ANSWER_USAGE,
  errorAnswer,
  type FakeGemini,
  generateAnswer,
  vectorOf,
} from '../../../support/fake-gemini.js';
import type { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  MODELS,
  pollRecord,
  RUN_ID,
  runState,
  submitDirectly,
  usage,
  WORK,
  writeLedger,
  writePlan,
  writePollStatus,
} from '../run-fixtures.js';
import { CollectTestbed, keysOf, RESULTS_KEY, UNMATCHED_KEY, vectorIn } from './collect-testbed.js';

let t: CollectTestbed;

beforeEach(async () => {
  t = await CollectTestbed.create();
});

afterEach(async () => {
  await t.remove();
});

describe('collectResults', () => {
  it('writes every accepted key exactly once, as {key, response}', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, { results: [generateAnswer('c'), generateAnswer('a'), generateAnswer('b')] });
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 3, failedCount: 0 });
    expect(keysOf(t.results())).toEqual(['a', 'b', 'c']);
    expect(t.results()[0]).toEqual({ key: 'a', response: JSON.parse(generateAnswer('a')).response });
  });

  it("writes results in the input's order even when chunks interleave in the input", async () => {
    // writePlan numbers lines chunk after chunk; interleave them as a mixed file would be.
    const run = await t.submitted([
      { kind: 'generate', keys: ['g1', 'g2'] },
      { kind: 'embed', keys: ['e1', 'e2'] },
    ]);
    t.store.put(BUCKET, WORK.chunkKeys(0), '[1,"g1"]\n[3,"g2"]\n');
    t.store.put(BUCKET, WORK.chunkKeys(1), '[2,"e1"]\n[4,"e2"]\n');
    // As Prepare records it: each chunk's first line is the first line of its keys file.
    await t.store.putJson(BUCKET, WORK.plan, {
      ...run.plan,
      chunks: run.plan.chunks.map((chunk, index) => ({ ...chunk, firstLine: index + 1 })),
    });
    for (const job of run.jobs) t.fake.answer(job);
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(keysOf(t.results())).toEqual(['g1', 'e1', 'g2', 'e2']);
  });

  it('fetches at most one chunk ahead of the merge, not every chunk at once', async () => {
    const run = await t.submitted([
      { kind: 'generate', keys: ['a', 'b'] },
      { kind: 'generate', keys: ['c', 'd'] },
      { kind: 'generate', keys: ['e', 'f'] },
    ]);
    for (const job of run.jobs) t.fake.answer(job);
    await t.polled(run);
    let downloads = 0;
    const gemini = Object.create(t.fake) as FakeGemini;
    gemini.downloadFile = async (fileName, path) => {
      downloads += 1;
      return t.fake.downloadFile(fileName, path);
    };
    const writes: number[] = [];
    const watched = Object.create(t.store) as MemoryObjectStore;
    watched.openLineWriter = (bucket, key) => {
      const writer = t.store.openLineWriter(bucket, key);
      const write = (line: string) => {
        writes.push(downloads);
        return writer.write(line);
      };
      return { ...writer, write };
    };

    await collectResults(runState(), { ...t.deps(), gemini, store: watched });

    // While chunk 0 is written, only chunk 1 is fetched ahead; chunk 2 waits until chunk 1 is merged.
    expect(writes).toEqual([2, 2, 3, 3, 3, 3]);
    expect(keysOf(t.results())).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('answers every key of a chunk abandoned at the submit deadline with NOT_SUBMITTED, in input order', async () => {
    const plan = await writePlan(t.store, [
      { kind: 'generate', keys: ['a', 'b'] },
      { kind: 'generate', keys: ['c'] },
    ]);
    const [job] = await submitDirectly(t.store, t.fake, { ...plan, chunks: plan.chunks.slice(0, 1) });
    t.fake.answer(job ?? '');
    await t.store.putJson(BUCKET, WORK.pollStatus, {
      polledAt: fixedNow().toISOString(),
      jobs: [pollRecord(t.fake, 0, job ?? '')],
      abandonedChunks: [1],
    });

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 2, failedCount: 1 });
    expect(keysOf(t.results())).toEqual(['a', 'b', 'c']);
    expect(t.results()[2]?.error).toEqual({
      status: 'NOT_SUBMITTED',
      message: expect.stringContaining('before the submit deadline'),
    });
  });

  it('answers every key of a chunk Gemini refused to create with CREATE_REFUSED, in input order', async () => {
    const plan = await writePlan(t.store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b', 'c'] },
    ]);
    const [job] = await submitDirectly(t.store, t.fake, { ...plan, chunks: plan.chunks.slice(0, 1) });
    t.fake.answer(job ?? '');
    const createError = { code: 400, message: 'Gemini refused to create batch job (HTTP 400): bad request' };
    await writeLedger(t.store, { chunk: 1, displayName: jobDisplayName(RUN_ID, 1), createError });
    await t.store.putJson(BUCKET, WORK.pollStatus, {
      polledAt: fixedNow().toISOString(),
      jobs: [pollRecord(t.fake, 0, job ?? '')],
      refusedChunks: [1],
    });

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 2 });
    expect(keysOf(t.results())).toEqual(['a', 'b', 'c']);
    for (const line of t.results().slice(1)) {
      expect(line.error).toEqual({
        status: 'CREATE_REFUSED',
        message: `Gemini refused to create this chunk's batch job, so this request was not sent: ${createError.message}`,
      });
    }
    expect(await t.summary()).toMatchObject({ succeededCount: 1, failedCount: 2, missingCount: 0 });
  });

  describe('a file job recorded SUCCEEDED without a result file', () => {
    /** One file chunk whose job has succeeded, recorded by Poll before Gemini named its file. */
    async function recordedWithoutFile(): Promise<string> {
      const run = await t.submitted([{ kind: 'embed', keys: ['a', 'b'] }]);
      const [job] = run.jobs as [string];
      t.fake.setState(job, 'BATCH_STATE_SUCCEEDED');
      await writePollStatus(t.store, [
        { ...pollRecord(t.fake, 0, job), inline: false, responsesFileGivenUp: true },
      ]);
      return job;
    }

    it('asks Gemini once more and reads the file it names now, never the inline path', async () => {
      const job = await recordedWithoutFile();
      t.fake.answer(job);

      const outcome = await collectResults(runState(), t.deps());

      expect(outcome).toEqual({ succeededCount: 2, failedCount: 0 });
      expect(vectorIn(t.resultOf('a'))).toEqual(vectorOf('a'));
      expect(t.fake.calls.getBatch).toBe(1);
      expect(t.fake.calls.getInlineResponses).toBe(0);
    });

    it('answers each key with NO_RESULT_FILE naming the job when Gemini still names none', async () => {
      const job = await recordedWithoutFile();

      const outcome = await collectResults(runState(), t.deps());

      expect(outcome).toEqual({ succeededCount: 0, failedCount: 2 });
      expect(t.results()).toEqual(
        ['a', 'b'].map((key) => ({
          key,
          error: {
            status: 'NO_RESULT_FILE',
            message: expect.stringContaining(`${job} SUCCEEDED but never named`),
          },
        })),
      );
      expect(t.fake.calls.getInlineResponses).toBe(0);
      expect(t.fake.calls.downloadFile).toBe(0);
    });

    it('reads an inline job by its ledger, without asking for a file', async () => {
      const run = await t.submittedInline([{ kind: 'generate', keys: ['a'] }]);
      t.fake.answer(run.jobs[0] ?? '');
      await t.polled(run);

      await collectResults(runState(), t.deps());

      expect(t.resultOf('a')?.response).toBeDefined();
      expect(t.fake.calls.getBatch).toBe(0);
      expect(t.fake.calls.getInlineResponses).toBe(1);
    });
  });

  it('writes an empty unmatched.jsonl when every answer found its key', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a'] }]);
    t.fake.answer(run.jobs[0] ?? '');
    await t.polled(run);
    await collectResults(runState(), t.deps());
    expect(t.store.text(BUCKET, UNMATCHED_KEY)).toBe('');
    expect(await t.summary()).toMatchObject({ unmatchedCount: 0 });
  });

  it.each(['downloadFile', 'getInlineResponses'] as const)(
    'lets a 429 on %s through as GeminiRateLimitError, writing nothing, for the workflow to retry',
    async (method) => {
      const run =
        method === 'downloadFile'
          ? await t.submitted([{ kind: 'generate', keys: ['a'] }])
          : await t.submittedInline([{ kind: 'generate', keys: ['a'] }]);
      t.fake.answer(run.jobs[0] ?? '');
      await t.polled(run);
      t.fake.rateLimit(method);

      await expect(collectResults(runState(), t.deps())).rejects.toThrow(
        expect.objectContaining({ name: 'GeminiRateLimitError' }),
      );
      expect(t.store.text(BUCKET, RESULTS_KEY)).toBeUndefined();
      expect(t.store.text(BUCKET, UNMATCHED_KEY)).toBeUndefined();
      expect(await t.summary()).toBeUndefined();
    },
  );

  it.each(['BATCH_STATE_FAILED', 'BATCH_STATE_EXPIRED', 'BATCH_STATE_CANCELLED'])(
    'gives every key of a job that ended %s a JOB_NOT_SUCCEEDED error with the job error',
    async (state) => {
      const run = await t.submitted([
        { kind: 'generate', keys: ['g1', 'g2'] },
        { kind: 'embed', keys: ['e1'] },
      ]);
      const [generateJob, embedJob] = run.jobs as [string, string];
      t.fake.finish(generateJob, { state, error: { code: 8, message: 'quota exhausted for this model' } });
      t.fake.answer(embedJob);
      await t.polled(run);

      const outcome = await collectResults(runState(), t.deps());

      expect(outcome).toEqual({ succeededCount: 1, failedCount: 2 });
      const failed = t.results().filter((line) => line.error);
      expect(keysOf(failed)).toEqual(['g1', 'g2']);
      for (const line of failed) {
        expect(line.error).toEqual({
          status: 'JOB_NOT_SUCCEEDED',
          message: expect.stringMatching(
            new RegExp(`${generateJob} ended ${state}: quota exhausted for this model`),
          ),
        });
      }
      expect(t.fake.calls.downloadFile).toBe(1); // only the embed job's output
    },
  );

  it('writes a summary to collected.json', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    const [job] = run.jobs as [string];
    t.fake.finish(job, {
      results: [generateAnswer('a'), errorAnswer('b'), generateAnswer('a'), generateAnswer('zz')],
    });
    await t.polled(run);

    await collectResults(runState(), t.deps());

    expect(await t.summary()).toEqual({
      succeededCount: 1,
      failedCount: 2,
      missingCount: 1,
      duplicateResultCount: 1,
      unknownResultCount: 1,
      unmatchedCount: 2,
      usageByModel: {
        [MODELS.generate]: usage({
          requestCount: 1,
          promptTokens: ANSWER_USAGE.promptTokenCount,
          outputTokens: ANSWER_USAGE.candidatesTokenCount,
          totalTokens: ANSWER_USAGE.totalTokenCount,
        }),
      },
      collectedAt: fixedNow().toISOString(),
    });
  });

  it('collects every chunk of a mixed run, generate and embed', async () => {
    const generateKeys = Array.from({ length: 40 }, (_, i) => `g-${i}`);
    const embedKeys = Array.from({ length: 25 }, (_, i) => `e-${i}`);
    const run = await t.submitted([
      { kind: 'generate', keys: generateKeys },
      { kind: 'embed', keys: embedKeys },
    ]);
    for (const job of run.jobs) t.fake.answer(job);
    await t.polled(run);

    const outcome = await collectResults(runState(), t.deps());

    expect(outcome).toEqual({ succeededCount: 65, failedCount: 0 });
    const lines = t.results();
    expect(keysOf(lines)).toEqual([...generateKeys, ...embedKeys]);
    expect(lines.find((line) => line.key === 'e-3')?.response).toMatchObject({
      embedding: { values: expect.any(Array) },
    });
    expect(lines.find((line) => line.key === 'g-3')?.response).toMatchObject({
      candidates: expect.any(Array),
    });
  });

  it('removes its downloaded result files', async () => {
    const run = await t.submitted([
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    for (const job of run.jobs) t.fake.answer(job);
    await t.polled(run);
    await collectResults(runState(), t.deps());
    expect(t.fake.calls.downloadFile).toBe(2);
    expect(await readdir(t.tmpDir)).toEqual([]);
  });

  it('throws RunStateError and writes no results when a chunk has no polled job', async () => {
    await t.submitted([{ kind: 'generate', keys: ['a'] }]);
    await writePollStatus(t.store, []);
    await expect(collectResults(runState(), t.deps())).rejects.toThrow(
      expect.objectContaining({ name: 'RunStateError' }),
    );
    expect(t.store.text(BUCKET, RESULTS_KEY)).toBeUndefined();
    expect(await t.summary()).toBeUndefined();
  });

  it('lets a failed download through with its name, and writes no results', async () => {
    const run = await t.submitted([{ kind: 'generate', keys: ['a'] }]);
    for (const job of run.jobs) t.fake.answer(job);
    await t.polled(run);
    t.fake.failNext('downloadFile', new GeminiUnavailableError('connection reset'));
    await expect(collectResults(runState(), t.deps())).rejects.toThrow(
      expect.objectContaining({ name: 'GeminiUnavailableError' }),
    );
    expect(t.store.text(BUCKET, RESULTS_KEY)).toBeUndefined();
    expect(await readdir(t.tmpDir)).toEqual([]);
  });
});
