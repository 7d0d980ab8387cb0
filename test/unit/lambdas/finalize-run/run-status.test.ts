/** How Finalize decides a run's status and says why (`run-status.ts`), through the core. */
import { beforeEach, describe, expect, it } from 'vitest';
import { finalizeRun } from '../../../../lambdas/finalize-run/finalize-run.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import type { ChunkPlan } from '../../../../lambdas/shared/run/work-records.js';
import {
  BUCKET,
  fixedNow,
  INPUT_KEY,
  MODELS,
  pollRecord,
  RUN_ID,
  runState,
  submitDirectly,
  WORK,
  writeCollected,
  writeLedger,
  writePlan,
} from '../run-fixtures.js';
import {
  deps,
  fake,
  lambdaFailure,
  MANIFEST_KEY,
  manifest,
  recordPoll,
  resetWorld,
  scenario,
  store,
  succeededRun,
} from './finalize-fixture.js';

beforeEach(resetWorld);

describe('finalizeRun: the status and reason of a run', () => {
  it('ends a run whose every request succeeded as SUCCEEDED, without a reason', async () => {
    await succeededRun();
    const outcome = await finalizeRun(runState(), deps());
    expect(outcome).toEqual({ status: 'SUCCEEDED', manifest: MANIFEST_KEY });
    expect(await manifest()).toMatchObject({ status: 'SUCCEEDED' });
    expect(await manifest()).not.toHaveProperty('reason');
  });

  it('ends a run with rejected lines as COMPLETED_WITH_ERRORS, saying how many', async () => {
    await succeededRun({ rejectedCount: 2 });
    const { status } = await finalizeRun(runState(), deps());
    expect(status).toBe('COMPLETED_WITH_ERRORS');
    expect((await manifest()).reason).toBe('2 lines were rejected (see rejected.jsonl)');
  });

  it('ends a run with failed requests as COMPLETED_WITH_ERRORS, saying how many', async () => {
    await succeededRun({ failedCount: 3 });
    const { status } = await finalizeRun(runState(), deps());
    expect(status).toBe('COMPLETED_WITH_ERRORS');
    expect((await manifest()).reason).toBe('3 requests failed (see their error lines in results.jsonl)');
  });

  it('says when chunks were given up at the submit deadline', async () => {
    const run = await succeededRun({ failedCount: 2 });
    await store.putJson(BUCKET, WORK.pollStatus, {
      polledAt: fixedNow().toISOString(),
      jobs: run.jobs.slice(0, 1).map((name) => pollRecord(fake, 0, name)),
      abandonedChunks: [1],
    });

    const { status } = await finalizeRun(runState(), deps());

    expect(status).toBe('COMPLETED_WITH_ERRORS');
    expect((await manifest()).reason).toContain(
      'Gemini refused the jobs of 1 chunk(s) (quota, 429) until the submit deadline',
    );
  });

  it('names both rejected lines and failed requests in the reason when there are both', async () => {
    await succeededRun({ rejectedCount: 1, failedCount: 1 });
    await finalizeRun(runState(), deps());
    const { reason } = await manifest();
    expect(reason).toContain('1 requests failed');
    expect(reason).toContain('1 lines were rejected');
  });

  it('names a job that did not succeed in the reason of a partly completed run', async () => {
    const run = await scenario([
      { kind: 'generate', keys: ['a', 'b'] },
      { kind: 'embed', keys: ['c'] },
    ]);
    const [generateJob, embedJob] = run.jobs as [string, string];
    fake.answer(generateJob);
    fake.finish(embedJob, { state: 'BATCH_STATE_EXPIRED', error: { message: 'not done within 48 hours' } });
    await recordPoll(run);
    await writeCollected(store, { succeededCount: 2, failedCount: 1 });

    const { status } = await finalizeRun(runState(), deps());

    expect(status).toBe('COMPLETED_WITH_ERRORS');
    expect((await manifest()).reason).toContain(
      `batch job ${embedJob} ended BATCH_STATE_EXPIRED: not done within 48 hours`,
    );
  });

  it("ends a failed run as FAILED with the Lambda error's name and message", async () => {
    await writePlan(store, []);
    const failure = lambdaFailure(
      'EmptyInputError',
      `s3://${BUCKET}/${INPUT_KEY} has no requests: the file is empty`,
    );
    const { status } = await finalizeRun(runState({ failure }), deps());
    expect(status).toBe('FAILED');
    expect((await manifest()).reason).toBe(
      `EmptyInputError: s3://${BUCKET}/${INPUT_KEY} has no requests: the file is empty`,
    );
  });

  it('ends a run over its budget as FAILED with the estimate, saying every accepted key was answered, nothing salvaged', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a', 'b'] }]);
    await writeCollected(store, { succeededCount: 0, failedCount: 2 });
    const message =
      "the run's estimated cost at batch prices, $8.29, is over its cap of $5.00 (the stack's maxRunCostUsd)";
    const { status } = await finalizeRun(
      runState({ failure: lambdaFailure('RunBudgetError', message) }),
      deps(),
    );
    expect(status).toBe('FAILED');
    expect((await manifest()).reason).toBe(
      `RunBudgetError: ${message}; each of the 2 accepted requests has an error line in results.jsonl saying so`,
    );
  });

  it('ends a run failed by Step Functions itself as FAILED with its plain-text cause', async () => {
    await succeededRun();
    const failure = { Error: 'States.Timeout', Cause: 'The task timed out.' };
    const { status } = await finalizeRun(runState({ failure }), deps());
    expect(status).toBe('FAILED');
    expect((await manifest()).reason).toMatch(
      /^States\.Timeout: The task timed out\.; the jobs that had finished were collected \(\d+ answers\), the others cancelled$/,
    );
  });

  it('ends a cancelled run, salvaged after its execution was stopped, as CANCELLED with what was kept', async () => {
    await succeededRun();
    const salvage = { status: 'ABORTED', executionName: RUN_ID, cause: 'no longer needed' } as const;

    const { status } = await finalizeRun(runState({ salvage }), deps());

    expect(status).toBe('CANCELLED');
    expect((await manifest()).reason).toMatch(
      /^the run was cancelled \(no longer needed\); the jobs that had finished were collected \(\d+ answers\)/,
    );
  });

  it('ends a run salvaged after its execution timed out as FAILED, naming the execution', async () => {
    await succeededRun();
    const salvage = { status: 'TIMED_OUT', executionName: RUN_ID } as const;

    const { status } = await finalizeRun(runState({ salvage }), deps());

    expect(status).toBe('FAILED');
    expect((await manifest()).reason).toMatch(
      new RegExp(`^execution ${RUN_ID} timed out; the jobs that had finished`),
    );
  });

  it('ends a run where no request succeeded as FAILED, naming the job state', async () => {
    const run = await scenario([{ kind: 'generate', keys: ['a', 'b'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, { state: 'BATCH_STATE_FAILED', error: { code: 13, message: 'internal error' } });
    await recordPoll(run);
    await writeCollected(store, { succeededCount: 0, failedCount: 2 });

    const { status } = await finalizeRun(runState(), deps());

    expect(status).toBe('FAILED');
    expect((await manifest()).reason).toBe(`batch job ${job} ended BATCH_STATE_FAILED: internal error`);
  });

  it("does not name an expired job whose requests were resubmitted: its keys' lines are the retry's", async () => {
    const run = await scenario([
      { kind: 'generate', keys: ['a', 'b'] },
      { kind: 'generate', keys: ['c'] },
    ]);
    const [expired, other] = run.jobs as [string, string];
    fake.finish(expired, { state: 'BATCH_STATE_EXPIRED' });
    fake.finish(other, { state: 'BATCH_STATE_FAILED', error: { code: 13, message: 'internal error' } });
    await recordPoll(run);
    // The expired chunk's requests went again as a retry chunk (which answered them).
    const [first, second] = run.plan.chunks as [ChunkPlan, ChunkPlan];
    await store.putJson(BUCKET, WORK.plan, {
      ...run.plan,
      chunks: [first, second, { ...first, index: 2, round: 1, retryOf: 0, retryReason: 'EXPIRED' }],
    });
    await writeCollected(store, { succeededCount: 2, failedCount: 1 });

    await finalizeRun(runState(), deps());

    const { reason } = await manifest();
    expect(reason).toContain(`batch job ${other} ended BATCH_STATE_FAILED`);
    expect(reason).not.toContain(expired);
  });

  it('ends a run whose jobs succeeded but every request failed as FAILED', async () => {
    const run = await scenario([{ kind: 'generate', keys: ['a'] }]);
    fake.answer(run.jobs[0] as string);
    await recordPoll(run);
    await writeCollected(store, { succeededCount: 0, failedCount: 1 });
    const { status } = await finalizeRun(runState(), deps());
    expect(status).toBe('FAILED');
    expect((await manifest()).reason).toBe('no request succeeded: every result is an error');
  });

  it('ends a run that stopped before collecting as FAILED', async () => {
    await scenario([{ kind: 'generate', keys: ['a'] }]);
    const { status } = await finalizeRun(runState(), deps());
    expect(status).toBe('FAILED');
    expect((await manifest()).reason).toBe('the run ended before its results were collected');
  });

  describe('a chunk Gemini refused to create a job for', () => {
    const createError = { code: 400, message: 'Gemini refused to create batch job (HTTP 400): bad field' };

    /** Chunk 0 answered, chunk 1 refused at create (its ledger says so, with its uploaded file). */
    async function partlyRefused(succeededCount: number): Promise<string> {
      const plan = await writePlan(store, [
        { kind: 'generate', keys: ['a'] },
        { kind: 'embed', keys: ['b', 'c'] },
      ]);
      const [job] = await submitDirectly(store, fake, { ...plan, chunks: plan.chunks.slice(0, 1) });
      fake.answer(job ?? '');
      await writeLedger(store, {
        chunk: 1,
        displayName: jobDisplayName(RUN_ID, 1),
        uploadedFile: 'files/up-2',
        creating: false,
        createError,
      });
      await store.putJson(BUCKET, WORK.pollStatus, {
        polledAt: '2026-11-03T11:00:00.000Z',
        jobs: [pollRecord(fake, 0, job ?? '')],
        refusedChunks: [1],
      });
      await writeCollected(store, { succeededCount, failedCount: 3 - succeededCount });
      return job ?? '';
    }

    it('lists its job with the refusal and no batch name, and ends COMPLETED_WITH_ERRORS naming it', async () => {
      await partlyRefused(1);

      const finalized = await finalizeRun(runState(), deps());

      expect(finalized.status).toBe('COMPLETED_WITH_ERRORS');
      const written = await manifest();
      expect(written.jobs[1]).toEqual({
        chunk: 1,
        kind: 'embed',
        model: MODELS.embed,
        requests: 2,
        error: createError,
      });
      expect(written.reason).toContain(
        'Gemini refused to create the batch job of chunk 1 (HTTP 400); its requests were not sent',
      );
      expect(written.reason).toContain('2 requests failed');
      expect(written.counts).toMatchObject({ succeeded: 1, failed: 2 });
      expect(fake.deletedFiles).toContain('files/up-2');
      // The refusal made no job: nothing to look for by display name.
      expect(fake.calls.findBatchesByDisplayName).toBe(0);
    });

    it('ends FAILED when nothing at all succeeded, saying why', async () => {
      await partlyRefused(0);

      const finalized = await finalizeRun(runState(), deps());

      expect(finalized.status).toBe('FAILED');
      expect((await manifest()).reason).toContain('Gemini refused to create the batch job of chunk 1');
    });
  });

  it('says in the reason how many answers could not be tied to a key, and where they are', async () => {
    await succeededRun({ failedCount: 2 });
    const collected = await store.getJson<Record<string, unknown>>(BUCKET, WORK.collected);
    await store.putJson(BUCKET, WORK.collected, { ...collected, missingCount: 2, unmatchedCount: 3 });

    const { status } = await finalizeRun(runState(), deps());

    expect(status).toBe('COMPLETED_WITH_ERRORS');
    const written = await manifest();
    expect(written.counts.unmatchedResults).toBe(3);
    expect(written.reason).toContain(
      '3 answers Gemini returned could not be tied to a key (kept in unmatched.jsonl)',
    );
  });
});
