import { beforeEach, describe, expect, it } from 'vitest';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import type { PollStatus } from '../../../../lambdas/shared/run/work-records.js';
import { type StopDeps, stopBatchJobs } from '../../../../lambdas/stop-batch-jobs/stop-batch-jobs.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  pollRecord,
  RUN_ID,
  readLedger,
  runState,
  submitDirectly,
  WORK,
  writeLedger,
  writePlan,
  writePollStatus,
} from '../run-fixtures.js';

let store: MemoryObjectStore;
let fake: FakeGemini;
const deps = (): StopDeps => ({ store, gemini: fake, now: fixedNow });
const pollStatus = () => store.getJson<PollStatus>(BUCKET, WORK.pollStatus);

beforeEach(() => {
  store = new MemoryObjectStore();
  fake = new FakeGemini();
});

/** A run of three chunks with jobs: the first succeeded, the second running, the third pending. */
async function threeJobs(): Promise<[string, string, string]> {
  const plan = await writePlan(store, [
    { kind: 'generate', keys: ['a', 'b'] },
    { kind: 'generate', keys: ['c'] },
    { kind: 'embed', keys: ['d'] },
  ]);
  const [done, running, pending] = (await submitDirectly(store, fake, plan)) as [string, string, string];
  fake.answer(done);
  fake.setState(running, 'BATCH_STATE_RUNNING');
  return [done, running, pending];
}

describe('stopBatchJobs', () => {
  it('cancels the jobs still pending or running and keeps the ones that ended as they ended', async () => {
    const [done, running, pending] = await threeJobs();

    const stopped = await stopBatchJobs(runState({ failure: { Error: 'States.Timeout' } }), deps());

    expect(stopped).toEqual({ cancelledCount: 2, finishedCount: 1, unsubmittedCount: 0 });
    expect(fake.cancelledBatches.sort()).toEqual([running, pending].sort());
    expect((await pollStatus())?.jobs.map((job) => [job.batchName, job.state])).toEqual([
      [done, 'BATCH_STATE_SUCCEEDED'],
      [running, 'BATCH_STATE_CANCELLED'],
      [pending, 'BATCH_STATE_CANCELLED'],
    ]);
  });

  it('does not ask Gemini again about a job the last poll saw end', async () => {
    const [done] = await threeJobs();
    await writePollStatus(store, [pollRecord(fake, 0, done)]);

    await stopBatchJobs(runState(), deps());

    expect(fake.calls.getBatch).toBe(4); // twice for each of the two unfinished jobs, none for the ended one
  });

  it('finds and cancels a job created but never recorded, and records it in the ledger', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    const displayName = jobDisplayName(RUN_ID, 0);
    await writeLedger(store, { chunk: 0, displayName, creating: true });
    const orphan = fake.addBatch({ kind: 'generate', model: 'm', displayName, fileName: '' });

    await stopBatchJobs(runState(), deps());

    expect(fake.cancelledBatches).toEqual([orphan.name]);
    expect(await readLedger(store, 0)).toMatchObject({
      batchName: orphan.name,
      recovered: true,
      creating: false,
    });
    expect((await pollStatus())?.jobs).toEqual([expect.objectContaining({ batchName: orphan.name })]);
  });

  it('marks the chunks that never got a job, with why the run stopped, so their keys are answered', async () => {
    await writePlan(store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'generate', keys: ['b'] },
    ]);

    const stopped = await stopBatchJobs(
      runState({ salvage: { status: 'ABORTED', executionName: RUN_ID } }),
      deps(),
    );

    expect(stopped).toEqual({ cancelledCount: 0, finishedCount: 0, unsubmittedCount: 2 });
    expect(await pollStatus()).toMatchObject({
      jobs: [],
      abandonedChunks: [0, 1],
      abandonedReason: 'the run was cancelled',
    });
  });

  it('keeps a chunk Gemini refused for good as refused, not as unsubmitted', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    await writeLedger(store, {
      chunk: 0,
      displayName: jobDisplayName(RUN_ID, 0),
      createError: { code: 400, message: 'bad request' },
    });

    const stopped = await stopBatchJobs(runState(), deps());

    expect(stopped.unsubmittedCount).toBe(0);
    expect(await pollStatus()).toMatchObject({ jobs: [], refusedChunks: [0] });
    expect(await pollStatus()).not.toHaveProperty('abandonedChunks');
  });

  it('stops nothing twice: a second call finds every job already ended', async () => {
    await threeJobs();
    await stopBatchJobs(runState(), deps());
    const cancels = fake.cancelledBatches.length;

    const again = await stopBatchJobs(runState(), deps());

    expect(fake.cancelledBatches).toHaveLength(cancels);
    expect(again.cancelledCount).toBe(0);
  });
});
