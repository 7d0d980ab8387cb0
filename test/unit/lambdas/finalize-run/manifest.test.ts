/**
 * The manifest Finalize writes, field by field (status, counts, cost, jobs, risks): one file for one record,
 * longer than 300 lines because each field's rule is pinned with its own run.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { finalizeRun } from '../../../../lambdas/finalize-run/finalize-run.js';
import { priceTableWith } from '../../../../lambdas/shared/pricing/pricing.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import type { RunState } from '../../../../lambdas/shared/run/state-payloads.js';
import type { RunCostEstimate } from '../../../../lambdas/shared/run/work-records.js';
import {
  BUCKET,
  fixedNow,
  INPUT_KEY,
  MODELS,
  RESULTS_ROOT,
  RUN_ID,
  runState,
  usage,
  WORK,
  writeCollected,
  writeLedger,
  writePlan,
} from '../run-fixtures.js';
import {
  deps,
  fake,
  geminiCreated,
  MANIFEST_KEY,
  manifest,
  recordPoll,
  resetWorld,
  scenario,
  store,
  succeededRun,
  uri,
} from './finalize-fixture.js';

beforeEach(resetWorld);

describe('finalizeRun: manifest.json', () => {
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
    // Priced on the day of the last poll, which saw the jobs end; no price changed since the upload.
    expect(written.cost).toMatchObject({
      currency: 'USD',
      basis: expect.stringContaining('batch prices'),
      pricedAt: '2026-11-03T11:00:00.000Z',
      unpricedModels: [],
      notes: [],
    });
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

    it("puts Prepare's estimate and cap beside the actual cost", async () => {
      const plan = await writePlan(store, [{ kind: 'generate', keys: ['a'], model: FLASH }]);
      const estimate: RunCostEstimate = {
        estimatedUsd: 1.25,
        byModel: {
          [FLASH]: { requests: 1, inputTokens: 10, outputTokens: 8192, assumedOutputRequests: 1, usd: 1.25 },
        },
        outputTokensAssumed: 8192,
        pricedAt: '2026-11-03T11:00:00.000Z',
        unpricedModels: [],
        maxUsd: 2,
        capSource: 'metadata',
        overBudget: false,
      };
      await store.putJson(BUCKET, WORK.plan, { ...plan, estimate });
      await writeCollected(store, { succeededCount: 1, usageByModel: millionIn });
      const prices = priceTableWith(`{"${FLASH}": {"inputPerMillion": 2, "outputPerMillion": 4}}`);

      await finalizeRun(runState(), deps({ prices }));

      const { cost } = await manifest();
      expect(cost).toMatchObject({ total: 2, actualUsd: 2, estimatedUsd: 1.25, estimate });
    });

    it('leaves the estimate out of a run whose plan has none', async () => {
      await writePlan(store, [{ kind: 'generate', keys: ['a'], model: FLASH }]);
      await writeCollected(store, { succeededCount: 1, usageByModel: millionIn });
      await finalizeRun(runState(), deps());
      const { cost } = await manifest();
      expect(cost.actualUsd).toBe(cost.total);
      expect(cost.estimatedUsd).toBeUndefined();
      expect(cost.estimate).toBeUndefined();
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

  it('reads a collect summary written before unmatched answers were counted as none', async () => {
    await succeededRun();
    await finalizeRun(runState(), deps());
    expect((await manifest()).counts.unmatchedResults).toBe(0);
  });
});
