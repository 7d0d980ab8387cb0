/**
 * Nothing lost to a transient failure, end to end on the synthesized state machine: requests
 * Gemini answers with a transient error are re-batched and answered; permanent errors are not sent
 * again; a job Gemini expires is resubmitted in halves and answered. Every accepted key gets
 * exactly one line, its last attempt, in input order, and no chunk ever has two jobs. Gemini
 * creates are counted from the emulator's request log.
 */
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { RunPlan } from '../../lambdas/shared/run/work-records.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { embedLine, generateLine } from '../support/request-lines.js';
import { startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;
/** The emulator's request log: one `METHOD /path status time` line per call. */
const requests: string[] = [];

beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: {
      timing: { pendingMs: 50, runningMs: 150 },
      log: (line) => {
        requests.push(line);
      },
    },
    pollWaitMs: 20,
  });
});

afterAll(async () => {
  await pipeline?.close();
});

beforeEach(() => {
  requests.length = 0;
  pipeline.emulator?.faults.clear();
});

/** Job creates the run made (native generate and embedding batches), from the emulator's log. */
const creates = () =>
  requests.filter((line) =>
    /^POST \/v1beta\/models\/[^/]+:(batchGenerateContent|asyncBatchEmbedContent) /.test(line),
  ).length;

interface ResultLine {
  readonly key: string;
  readonly response?: unknown;
  readonly error?: { readonly code?: number; readonly status?: string; readonly message?: string };
}

let uploads = 0;
/** Uploads lines as a new input file and waits for the run it starts. */
async function runLines(lines: readonly string[]) {
  const name = `retries-${++uploads}`;
  const { delivery } = await pipeline.upload(`${pipeline.inputPrefix}${name}.jsonl`, `${lines.join('\n')}\n`);
  expect(delivery.matched).toBe(true);
  const outcome = await pipeline.waitForRun(delivery.runId ?? '');
  const text = (await pipeline.readObject(`results/${name}/${outcome.runId}/results.jsonl`)) ?? '';
  const results = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ResultLine);
  const plan = JSON.parse((await pipeline.readObject(workKeys(outcome.runId).plan)) ?? '{}') as RunPlan;
  return { ...outcome, results, plan, creates: creates() };
}

/** How many jobs Gemini holds under each of the run's display names. */
async function jobsPerDisplayName(runId: string): Promise<number[]> {
  const genai = new GoogleGenAI({
    apiKey: pipeline.emulator?.apiKey ?? '',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: pipeline.emulator?.url ?? '' },
  });
  const counts = new Map<string, number>();
  for await (const job of await genai.batches.list({ config: { pageSize: 100 } })) {
    if (job.displayName?.startsWith(`${runId}/`))
      counts.set(job.displayName, (counts.get(job.displayName) ?? 0) + 1);
  }
  return [...counts.values()];
}

describe('retries', () => {
  it('re-batches transient line errors (inline and file jobs) and writes their answers once, in input order', async () => {
    // Fails the first time each marked request is seen, then passes: one marked request per chunk.
    pipeline.emulator?.faults.add({ kind: 'line-error', marker: 'FLAKY', code: 13, times: 2 });
    const run = await runLines([
      generateLine('g1', 'first prompt'),
      generateLine('g2', 'FLAKY second prompt'),
      embedLine('e1', 'the cat sat'),
      embedLine('e2', 'FLAKY the dog ran'),
      generateLine('g3', 'third prompt'),
    ]);
    expect(run.results.map((line) => line.key)).toEqual(['g1', 'g2', 'e1', 'e2', 'g3']);
    expect(run.results.every((line) => line.response !== undefined)).toBe(true);
    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.manifest.counts).toMatchObject({ succeeded: 5, failed: 0, linesRetried: 2, retryRounds: 1 });
    // Two chunks (generate inline, embeddings as a file), then one retry chunk each.
    expect(run.plan.chunks.map((chunk) => [chunk.round ?? 0, chunk.requestCount])).toEqual([
      [0, 3],
      [0, 2],
      [1, 1],
      [1, 1],
    ]);
    expect(run.creates).toBe(4);
    expect(await jobsPerDisplayName(run.runId)).toEqual([1, 1, 1, 1]);
  });

  // 13 (INTERNAL) and 503 (UNAVAILABLE): both transient, so both sent again before the error stays.
  it.each([13, 503])(
    'sends a request failing with transient code %i again only lineRetryRounds times, keeping its last error as its line',
    async (code) => {
      pipeline.emulator?.faults.add({
        kind: 'line-error',
        marker: 'ALWAYS_FAILS',
        code,
        message: 'emulated failure',
      });
      const run = await runLines([generateLine('a', 'ALWAYS_FAILS one'), generateLine('b', 'two')]);
      expect(run.results.map((line) => [line.key, line.error?.code])).toEqual([
        ['a', code],
        ['b', undefined],
      ]);
      expect(run.results[0]?.error).toMatchObject({ code, message: 'emulated failure' });
      expect(run.results[1]?.response).toBeDefined();
      expect(run.manifest.status).toBe('COMPLETED_WITH_ERRORS');
      expect(run.manifest.reason).toContain('1 requests failed');
      expect(run.manifest.counts).toMatchObject({ succeeded: 1, failed: 1, linesRetried: 2, retryRounds: 2 });
      expect(run.creates).toBe(3); // the chunk, then the request twice (the default 2 rounds)
    },
  );

  it('does not send permanent errors (400) again', async () => {
    pipeline.emulator?.faults.add({ kind: 'line-error', marker: 'BAD_REQUEST', code: 400 });
    const run = await runLines([generateLine('a', 'one'), generateLine('b', 'BAD_REQUEST two')]);
    expect(run.results.map((line) => [line.key, line.error?.code])).toEqual([
      ['a', undefined],
      ['b', 400],
    ]);
    expect(run.manifest.counts).toMatchObject({ linesRetried: 0, retryRounds: 0 });
    expect(run.plan.chunks).toHaveLength(1);
    expect(run.creates).toBe(1);
  });

  it('resubmits an expired job in halves and answers every key once', async () => {
    pipeline.emulator?.faults.add({ kind: 'job-outcome', outcome: 'EXPIRED', times: 1 });
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    const run = await runLines(keys.map((key) => generateLine(key, `prompt ${key}`)));
    expect(run.results.map((line) => line.key)).toEqual(keys);
    expect(run.results.every((line) => line.response !== undefined)).toBe(true);
    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.manifest.counts).toMatchObject({ succeeded: 5, linesRetried: 5, retryRounds: 1 });
    expect(run.plan.chunks.map((chunk) => [chunk.requestCount, chunk.retryReason])).toEqual([
      [5, undefined],
      [3, 'EXPIRED'],
      [2, 'EXPIRED'],
    ]);
    expect(run.manifest.jobs.map((job) => job.state)).toEqual([
      'BATCH_STATE_EXPIRED',
      'BATCH_STATE_SUCCEEDED',
      'BATCH_STATE_SUCCEEDED',
    ]);
    expect(run.creates).toBe(3);
    expect(await jobsPerDisplayName(run.runId)).toEqual([1, 1, 1]);
  });

  it('gives the keys of a resubmitted job that expires again the expiry error, and a manifest that says so', async () => {
    pipeline.emulator?.faults.add({ kind: 'job-outcome', outcome: 'EXPIRED', times: 3 });
    const run = await runLines([generateLine('x', 'one'), generateLine('y', 'two')]);
    expect(run.results.map((line) => [line.key, line.error?.status])).toEqual([
      ['x', 'JOB_NOT_SUCCEEDED'],
      ['y', 'JOB_NOT_SUCCEEDED'],
    ]);
    expect(run.results.every((line) => line.error?.message?.includes('BATCH_STATE_EXPIRED'))).toBe(true);
    expect(run.manifest.status).toBe('FAILED');
    expect(run.manifest.jobs[0]?.state).toBe('BATCH_STATE_EXPIRED');
    expect(run.manifest.reason).toContain('ended BATCH_STATE_EXPIRED');
    expect(run.creates).toBe(3); // the chunk and its two halves, never a third round (the default 1)
  });
});
