import { tmpdir } from 'node:os';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RESPONSES_FILE_WAIT_SECONDS } from '../../../../lambdas/poll-batch-jobs/job-reads.js';
import { type PollDeps, pollBatchJobs } from '../../../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import type { PollStatus } from '../../../../lambdas/shared/run/work-records.js';
import { answerAll, FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  RUN_ID,
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
const twoJobs = () => twoJobsOf(store, fake);
const pollStatus = () => store.getJson<PollStatus>(BUCKET, WORK.pollStatus);

beforeEach(() => {
  store = new MemoryObjectStore();
  fake = new FakeGemini();
});

describe('a pass reading a job Gemini answers 429 or 5xx', () => {
  it('keeps the last record of a job whose read answers 429, reads no other job, and doubles the wait', async () => {
    const [first, second] = await twoJobs();
    fake.setState(first, 'BATCH_STATE_RUNNING');
    fake.setState(second, 'BATCH_STATE_RUNNING');
    const firstPoll = await pollBatchJobs(runState(), deps());
    const recorded = (await pollStatus())?.jobs;
    fake.answer(first);
    fake.answer(second);
    fake.rateLimit('getBatch');
    const before = fake.calls.getBatch;

    const poll = await pollBatchJobs(runState({ poll: firstPoll }), deps());

    expect(fake.calls.getBatch - before).toBe(1);
    expect(poll.allDone).toBe(false);
    // Twice the last pass's wait (45 s), not the schedule's 68 s.
    expect(firstPoll.waitSeconds).toBe(45);
    expect(poll.waitSeconds).toBe(90);
    const jobs = (await pollStatus())?.jobs ?? [];
    expect(jobs.map(({ readError: _, ...job }) => job)).toEqual(recorded);
    expect(jobs[0]?.readError).toContain('RESOURCE_EXHAUSTED');
    expect(jobs[1]?.readError).toContain('not read');

    const next = await pollBatchJobs(runState({ poll }), deps());
    expect(next.allDone).toBe(true);
    expect((await pollStatus())?.jobs.every((job) => job.readError === undefined)).toBe(true);
  });

  it('keeps the last record of a job whose read answers 503 and still reads the others', async () => {
    const [first, second] = await twoJobs();
    fake.answer(second);
    fake.unavailable('getBatch');

    const poll = await pollBatchJobs(runState(), deps());

    expect(poll.allDone).toBe(false);
    expect(poll.waitSeconds).toBe(45); // as scheduled: a 503 does not slow the loop
    expect((await pollStatus())?.jobs).toEqual([
      {
        chunk: 0,
        batchName: first,
        state: 'BATCH_STATE_UNSPECIFIED',
        requestCount: 0,
        successfulCount: 0,
        failedCount: 0,
        readError: expect.stringContaining('503'),
      },
      expect.objectContaining({ chunk: 1, batchName: second, state: 'BATCH_STATE_SUCCEEDED' }),
    ]);
  });

  it('never abandons at the deadline a chunk whose job exists but could not be read', async () => {
    await twoJobs();
    fake.rateLimit('getBatch', 2);

    const poll = await pollBatchJobs(runState(), { ...deps(), submitDeadlineSeconds: 60 });

    expect(poll).toMatchObject({ allDone: false, waitingCount: 0 });
    expect((await pollStatus())?.abandonedChunks).toBeUndefined();
    expect(fake.calls.createBatch).toBe(0);
  });
});

describe('a file job Gemini reports SUCCEEDED before naming its responses file', () => {
  const at = (minutes: number) => () => new Date(Date.parse('2026-11-03T12:00:00.000Z') + minutes * 60_000);
  /** One file job that has succeeded, its responses file not named yet. */
  async function succeededWithoutFile(): Promise<string> {
    const plan = await writePlan(store, [{ kind: 'embed', keys: ['a', 'b'] }]);
    const [job] = await submitDirectly(store, fake, plan);
    if (!job) throw new Error('expected a job');
    fake.setState(job, 'BATCH_STATE_SUCCEEDED');
    return job;
  }

  it('is read again on the next pass until Gemini names the file, and only then done', async () => {
    const job = await succeededWithoutFile();

    const first = await pollBatchJobs(runState(), { ...deps(), now: at(0) });

    expect(first.allDone).toBe(false);
    expect((await pollStatus())?.jobs[0]).toMatchObject({
      state: 'BATCH_STATE_SUCCEEDED',
      inline: false,
      responsesFileAwaitedSince: '2026-11-03T12:00:00.000Z',
    });

    const second = await pollBatchJobs(runState({ poll: first }), { ...deps(), now: at(5) });
    expect(second.allDone).toBe(false);
    expect((await pollStatus())?.jobs[0]?.responsesFileAwaitedSince).toBe('2026-11-03T12:00:00.000Z');

    const named = fake.finish(job, { results: answerAll(fake.inputLines(job)) });
    const third = await pollBatchJobs(runState({ poll: second }), { ...deps(), now: at(10) });

    expect(third.allDone).toBe(true);
    expect((await pollStatus())?.jobs[0]).toMatchObject({
      responsesFile: named.responsesFile,
      responsesFileAwaitedSince: '2026-11-03T12:00:00.000Z',
    });
    expect(fake.calls.getBatch).toBe(3);
  });

  it('gives up once the bound has passed since it was first seen so, and counts as done', async () => {
    await succeededWithoutFile();
    const first = await pollBatchJobs(runState(), { ...deps(), now: at(0), responsesFileWaitSeconds: 600 });
    const second = await pollBatchJobs(runState({ poll: first }), {
      ...deps(),
      now: at(9),
      responsesFileWaitSeconds: 600,
    });
    expect(second.allDone).toBe(false);

    const third = await pollBatchJobs(runState({ poll: second }), {
      ...deps(),
      now: at(10),
      responsesFileWaitSeconds: 600,
    });

    expect(third.allDone).toBe(true);
    expect((await pollStatus())?.jobs[0]).toMatchObject({ responsesFileGivenUp: true });
    await pollBatchJobs(runState({ poll: third }), deps());
    expect(fake.calls.getBatch).toBe(3);
  });

  it('waits an hour by default', () => {
    expect(DEFAULT_RESPONSES_FILE_WAIT_SECONDS).toBe(3600);
  });

  it('takes an inline job that succeeded for done: its answers are in the operation', async () => {
    const plan = await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    const batch = fake.addBatch({
      kind: 'generate',
      model: 'm',
      displayName: `${RUN_ID}/chunk-00000`,
      fileName: '',
      inlineRequests: [{ key: 'a', request: {} }],
    });
    await writeLedger(store, {
      chunk: 0,
      displayName: batch.displayName,
      inline: true,
      batchName: batch.name,
    });
    fake.answer(batch.name);

    expect((await pollBatchJobs(runState(), deps())).allDone).toBe(true);
    expect(plan.chunks).toHaveLength(1);
    expect((await pollStatus())?.jobs[0]).toMatchObject({ inline: true });
  });
});
