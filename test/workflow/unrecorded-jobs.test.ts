/**
 * Never two jobs for a chunk, end to end on the synthesized state machine, when Submit crashes
 * after Gemini created a job but before the ledger recorded it: the job is found by its display
 * name and no second one is made; a duplicate made before recovery is found, cancelled and named;
 * a lookup that cannot look everywhere is recorded before the chunk is created again. Every Gemini
 * call the run makes is counted from the emulator's request log.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { jobDisplayName, workKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { JobLedger, RunPlan } from '../../lambdas/shared/run/work-records.js';
import { generateLine } from '../support/request-lines.js';
import { chatLine, MIXED, useRecoveryPipeline } from './recovery-pipeline.js';

const { pipeline, taskHooks, runLines, readJson, genai, compat, jobsByDisplayName } =
  useRecoveryPipeline('unrecorded');

/** A crash of Submit right after Gemini made the jobs: each chunk's ledger put back to `creating`. */
async function forgetCreatedJobs(runId: string, chunks: readonly number[]): Promise<void> {
  for (const chunk of chunks) {
    const key = workKeys(runId).ledger(chunk);
    const { batchName: _created, ...before } = await readJson<JobLedger>(key);
    const ledger = JSON.stringify({ ...before, creating: true });
    await pipeline().s3.send(new PutObjectCommand({ Bucket: pipeline().bucket, Key: key, Body: ledger }));
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
  pipeline().emulator?.faults.add({ kind: 'job-outcome', outcome: 'SLOW', times: 1 });
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
  const lines = ((await pipeline().readObject(spec.key)) ?? '').split('\n').filter((line) => line !== '');
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

describe('a job created but not recorded', () => {
  it('creates no second job when Submit crashes after creating the job but before recording it', async () => {
    taskHooks.set('Submit Batch Jobs', async (input, handler) => {
      await handler(input);
      await forgetCreatedJobs(input.runId, [0]);
      throw crash();
    });
    const run = await runLines([generateLine('once', 'only once')]);

    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.manifest.jobs[0]?.recovered).toBe(true);
    const jobs = await jobsByDisplayName(run.runId);
    expect([...jobs.keys()]).toEqual([`${run.runId}/chunk-00000`]);
    expect([...jobs.values()].flat()).toHaveLength(1);
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
      const all = jobs.get(`${run.runId}/chunk-0000${chunk}`) ?? [];
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

describe('a lookup that cannot look everywhere', () => {
  it('records it before creating the chunk again, and the manifest names the job that may exist twice', async () => {
    taskHooks.set('Submit Batch Jobs', async (input, handler) => {
      await handler(input);
      await forgetCreatedJobs(input.runId, [0]);
      // Google does not document listing on the compat layer: here it refuses once.
      pipeline().emulator?.faults.add({ kind: 'http-error', endpoint: 'openai.batches.list', status: 404 });
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
        new RegExp(`^chunk 0: a create call's answer was lost .*HTTP 404.*"${run.runId}/chunk-00000"`),
      ),
    );
    // The honest outcome this records: the first job exists beside the one the run used.
    const jobs = (await jobsByDisplayName(run.runId)).get(`${run.runId}/chunk-00000`) ?? [];
    expect(jobs).toHaveLength(2);
    expect(jobs.map((job) => job.name)).toContain(run.manifest.jobs[0]?.batchName);
    expect(run.calls).toMatchObject({ 'openai.batches.create': 2, 'openai.batches.list': 1 });
  });
});
