/**
 * A run's budget end to end, on the synthesized state machine with the local S3 and the Gemini
 * emulator: a file whose estimate passes its cap ends before any Gemini job exists, with the reason
 * and the estimate in its manifest and an error line for every accepted key; a file under its cap runs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;
/** The emulator's request log: one `METHOD /path status time` line per call. */
const requests: string[] = [];
/** Every call that creates something paid for or held on Gemini: a batch job, or an upload for one. */
const CREATES = [
  /^POST \/v1beta\/models\/[^/]+:batchGenerateContent /,
  /^POST \/v1beta\/models\/[^/]+:asyncBatchEmbedContent /,
  /^POST \/v1beta\/openai\/batches /,
  /^POST \/upload\/v1beta\/files /,
];
const createCalls = () => requests.filter((line) => CREATES.some((pattern) => pattern.test(line)));

beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 50, runningMs: 150 }, log: (line) => void requests.push(line) },
    pollWaitMs: 20,
    // The stack's cap: a tenth of a cent. At the default batch prices one generate request with no
    // maxOutputTokens is counted at 8,192 output tokens, more than a cent on every current model.
    environment: { MAX_RUN_COST_USD: '0.001' },
  });
});

afterAll(async () => {
  await pipeline?.close();
});

beforeEach(() => {
  requests.length = 0;
});

const LINES = [
  JSON.stringify({ key: 'g1', request: { contents: [{ parts: [{ text: 'hello' }] }] } }),
  JSON.stringify({ key: 'e1', request: { content: { parts: [{ text: 'embed me' }] } } }),
  JSON.stringify({ key: 'g2', request: { contents: [{ parts: [{ text: 'again' }] }] } }),
  'not json',
];

async function run(name: string, metadata?: Record<string, string>) {
  const { delivery } = await pipeline.upload(
    `${pipeline.inputPrefix}${name}.jsonl`,
    `${LINES.join('\n')}\n`,
    {
      metadata,
    },
  );
  expect(delivery.matched).toBe(true);
  const outcome = await pipeline.waitForRun(delivery.runId ?? '');
  const text = (await pipeline.readObject(`results/${name}/${outcome.runId}/results.jsonl`)) ?? '';
  const results = text
    .split('\n')
    .filter((line) => line !== '')
    .map(
      (line) =>
        JSON.parse(line) as {
          key: string;
          response?: unknown;
          error?: { status?: string; message?: string };
        },
    );
  return { ...outcome, results };
}

describe('run budgets', () => {
  it('ends a file over its cap before any Gemini job exists, with the reason and the estimate', async () => {
    const outcome = await run('over-budget');

    expect(createCalls()).toEqual([]);
    expect(outcome.execution).toBe('FAILED');
    const { manifest } = outcome;
    expect(manifest.status).toBe('FAILED');
    expect(manifest.reason).toMatch(
      /^RunBudgetError: the run's estimated cost at batch prices, \$[\d.]+, is over its cap of \$0\.001 \(the stack's maxRunCostUsd\): 3 requests/,
    );
    expect(manifest.reason).toContain('No batch job was created');
    expect(manifest.cost.estimate).toMatchObject({ maxUsd: 0.001, capSource: 'stack', overBudget: true });
    expect(manifest.cost.estimatedUsd).toBeGreaterThan(0.001);
    expect(manifest.cost.actualUsd).toBe(0);
    expect(manifest.jobs.every((job) => job.batchName === undefined)).toBe(true);
    // Every line accounted for: the bad one rejected, each accepted key answered with why it was not sent.
    expect(manifest.counts).toMatchObject({ lines: 4, accepted: 3, rejected: 1, succeeded: 0, failed: 3 });
    expect(outcome.results.map((line) => line.key)).toEqual(['g1', 'e1', 'g2']);
    for (const line of outcome.results) {
      expect(line.response).toBeUndefined();
      expect(line.error?.status).toBe('NOT_SUBMITTED');
      expect(line.error?.message).toContain('RunBudgetError');
    }
  });

  it("runs a file whose gemini-max-cost-usd metadata raises its cap over the stack's", async () => {
    const outcome = await run('under-budget', { 'gemini-max-cost-usd': '5' });

    expect(createCalls().length).toBeGreaterThan(0);
    const { manifest } = outcome;
    expect(manifest.status).toBe('COMPLETED_WITH_ERRORS');
    expect(manifest.counts).toMatchObject({ accepted: 3, succeeded: 3, failed: 0 });
    expect(manifest.cost.estimate).toMatchObject({ maxUsd: 5, capSource: 'metadata', overBudget: false });
    expect(manifest.cost.estimatedUsd).toBeGreaterThan(0);
    expect(manifest.cost.actualUsd).toBe(manifest.cost.total);
    expect(outcome.results.filter((line) => line.response !== undefined)).toHaveLength(3);
  });

  it('fails a file whose gemini-max-cost-usd is not a positive number, naming the metadata', async () => {
    const outcome = await run('bad-budget', { 'gemini-max-cost-usd': 'lots' });

    expect(createCalls()).toEqual([]);
    expect(outcome.manifest.status).toBe('FAILED');
    expect(outcome.manifest.reason).toBe(
      "InputValidationError: object metadata gemini-max-cost-usd must be a positive number of US dollars such as 25 or 2.50, got 'lots'",
    );
  });
});
