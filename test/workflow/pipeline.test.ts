/**
 * The pipeline end to end, offline: the state machine synthesized from the CDK stack, run by
 * aws-local-stepfunctions, with the same handler modules Lambda runs, against the local S3 (s3rver, on disk)
 * and the Gemini emulator. Each test uploads a file as a user would and reads what the run left in S3.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { JobLedger } from '../../lambdas/shared/run/work-records.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { embedLine, generateLine } from '../support/request-lines.js';
import { oneShotTaskHooks, startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;
/** Per-test hooks into a Task, set by a test and cleared after it runs once. */
const { hooks: taskHooks, wrapTask } = oneShotTaskHooks();

beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 50, runningMs: 150 } },
    pollWaitMs: 20,
    wrapTask,
  });
});

afterAll(async () => {
  await pipeline?.close();
});

let uploads = 0;
/** Uploads lines as a new input file and waits for the run it starts. */
async function runLines(lines: readonly string[], name = `file-${++uploads}`) {
  const { delivery } = await pipeline.upload(`${pipeline.inputPrefix}${name}.jsonl`, `${lines.join('\n')}\n`);
  expect(delivery.matched).toBe(true);
  const outcome = await pipeline.waitForRun(delivery.runId ?? '');
  const results = (await pipeline.readObject(`results/${name}/${outcome.runId}/results.jsonl`)) ?? '';
  const rejected = (await pipeline.readObject(`results/${name}/${outcome.runId}/rejected.jsonl`)) ?? '';
  const parse = (text: string) =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...outcome, results: parse(results), rejected: parse(rejected) };
}

/** Every batch job the emulator holds whose display name belongs to the run. */
async function jobsOfRun(runId: string) {
  const ai = new GoogleGenAI({
    apiKey: pipeline.emulator?.apiKey ?? '',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: pipeline.emulator?.url ?? '' },
  });
  const jobs = [];
  for await (const job of await ai.batches.list({ config: { pageSize: 100 } })) {
    if (job.displayName?.startsWith(`${runId}/`)) jobs.push(job);
  }
  return jobs;
}

describe('the pipeline on the synthesized state machine', () => {
  it('answers every key of a generate file and ends SUCCEEDED with a manifest', async () => {
    const run = await runLines([generateLine('a', 'first prompt'), generateLine('b', 'second prompt')]);

    expect(run.execution).toBe('SUCCEEDED');
    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.results.map((line) => line.key).sort()).toEqual(['a', 'b']);
    expect(run.results.every((line) => line.response !== undefined)).toBe(true);
    expect(run.manifest.counts).toMatchObject({
      lines: 2,
      accepted: 2,
      rejected: 0,
      succeeded: 2,
      failed: 0,
    });
    expect(run.manifest.usage.byModel['gemini-3.8-flash']?.requestCount).toBe(2);
    expect(run.manifest.jobs).toHaveLength(1);
    expect(run.manifest.jobs[0]?.state).toBe('BATCH_STATE_SUCCEEDED');
    const event = pipeline.events.find(
      (published) => (published.detail as { runId: string }).runId === run.runId,
    );
    expect(event?.detailType).toBe('Gemini Batch Run Finished');
    expect(event?.detail).toMatchObject({ status: 'SUCCEEDED', counts: { succeeded: 2 } });
  });

  it('returns one vector line per key for an embeddings file', async () => {
    const run = await runLines([
      embedLine('e1', 'the cat sat'),
      embedLine('e2', 'the dog ran'),
      embedLine('e3', 'markets rose'),
    ]);

    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.results.map((line) => line.key).sort()).toEqual(['e1', 'e2', 'e3']);
    for (const line of run.results) {
      expect((line.response as { embedding: { values: number[] } }).embedding.values).toHaveLength(8);
    }
    expect(run.manifest.jobs[0]).toMatchObject({ kind: 'embed', model: 'gemini-embedding-2' });
  });

  it('rejects a bad line with its line number while the rest of the file completes', async () => {
    const run = await runLines([generateLine('good-1', 'one'), '{not json', generateLine('good-2', 'two')]);

    expect(run.rejected).toHaveLength(1);
    expect(run.rejected[0]).toMatchObject({ line: 2 });
    expect(String(run.rejected[0]?.reason)).toContain('not valid JSON');
    expect(run.results.map((line) => line.key).sort()).toEqual(['good-1', 'good-2']);
    expect(run.manifest).toMatchObject({
      status: 'COMPLETED_WITH_ERRORS',
      counts: { lines: 3, accepted: 2, rejected: 1 },
    });
  });

  it('ends an empty file with a clear error and no Gemini job', async () => {
    const run = await runLines(['', '   ']);

    expect(run.execution).toBe('FAILED');
    expect(run.manifest.status).toBe('FAILED');
    expect(run.manifest.reason).toMatch(/^EmptyInputError: .*empty/);
    expect(await jobsOfRun(run.runId)).toHaveLength(0);
  });

  it('writes a manifest that says the job ended FAILED, with an error line for every key', async () => {
    pipeline.emulator?.faults.add({
      kind: 'job-outcome',
      outcome: 'FAILED',
      errorMessage: 'emulated job failure',
    });
    const run = await runLines([generateLine('x', 'one'), generateLine('y', 'two')]);

    expect(run.manifest.status).toBe('FAILED');
    expect(run.manifest.jobs[0]?.state).toBe('BATCH_STATE_FAILED');
    expect(run.manifest.reason).toContain('ended BATCH_STATE_FAILED');
    expect(run.results.map((line) => line.key).sort()).toEqual(['x', 'y']);
    expect(
      run.results.every((line) => (line.error as { status: string }).status === 'JOB_NOT_SUCCEEDED'),
    ).toBe(true);
  });

  it('writes a manifest that says the job was CANCELLED when someone cancels it', async () => {
    taskHooks.set('Submit Batch Jobs', async (input, handler) => {
      const submitted = await handler(input);
      const ledger = await pipeline.readObject(workKeys(input.runId).ledger(0));
      const { batchName } = JSON.parse(ledger ?? '{}') as JobLedger;
      await fetch(`${pipeline.emulator?.url}/v1beta/${batchName}:cancel`, {
        method: 'POST',
        headers: { 'x-goog-api-key': pipeline.emulator?.apiKey ?? '' },
      });
      return submitted;
    });
    const run = await runLines([generateLine('c', 'cancel me')]);

    expect(run.manifest.jobs[0]?.state).toBe('BATCH_STATE_CANCELLED');
    expect(run.manifest.status).toBe('FAILED');
    expect(run.results).toEqual([
      expect.objectContaining({ key: 'c', error: expect.objectContaining({ status: 'JOB_NOT_SUCCEEDED' }) }),
    ]);
  });

  it('starts one run and one Gemini job when the same event is delivered twice', async () => {
    const key = `${pipeline.inputPrefix}twice.jsonl`;
    const { event, delivery } = await pipeline.upload(key, `${generateLine('t', 'twice')}\n`);
    const again = await pipeline.deliver(event);
    const outcome = await pipeline.waitForRun(delivery.runId ?? '');
    const third = await pipeline.deliver(event);

    expect(again.runId).toBe(delivery.runId);
    expect(third).toMatchObject({ runId: delivery.runId, started: false });
    expect(outcome.manifest.status).toBe('SUCCEEDED');
    expect(await jobsOfRun(outcome.runId)).toHaveLength(1);
  });

  it.each(['generate-text.jsonl', 'embeddings.jsonl', 'structured-output.jsonl'])(
    'runs examples/%s, which the README points users at, to SUCCEEDED',
    async (example) => {
      const run = await pipeline.runFile(
        fileURLToPath(new URL(`../../examples/${example}`, import.meta.url)),
      );

      expect(run.manifest.status).toBe('SUCCEEDED');
      expect(run.manifest.counts.succeeded).toBe(run.manifest.counts.lines);
      expect(run.manifest.counts.lines).toBeGreaterThan(0);
    },
  );

  it("answers an OpenAI-format file through Gemini's OpenAI-compatible layer, in OpenAI's output shape", async () => {
    const chat = (id: string, content: string) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] },
      });
    const embedding = (id: string, input: string) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/embeddings',
        body: { model: 'gemini-embedding-001', input },
      });

    const run = await runLines([
      chat('chat-1', 'Tell me a joke'),
      embedding('emb-1', 'a sentence'),
      chat('chat-2', 'Name a river'),
    ]);

    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.results.map((line) => line.custom_id)).toEqual(['chat-1', 'emb-1', 'chat-2']);
    for (const line of run.results) {
      expect(line.error).toBeNull();
      expect(line.response).toMatchObject({ status_code: 200 });
    }
    const joke = run.results[0]?.response as { body: { choices: { message: { content: string } }[] } };
    expect(joke.body.choices[0]?.message.content).toContain('Tell me a joke');
    expect(run.manifest.jobs.map((job) => job.kind).sort()).toEqual(['embed', 'generate']);
    expect(run.manifest.usage.byModel['gemini-2.5-flash']?.promptTokens).toBeGreaterThan(0);
  });

  it('runs a file larger than one S3 request may carry, uploaded in parts as an S3 client would', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'workflow-big-'));
    try {
      const path = join(dir, 'big.jsonl');
      const lines = Array.from({ length: 24_000 }, (_, i) =>
        generateLine(`big-${i}`, `item ${i} ${'pad '.repeat(120)}`),
      );
      await writeFile(path, `${lines.join('\n')}\n`);
      expect((await stat(path)).size).toBeGreaterThan(12 * 1024 * 1024); // over lib-storage's 5 MiB part size: a multipart upload

      const run = await pipeline.runFile(path);

      expect(run.manifest.status).toBe('SUCCEEDED');
      expect(run.manifest.counts.succeeded).toBe(24_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("uses the model named in the file's object metadata", async () => {
    const key = `${pipeline.inputPrefix}pro.jsonl`;
    const { delivery } = await pipeline.upload(key, `${generateLine('p', 'think hard')}\n`, {
      metadata: { 'gemini-model': 'gemini-2.5-pro' },
    });
    const run = await pipeline.waitForRun(delivery.runId ?? '');

    expect(run.manifest.jobs[0]?.model).toBe('gemini-2.5-pro');
    expect(Object.keys(run.manifest.usage.byModel)).toEqual(['gemini-2.5-pro']);
  });

  it('never starts a run for files outside the input prefix, including its own results', async () => {
    const outside = await pipeline.upload('results/some/run/results.jsonl', `${generateLine('r', 'no')}\n`);
    const wrongType = await pipeline.upload(`${pipeline.inputPrefix}notes.txt`, 'hello');

    expect(outside.delivery.matched).toBe(false);
    expect(wrongType.delivery.matched).toBe(false);
  });
});
