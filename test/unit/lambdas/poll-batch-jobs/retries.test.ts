import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectResults } from '../../../../lambdas/collect-results/collect-results.js';
import { type PollDeps, pollBatchJobs } from '../../../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import {
  DEFAULT_PENDING_TIMEOUT_SECONDS,
  DEFAULT_RETRY_CUTOFF_SECONDS,
  isTransientAnswer,
} from '../../../../lambdas/poll-batch-jobs/retries.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import type { CollectSummary, PollStatus, RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import { answerAll, FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  INPUT_PREFIX,
  RESULTS_ROOT,
  RUN_ID,
  runState,
  submitDirectly,
  WORK,
  writePlan,
} from '../run-fixtures.js';

let store: MemoryObjectStore;
let fake: FakeGemini;
let tmpDir: string;
let now: Date;

beforeEach(async () => {
  store = new MemoryObjectStore();
  fake = new FakeGemini();
  tmpDir = await mkdtemp(join(tmpdir(), 'retries-'));
  now = fixedNow();
});
afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true });
});

const SCHEDULE = { initialSeconds: 30, maxSeconds: 600, backoffRate: 1.5 };
const deps = (extra: Partial<PollDeps> = {}): PollDeps => ({
  store,
  gemini: fake,
  schedule: SCHEDULE,
  now: () => now,
  tmpDir,
  ...extra,
});
const poll = (extra: Partial<PollDeps> = {}) => pollBatchJobs(runState(), deps(extra));
const plan = async () => (await store.getJson<RunPlan>(BUCKET, WORK.plan)) as RunPlan;
const collect = async () => {
  await collectResults(runState(), { store, gemini: fake, inputPrefix: INPUT_PREFIX, tmpDir, now: fixedNow });
  const lines = (store.text(BUCKET, `${RESULTS_ROOT}results.jsonl`) ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map(
      (line) =>
        JSON.parse(line) as {
          key: string;
          response?: unknown;
          error?: { code?: number; status?: string; message: string };
        },
    );
  const summary = (await store.getJson<CollectSummary>(BUCKET, WORK.collected)) as CollectSummary;
  return { lines, summary };
};
/** The job Gemini holds for chunk `index`. */
const jobOf = (index: number) => fake.batchNamed(jobDisplayName(RUN_ID, index)).name;
const errorLine = (key: string, code: number) =>
  JSON.stringify({ key, error: { code, message: `failed with ${code}` } });

/** One embedding chunk (a file job) of keys a, b, c; its job ends with `results` for them. */
async function fileChunk(results: (answers: string[]) => string[]): Promise<void> {
  const [name] = await submitDirectly(
    store,
    fake,
    await writePlan(store, [{ kind: 'embed', keys: ['a', 'b', 'c'] }]),
  );
  if (!name) throw new Error('expected a job');
  fake.finish(name, { results: results(answerAll(fake.inputLines(name))) });
}

describe('isTransientAnswer', () => {
  it.each([
    [{ key: 'k', error: { code: 13, message: 'internal' } }, true],
    [{ key: 'k', error: { code: 8, message: 'exhausted' } }, true],
    [{ key: 'k', error: { code: 14, message: 'unavailable' } }, true],
    [{ key: 'k', error: { code: 4, message: 'deadline' } }, true],
    [{ key: 'k', error: { code: 503, message: 'unavailable' } }, true],
    [{ key: 'k', error: { message: 'quota', status: 'RESOURCE_EXHAUSTED' } }, true],
    [{ custom_id: 'k', response: { status_code: 500, body: {} } }, true],
    [{ key: 'k', error: { code: 3, message: 'invalid argument' } }, false],
    [{ key: 'k', error: { code: 400, message: 'bad request' } }, false],
    [{ custom_id: 'k', response: { status_code: 400, body: {} } }, false],
    [{ custom_id: 'k', response: { status_code: 200, body: {} } }, false],
    [{ key: 'k', response: { candidates: [] } }, false],
  ])('%j → %s', (answer, transient) => {
    expect(isTransientAnswer(answer)).toBe(transient);
  });
});

describe('transient line errors', () => {
  it('re-batches only the transiently failed requests, and Collect writes their new answer once', async () => {
    await fileChunk(([a, , ,]) => [a ?? '', errorLine('b', 13), errorLine('c', 400)]);
    const first = await poll();
    expect(first.allDone).toBe(false);
    const [, retry] = (await plan()).chunks;
    expect(retry).toMatchObject({
      index: 1,
      round: 1,
      retryOf: 0,
      retryReason: 'LINE_ERRORS',
      requestCount: 1,
      firstLine: 2,
    });
    expect(store.text(BUCKET, WORK.chunkKeys(1))).toBe('[2,"b"]\n');
    expect(store.text(BUCKET, WORK.chunk(1))).toContain('"key":"b"');
    expect(fake.calls.createBatch).toBe(1); // the retry chunk's job, created by the same pass

    fake.answer(jobOf(1));
    expect((await poll()).allDone).toBe(true);
    expect((await plan()).chunks).toHaveLength(2);
    const { lines, summary } = await collect();
    expect(lines.map((line) => line.key)).toEqual(['a', 'b', 'c']);
    expect(lines[1]?.response).toBeDefined();
    expect(lines[2]?.error?.code).toBe(400);
    expect(summary).toMatchObject({ succeededCount: 2, failedCount: 1 });
  });

  it('stops after lineRetryRounds, leaving the last attempt’s error', async () => {
    await fileChunk(([a, b]) => [a ?? '', b ?? '', errorLine('c', 14)]);
    expect((await poll({ lineRetryRounds: 1 })).allDone).toBe(false);
    fake.finish(jobOf(1), {
      results: [JSON.stringify({ key: 'c', error: { code: 14, message: 'round 1' } })],
    });
    expect((await poll({ lineRetryRounds: 1 })).allDone).toBe(true);
    expect((await plan()).chunks).toHaveLength(2);
    const { lines, summary } = await collect();
    expect(lines.map((line) => line.key)).toEqual(['a', 'b', 'c']);
    expect(lines[2]?.error?.message).toBe('round 1');
    expect(summary).toMatchObject({ succeededCount: 2, failedCount: 1 });
  });

  it('retries nothing when no error is transient', async () => {
    await fileChunk(([a, b]) => [a ?? '', b ?? '', errorLine('c', 400)]);
    expect((await poll()).allDone).toBe(true);
    expect((await plan()).chunks).toHaveLength(1);
    expect(fake.calls.createBatch).toBe(0);
  });
});

describe('expired and stuck jobs', () => {
  async function generateChunk(): Promise<string> {
    const [name] = await submitDirectly(
      store,
      fake,
      await writePlan(store, [{ kind: 'generate', keys: ['a', 'b', 'c'] }]),
    );
    if (!name) throw new Error('expected a job');
    return name;
  }

  it('resubmits an expired chunk in halves, and Collect writes the halves’ answers in input order', async () => {
    fake.finish(await generateChunk(), { state: 'BATCH_STATE_EXPIRED' });
    expect((await poll()).allDone).toBe(false);
    const chunks = (await plan()).chunks.slice(1);
    expect(
      chunks.map((chunk) => [chunk.requestCount, chunk.firstLine, chunk.resubmits, chunk.retryReason]),
    ).toEqual([
      [2, 1, 1, 'EXPIRED'],
      [1, 3, 1, 'EXPIRED'],
    ]);
    fake.answer(jobOf(1));
    fake.answer(jobOf(2));
    expect((await poll()).allDone).toBe(true);
    const { lines, summary } = await collect();
    expect(lines.map((line) => [line.key, line.response !== undefined])).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
    ]);
    expect(summary.succeededCount).toBe(3);
  });

  it('gives up after expiredResubmitRounds: the keys keep the resubmitted job’s EXPIRED error', async () => {
    fake.finish(await generateChunk(), { state: 'BATCH_STATE_EXPIRED' });
    await poll();
    fake.finish(jobOf(1), { state: 'BATCH_STATE_EXPIRED' });
    fake.finish(jobOf(2), { state: 'BATCH_STATE_EXPIRED' });
    expect((await poll()).allDone).toBe(true);
    expect((await plan()).chunks).toHaveLength(3);
    const { lines } = await collect();
    expect(lines.map((line) => line.key)).toEqual(['a', 'b', 'c']);
    expect(lines.every((line) => line.error?.status === 'JOB_NOT_SUCCEEDED')).toBe(true);
    expect(lines[2]?.error?.message).toContain(jobOf(2));
  });

  it('resubmits a one-request chunk whole', async () => {
    const [name] = await submitDirectly(
      store,
      fake,
      await writePlan(store, [{ kind: 'generate', keys: ['only'] }]),
    );
    fake.finish(name ?? '', { state: 'BATCH_STATE_EXPIRED' });
    await poll();
    expect((await plan()).chunks.slice(1).map((chunk) => chunk.requestCount)).toEqual([1]);
  });

  it('creates nothing past the retry cutoff', async () => {
    fake.finish(await generateChunk(), { state: 'BATCH_STATE_EXPIRED' });
    now = new Date(Date.parse(runState().uploadedAt) + DEFAULT_RETRY_CUTOFF_SECONDS * 1000);
    expect((await poll()).allDone).toBe(true);
    expect((await plan()).chunks).toHaveLength(1);
  });

  it('cancels a job PENDING past the timeout and resubmits its requests', async () => {
    const name = await generateChunk();
    expect((await poll()).allDone).toBe(false);
    now = new Date(now.getTime() + DEFAULT_PENDING_TIMEOUT_SECONDS * 1000 - 1000);
    await poll();
    expect(fake.cancelledBatches).toEqual([]);
    now = new Date(now.getTime() + 1000);
    expect((await poll()).allDone).toBe(false);
    expect(fake.cancelledBatches).toEqual([name]);
    const status = await store.getJson<PollStatus>(BUCKET, WORK.pollStatus);
    expect(status?.jobs[0]).toMatchObject({ cancelledAsStuck: true });
    // The next pass sees the cancel took, and resubmits.
    await poll();
    expect((await plan()).chunks.slice(1).map((chunk) => chunk.retryReason)).toEqual([
      'STUCK_PENDING',
      'STUCK_PENDING',
    ]);
    expect(fake.calls.createBatch).toBe(2);
  });
});

describe('reading results for retries', () => {
  it('does not download the results of a job Gemini counts as answered in full', async () => {
    await fileChunk((answers) => answers);
    expect((await poll()).allDone).toBe(true);
    expect(fake.calls.downloadFile).toBe(0);
  });
});
