/**
 * Nothing lost when Gemini does not do what it was asked, end to end on the synthesized state
 * machine: a chunk Gemini refuses to create fails alone, and a job reported SUCCEEDED before its
 * result file is named is read again, not emptied. Every Gemini call the run makes is counted from
 * the emulator's request log. Jobs created but not recorded are in `unrecorded-jobs.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { workKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { PollStatus } from '../../lambdas/shared/run/work-records.js';
import { embedLine, generateLine } from '../support/request-lines.js';
import { MIXED, useRecoveryPipeline } from './recovery-pipeline.js';

const { pipeline, runLines, readJson, jobsByDisplayName } = useRecoveryPipeline('recovery');

describe('a chunk Gemini refuses to create', () => {
  it('fails that chunk alone: its keys carry the refusal, the others are answered, the manifest names it', async () => {
    pipeline().emulator?.faults.add({
      kind: 'http-error',
      endpoint: 'batches.createEmbeddings',
      status: 400,
      message: 'Invalid JSON payload received. Unknown name "outputDimensionalty": Cannot find field.',
    });
    pipeline().emulator?.faults.add({ kind: 'http-error', endpoint: 'openai.batches.create', status: 400 });

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
    pipeline().emulator?.faults.add({ kind: 'http-error', endpoint: 'batches.create', status: 404 });

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

describe('a file job reported SUCCEEDED before its result file is named', () => {
  it('is read again until Gemini names the file, and every key gets its answer', async () => {
    pipeline().emulator?.faults.add({ kind: 'late-responses-file', times: 3 });

    const run = await runLines([embedLine('e1', 'the cat sat'), embedLine('e2', 'the dog ran')]);

    expect(pipeline().emulator?.faults.fired()['late-responses-file']).toBe(3);
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
