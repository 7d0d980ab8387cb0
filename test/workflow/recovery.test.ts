/**
 * Nothing lost, never two jobs, end to end on the synthesized state machine: a chunk Gemini
 * refuses to create fails alone; a duplicate job made before recovery is found, cancelled and
 * named; a job reported SUCCEEDED before its result file is named is read again, not emptied; a
 * lookup that cannot look everywhere is recorded before the chunk is created again. Every Gemini
 * call the run makes is counted from the emulator's request log.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobDisplayName, workKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { JobLedger, PollStatus, RunPlan } from '../../lambdas/shared/run/work-records.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { embedLine, generateLine } from '../support/request-lines.js';
import { oneShotTaskHooks, startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;
/** Per-test hooks into a Task, set by a test and cleared after it runs once. */
const { hooks: taskHooks, wrapTask } = oneShotTaskHooks();
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
    wrapTask,
  });
});

afterAll(async () => {
  await pipeline?.close();
});

beforeEach(() => {
  requests.length = 0;
  pipeline.emulator?.faults.clear();
});

const chatLine = (id: string, content: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] },
  });

/** One generate chunk (inline), one embedding chunk (a file), one OpenAI-format chunk (compat layer). */
const MIXED = [
  generateLine('g1', 'first prompt'),
  generateLine('g2', 'second prompt'),
  embedLine('e1', 'the cat sat'),
  embedLine('e2', 'the dog ran'),
  chatLine('o1', 'Tell me a joke'),
  chatLine('o2', 'Name a river'),
];

/** Gemini calls by kind, from the emulator's log. */
function callCounts(): Record<string, number> {
  const kinds: [string, RegExp][] = [
    ['models.get', /^GET \/v1beta\/models\/[^/]+ /],
    ['files.upload', /^POST \/upload\/v1beta\/files /],
    ['batches.create', /^POST \/v1beta\/models\/[^/]+:batchGenerateContent /],
    ['batches.createEmbeddings', /^POST \/v1beta\/models\/[^/]+:asyncBatchEmbedContent /],
    ['openai.batches.create', /^POST \/v1beta\/openai\/batches /],
    ['batches.list', /^GET \/v1beta\/batches /],
    ['openai.batches.list', /^GET \/v1beta\/openai\/batches /],
    ['batches.get', /^GET \/v1beta\/batches\/[a-z0-9-]+ /],
    ['batches.cancel', /^POST \/v1beta\/batches\/[a-z0-9-]+:cancel /],
    ['files.download', /^GET (\/download)?\/v1beta\/files\/[a-z0-9-]+:download /],
    ['files.delete', /^DELETE \/v1beta\/files\/[a-z0-9-]+ /],
  ];
  const counts: Record<string, number> = {};
  for (const line of requests) {
    const kind =
      kinds.find(([, pattern]) => pattern.test(line))?.[0] ?? line.split(' ').slice(0, 2).join(' ');
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

let uploads = 0;
/** Uploads lines as a new input file and waits for the run it starts. */
async function runLines(lines: readonly string[], name = `recovery-${++uploads}`) {
  const { delivery } = await pipeline.upload(`${pipeline.inputPrefix}${name}.jsonl`, `${lines.join('\n')}\n`);
  expect(delivery.matched).toBe(true);
  const outcome = await pipeline.waitForRun(delivery.runId ?? '');
  const text = (await pipeline.readObject(`results/${name}/${outcome.runId}/results.jsonl`)) ?? '';
  const results = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...outcome, results, calls: callCounts() };
}

async function readJson<T>(key: string): Promise<T> {
  const text = await pipeline.readObject(key);
  if (text === undefined) throw new Error(`no object ${key}`);
  return JSON.parse(text) as T;
}

const genai = () =>
  new GoogleGenAI({
    apiKey: pipeline.emulator?.apiKey ?? '',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: pipeline.emulator?.url ?? '' },
  });
const compat = () =>
  new OpenAI({
    apiKey: pipeline.emulator?.apiKey ?? '',
    baseURL: `${pipeline.emulator?.url}/v1beta/openai/`,
    maxRetries: 0,
  });

/** Every job on the emulator under each of the run's display names, native and compat, with its state. */
async function jobsByDisplayName(runId: string): Promise<Map<string, { name: string; state: string }[]>> {
  const jobs = new Map<string, { name: string; state: string }[]>();
  const add = (displayName: string | undefined, name: string, state: string) => {
    if (!displayName?.startsWith(`${runId}/`)) return;
    jobs.set(displayName, [...(jobs.get(displayName) ?? []), { name, state }]);
  };
  for await (const job of await genai().batches.list({ config: { pageSize: 100 } })) {
    add(job.displayName, job.name ?? '', String(job.state));
  }
  for await (const batch of compat().batches.list({ limit: 100 })) {
    add(batch.metadata?.display_name, batch.id, batch.status);
  }
  return jobs;
}

/** A crash of Submit right after Gemini made the jobs: each chunk's ledger put back to `creating`. */
async function forgetCreatedJobs(runId: string, chunks: readonly number[]): Promise<void> {
  for (const chunk of chunks) {
    const key = workKeys(runId).ledger(chunk);
    const { batchName: _created, ...before } = await readJson<JobLedger>(key);
    const ledger = JSON.stringify({ ...before, creating: true });
    await pipeline.s3.send(new PutObjectCommand({ Bucket: pipeline.bucket, Key: key, Body: ledger }));
  }
}

function crash(): Error {
  const error = new Error('Process exited before completing request');
  error.name = 'Lambda.Unknown';
  return error;
}

/**
 * A second job for the chunk under its display name, made with the real SDKs as a retry after an
 * ambiguous timeout would have made it, and slow, so that it is still running when recovery meets it.
 */
async function plantDuplicate(runId: string, plan: RunPlan, chunk: number): Promise<string> {
  const ledger = await readJson<JobLedger>(workKeys(runId).ledger(chunk));
  const spec = plan.chunks[chunk];
  if (!spec) throw new Error(`no chunk ${chunk}`);
  const displayName = jobDisplayName(runId, chunk);
  pipeline.emulator?.faults.add({ kind: 'job-outcome', outcome: 'SLOW', times: 1 });
  if (spec.format === 'openai') {
    const batch = await compat().batches.create({
      input_file_id: ledger.uploadedFile ?? '',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { display_name: displayName },
    });
    return batch.id;
  }
  if (spec.kind === 'embed') {
    const job = await genai().batches.createEmbeddings({
      model: spec.model,
      src: { fileName: ledger.uploadedFile ?? '' },
      config: { displayName },
    });
    return job.name ?? '';
  }
  const lines = ((await pipeline.readObject(spec.key)) ?? '').split('\n').filter((line) => line !== '');
  const job = await genai().batches.create({
    model: spec.model,
    src: lines.map((line) => {
      const { key, request } = JSON.parse(line) as { key: string; request: { contents: never } };
      return { contents: request.contents, metadata: { key } };
    }),
    config: { displayName },
  });
  return job.name ?? '';
}

describe('a chunk Gemini refuses to create', () => {
  it('fails that chunk alone: its keys carry the refusal, the others are answered, the manifest names it', async () => {
    pipeline.emulator?.faults.add({
      kind: 'http-error',
      endpoint: 'batches.createEmbeddings',
      status: 400,
      message: 'Invalid JSON payload received. Unknown name "outputDimensionalty": Cannot find field.',
    });
    pipeline.emulator?.faults.add({ kind: 'http-error', endpoint: 'openai.batches.create', status: 400 });

    const run = await runLines(MIXED);

    expect(run.execution).toBe('SUCCEEDED');
    expect(run.manifest.status).toBe('COMPLETED_WITH_ERRORS');
    expect(run.results.map((line) => line.key ?? line.custom_id)).toEqual([
      'g1',
      'g2',
      'e1',
      'e2',
      'o1',
      'o2',
    ]);
    expect(run.results.slice(0, 2).every((line) => line.response !== undefined)).toBe(true);
    for (const line of run.results.slice(2, 4)) {
      expect(line.error).toEqual({
        status: 'CREATE_REFUSED',
        message: expect.stringContaining('Unknown name \\"outputDimensionalty\\"'),
      });
    }
    for (const line of run.results.slice(4)) {
      expect(line).toEqual({
        custom_id: line.custom_id,
        response: null,
        error: { code: 'CREATE_REFUSED', message: expect.stringContaining('HTTP 400') },
      });
    }
    expect(run.manifest.counts).toMatchObject({ accepted: 6, succeeded: 2, failed: 4 });
    const [generate, embed, openai] = run.manifest.jobs;
    expect(generate).toMatchObject({ batchName: expect.any(String), state: 'BATCH_STATE_SUCCEEDED' });
    for (const refused of [embed, openai]) {
      expect(refused).toMatchObject({ error: { code: 400 } });
      expect(refused).not.toHaveProperty('batchName');
      expect(refused).not.toHaveProperty('state');
    }
    expect(run.manifest.reason).toContain('Gemini refused to create the batch job of chunk 1 (HTTP 400)');
    expect(run.manifest.reason).toContain('Gemini refused to create the batch job of chunk 2 (HTTP 400)');
    // Nothing created for the refused chunks, nothing cancelled; both uploads cleaned up.
    expect(run.manifest.cleanup.cancelledJobs).toEqual([]);
    expect(run.manifest.cleanup.deletedFiles).toHaveLength(2);
    expect(run.manifest).not.toHaveProperty('risks');
    expect((await jobsByDisplayName(run.runId)).size).toBe(1);
    expect(run.calls).toMatchObject({
      'batches.create': 1,
      'batches.createEmbeddings': 1,
      'openai.batches.create': 1,
    });
    // No cancel, and no lookup by display name: a refusal makes no job to look for.
    expect(run.calls['batches.cancel']).toBeUndefined();
    expect(run.calls['batches.list']).toBeUndefined();
    expect(run.calls['openai.batches.list']).toBeUndefined();
    const poll = await readJson<PollStatus>(workKeys(run.runId).pollStatus);
    expect(poll.refusedChunks).toEqual([1, 2]);
  });

  it('ends the run FAILED when Gemini refuses every chunk, with every key answered', async () => {
    pipeline.emulator?.faults.add({ kind: 'http-error', endpoint: 'batches.create', status: 404 });

    const run = await runLines([generateLine('only', 'refused')]);

    expect(run.execution).toBe('FAILED');
    expect(run.manifest.status).toBe('FAILED');
    expect(run.manifest.reason).toContain('Gemini refused to create the batch job of chunk 0 (HTTP 404)');
    expect(run.results).toEqual([
      { key: 'only', error: { status: 'CREATE_REFUSED', message: expect.stringContaining('HTTP 404') } },
    ]);
    expect(run.calls['batches.create']).toBe(1);
  });
});

describe('a duplicate job made before recovery', () => {
  it('keeps one live job per chunk, cancels the duplicate, names it in the manifest, and answers every key once', async () => {
    const planted = new Map<number, string>();
    taskHooks.set('Submit Batch Jobs', async (input, handler) => {
      await handler(input);
      const plan = await readJson<RunPlan>(workKeys(input.runId).plan);
      const chunks = plan.chunks.map((chunk) => chunk.index);
      await forgetCreatedJobs(input.runId, chunks);
      for (const chunk of chunks) planted.set(chunk, await plantDuplicate(input.runId, plan, chunk));
      throw crash();
    });

    const run = await runLines(MIXED);

    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.results.map((line) => line.key ?? line.custom_id)).toEqual([
      'g1',
      'g2',
      'e1',
      'e2',
      'o1',
      'o2',
    ]);
    expect(run.results.every((line) => line.response !== undefined && line.response !== null)).toBe(true);
    expect(run.manifest.counts).toMatchObject({
      succeeded: 6,
      failed: 0,
      duplicateResults: 0,
      unmatchedResults: 0,
    });
    const jobs = await jobsByDisplayName(run.runId);
    expect(jobs.size).toBe(3);
    for (const [chunk, duplicate] of planted) {
      const entry = run.manifest.jobs[chunk];
      expect(entry).toMatchObject({
        recovered: true,
        duplicates: [duplicate],
        state: 'BATCH_STATE_SUCCEEDED',
      });
      // The job kept is the pipeline's own, the older one: never the planted duplicate.
      expect(entry?.batchName).not.toBe(duplicate);
      const all = jobs.get(jobDisplayName(run.runId, chunk)) ?? [];
      expect(all.map((job) => job.name).sort()).toEqual([entry?.batchName, duplicate].sort());
      const live = all.filter((job) => !/CANCELL/i.test(job.state));
      expect(live.map((job) => job.name)).toEqual([entry?.batchName]);
    }
    // The OpenAI-format chunk was created through the compat layer: its recovery rests on an undocumented echo.
    expect(run.manifest.risks).toEqual([
      expect.stringMatching(/^chunk\(s\) 2 went through Gemini's OpenAI-compatible/),
    ]);
    expect(run.calls).toMatchObject({
      // The pipeline's three creates, then the three planted by the test; none after the crash.
      'batches.create': 2,
      'batches.createEmbeddings': 2,
      'openai.batches.create': 2,
      // Recovery: one native listing per Gemini-format chunk, one compat listing; one cancel per duplicate.
      'batches.list': 2,
      'openai.batches.list': 1,
      'batches.cancel': 3,
    });
  });
});

describe('a file job reported SUCCEEDED before its result file is named', () => {
  it('is read again until Gemini names the file, and every key gets its answer', async () => {
    pipeline.emulator?.faults.add({ kind: 'late-responses-file', times: 3 });

    const run = await runLines([embedLine('e1', 'the cat sat'), embedLine('e2', 'the dog ran')]);

    expect(pipeline.emulator?.faults.fired()['late-responses-file']).toBe(3);
    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.results.map((line) => line.key)).toEqual(['e1', 'e2']);
    for (const line of run.results) {
      expect((line.response as { embedding: { values: number[] } }).embedding.values).toHaveLength(8);
    }
    const poll = await readJson<PollStatus>(workKeys(run.runId).pollStatus);
    expect(poll.jobs[0]).toMatchObject({
      inline: false,
      responsesFile: expect.stringMatching(/^files\//),
      responsesFileAwaitedSince: expect.any(String),
    });
    expect(poll.jobs[0]).not.toHaveProperty('responsesFileGivenUp');
    // At least the three reads the fault spoiled and the one that named the file; one download.
    expect(run.calls['batches.get']).toBeGreaterThanOrEqual(4);
    expect(run.calls['files.download']).toBe(1);
  });
});

describe('a lookup that cannot look everywhere', () => {
  it('records it before creating the chunk again, and the manifest names the job that may exist twice', async () => {
    taskHooks.set('Submit Batch Jobs', async (input, handler) => {
      await handler(input);
      await forgetCreatedJobs(input.runId, [0]);
      // Google does not document listing on the compat layer: here it refuses once.
      pipeline.emulator?.faults.add({ kind: 'http-error', endpoint: 'openai.batches.list', status: 404 });
      throw crash();
    });

    const run = await runLines([chatLine('o1', 'Tell me a joke')]);

    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.results).toEqual([expect.objectContaining({ custom_id: 'o1', error: null })]);
    const ledger = await readJson<JobLedger>(workKeys(run.runId).ledger(0));
    expect(ledger.emptyLookups).toEqual([
      expect.objectContaining({ incomplete: expect.stringContaining('HTTP 404') }),
    ]);
    expect(run.manifest.risks).toContainEqual(
      expect.stringMatching(
        new RegExp(`^chunk 0: a create call's answer was lost .*HTTP 404.*"${jobDisplayName(run.runId, 0)}"`),
      ),
    );
    // The honest outcome this records: the first job exists beside the one the run used.
    const jobs = (await jobsByDisplayName(run.runId)).get(jobDisplayName(run.runId, 0)) ?? [];
    expect(jobs).toHaveLength(2);
    expect(jobs.map((job) => job.name)).toContain(run.manifest.jobs[0]?.batchName);
    expect(run.calls).toMatchObject({ 'openai.batches.create': 2, 'openai.batches.list': 1 });
  });
});
