/**
 * A run whose chunks Gemini keeps refusing (429: a full quota) must still end: past the submit
 * deadline the poll loop stops waiting, the run collects what it has, and the refused requests come
 * back as errors — not a run left waiting until its execution times out, with no manifest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;

beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 50, runningMs: 150 } },
    pollWaitMs: 50,
    environment: { SUBMIT_DEADLINE_SECONDS: '1' },
  });
});

afterAll(async () => {
  await pipeline?.close();
});

describe('the submit deadline', () => {
  it('ends a run whose embedding job Gemini never accepts, answering those keys NOT_SUBMITTED', async () => {
    // Every embeddings batch is refused; the generate job runs past the deadline.
    pipeline.emulator?.faults.add({
      kind: 'http-error',
      endpoint: 'batches.createEmbeddings',
      status: 429,
      times: 1000,
    });
    pipeline.emulator?.faults.add({ kind: 'job-outcome', outcome: 'SLOW', runningMs: 2500 });
    const lines = [
      JSON.stringify({ key: 'g1', request: { contents: [{ parts: [{ text: 'hello' }] }] } }),
      JSON.stringify({ key: 'e1', request: { content: { parts: [{ text: 'embed me' }] } } }),
      JSON.stringify({ key: 'g2', request: { contents: [{ parts: [{ text: 'again' }] }] } }),
    ];

    const { delivery } = await pipeline.upload(
      `${pipeline.inputPrefix}refused.jsonl`,
      `${lines.join('\n')}\n`,
    );
    const outcome = await pipeline.waitForRun(delivery.runId ?? '');
    const results = ((await pipeline.readObject(`results/refused/${outcome.runId}/results.jsonl`)) ?? '')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { key: string; response?: unknown; error?: { status?: string } });

    expect(outcome.manifest.status).toBe('COMPLETED_WITH_ERRORS');
    expect(outcome.manifest.reason).toContain('until the submit deadline');
    expect(results.map((line) => line.key)).toEqual(['g1', 'e1', 'g2']);
    expect(results[1]?.error?.status).toBe('NOT_SUBMITTED');
    expect(results.filter((line) => line.response !== undefined).map((line) => line.key)).toEqual([
      'g1',
      'g2',
    ]);
  });
});
