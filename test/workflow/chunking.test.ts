/**
 * A run big enough, for its limits, to need several Gemini jobs: the limits are made small through
 * the functions' environment (as the construct's `jobLimits` sets it), so a few dozen lines split
 * into inline and file chunks of both kinds, and results must still come back in input order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { JobLedger, RunPlan } from '../../lambdas/shared/run/work-records.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;

beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 50, runningMs: 150 } },
    pollWaitMs: 20,
    environment: { MAX_CHUNK_REQUESTS: '4', INLINE_MAX_BYTES: '700' },
  });
});

afterAll(async () => {
  await pipeline?.close();
});

describe('a run split into several jobs', () => {
  it('sends small chunks inline and large ones as files, and returns every key in input order', async () => {
    // Short prompts make chunks that fit inline; long ones, chunks that must be uploaded.
    const lines = Array.from({ length: 24 }, (_, i) => {
      const text = i < 12 ? `short ${i}` : `long ${i} ${'detail '.repeat(30)}`;
      return i % 3 === 2
        ? JSON.stringify({
            key: `k${i}`,
            request: { content: { parts: [{ text }] }, outputDimensionality: 4 },
          })
        : JSON.stringify({ key: `k${i}`, request: { contents: [{ parts: [{ text }] }] } });
    });
    const { delivery } = await pipeline.upload(`${pipeline.inputPrefix}split.jsonl`, `${lines.join('\n')}\n`);
    const outcome = await pipeline.waitForRun(delivery.runId ?? '');

    const plan = JSON.parse((await pipeline.readObject(workKeys(outcome.runId).plan)) ?? '{}') as RunPlan;
    const ledgers = await Promise.all(
      plan.chunks.map(
        async (chunk) =>
          JSON.parse(
            (await pipeline.readObject(workKeys(outcome.runId).ledger(chunk.index))) ?? '{}',
          ) as JobLedger,
      ),
    );
    const results = ((await pipeline.readObject(`results/split/${outcome.runId}/results.jsonl`)) ?? '')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { key: string; response?: unknown });

    expect(plan.chunks.length).toBeGreaterThanOrEqual(3);
    expect(new Set(plan.chunks.map((chunk) => chunk.kind))).toEqual(new Set(['generate', 'embed']));
    expect(ledgers.some((ledger) => ledger.inline)).toBe(true);
    expect(ledgers.some((ledger) => !ledger.inline && ledger.uploadedFile)).toBe(true);
    expect(outcome.manifest.status).toBe('SUCCEEDED');
    expect(outcome.manifest.jobs).toHaveLength(plan.chunks.length);
    expect(results.map((line) => line.key)).toEqual(lines.map((_, i) => `k${i}`));
    expect(results.every((line) => line.response !== undefined)).toBe(true);
  });
});
