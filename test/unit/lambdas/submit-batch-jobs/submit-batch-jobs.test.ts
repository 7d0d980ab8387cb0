import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GeminiRateLimitError } from '../../../../lambdas/shared/errors.js';
import { type SubmitDeps, submitBatchJobs } from '../../../../lambdas/submit-batch-jobs/submit-batch-jobs.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import { fixedNow, RUN_ID, readLedger, runState, writePlan } from '../run-fixtures.js';

// How each chunk gets its job is tested with `submitChunks` (test/unit/lambdas/shared/batch-jobs/).
let tmpDir: string;
let store: MemoryObjectStore;
let fake: FakeGemini;

beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'submit-batch-jobs-'));
  store = new MemoryObjectStore();
  fake = new FakeGemini();
});

afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true });
});

const deps = (): SubmitDeps => ({ store, gemini: fake, now: fixedNow, concurrency: 1 });

describe('submitBatchJobs', () => {
  it('counts the chunks, those with a job and those waiting, and a chunk refused for good in neither', async () => {
    await writePlan(store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'generate', keys: ['b'] },
      { kind: 'embed', keys: ['c'] },
    ]);
    fake.refuse('createBatch', 400);
    fake.failAt('createBatch', 2, new GeminiRateLimitError('429 enqueued tokens'));

    expect(await submitBatchJobs(runState(), deps())).toEqual({
      chunkCount: 3,
      submittedCount: 1,
      waitingCount: 1,
    });
    expect(await readLedger(store, 0)).toMatchObject({ createError: { code: 400 } });
    expect(fake.batchNamed(`${RUN_ID}/chunk-00002`).kind).toBe('embed');
  });

  it('throws RunStateError when the run has no plan', async () => {
    await expect(submitBatchJobs(runState(), deps())).rejects.toMatchObject({
      name: 'RunStateError',
      message: expect.stringContaining(RUN_ID),
    });
    expect(fake.calls.uploadJsonl).toBe(0);
  });
});
