/**
 * Local pipelines are independent: several can run in one process, one after another or at once,
 * each with its own S3, Gemini and function sandboxes, and none leaves its settings behind in this
 * process's environment.
 */
import { describe, expect, it } from 'vitest';
import { startTestPipeline } from '../support/test-pipeline.js';

const LINE = JSON.stringify({ key: 'k', request: { contents: [{ parts: [{ text: 'hello' }] }] } });

describe('local pipelines', () => {
  it('run side by side in one process, each against its own S3, and leave process.env as it was', async () => {
    const environmentBefore = { ...process.env };
    const options = { emulator: { timing: { pendingMs: 0, runningMs: 0 } }, pollWaitMs: 10 };
    const first = await startTestPipeline(options);
    const second = await startTestPipeline(options);
    try {
      expect(first.s3Endpoint).not.toBe(second.s3Endpoint);
      const [a, b] = await Promise.all([
        first.upload(`${first.inputPrefix}first.jsonl`, `${LINE}\n`),
        second.upload(`${second.inputPrefix}second.jsonl`, `${LINE}\n`),
      ]);
      const [runA, runB] = await Promise.all([
        first.waitForRun(a.delivery.runId ?? ''),
        second.waitForRun(b.delivery.runId ?? ''),
      ]);

      expect([runA.manifest.status, runB.manifest.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      expect(await first.readObject(`results/first/${runA.runId}/results.jsonl`)).toContain('"key":"k"');
      expect(await second.readObject(`results/first/${runA.runId}/results.jsonl`)).toBeUndefined();
      expect(await second.readObject(`results/second/${runB.runId}/results.jsonl`)).toContain('"key":"k"');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }

    const third = await startTestPipeline(options);
    try {
      const { delivery } = await third.upload(`${third.inputPrefix}third.jsonl`, `${LINE}\n`);
      expect((await third.waitForRun(delivery.runId ?? '')).manifest.status).toBe('SUCCEEDED');
    } finally {
      await third.close();
    }
    expect(process.env).toEqual(environmentBefore);
  });
});
