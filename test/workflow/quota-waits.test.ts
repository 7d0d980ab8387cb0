/**
 * A 429 is a wait, never a failed run by itself: Gemini's generic quota answer on each kind of call
 * the pipeline makes, in whichever state makes it (Prepare's model lookups; Submit's uploads and
 * creates; Poll's reads; Collect's downloads and inline reads; Finalize's clean-up), and the run
 * still answers every key. Each file mixes an inline generate chunk and an uploaded embedding
 * chunk, so every kind of call happens in every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../local/gemini-emulator/faults.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { startTestPipeline } from '../support/test-pipeline.js';

const KEYS = ['g1', 'g2', 'e1', 'e2'];
const LINES = [
  ...['g1', 'g2'].map((key) =>
    JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text: `about ${key}` }] }] } }),
  ),
  ...['e1', 'e2'].map((key) =>
    JSON.stringify({
      key,
      request: { content: { parts: [{ text: `about ${key}` }] }, outputDimensionality: 4 },
    }),
  ),
];

/** Every kind of Gemini call the pipeline makes in a run, with the states that make it. */
const CALLS: readonly [Endpoint, string][] = [
  ['models.get', 'Prepare Requests'],
  ['files.upload', 'Submit Batch Jobs'],
  ['batches.create', 'Submit Batch Jobs (inline generate)'],
  ['batches.createEmbeddings', 'Submit Batch Jobs (embeddings file)'],
  ['batches.get', 'Poll Batch Jobs, Collect Results (inline answers)'],
  ['files.download', 'Collect Results'],
];

let pipeline: LocalPipeline;
beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 0, runningMs: 50 } },
    pollWaitMs: 10,
  });
});
afterAll(async () => {
  await pipeline?.close();
});

describe('Gemini answering 429', () => {
  it.each(CALLS)('on %s (%s) three times over makes the run wait, not fail', async (endpoint) => {
    const emulator = pipeline.emulator;
    if (!emulator) throw new Error('the test needs the emulator');
    const firedBefore = emulator.faults.fired()[`http-error:${endpoint}`] ?? 0;
    emulator.faults.add({ kind: 'http-error', endpoint, status: 429, times: 3 });

    const name = `quota-${endpoint.replace('.', '-')}`;
    const { delivery } = await pipeline.upload(
      `${pipeline.inputPrefix}${name}.jsonl`,
      `${LINES.join('\n')}\n`,
    );
    const run = await pipeline.waitForRun(delivery.runId ?? '');
    const results = ((await pipeline.readObject(`results/${name}/${run.runId}/results.jsonl`)) ?? '')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; response?: unknown });

    expect((emulator.faults.fired()[`http-error:${endpoint}`] ?? 0) - firedBefore).toBe(3);
    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(results.map((line) => line.key)).toEqual(KEYS);
    expect(results.every((line) => line.response !== undefined)).toBe(true);
  });

  it("on Finalize's clean-up leaves the file to Gemini's 48-hour expiry and says so, without failing the run", async () => {
    const emulator = pipeline.emulator;
    if (!emulator) throw new Error('the test needs the emulator');
    emulator.faults.add({ kind: 'http-error', endpoint: 'files.delete', status: 429, times: 100 });
    try {
      const { delivery } = await pipeline.upload(
        `${pipeline.inputPrefix}quota-cleanup.jsonl`,
        `${LINES.join('\n')}\n`,
      );
      const run = await pipeline.waitForRun(delivery.runId ?? '');

      expect(run.manifest.status).toBe('SUCCEEDED');
      expect(run.manifest.cleanup.problems.length).toBeGreaterThan(0);
      expect(run.manifest.cleanup.problems.join(' ')).toContain('429');
    } finally {
      emulator.faults.clear();
    }
  });
});
