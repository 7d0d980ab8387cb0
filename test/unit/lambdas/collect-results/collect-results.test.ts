import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CollectDeps, collectResults } from '../../../../lambdas/collect-results/collect-results.js';
import { GeminiUnavailableError } from '../../../../lambdas/shared/errors.js';
import type { InlineRequest } from '../../../../lambdas/shared/gemini/gemini-batch-api.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import type { CollectSummary, RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import {
  ANSWER_USAGE,
  answerAll,
  EMBED_TOKEN_COUNT,
  embedAnswer,
  errorAnswer,
  FakeGemini,
  generateAnswer,
  vectorOf,
} from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  type ChunkSpec,
  fixedNow,
  INPUT_PREFIX,
  MODELS,
  pollRecord,
  RESULTS_ROOT,
  RUN_ID,
  rejection,
  runState,
  submitDirectly,
  usage,
  WORK,
  writeLedger,
  writePlan,
  writePollStatus,
} from '../run-fixtures.js';

const RESULTS_KEY = `${RESULTS_ROOT}results.jsonl`;
const UNMATCHED_KEY = `${RESULTS_ROOT}unmatched.jsonl`;

let tmpDir: string;
let store: MemoryObjectStore;
let fake: FakeGemini;

beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'collect-results-'));
  store = new MemoryObjectStore();
  fake = new FakeGemini();
});

afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true });
});

const deps = (): CollectDeps => ({ store, gemini: fake, inputPrefix: INPUT_PREFIX, tmpDir, now: fixedNow });

interface Submitted {
  readonly plan: RunPlan;
  readonly jobs: string[];
}

/** A prepared and submitted run: chunk files, plan, ledgers, and a job per chunk on the fake. */
async function submitted(chunks: readonly ChunkSpec[]): Promise<Submitted> {
  const plan = await writePlan(store, chunks);
  return { plan, jobs: await submitDirectly(store, fake, plan) };
}

/** A prepared run whose chunks went inline: each chunk's requests are an inline job on the fake. */
async function submittedInline(chunks: readonly ChunkSpec[]): Promise<Submitted> {
  const plan = await writePlan(store, chunks);
  const jobs: string[] = [];
  for (const chunk of plan.chunks) {
    const inlineRequests = (store.text(BUCKET, chunk.key) ?? '')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as InlineRequest);
    const displayName = jobDisplayName(RUN_ID, chunk.index);
    const batch = fake.addBatch({
      kind: chunk.kind,
      model: chunk.model,
      displayName,
      fileName: '',
      inlineRequests,
    });
    await writeLedger(store, { chunk: chunk.index, displayName, inline: true, batchName: batch.name });
    jobs.push(batch.name);
  }
  return { plan, jobs };
}

/** Records what Poll saw last, once the test has ended the jobs. */
async function polled({ jobs }: Submitted): Promise<void> {
  await writePollStatus(
    store,
    jobs.map((name, chunk) => pollRecord(fake, chunk, name)),
  );
}

const results = () => store.jsonLines(BUCKET, RESULTS_KEY);
const unmatched = () => store.jsonLines(BUCKET, UNMATCHED_KEY);
const resultOf = (key: string) => results().find((line) => line.key === key);
/** The text a generate answer carries, or the vector an embedding carries. */
const textOf = (line: Record<string, unknown> | undefined) =>
  (line?.response as { candidates: { content: { parts: { text: string }[] } }[] } | undefined)?.candidates[0]
    ?.content.parts[0]?.text;
const vectorIn = (line: Record<string, unknown> | undefined) =>
  (line?.response as { embedding?: { values: number[] } } | undefined)?.embedding?.values;
const summary = () => store.getJson<CollectSummary>(BUCKET, WORK.collected);
const keysOf = (lines: Record<string, unknown>[]) => lines.map((line) => line.key);

describe('collectResults', () => {
  it('writes every accepted key exactly once, as {key, response}', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, { results: [generateAnswer('c'), generateAnswer('a'), generateAnswer('b')] });
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 3, failedCount: 0 });
    expect(keysOf(results())).toEqual(['a', 'b', 'c']);
    expect(results()[0]).toEqual({ key: 'a', response: JSON.parse(generateAnswer('a')).response });
  });

  it("writes results in the input's order even when chunks interleave in the input", async () => {
    // writePlan numbers lines chunk after chunk; interleave them as a mixed file would be.
    const run = await submitted([
      { kind: 'generate', keys: ['g1', 'g2'] },
      { kind: 'embed', keys: ['e1', 'e2'] },
    ]);
    store.put(BUCKET, WORK.chunkKeys(0), '[1,"g1"]\n[3,"g2"]\n');
    store.put(BUCKET, WORK.chunkKeys(1), '[2,"e1"]\n[4,"e2"]\n');
    // As Prepare records it: each chunk's first line is the first line of its keys file.
    await store.putJson(BUCKET, WORK.plan, {
      ...run.plan,
      chunks: run.plan.chunks.map((chunk, index) => ({ ...chunk, firstLine: index + 1 })),
    });
    for (const job of run.jobs) fake.answer(job);
    await polled(run);

    await collectResults(runState(), deps());

    expect(keysOf(results())).toEqual(['g1', 'e1', 'g2', 'e2']);
  });

  it('fetches at most one chunk ahead of the merge, not every chunk at once', async () => {
    const run = await submitted([
      { kind: 'generate', keys: ['a', 'b'] },
      { kind: 'generate', keys: ['c', 'd'] },
      { kind: 'generate', keys: ['e', 'f'] },
    ]);
    for (const job of run.jobs) fake.answer(job);
    await polled(run);
    let downloads = 0;
    const gemini = Object.create(fake) as FakeGemini;
    gemini.downloadFile = async (fileName, path) => {
      downloads += 1;
      return fake.downloadFile(fileName, path);
    };
    const writes: number[] = [];
    const watched = Object.create(store) as MemoryObjectStore;
    watched.openLineWriter = (bucket, key) => {
      const writer = store.openLineWriter(bucket, key);
      const write = (line: string) => {
        writes.push(downloads);
        return writer.write(line);
      };
      return { ...writer, write };
    };

    await collectResults(runState(), { ...deps(), gemini, store: watched });

    // While chunk 0 is written, only chunk 1 is fetched ahead; chunk 2 waits until chunk 1 is merged.
    expect(writes).toEqual([2, 2, 3, 3, 3, 3]);
    expect(keysOf(results())).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('answers every key of a chunk abandoned at the submit deadline with NOT_SUBMITTED, in input order', async () => {
    const plan = await writePlan(store, [
      { kind: 'generate', keys: ['a', 'b'] },
      { kind: 'generate', keys: ['c'] },
    ]);
    const [job] = await submitDirectly(store, fake, { ...plan, chunks: plan.chunks.slice(0, 1) });
    fake.answer(job ?? '');
    await store.putJson(BUCKET, WORK.pollStatus, {
      polledAt: fixedNow().toISOString(),
      jobs: [pollRecord(fake, 0, job ?? '')],
      abandonedChunks: [1],
    });

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 2, failedCount: 1 });
    expect(keysOf(results())).toEqual(['a', 'b', 'c']);
    expect(results()[2]?.error).toEqual({
      status: 'NOT_SUBMITTED',
      message: expect.stringContaining('before the submit deadline'),
    });
  });

  it('answers every key of a chunk Gemini refused to create with CREATE_REFUSED, in input order', async () => {
    const plan = await writePlan(store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b', 'c'] },
    ]);
    const [job] = await submitDirectly(store, fake, { ...plan, chunks: plan.chunks.slice(0, 1) });
    fake.answer(job ?? '');
    const createError = { code: 400, message: 'Gemini refused to create batch job (HTTP 400): bad request' };
    await writeLedger(store, { chunk: 1, displayName: jobDisplayName(RUN_ID, 1), createError });
    await store.putJson(BUCKET, WORK.pollStatus, {
      polledAt: fixedNow().toISOString(),
      jobs: [pollRecord(fake, 0, job ?? '')],
      refusedChunks: [1],
    });

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 2 });
    expect(keysOf(results())).toEqual(['a', 'b', 'c']);
    for (const line of results().slice(1)) {
      expect(line.error).toEqual({
        status: 'CREATE_REFUSED',
        message: `Gemini refused to create this chunk's batch job, so this request was not sent: ${createError.message}`,
      });
    }
    expect(await summary()).toMatchObject({ succeededCount: 1, failedCount: 2, missingCount: 0 });
  });

  it("answers the keys of a refused OpenAI-format chunk in OpenAI's error shape", async () => {
    const plan = await writePlan(store, [{ kind: 'generate', keys: ['r-1', 'r-2'] }]);
    await store.putJson(BUCKET, WORK.plan, {
      ...plan,
      chunks: plan.chunks.map((chunk) => ({ ...chunk, format: 'openai' })),
    });
    await writeLedger(store, {
      chunk: 0,
      displayName: jobDisplayName(RUN_ID, 0),
      createError: { code: 400, message: 'refused' },
    });
    await store.putJson(BUCKET, WORK.pollStatus, {
      polledAt: fixedNow().toISOString(),
      jobs: [],
      refusedChunks: [0],
    });

    await collectResults(runState(), deps());

    expect(results()).toEqual([
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

  describe('a file job recorded SUCCEEDED without a result file', () => {
    /** One file chunk whose job has succeeded, recorded by Poll before Gemini named its file. */
    async function recordedWithoutFile(): Promise<string> {
      const run = await submitted([{ kind: 'embed', keys: ['a', 'b'] }]);
      const [job] = run.jobs as [string];
      fake.setState(job, 'BATCH_STATE_SUCCEEDED');
      await writePollStatus(store, [
        { ...pollRecord(fake, 0, job), inline: false, responsesFileGivenUp: true },
      ]);
      return job;
    }

    it('asks Gemini once more and reads the file it names now, never the inline path', async () => {
      const job = await recordedWithoutFile();
      fake.answer(job);

      const outcome = await collectResults(runState(), deps());

      expect(outcome).toEqual({ succeededCount: 2, failedCount: 0 });
      expect(vectorIn(resultOf('a'))).toEqual(vectorOf('a'));
      expect(fake.calls.getBatch).toBe(1);
      expect(fake.calls.getInlineResponses).toBe(0);
    });

    it('answers each key with NO_RESULT_FILE naming the job when Gemini still names none', async () => {
      const job = await recordedWithoutFile();

      const outcome = await collectResults(runState(), deps());

      expect(outcome).toEqual({ succeededCount: 0, failedCount: 2 });
      expect(results()).toEqual(
        ['a', 'b'].map((key) => ({
          key,
          error: {
            status: 'NO_RESULT_FILE',
            message: expect.stringContaining(`${job} SUCCEEDED but never named`),
          },
        })),
      );
      expect(fake.calls.getInlineResponses).toBe(0);
      expect(fake.calls.downloadFile).toBe(0);
    });

    it('reads an inline job by its ledger, without asking for a file', async () => {
      const run = await submittedInline([{ kind: 'generate', keys: ['a'] }]);
      fake.answer(run.jobs[0] ?? '');
      await polled(run);

      await collectResults(runState(), deps());

      expect(resultOf('a')?.response).toBeDefined();
      expect(fake.calls.getBatch).toBe(0);
      expect(fake.calls.getInlineResponses).toBe(1);
    });
  });

  it('counts a duplicate that follows an out-of-order line, and writes each key once', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, {
      results: [generateAnswer('a'), generateAnswer('c'), generateAnswer('a', 'again'), generateAnswer('b')],
    });
    await polled(run);

    await collectResults(runState(), deps());

    expect(keysOf(results())).toEqual(['a', 'b', 'c']);
    expect(results()[0]).toEqual({ key: 'a', response: JSON.parse(generateAnswer('a')).response });
    expect(await summary()).toMatchObject({
      duplicateResultCount: 1,
      unknownResultCount: 0,
      missingCount: 0,
    });
  });

  it.each(['reversed', 'shuffled'] as const)(
    'ties inline answers of both kinds to their keys by the echoed key, answers %s',
    async (order) => {
      const run = await submittedInline([
        { kind: 'generate', keys: ['g1', 'g2', 'g3'] },
        { kind: 'embed', keys: ['e1', 'e2', 'e3'] },
      ]);
      fake.rough = { inlineOrder: order };
      for (const job of run.jobs) fake.answer(job);
      await polled(run);

      const outcome = await collectResults(runState(), deps());

      expect(outcome).toEqual({ succeededCount: 6, failedCount: 0 });
      expect(keysOf(results())).toEqual(['g1', 'g2', 'g3', 'e1', 'e2', 'e3']);
      for (const key of ['g1', 'g2', 'g3']) expect(textOf(resultOf(key))).toBe(`answer to ${key}`);
      for (const key of ['e1', 'e2', 'e3']) expect(vectorIn(resultOf(key))).toEqual(vectorOf(key));
      expect(unmatched()).toEqual([]);
    },
  );

  it('gives each of 30 keys of a shuffled inline embedding batch its own vector', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `doc-${i}`);
    const run = await submittedInline([{ kind: 'embed', keys }]);
    fake.rough = { inlineOrder: 'shuffled' };
    const [job] = run.jobs as [string];
    const batch = fake.answer(job);
    // The fake really did scramble them: position would have given most keys another key's vector.
    const misplaced = batch.inlineResponses?.filter((answer, i) => answer.metadata?.key !== keys[i]).length;
    expect(misplaced).toBeGreaterThan(20);
    await polled(run);

    await collectResults(runState(), deps());

    for (const key of keys) expect(vectorIn(resultOf(key))).toEqual(vectorOf(key));
  });

  it('never writes inline answers without their key under a key: NO_RESULT, and the answers kept in unmatched.jsonl', async () => {
    const run = await submittedInline([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    fake.rough = { dropInlineKeys: true };
    const [job] = run.jobs as [string];
    const answered = fake.answer(job).inlineResponses ?? [];
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 0, failedCount: 3 });
    for (const line of results()) {
      expect(line.error).toEqual({
        status: 'NO_RESULT',
        message: expect.stringMatching(
          new RegExp(
            `job ${job} .*3 answers that could not be tied to a key \\(3 without their key\\).*unmatched\\.jsonl`,
          ),
        ),
      });
    }
    expect(unmatched()).toEqual(
      answered.map((answer, index) => ({ job, chunk: 0, reason: 'NO_KEY', index, answer })),
    );
    expect(await summary()).toMatchObject({ unmatchedCount: 3, unknownResultCount: 3, missingCount: 3 });
  });

  it('answers the keys whose echo came back and only those, whatever the order', async () => {
    const run = await submittedInline([{ kind: 'embed', keys: ['e1', 'e2', 'e3', 'e4'] }]);
    fake.rough = { inlineOrder: 'reversed', dropInlineKeys: (key) => key === 'e2' };
    const [job] = run.jobs as [string];
    fake.answer(job);
    await polled(run);

    await collectResults(runState(), deps());

    for (const key of ['e1', 'e3', 'e4']) expect(vectorIn(resultOf(key))).toEqual(vectorOf(key));
    expect(resultOf('e2')?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(unmatched()).toEqual([
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
    const run = await submittedInline([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    const batch = fake.answer(job);
    batch.inlineResponses = [null, ...(batch.inlineResponses ?? []).slice(1), 'text'] as never;
    await polled(run);

    await collectResults(runState(), deps());

    expect(resultOf('a')?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(textOf(resultOf('b'))).toBe('answer to b');
    expect(unmatched()).toEqual([
      { job, chunk: 0, reason: 'NO_KEY', index: 0, answer: null },
      { job, chunk: 0, reason: 'NO_KEY', index: 2, answer: 'text' },
    ]);
  });

  it('ties the one unkeyed answer of a one-request inline job to that request', async () => {
    const run = await submittedInline([{ kind: 'generate', keys: ['only'] }]);
    fake.rough = { dropInlineKeys: true };
    fake.answer(run.jobs[0] ?? '');
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 0 });
    expect(textOf(resultOf('only'))).toBe('answer to only');
    expect(unmatched()).toEqual([]);
  });

  it('ties nothing by elimination in a job of two requests, even with one key and one unkeyed answer left', async () => {
    const run = await submittedInline([{ kind: 'generate', keys: ['a', 'b'] }]);
    fake.rough = { dropInlineKeys: (key) => key === 'b' };
    fake.answer(run.jobs[0] ?? '');
    await polled(run);

    await collectResults(runState(), deps());

    expect(textOf(resultOf('a'))).toBe('answer to a');
    expect(resultOf('b')?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(unmatched()).toMatchObject([{ reason: 'NO_KEY', index: 1 }]);
  });

  it('gives an inline key answered twice differently neither answer, and keeps both with the stranger', async () => {
    const run = await submittedInline([{ kind: 'generate', keys: ['g1', 'g2'] }]);
    fake.rough = { duplicateKeys: ['g1'], foreignKeys: ['zz'] };
    const [job] = run.jobs as [string];
    const answers = fake.answer(job).inlineResponses ?? [];
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 1 });
    expect(textOf(resultOf('g2'))).toBe('answer to g2');
    expect(resultOf('g1')?.error).toEqual({
      status: 'NO_RESULT',
      message: expect.stringContaining('2 answers carrying this key, not all the same'),
    });
    expect(unmatched()).toEqual([
      { job, chunk: 0, reason: 'AMBIGUOUS_KEY', key: 'g1', index: 0, answer: answers[0] },
      { job, chunk: 0, reason: 'AMBIGUOUS_KEY', key: 'g1', index: 2, answer: answers[2] },
      { job, chunk: 0, reason: 'UNKNOWN_KEY', key: 'zz', index: 3, answer: answers[3] },
    ]);
    expect(await summary()).toMatchObject({
      duplicateResultCount: 2,
      unknownResultCount: 1,
      unmatchedCount: 3,
    });
  });

  it('uses an inline answer Gemini repeated identically, keeping the repeat', async () => {
    const run = await submittedInline([{ kind: 'embed', keys: ['e1', 'e2'] }]);
    const [job] = run.jobs as [string];
    const batch = fake.answer(job);
    const [first, second] = batch.inlineResponses ?? [];
    batch.inlineResponses = [second ?? {}, first ?? {}, first ?? {}];
    await polled(run);

    await collectResults(runState(), deps());

    expect(vectorIn(resultOf('e1'))).toEqual(vectorOf('e1'));
    expect(unmatched()).toEqual([
      { job, chunk: 0, reason: 'DUPLICATE_KEY', key: 'e1', index: 2, answer: first },
    ]);
  });

  it('keeps duplicate and foreign result-file lines in unmatched.jsonl with their line, as they came', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    const second = generateAnswer('a', 'second');
    const stranger = generateAnswer('stranger');
    const unkeyed = JSON.stringify({ response: { candidates: [] } });
    fake.finish(job, {
      results: [generateAnswer('a'), second, generateAnswer('b'), stranger, unkeyed, 'not json'],
    });
    await polled(run);

    await collectResults(runState(), deps());

    expect(textOf(resultOf('a'))).toBe('answer to a');
    expect(unmatched()).toEqual([
      { job, chunk: 0, reason: 'DUPLICATE_KEY', key: 'a', line: 2, answer: JSON.parse(second) },
      { job, chunk: 0, reason: 'UNKNOWN_KEY', key: 'stranger', line: 4, answer: JSON.parse(stranger) },
      { job, chunk: 0, reason: 'NO_KEY', line: 5, answer: JSON.parse(unkeyed) },
      { job, chunk: 0, reason: 'NOT_JSON', line: 6, text: 'not json' },
    ]);
    expect(await summary()).toMatchObject({ unmatchedCount: 4 });
  });

  it('keeps what follows a complete lockstep file in unmatched.jsonl too', async () => {
    const run = await submitted([{ kind: 'embed', keys: ['e1', 'e2'] }]);
    const [job] = run.jobs as [string];
    fake.rough = { duplicateKeys: ['e2'], foreignKeys: ['x'] };
    fake.answer(job);
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 2, failedCount: 0 });
    expect(vectorIn(resultOf('e2'))).toEqual(vectorOf('e2'));
    expect(unmatched().map(({ reason, key, line }) => ({ reason, key, line }))).toEqual([
      { reason: 'DUPLICATE_KEY', key: 'e2', line: 3 },
      { reason: 'UNKNOWN_KEY', key: 'x', line: 4 },
    ]);
  });

  it('gives every key its own answer from a shuffled result file, and none to a key answered twice differently', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k-${i}`);
    const run = await submitted([{ kind: 'generate', keys }]);
    fake.rough = { fileOrder: 'shuffled', duplicateKeys: ['k-3', 'k-17'], foreignKeys: ['n-1'] };
    fake.answer(run.jobs[0] ?? '');
    await polled(run);

    await collectResults(runState(), deps());

    expect(keysOf(results())).toEqual(keys);
    for (const key of keys.filter((key) => key !== 'k-3' && key !== 'k-17')) {
      expect(textOf(resultOf(key))).toBe(`answer to ${key}`);
    }
    for (const key of ['k-3', 'k-17']) expect(resultOf(key)?.error).toMatchObject({ status: 'NO_RESULT' });
    expect(
      unmatched()
        .map((line) => line.reason)
        .sort(),
    ).toEqual(['AMBIGUOUS_KEY', 'AMBIGUOUS_KEY', 'AMBIGUOUS_KEY', 'AMBIGUOUS_KEY', 'UNKNOWN_KEY']);
  });

  it('keeps the answer read at its place in an in-order file over a later different repeat', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    const [job] = run.jobs as [string];
    const again = generateAnswer('a', 'misfiled');
    fake.finish(job, { results: [generateAnswer('a'), generateAnswer('c'), again, generateAnswer('b')] });
    await polled(run);

    await collectResults(runState(), deps());

    expect(textOf(resultOf('a'))).toBe('answer to a');
    expect(unmatched()).toEqual([
      { job, chunk: 0, reason: 'DUPLICATE_KEY', key: 'a', line: 3, answer: JSON.parse(again) },
    ]);
  });

  it('uses an out-of-order answer whose repeat is identical', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, { results: [generateAnswer('b'), generateAnswer('a'), generateAnswer('b')] });
    await polled(run);

    await collectResults(runState(), deps());

    expect(textOf(resultOf('b'))).toBe('answer to b');
    expect(unmatched()).toMatchObject([{ reason: 'DUPLICATE_KEY', key: 'b', line: 3 }]);
  });

  it('does not pass through a result line that names key twice, which readers could take for the other key', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a'] }]);
    const { response } = JSON.parse(generateAnswer('b'));
    // JSON.parse keeps the last `key`; a reader keeping the first would see b's answer.
    fake.finish(run.jobs[0] ?? '', {
      results: [`{"key":"b","response":${JSON.stringify(response)},"key":"a"}`],
    });
    await polled(run);

    await collectResults(runState(), deps());

    expect(store.text(BUCKET, RESULTS_KEY)).toBe(`${JSON.stringify({ key: 'a', response })}\n`);
  });

  it('writes an empty unmatched.jsonl when every answer found its key', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a'] }]);
    fake.answer(run.jobs[0] ?? '');
    await polled(run);
    await collectResults(runState(), deps());
    expect(store.text(BUCKET, UNMATCHED_KEY)).toBe('');
    expect(await summary()).toMatchObject({ unmatchedCount: 0 });
  });

  it.each(['downloadFile', 'getInlineResponses'] as const)(
    'lets a 429 on %s through as GeminiRateLimitError, writing nothing, for the workflow to retry',
    async (method) => {
      const run =
        method === 'downloadFile'
          ? await submitted([{ kind: 'generate', keys: ['a'] }])
          : await submittedInline([{ kind: 'generate', keys: ['a'] }]);
      fake.answer(run.jobs[0] ?? '');
      await polled(run);
      fake.rateLimit(method);

      const error = await rejection(collectResults(runState(), deps()));

      expect(error.name).toBe('GeminiRateLimitError');
      expect(store.text(BUCKET, RESULTS_KEY)).toBeUndefined();
      expect(store.text(BUCKET, UNMATCHED_KEY)).toBeUndefined();
      expect(await summary()).toBeUndefined();
    },
  );

  it('normalizes result lines to {key, response} whatever their field order or extra fields', async () => {
    const run = await submitted([{ kind: 'embed', keys: ['e1'] }]);
    const [job] = run.jobs as [string];
    const { response } = JSON.parse(embedAnswer('e1'));
    fake.finish(job, { results: [JSON.stringify({ response, metadata: { note: 'x' }, key: 'e1' })] });
    await polled(run);
    await collectResults(runState(), deps());
    expect(results()).toEqual([{ key: 'e1', response }]);
    expect(Object.keys(results()[0] ?? {})).toEqual(['key', 'response']);
  });

  it("passes Gemini's per-request errors through as {key, error}", async () => {
    const run = await submitted([{ kind: 'generate', keys: ['ok', 'bad'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, {
      results: [generateAnswer('ok'), errorAnswer('bad', 'Request contains an invalid argument.', 3)],
    });
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 1 });
    expect(results()[1]).toEqual({
      key: 'bad',
      error: { code: 3, message: 'Request contains an invalid argument.' },
    });
  });

  it("gives every key missing from Gemini's output a NO_RESULT error", async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b', 'c', 'd'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, { results: [generateAnswer('b')] });
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 3 });
    const missing = results().filter((line) => line.error);
    expect(keysOf(missing).sort()).toEqual(['a', 'c', 'd']);
    for (const line of missing) {
      expect(line.error).toEqual({ status: 'NO_RESULT', message: expect.stringContaining(job) });
    }
    expect(await summary()).toMatchObject({ missingCount: 3 });
  });

  it('counts duplicate result lines and writes only the first', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, {
      results: [
        generateAnswer('a', 'first'),
        generateAnswer('b'),
        generateAnswer('a', 'second'),
        errorAnswer('a'),
      ],
    });
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 2, failedCount: 0 });
    expect(results().filter((line) => line.key === 'a')).toEqual([JSON.parse(generateAnswer('a', 'first'))]);
    expect(await summary()).toMatchObject({ duplicateResultCount: 2 });
  });

  it('counts result lines for keys it never sent and does not write them', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, {
      results: [
        generateAnswer('a'),
        generateAnswer('stranger'),
        JSON.stringify({ response: { candidates: [] } }),
      ],
    });
    await polled(run);

    await collectResults(runState(), deps());

    expect(keysOf(results())).toEqual(['a']);
    expect(await summary()).toMatchObject({ unknownResultCount: 2, succeededCount: 1 });
  });

  it.each(['BATCH_STATE_FAILED', 'BATCH_STATE_EXPIRED', 'BATCH_STATE_CANCELLED'])(
    'gives every key of a job that ended %s a JOB_NOT_SUCCEEDED error with the job error',
    async (state) => {
      const run = await submitted([
        { kind: 'generate', keys: ['g1', 'g2'] },
        { kind: 'embed', keys: ['e1'] },
      ]);
      const [generateJob, embedJob] = run.jobs as [string, string];
      fake.finish(generateJob, { state, error: { code: 8, message: 'quota exhausted for this model' } });
      fake.answer(embedJob);
      await polled(run);

      const outcome = await collectResults(runState(), deps());

      expect(outcome).toEqual({ succeededCount: 1, failedCount: 2 });
      const failed = results().filter((line) => line.error);
      expect(keysOf(failed)).toEqual(['g1', 'g2']);
      for (const line of failed) {
        expect(line.error).toEqual({
          status: 'JOB_NOT_SUCCEEDED',
          message: expect.stringMatching(
            new RegExp(`${generateJob} ended ${state}: quota exhausted for this model`),
          ),
        });
      }
      expect(fake.calls.downloadFile).toBe(1); // only the embed job's output
    },
  );

  it('sums token usage per model, from usageMetadata and from embedding tokenCount strings', async () => {
    const run = await submitted([
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
    fake.finish(generateJob, {
      results: [generateAnswer('g1'), generateAnswer('g2', 'thought hard', thinking), errorAnswer('g3')],
    });
    fake.answer(embedJob);
    await polled(run);

    await collectResults(runState(), deps());

    expect((await summary())?.usageByModel).toEqual({
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

  it('writes a summary to collected.json', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b', 'c'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, {
      results: [generateAnswer('a'), errorAnswer('b'), generateAnswer('a'), generateAnswer('zz')],
    });
    await polled(run);

    await collectResults(runState(), deps());

    expect(await summary()).toEqual({
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
    const run = await submitted([
      { kind: 'generate', keys: generateKeys },
      { kind: 'embed', keys: embedKeys },
    ]);
    for (const job of run.jobs) fake.answer(job);
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 65, failedCount: 0 });
    const lines = results();
    expect(keysOf(lines)).toEqual([...generateKeys, ...embedKeys]);
    expect(lines.find((line) => line.key === 'e-3')?.response).toMatchObject({
      embedding: { values: expect.any(Array) },
    });
    expect(lines.find((line) => line.key === 'g-3')?.response).toMatchObject({
      candidates: expect.any(Array),
    });
  });

  it('keeps one line per accepted key whatever mix of answers, errors, gaps and strays Gemini returns', async () => {
    const keys = Array.from({ length: 120 }, (_, i) => `k-${i}`);
    const run = await submitted([{ kind: 'generate', keys }]);
    const [job] = run.jobs as [string];
    const output = answerAll(fake.inputLines(job)).flatMap((line, i) => {
      if (i % 7 === 0) return []; // missing
      if (i % 5 === 0) return [errorAnswer(`k-${i}`)];
      if (i % 11 === 0) return [line, line]; // duplicated
      if (i % 13 === 0) return [line, generateAnswer(`other-${i}`)]; // plus a stray
      return [line];
    });
    fake.finish(job, { results: output });
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(keysOf(results()).sort()).toEqual([...keys].sort());
    expect(outcome.succeededCount + outcome.failedCount).toBe(keys.length);
  });

  it('counts a result line that is not JSON and still writes every key', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, { results: [generateAnswer('a'), '{"key":"b","response":'] });
    await polled(run);

    const outcome = await collectResults(runState(), deps());

    expect(outcome).toEqual({ succeededCount: 1, failedCount: 1 });
    expect(results()[1]).toMatchObject({ key: 'b', error: { status: 'NO_RESULT' } });
    expect(await summary()).toMatchObject({ unknownResultCount: 1 });
  });

  it('removes its downloaded result files', async () => {
    const run = await submitted([
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    for (const job of run.jobs) fake.answer(job);
    await polled(run);
    await collectResults(runState(), deps());
    expect(fake.calls.downloadFile).toBe(2);
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it('throws RunStateError and writes no results when a chunk has no polled job', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a'] }]);
    await writePollStatus(store, []);
    expect(run.jobs).toHaveLength(1);
    const error = await rejection(collectResults(runState(), deps()));
    expect(error.name).toBe('RunStateError');
    expect(store.text(BUCKET, RESULTS_KEY)).toBeUndefined();
    expect(await summary()).toBeUndefined();
  });

  it('lets a failed download through with its name, and writes no results', async () => {
    const run = await submitted([{ kind: 'generate', keys: ['a'] }]);
    for (const job of run.jobs) fake.answer(job);
    await polled(run);
    fake.failNext('downloadFile', new GeminiUnavailableError('connection reset'));
    const error = await rejection(collectResults(runState(), deps()));
    expect(error.name).toBe('GeminiUnavailableError');
    expect(store.text(BUCKET, RESULTS_KEY)).toBeUndefined();
    expect(await readdir(tmpDir)).toEqual([]);
  });
});
