import { tmpdir } from 'node:os';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  nextWaitSeconds,
  type PollDeps,
  pollBatchJobs,
} from '../../../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import { GeminiRateLimitError, GeminiRequestError } from '../../../../lambdas/shared/errors.js';
import { TERMINAL_BATCH_STATES } from '../../../../lambdas/shared/gemini/gemini-batch-api.js';
import type { PollStatus } from '../../../../lambdas/shared/run/work-records.js';
import { answerAll, FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  RUN_ID,
  readLedger,
  runState,
  submitDirectly,
  WORK,
  writeLedger,
  writePlan,
} from '../run-fixtures.js';
import { SCHEDULE, twoJobs as twoJobsOf } from './poll-fixtures.js';

let store: MemoryObjectStore;
let fake: FakeGemini;
const deps = (): PollDeps => ({ store, gemini: fake, schedule: SCHEDULE, now: fixedNow, tmpDir: tmpdir() });

beforeEach(() => {
  store = new MemoryObjectStore();
  fake = new FakeGemini();
});

const twoJobs = () => twoJobsOf(store, fake);

const pollStatus = () => store.getJson<PollStatus>(BUCKET, WORK.pollStatus);

describe('nextWaitSeconds', () => {
  it('follows 30 s × 1.5 per poll, rounded, up to the 600 s cap', () => {
    const waits = Array.from({ length: 10 }, (_, attempt) => nextWaitSeconds(attempt, SCHEDULE));
    expect(waits).toEqual([30, 45, 68, 101, 152, 228, 342, 513, 600, 600]);
  });

  it('grows by the backoff rate and never passes the cap', () => {
    const schedule = { initialSeconds: 10, maxSeconds: 100, backoffRate: 2 };
    const waits = Array.from({ length: 30 }, (_, attempt) => nextWaitSeconds(attempt, schedule));
    expect(waits.slice(0, 5)).toEqual([10, 20, 40, 80, 100]);
    expect(waits.every((wait) => wait <= 100)).toBe(true);
    expect(waits.slice(4).every((wait) => wait === 100)).toBe(true);
  });
});

describe('pollBatchJobs', () => {
  it('is not done while any job is pending or running', async () => {
    const [first, second] = await twoJobs();
    fake.answer(first);
    expect((await pollBatchJobs(runState(), deps())).allDone).toBe(false); // second is PENDING

    fake.setState(second, 'BATCH_STATE_RUNNING');
    expect((await pollBatchJobs(runState(), deps())).allDone).toBe(false);
  });

  it.each(TERMINAL_BATCH_STATES)('is done when every job has ended, here in %s', async (state) => {
    const [first, second] = await twoJobs();
    fake.answer(first);
    fake.finish(second, {
      state,
      ...(state === 'BATCH_STATE_SUCCEEDED'
        ? { results: answerAll(fake.inputLines(second)) }
        : { error: { message: 'ended' } }),
    });
    // Without resubmission: an expired job's requests would otherwise go again (see retries.test.ts).
    const poll = await pollBatchJobs(runState(), { ...deps(), expiredResubmitRounds: 0 });
    expect(poll.allDone).toBe(true);
    expect((await pollStatus())?.jobs.map((job) => job.state)).toEqual(['BATCH_STATE_SUCCEEDED', state]);
  });

  it('does not ask Gemini again about a job it already saw end', async () => {
    const [first, second] = await twoJobs();
    fake.answer(first);
    fake.setState(second, 'BATCH_STATE_RUNNING');
    const getBatch = vi.spyOn(fake, 'getBatch');
    const firstPoll = await pollBatchJobs(runState(), deps());
    expect(getBatch.mock.calls).toEqual([[first], [second]]);

    getBatch.mockClear();
    const secondPoll = await pollBatchJobs(runState({ poll: firstPoll }), deps());
    expect(getBatch.mock.calls).toEqual([[second]]);

    fake.answer(second);
    getBatch.mockClear();
    await pollBatchJobs(runState({ poll: secondPoll }), deps());
    expect(getBatch.mock.calls).toEqual([[second]]);
    expect(fake.calls.getBatch).toBe(4);
  });

  it('keeps the recorded status of an ended job on later polls', async () => {
    const [first, second] = await twoJobs();
    fake.answer(first);
    const firstPoll = await pollBatchJobs(runState(), deps());
    const recorded = (await pollStatus())?.jobs[0];
    fake.setState(second, 'BATCH_STATE_RUNNING');
    await pollBatchJobs(runState({ poll: firstPoll }), deps());
    expect((await pollStatus())?.jobs[0]).toEqual(recorded);
  });

  it('counts its attempts from the previous poll state', async () => {
    await twoJobs();
    const first = await pollBatchJobs(runState(), deps());
    expect(first).toMatchObject({ attempt: 1, waitSeconds: 45, allDone: false });
    const second = await pollBatchJobs(runState({ poll: first }), deps());
    expect(second).toMatchObject({ attempt: 2, waitSeconds: 68 });
    const late = await pollBatchJobs(
      runState({ poll: { attempt: 20, waitSeconds: 600, allDone: false } }),
      deps(),
    );
    expect(late).toMatchObject({ attempt: 21, waitSeconds: 600 });
  });

  it('reports the requests of all jobs and how many have completed', async () => {
    const [first] = await twoJobs();
    fake.finish(first, { results: answerAll(fake.inputLines(first)).slice(0, 2) });
    const poll = await pollBatchJobs(runState(), deps());
    expect(poll).toMatchObject({ requestCount: 5, completedCount: 2 });
  });

  it("records each job's state, counts, error and responses file in poll-status.json", async () => {
    const [first, second] = await twoJobs();
    const done = fake.answer(first);
    fake.finish(second, { state: 'BATCH_STATE_FAILED', error: { code: 13, message: 'internal error' } });
    await pollBatchJobs(runState(), deps());
    expect(await pollStatus()).toEqual({
      polledAt: fixedNow().toISOString(),
      jobs: [
        {
          chunk: 0,
          batchName: first,
          state: 'BATCH_STATE_SUCCEEDED',
          requestCount: 3,
          successfulCount: 3,
          failedCount: 0,
          responsesFile: done.responsesFile,
          inline: false,
        },
        {
          chunk: 1,
          batchName: second,
          state: 'BATCH_STATE_FAILED',
          requestCount: 2,
          successfulCount: 0,
          failedCount: 0,
          error: { code: 13, message: 'internal error' },
          inline: false,
        },
      ],
    });
  });

  it('submits a chunk that has no job yet before polling, then polls it too', async () => {
    const plan = await writePlan(store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    await submitDirectly(store, fake, { ...plan, chunks: plan.chunks.slice(0, 1) });

    const poll = await pollBatchJobs(runState(), deps());

    expect(fake.calls.createBatch).toBe(1);
    expect(fake.batches.size).toBe(2);
    expect(poll).toMatchObject({ allDone: false, waitingCount: 0 });
    expect((await readLedger(store, 1))?.batchName).toBeDefined();
  });

  it('keeps a chunk Gemini still refuses (429) waiting before the submit deadline, and the run not done', async () => {
    const [first] = await twoJobs();
    fake.answer(first);
    const ledger = await readLedger(store, 1);
    await writeLedger(store, { chunk: 1, displayName: ledger?.displayName ?? '' });
    fake.failNext('createBatch', new GeminiRateLimitError('429 enqueued tokens'));

    const poll = await pollBatchJobs(runState(), deps());

    expect(poll).toMatchObject({ allDone: false, waitingCount: 1 });
    expect((await readLedger(store, 1))?.batchName).toBeUndefined();
    expect((await pollStatus())?.abandonedChunks).toBeUndefined();
  });

  it('gives up on a chunk Gemini still refuses once the submit deadline has passed, so the run can finish', async () => {
    const [first] = await twoJobs();
    fake.answer(first);
    const ledger = await readLedger(store, 1);
    await writeLedger(store, { chunk: 1, displayName: ledger?.displayName ?? '' });
    fake.failNext('createBatch', new GeminiRateLimitError('429 enqueued tokens'));

    // Uploaded at 10:15:30, polled at 12:00: past a one-hour deadline.
    const poll = await pollBatchJobs(runState(), { ...deps(), submitDeadlineSeconds: 3600 });

    expect(poll).toMatchObject({ allDone: true, waitingCount: 0 });
    expect((await pollStatus())?.abandonedChunks).toEqual([1]);
  });

  it('throws RunStateError when the run has no plan', async () => {
    await expect(pollBatchJobs(runState(), deps())).rejects.toMatchObject({ name: 'RunStateError' });
  });

  it('lets a refusal retrying cannot change (4xx) through with its name', async () => {
    await twoJobs();
    fake.failNext('getBatch', new GeminiRequestError('404 no such batch'));
    await expect(pollBatchJobs(runState(), deps())).rejects.toMatchObject({ name: 'GeminiRequestError' });
  });

  it('keeps polling a run none of whose chunks has a job yet, and submits them as Gemini accepts', async () => {
    await writePlan(store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'generate', keys: ['b'] },
    ]);
    fake.rateLimit('createBatch', 2);

    const refused = await pollBatchJobs(runState(), deps());

    expect(refused).toMatchObject({ allDone: false, waitingCount: 2, requestCount: 0 });
    expect((await pollStatus())?.jobs).toEqual([]);

    const accepted = await pollBatchJobs(runState({ poll: refused }), deps());
    expect(accepted).toMatchObject({ allDone: false, waitingCount: 0 });
    expect(fake.batches.size).toBe(2);
  });

  it('takes a chunk Gemini refused to create for done, with no job, and never submits it again', async () => {
    await writePlan(store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    fake.refuse('createBatch', 400);

    const first = await pollBatchJobs(runState(), { ...deps(), concurrency: 1 });

    expect(first).toMatchObject({ allDone: false, waitingCount: 0 });
    expect(await pollStatus()).toMatchObject({ refusedChunks: [0], jobs: [{ chunk: 1 }] });
    fake.answer(fake.batchNamed(`${RUN_ID}/chunk-00001`).name);
    const getJson = vi.spyOn(store, 'getJson');

    const second = await pollBatchJobs(runState({ poll: first }), deps());

    expect(second).toMatchObject({ allDone: true, waitingCount: 0 });
    expect(fake.calls.createBatch).toBe(2);
    expect((await pollStatus())?.refusedChunks).toEqual([0]);
    expect((await pollStatus())?.abandonedChunks).toBeUndefined();
    // The refused chunk's ledger is not read again: poll-status.json says it is done.
    expect(getJson.mock.calls.map(([, key]) => key)).not.toContain(WORK.ledger(0));
  });

  it('is done at once when Gemini refused every chunk, abandoning none at the deadline', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.refuse('createBatch', 404);

    const poll = await pollBatchJobs(runState(), { ...deps(), submitDeadlineSeconds: 60 });

    expect(poll).toMatchObject({ allDone: true, waitingCount: 0, requestCount: 0 });
    expect(await pollStatus()).toMatchObject({ jobs: [], refusedChunks: [0] });
    expect((await pollStatus())?.abandonedChunks).toBeUndefined();
  });
});
