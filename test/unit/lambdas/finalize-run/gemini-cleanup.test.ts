import { beforeEach, describe, expect, it } from 'vitest';
import { finalizeRun } from '../../../../lambdas/finalize-run/finalize-run.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import {
  BUCKET,
  MODELS,
  RESULTS_ROOT,
  RUN_ID,
  runState,
  WORK,
  writeLedger,
  writePlan,
} from '../run-fixtures.js';
import {
  deps,
  fake,
  lambdaFailure,
  manifest,
  published,
  recordPoll,
  resetWorld,
  scenario,
  store,
  succeededRun,
  uri,
} from './finalize-fixture.js';

beforeEach(resetWorld);

describe('finalizeRun: clean-up on Gemini', () => {
  it('cancels a duplicate Submit could not cancel when it found it', async () => {
    await succeededRun();
    const duplicate = fake.addBatch({
      kind: 'generate',
      model: MODELS.generate,
      displayName: jobDisplayName(RUN_ID, 0),
      fileName: 'files/up-1',
      state: 'BATCH_STATE_RUNNING',
    });
    const ledger = await store.getJson<Record<string, unknown>>(BUCKET, WORK.ledger(0));
    await store.putJson(BUCKET, WORK.ledger(0), {
      ...ledger,
      duplicates: [duplicate.name],
      duplicatesLeftRunning: [duplicate.name],
    });

    await finalizeRun(runState(), deps());

    expect(fake.statusOf(duplicate.name).state).toBe('BATCH_STATE_CANCELLED');
    expect((await manifest()).cleanup.cancelledJobs).toEqual([duplicate.name]);
  });

  it('cancels the jobs a failed run leaves running, and only those', async () => {
    const run = await scenario([
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
      { kind: 'generate', keys: ['c'], model: 'gemini-2.5-pro' },
    ]);
    const [done, running, pending] = run.jobs as [string, string, string];
    fake.answer(done);
    fake.setState(running, 'BATCH_STATE_RUNNING');
    await recordPoll(run);
    const failure = lambdaFailure('GeminiUnavailableError', 'Gemini refused to read batch job (HTTP 503)');

    await finalizeRun(runState({ failure }), deps());

    expect(fake.cancelledBatches.sort()).toEqual([running, pending].sort());
    expect(fake.statusOf(running).state).toBe('BATCH_STATE_CANCELLED');
    expect(fake.statusOf(done).state).toBe('BATCH_STATE_SUCCEEDED');
    expect([...(await manifest()).cleanup.cancelledJobs].sort()).toEqual([running, pending].sort());
  });

  it('cancels the jobs of a run that failed before any poll recorded their state', async () => {
    const run = await scenario([{ kind: 'generate', keys: ['a'] }]);
    await finalizeRun(runState({ failure: lambdaFailure('RunStateError', 'x') }), deps());
    expect(fake.cancelledBatches).toEqual(run.jobs);
  });

  it('cancels a job Submit created but never recorded, found by its display name', async () => {
    const plan = await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    const displayName = jobDisplayName(RUN_ID, 0);
    const uploadedFile = fake.addFile(store.text(BUCKET, plan.chunks[0]?.key ?? '') ?? '', 'files/up-1');
    // Submit crashed after creating the job and before recording it; its retries ran out.
    const orphan = fake.addBatch({
      kind: 'generate',
      model: MODELS.generate,
      displayName,
      fileName: uploadedFile,
    });
    await writeLedger(store, { chunk: 0, displayName, uploadedFile });
    const failure = lambdaFailure('Error', 'S3 is unavailable');

    await finalizeRun(runState({ failure }), deps());

    expect(fake.statusOf(orphan.name).state).toBe('BATCH_STATE_CANCELLED');
    expect((await manifest()).cleanup.cancelledJobs).toEqual([orphan.name]);
  });

  it("cancels every job found under an unrecorded chunk, a retry's copy too, and leaves ended ones", async () => {
    const plan = await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    const displayName = jobDisplayName(RUN_ID, 0);
    const uploadedFile = fake.addFile(store.text(BUCKET, plan.chunks[0]?.key ?? '') ?? '', 'files/up-1');
    const job = { kind: 'generate', model: MODELS.generate, displayName, fileName: uploadedFile } as const;
    const [first, copy, ended] = [fake.addBatch(job), fake.addBatch(job), fake.addBatch(job)];
    fake.finish(ended.name, { state: 'BATCH_STATE_FAILED', error: { message: 'x' } });
    await writeLedger(store, { chunk: 0, displayName, uploadedFile, creating: true });

    await finalizeRun(runState({ failure: lambdaFailure('Error', 'S3 is unavailable') }), deps());

    expect([...(await manifest()).cleanup.cancelledJobs].sort()).toEqual([first.name, copy.name].sort());
    expect(fake.statusOf(ended.name).state).toBe('BATCH_STATE_FAILED');
  });

  it('deletes the uploaded request files of a successful run, and its collected responses files', async () => {
    const run = await succeededRun();
    await finalizeRun(runState(), deps());
    const responsesFiles = run.jobs.map((job) => fake.statusOf(job).responsesFile);
    expect(fake.deletedFiles.sort()).toEqual(['files/up-1', 'files/up-2', ...responsesFiles].sort());
    expect(fake.files.size).toBe(0);
    expect([...(await manifest()).cleanup.deletedFiles].sort()).toEqual(fake.deletedFiles.sort());
    expect(fake.cancelledBatches).toEqual([]);
  });

  it('deletes the uploaded request files of a failed run but keeps responses files nobody collected', async () => {
    const run = await scenario([
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    for (const job of run.jobs) fake.answer(job);
    await recordPoll(run);
    const failure = lambdaFailure('GeminiUnavailableError', 'download failed');

    await finalizeRun(runState({ failure }), deps());

    expect(fake.deletedFiles.sort()).toEqual(['files/up-1', 'files/up-2']);
    for (const job of run.jobs) {
      const file = fake.statusOf(job).responsesFile;
      expect(file && fake.files.has(file)).toBe(true);
    }
  });

  it('never creates the Gemini client for a run that failed on an empty input', async () => {
    await writePlan(store, []);
    const failure = lambdaFailure('EmptyInputError', 'the file is empty');
    const { status } = await finalizeRun(
      runState({ failure }),
      deps({
        gemini: async () => {
          throw new Error('the Gemini client must not be created');
        },
      }),
    );
    expect(status).toBe('FAILED');
    expect((await manifest()).cleanup).toEqual({ cancelledJobs: [], deletedFiles: [], problems: [] });
    expect((await manifest()).outputs).not.toHaveProperty('results');
    expect((await manifest()).outputs).not.toHaveProperty('unmatched');
    expect((await manifest()).outputs.rejected).toBe(uri(`${RESULTS_ROOT}rejected.jsonl`));
  });

  it('records a clean-up error in the manifest and still finishes', async () => {
    await succeededRun();
    fake.failNext('deleteFile', new Error('network down'));
    const outcome = await finalizeRun(runState(), deps());
    expect(outcome.status).toBe('SUCCEEDED');
    const { cleanup } = await manifest();
    expect(cleanup.problems).toEqual(['could not delete files/up-1: network down']);
    expect(cleanup.deletedFiles).not.toContain('files/up-1');
    expect(cleanup.deletedFiles).toContain('files/up-2');
    expect(published).toHaveLength(1);
  });

  it('records a Gemini client that cannot be created as a clean-up problem and still finishes', async () => {
    await succeededRun();
    const outcome = await finalizeRun(
      runState(),
      deps({
        gemini: async () => {
          throw new Error('the secret holds no Gemini API key');
        },
      }),
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect((await manifest()).cleanup.problems).toEqual([
      'could not reach Gemini to clean up: the secret holds no Gemini API key',
    ]);
  });

  it('keeps the manifest when every clean-up call answers 429, listing each as a problem', async () => {
    const run = await scenario([
      { kind: 'generate', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    await writeLedger(store, { chunk: 1, displayName: jobDisplayName(RUN_ID, 1), creating: true });
    fake.rateLimit('cancelBatch', 5).rateLimit('deleteFile', 5).rateLimit('findBatchesByDisplayName', 5);
    const failure = lambdaFailure('GeminiRateLimitError', 'Gemini refused to read batch job (HTTP 429)');

    const { status } = await finalizeRun(runState({ failure }), deps());

    expect(status).toBe('FAILED');
    const { cleanup } = await manifest();
    expect(cleanup.cancelledJobs).toEqual([]);
    expect(cleanup.deletedFiles).toEqual([]);
    expect(cleanup.problems).toEqual([
      expect.stringMatching(new RegExp(`^could not cancel ${run.jobs[0]}: .*RESOURCE_EXHAUSTED`)),
      expect.stringMatching(/^could not delete files\/up-1: .*RESOURCE_EXHAUSTED/),
      expect.stringMatching(new RegExp(`^could not look up ${RUN_ID}/chunk-00001: .*RESOURCE_EXHAUSTED`)),
    ]);
    expect(published).toEqual([expect.objectContaining({ manifestWritten: true })]);
  });
});
