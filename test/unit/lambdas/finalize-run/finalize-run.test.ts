import { beforeEach, describe, expect, it } from 'vitest';
import {
  type FinalizeDeps,
  finalizeRun,
  type Manifest,
  type RunFinishedDetail,
} from '../../../../lambdas/finalize-run/finalize-run.js';
import {
  DEFAULT_BATCH_PRICES,
  estimateCost,
  priceTableWith,
} from '../../../../lambdas/finalize-run/pricing.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import {
  describeFailure,
  type RunFailure,
  type RunState,
} from '../../../../lambdas/shared/run/state-payloads.js';
import type { ChunkPlan, RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  type ChunkSpec,
  fixedNow,
  INPUT_KEY,
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
  writeCollected,
  writeLedger,
  writePlan,
  writePollStatus,
} from '../run-fixtures.js';

const MANIFEST_KEY = `${RESULTS_ROOT}manifest.json`;
const uri = (key: string) => `s3://${BUCKET}/${key}`;

/** A Lambda error as a Catch stores it: Cause is the function's error JSON. */
const lambdaFailure = (errorType: string, errorMessage: string): RunFailure => ({
  Error: errorType,
  Cause: JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at handler'],
  }),
});

let store: MemoryObjectStore;
let fake: FakeGemini;
let published: { detail: RunFinishedDetail; manifestWritten: boolean }[];
let geminiCreated: number;

beforeEach(() => {
  store = new MemoryObjectStore();
  fake = new FakeGemini();
  published = [];
  geminiCreated = 0;
});

function deps(overrides: Partial<FinalizeDeps> = {}): FinalizeDeps {
  return {
    store,
    inputPrefix: INPUT_PREFIX,
    now: fixedNow,
    gemini: async () => {
      geminiCreated += 1;
      return fake;
    },
    publish: async (detail) => {
      published.push({ detail, manifestWritten: store.text(BUCKET, MANIFEST_KEY) !== undefined });
    },
    ...overrides,
  };
}

const manifest = async () => {
  const value = await store.getJson<Manifest>(BUCKET, MANIFEST_KEY);
  if (!value) throw new Error('no manifest.json was written');
  return value;
};

interface Scenario {
  readonly plan: RunPlan;
  readonly jobs: string[];
}

/** A run submitted to the fake, with its jobs in the given end states and recorded by Poll. */
async function scenario(chunks: readonly ChunkSpec[], rejectedCount = 0): Promise<Scenario> {
  const plan = await writePlan(store, chunks, { rejectedCount });
  const jobs = await submitDirectly(store, fake, plan);
  return { plan, jobs };
}

async function recordPoll({ jobs }: Scenario): Promise<void> {
  await writePollStatus(
    store,
    jobs.map((name, chunk) => pollRecord(fake, chunk, name)),
  );
}

/** Two chunks whose jobs both succeeded and whose results were all collected. */
async function succeededRun(
  options: { rejectedCount?: number; failedCount?: number } = {},
): Promise<Scenario> {
  const run = await scenario(
    [
      { kind: 'generate', keys: ['a', 'b', 'c'] },
      { kind: 'embed', keys: ['d', 'e'] },
    ],
    options.rejectedCount,
  );
  for (const job of run.jobs) fake.answer(job);
  await recordPoll(run);
  const failed = options.failedCount ?? 0;
  await writeCollected(store, {
    succeededCount: 5 - failed,
    failedCount: failed,
    usageByModel: {
      [MODELS.generate]: usage({
        requestCount: 3,
        promptTokens: 21,
        outputTokens: 15,
        thoughtsTokens: 9,
        totalTokens: 45,
      }),
      [MODELS.embed]: usage({ requestCount: 2, promptTokens: 6, totalTokens: 6 }),
    },
  });
  return run;
}

describe('describeFailure', () => {
  it("reads the message out of a Lambda error's Cause JSON", () => {
    expect(describeFailure(lambdaFailure('EmptyInputError', 'the file is empty'))).toBe(
      'EmptyInputError: the file is empty',
    );
  });

  it('keeps a plain-text Cause as it is', () => {
    expect(describeFailure({ Error: 'States.Timeout', Cause: 'Task timed out after 900 seconds' })).toBe(
      'States.Timeout: Task timed out after 900 seconds',
    );
  });

  it('keeps a JSON Cause without errorMessage as it is', () => {
    expect(describeFailure({ Error: 'States.Runtime', Cause: '{"detail":"x"}' })).toBe(
      'States.Runtime: {"detail":"x"}',
    );
  });

  it('gives just the error name when there is no Cause', () => {
    expect(describeFailure({ Error: 'States.TaskFailed' })).toBe('States.TaskFailed');
  });
});

describe('finalizeRun', () => {
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

  it('writes counts, jobs, usage, outputs and timings into manifest.json', async () => {
    const run = await succeededRun({ rejectedCount: 1 });
    await writeLedger(store, {
      chunk: 1,
      displayName: jobDisplayName(RUN_ID, 1),
      uploadedFile: 'files/up-2',
      batchName: run.jobs[1] as string,
      recovered: true,
    });
    await writeCollected(store, {
      succeededCount: 4,
      failedCount: 1,
      missingCount: 1,
      duplicateResultCount: 2,
      unknownResultCount: 3,
      unmatchedCount: 5,
      usageByModel: {
        [MODELS.generate]: usage({
          requestCount: 3,
          promptTokens: 21,
          outputTokens: 15,
          thoughtsTokens: 9,
          totalTokens: 45,
        }),
        [MODELS.embed]: usage({ requestCount: 1, promptTokens: 6, totalTokens: 6 }),
      },
    });

    await finalizeRun(runState({ versionId: 'v-1', sizeBytes: 900 }), deps());

    const written = await manifest();
    expect(written).toMatchObject({
      runId: RUN_ID,
      input: { bucket: BUCKET, key: INPUT_KEY, versionId: 'v-1', sizeBytes: 900 },
      counts: {
        lines: 6,
        accepted: 5,
        rejected: 1,
        succeeded: 4,
        failed: 1,
        missingResults: 1,
        duplicateResults: 2,
        unknownResults: 3,
        unmatchedResults: 5,
      },
      jobs: [
        {
          chunk: 0,
          kind: 'generate',
          model: MODELS.generate,
          requests: 3,
          batchName: run.jobs[0],
          state: 'BATCH_STATE_SUCCEEDED',
        },
        {
          chunk: 1,
          kind: 'embed',
          model: MODELS.embed,
          requests: 2,
          batchName: run.jobs[1],
          state: 'BATCH_STATE_SUCCEEDED',
          recovered: true,
        },
      ],
      outputs: {
        results: uri(`${RESULTS_ROOT}results.jsonl`),
        rejected: uri(`${RESULTS_ROOT}rejected.jsonl`),
        unmatched: uri(`${RESULTS_ROOT}unmatched.jsonl`),
        manifest: uri(MANIFEST_KEY),
      },
      timings: {
        uploadedAt: '2026-11-03T10:15:30.000Z',
        preparedAt: '2026-11-03T10:16:00.000Z',
        collectedAt: '2026-11-03T11:30:00.000Z',
        finishedAt: fixedNow().toISOString(),
      },
    });
    expect(written.jobs[0]).not.toHaveProperty('recovered');
    expect(written.usage.total).toEqual(
      usage({ requestCount: 4, promptTokens: 27, outputTokens: 15, thoughtsTokens: 9, totalTokens: 51 }),
    );
    expect(written.usage.byModel).toEqual(
      (await store.getJson<{ usageByModel: unknown }>(BUCKET, `work/${RUN_ID}/collected.json`))?.usageByModel,
    );
    // Priced on the day of the last poll, which saw the jobs end; the upload marks the start.
    expect(written.cost).toEqual(
      estimateCost(written.usage.byModel, DEFAULT_BATCH_PRICES, {
        at: new Date('2026-11-03T11:00:00.000Z'),
        since: new Date('2026-11-03T10:15:30.000Z'),
      }),
    );
    expect(written.cost.pricedAt).toBe('2026-11-03T11:00:00.000Z');
    expect(written.cost.prices.map((price) => price.model)).toEqual([MODELS.generate, MODELS.embed]);
  });

  describe('cost', () => {
    const FLASH = 'gemini-3.8-flash';
    const millionIn = {
      [FLASH]: usage({ requestCount: 1, promptTokens: 1_000_000, totalTokens: 1_000_000 }),
    };

    it('prices the run on the day its jobs were last seen, not the day it was uploaded', async () => {
      await writePlan(store, [{ kind: 'generate', keys: ['a'], model: FLASH }]);
      await store.putJson(BUCKET, WORK.pollStatus, { polledAt: '2027-01-01T00:05:00.000Z', jobs: [] });
      await writeCollected(store, { succeededCount: 1, usageByModel: millionIn });

      await finalizeRun(runState({ uploadedAt: '2026-12-31T20:00:00.000Z' }), deps());

      const { cost } = await manifest();
      expect(cost.pricedAt).toBe('2027-01-01T00:05:00.000Z');
      // 1M input tokens at the 2027 batch rate: half of $1.50.
      expect(cost.byModel[FLASH]?.total).toBe(0.75);
      expect(cost.prices).toEqual([
        { model: FLASH, from: '2027-01-01', source: expect.stringContaining('pricing') },
      ]);
      expect(cost.notes).toEqual([
        expect.stringContaining(`the price of ${FLASH} changed during the run (2027-01-01)`),
      ]);
    });

    it('prices a run without a poll record at the time its results were collected', async () => {
      await writePlan(store, [{ kind: 'generate', keys: ['a'], model: FLASH }]);
      await writeCollected(store, {
        succeededCount: 1,
        usageByModel: millionIn,
        collectedAt: '2026-12-30T09:00:00.000Z',
      });

      await finalizeRun(runState({ uploadedAt: '2026-12-30T08:00:00.000Z' }), deps());

      const { cost } = await manifest();
      expect(cost.pricedAt).toBe('2026-12-30T09:00:00.000Z');
      expect(cost.byModel[FLASH]?.total).toBe(0.375);
      expect(cost.notes).toEqual([]);
    });

    it("uses the stack's price table when it is given one", async () => {
      await writePlan(store, [{ kind: 'generate', keys: ['a'], model: FLASH }]);
      await writeCollected(store, { succeededCount: 1, usageByModel: millionIn });
      const prices = priceTableWith(`{"${FLASH}": {"inputPerMillion": 2, "outputPerMillion": 4}}`);

      await finalizeRun(runState(), deps({ prices }));

      const { cost } = await manifest();
      expect(cost.byModel[FLASH]?.total).toBe(2);
      expect(cost.prices).toEqual([{ model: FLASH, source: "the stack's batchPrices (BATCH_PRICES_JSON)" }]);
    });
  });

  it("records a failed job's state and error in the manifest's jobs", async () => {
    const run = await scenario([{ kind: 'generate', keys: ['a'] }]);
    const [job] = run.jobs as [string];
    fake.finish(job, { state: 'BATCH_STATE_FAILED', error: { code: 3, message: 'bad input file' } });
    await recordPoll(run);
    await writeCollected(store, { failedCount: 1 });
    await finalizeRun(runState(), deps());
    expect((await manifest()).jobs).toEqual([
      {
        chunk: 0,
        kind: 'generate',
        model: MODELS.generate,
        requests: 1,
        batchName: job,
        state: 'BATCH_STATE_FAILED',
        error: { code: 3, message: 'bad input file' },
      },
    ]);
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

  describe('duplicate jobs and what the run cannot rule out', () => {
    it("names a chunk's duplicate jobs on its manifest entry", async () => {
      const run = await succeededRun();
      const ledger = await store.getJson<Record<string, unknown>>(BUCKET, WORK.ledger(0));
      await store.putJson(BUCKET, WORK.ledger(0), {
        ...ledger,
        recovered: true,
        duplicates: ['batches/dup-1'],
      });

      await finalizeRun(runState(), deps());

      const written = await manifest();
      expect(written.jobs[0]).toMatchObject({
        batchName: run.jobs[0],
        recovered: true,
        duplicates: ['batches/dup-1'],
      });
      expect(written.jobs[1]).not.toHaveProperty('duplicates');
      expect(written.status).toBe('SUCCEEDED');
      expect(written).not.toHaveProperty('risks');
    });

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

    it("names the risk of OpenAI-format chunks: their recovery rests on the compat layer's undocumented metadata echo", async () => {
      const run = await succeededRun();
      await store.putJson(BUCKET, WORK.plan, {
        ...run.plan,
        chunks: run.plan.chunks.map((chunk) => (chunk.index === 1 ? { ...chunk, format: 'openai' } : chunk)),
      });

      await finalizeRun(runState(), deps());

      const risks = (await manifest()).risks ?? [];
      expect(risks).toHaveLength(1);
      expect(risks[0]).toMatch(/^chunk\(s\) 1 went through Gemini's OpenAI-compatible batch layer/);
      expect(risks[0]).toContain('metadata.display_name');
    });

    it("names no such risk once a later lookup found the chunk's jobs", async () => {
      await succeededRun();
      const ledger = await store.getJson<Record<string, unknown>>(BUCKET, WORK.ledger(1));
      await store.putJson(BUCKET, WORK.ledger(1), {
        ...ledger,
        recovered: true,
        duplicates: ['batches/dup'],
        emptyLookups: [{ at: '2026-11-03T10:20:00.000Z', since: '2026-11-03T10:07:00.000Z' }],
      });

      await finalizeRun(runState(), deps());

      expect(await manifest()).not.toHaveProperty('risks');
    });

    it('names the risk of a chunk created again after a lookup found no job', async () => {
      await succeededRun();
      const ledger = await store.getJson<Record<string, unknown>>(BUCKET, WORK.ledger(1));
      await store.putJson(BUCKET, WORK.ledger(1), {
        ...ledger,
        emptyLookups: [{ at: '2026-11-03T10:20:00.000Z', since: '2026-11-03T10:07:00.000Z' }],
      });

      await finalizeRun(runState(), deps());

      expect((await manifest()).risks).toEqual([
        expect.stringMatching(
          new RegExp(
            `^chunk 1: a create call's answer was lost .*listing back to 2026-11-03T10:07:00.000Z.*"${RUN_ID}/chunk-00001"`,
          ),
        ),
      ]);
    });
  });

  it('publishes the run-finished event after manifest.json is written, with the status and URIs', async () => {
    await succeededRun({ failedCount: 1 });
    await finalizeRun(runState(), deps());
    expect(published).toHaveLength(1);
    const [{ detail, manifestWritten }] = published as [(typeof published)[number]];
    expect(manifestWritten).toBe(true);
    const written = await manifest();
    expect(detail).toEqual({
      runId: RUN_ID,
      status: 'COMPLETED_WITH_ERRORS',
      reason: written.reason,
      input: uri(INPUT_KEY),
      manifest: uri(MANIFEST_KEY),
      results: uri(`${RESULTS_ROOT}results.jsonl`),
      counts: written.counts,
    });
  });

  it('fails when the event cannot be published, after the manifest is written', async () => {
    await succeededRun();
    const error = await rejection(
      finalizeRun(
        runState(),
        deps({
          publish: async () => {
            throw new Error('EventBridge refused the event');
          },
        }),
      ),
    );
    expect(error.message).toBe('EventBridge refused the event');
    expect(await manifest()).toMatchObject({ status: 'SUCCEEDED' });
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

  it('writes a manifest even when the run has no plan at all', async () => {
    const failure: RunState['failure'] = { Error: 'States.Runtime', Cause: 'bad input path' };
    const { status } = await finalizeRun(runState({ failure }), deps());
    expect(status).toBe('FAILED');
    expect(geminiCreated).toBe(0);
    expect(await manifest()).toMatchObject({
      counts: { lines: 0, accepted: 0, rejected: 0 },
      jobs: [],
      outputs: { manifest: uri(MANIFEST_KEY) },
    });
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

  it('reads a collect summary written before unmatched answers were counted as none', async () => {
    await succeededRun();
    await finalizeRun(runState(), deps());
    expect((await manifest()).counts.unmatchedResults).toBe(0);
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
