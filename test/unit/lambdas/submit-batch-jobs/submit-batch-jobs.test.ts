import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ANSWER_OVERHEAD_BYTES,
  BYTES_PER_OUTPUT_TOKEN,
  DEFAULT_EMBED_DIMENSIONS,
  DEFAULT_INLINE_MAX_ANSWER_BYTES,
  DEFAULT_OUTPUT_TOKENS,
  EMBED_BYTES_PER_VALUE,
  estimateAnswerBytes,
} from '../../../../lambdas/shared/batch-jobs/inline-or-file.js';
import { isFinalRefusal, MAX_CREATE_ERROR_CHARS } from '../../../../lambdas/shared/batch-jobs/refusals.js';
import { rankRecovered } from '../../../../lambdas/shared/batch-jobs/unrecorded-jobs.js';
import {
  GeminiRateLimitError,
  GeminiRequestError,
  GeminiUnavailableError,
} from '../../../../lambdas/shared/errors.js';
import type { LineWriter, ObjectStore } from '../../../../lambdas/shared/object-store/object-store.js';
import type { JobLedger } from '../../../../lambdas/shared/run/work-records.js';
import { RECOVERY_MARGIN_MS } from '../../../../lambdas/shared/run/work-records.js';
import { type SubmitDeps, submitBatchJobs } from '../../../../lambdas/submit-batch-jobs/submit-batch-jobs.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  RUN_ID,
  readLedger,
  rejection,
  runState,
  WORK,
  writePlan,
} from '../run-fixtures.js';

/** A store whose next `putJson` matching `when` throws: a Lambda that dies at that exact write. */
class CrashingStore implements ObjectStore {
  #armed = true;
  constructor(
    private readonly inner: MemoryObjectStore,
    private readonly when: (key: string, value: unknown) => boolean,
  ) {}

  read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
    return this.inner.read(bucket, key);
  }
  getJson<T>(bucket: string, key: string): Promise<T | undefined> {
    return this.inner.getJson<T>(bucket, key);
  }
  metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>>> {
    return this.inner.metadata(bucket, key);
  }
  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    if (this.#armed && this.when(key, value)) {
      this.#armed = false;
      throw new Error(`simulated crash before writing ${key}`);
    }
    await this.inner.putJson(bucket, key, value);
  }
  openLineWriter(bucket: string, key: string): LineWriter {
    return this.inner.openLineWriter(bucket, key);
  }
  downloadToFile(bucket: string, key: string, path: string): Promise<void> {
    return this.inner.downloadToFile(bucket, key, path);
  }
}

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

/** File chunks unless a test says otherwise: these tests are about uploads and ledgers. */
const deps = (overrides: Partial<SubmitDeps> = {}): SubmitDeps => ({
  store,
  gemini: fake,
  tmpDir,
  now: fixedNow,
  inlineMaxBytes: 0,
  ...overrides,
});

const twoChunks = () =>
  writePlan(store, [
    { kind: 'generate', keys: ['a', 'b', 'c'] },
    { kind: 'embed', keys: ['d', 'e'] },
  ]);

describe('submitBatchJobs', () => {
  it('creates one job per chunk, named <runId>/<chunk>, from the chunk file', async () => {
    const plan = await twoChunks();
    const outcome = await submitBatchJobs(runState(), deps());
    expect(outcome).toEqual({ chunkCount: 2, submittedCount: 2, waitingCount: 0 });
    // Chunks are submitted concurrently: compare by name, not by creation order.
    const batches = [...fake.batches.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
    expect(batches.map(({ displayName, kind, model }) => ({ displayName, kind, model }))).toEqual([
      { displayName: `${RUN_ID}/chunk-00000`, kind: 'generate', model: plan.chunks[0]?.model },
      { displayName: `${RUN_ID}/chunk-00001`, kind: 'embed', model: plan.chunks[1]?.model },
    ]);
    for (const [index, batch] of batches.entries()) {
      expect(fake.files.get(batch.fileName)).toBe(store.text(BUCKET, WORK.chunk(index)));
    }
  });

  it('writes each chunk ledger with the uploaded file and the job name', async () => {
    await twoChunks();
    await submitBatchJobs(runState(), deps({ concurrency: 1 }));
    const ledgers = [await readLedger(store, 0), await readLedger(store, 1)];
    expect(ledgers).toEqual([
      {
        chunk: 0,
        displayName: `${RUN_ID}/chunk-00000`,
        uploadedFile: 'files/up-1',
        inline: false,
        creating: false,
        creatingSince: fixedNow().toISOString(),
        batchName: 'batches/b-1',
        updatedAt: fixedNow().toISOString(),
      },
      {
        chunk: 1,
        displayName: `${RUN_ID}/chunk-00001`,
        uploadedFile: 'files/up-2',
        inline: false,
        creating: false,
        creatingSince: fixedNow().toISOString(),
        batchName: 'batches/b-2',
        updatedAt: fixedNow().toISOString(),
      },
    ]);
    expect(ledgers[0]).not.toHaveProperty('recovered');
  });

  it('creates no second job and uploads nothing again when run twice', async () => {
    await twoChunks();
    await submitBatchJobs(runState(), deps());
    await submitBatchJobs(runState(), deps());
    expect(fake.calls.createBatch).toBe(2);
    expect(fake.calls.uploadJsonl).toBe(2);
    expect(fake.batches.size).toBe(2);
  });

  it('leaves a recorded job alone on a second run, without looking it up or rewriting its ledger', async () => {
    await twoChunks();
    await submitBatchJobs(runState(), deps());
    const ledgers = [await readLedger(store, 0), await readLedger(store, 1)];
    await submitBatchJobs(runState(), deps({ now: () => new Date('2026-11-03T13:00:00.000Z') }));
    expect(fake.calls.findBatchesByDisplayName).toBe(0);
    expect([await readLedger(store, 0), await readLedger(store, 1)]).toEqual(ledgers);
  });

  it('recovers the job by display name after a crash between creating it and recording it', async () => {
    await twoChunks();
    const crashing = new CrashingStore(
      store,
      (key, value) => key === WORK.ledger(0) && (value as Partial<JobLedger>).batchName !== undefined,
    );
    const crash = await rejection(submitBatchJobs(runState(), deps({ store: crashing, concurrency: 1 })));
    expect(crash.message).toContain('simulated crash');
    // Chunk 0's job exists on Gemini but not in its ledger; chunk 1 finished before the error surfaced.
    expect(fake.batches.size).toBe(2);
    expect((await readLedger(store, 0))?.batchName).toBeUndefined();

    await submitBatchJobs(runState(), deps());

    expect(fake.calls.createBatch).toBe(2); // chunk 0 once, chunk 1 once
    expect(fake.batches.size).toBe(2);
    expect(fake.calls.uploadJsonl).toBe(2);
    expect(await readLedger(store, 0)).toEqual({
      chunk: 0,
      displayName: `${RUN_ID}/chunk-00000`,
      uploadedFile: 'files/up-1',
      inline: false,
      creating: false,
      creatingSince: fixedNow().toISOString(),
      batchName: fake.batchNamed(`${RUN_ID}/chunk-00000`).name,
      recovered: true,
      updatedAt: fixedNow().toISOString(),
    });
    expect(await readLedger(store, 1)).not.toHaveProperty('recovered');
  });

  it('calls createBatch exactly once for a chunk across a crash and its retry', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['only'] }]);
    const crashing = new CrashingStore(
      store,
      (_key, value) => (value as Partial<JobLedger>).batchName !== undefined,
    );
    await rejection(submitBatchJobs(runState(), deps({ store: crashing })));
    await submitBatchJobs(runState(), deps());
    await submitBatchJobs(runState(), deps());
    expect(fake.calls.createBatch).toBe(1);
    expect(fake.calls.uploadJsonl).toBe(1);
    expect((await readLedger(store, 0))?.recovered).toBe(true);
  });

  it('reuses the uploaded file when creating the job failed, without a second upload', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a', 'b'] }]);
    fake.rateLimit('createBatch');
    expect(await submitBatchJobs(runState(), deps())).toMatchObject({ submittedCount: 0, waitingCount: 1 });
    expect(await readLedger(store, 0)).toMatchObject({ uploadedFile: 'files/up-1' });

    await submitBatchJobs(runState(), deps());

    expect(fake.calls.uploadJsonl).toBe(1);
    expect(fake.batches.size).toBe(1);
    expect(fake.batchNamed(`${RUN_ID}/chunk-00000`).fileName).toBe('files/up-1');
    expect(await readLedger(store, 0)).toMatchObject({
      uploadedFile: 'files/up-1',
      batchName: 'batches/b-1',
    });
    expect(await readLedger(store, 0)).not.toHaveProperty('recovered');
  });

  it('creates only the missing job on retry when Gemini failed on a later chunk', async () => {
    await twoChunks();
    fake.failAt('createBatch', 2, new GeminiUnavailableError('503 Service Unavailable'));
    const first = await submitBatchJobs(runState(), deps({ concurrency: 1 }));
    expect(first).toMatchObject({ submittedCount: 1, waitingCount: 1 });
    expect(fake.batches.size).toBe(1);

    await submitBatchJobs(runState(), deps());

    expect(fake.batches.size).toBe(2);
    expect(fake.calls.createBatch).toBe(3); // chunk 0 once; chunk 1 failed once, then succeeded
    // The 503 may have come after Gemini made the job: the retry looked for it before creating.
    expect(fake.calls.findBatchesByDisplayName).toBe(1);
    expect(fake.calls.uploadJsonl).toBe(2);
    expect(await readLedger(store, 0)).toMatchObject({ batchName: 'batches/b-1' });
    expect(await readLedger(store, 1)).toMatchObject({
      uploadedFile: 'files/up-2',
      batchName: 'batches/b-2',
    });
  });

  it('submits the remaining chunk after a crash on a later chunk, leaving the first job alone', async () => {
    await twoChunks();
    const crashing = new CrashingStore(store, (key) => key === WORK.ledger(1));
    await rejection(submitBatchJobs(runState(), deps({ store: crashing })));
    expect(fake.batches.size).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ batchName: 'batches/b-1' });

    await submitBatchJobs(runState(), deps());
    expect(fake.batches.size).toBe(2);
    expect(fake.calls.createBatch).toBe(2);
  });

  it('throws RunStateError when the run has no plan', async () => {
    const error = await rejection(submitBatchJobs(runState(), deps()));
    expect(error.name).toBe('RunStateError');
    expect(error.message).toContain(RUN_ID);
    expect(fake.calls.uploadJsonl).toBe(0);
  });

  it('removes its staged chunk files, after success and after a failed upload', async () => {
    await twoChunks();
    await submitBatchJobs(runState(), deps());
    expect(await readdir(tmpDir)).toEqual([]);

    const other = new MemoryObjectStore();
    await writePlan(other, [{ kind: 'generate', keys: ['x'] }]);
    fake.failNext('uploadJsonl', new GeminiRequestError('file too large'));
    const error = await rejection(submitBatchJobs(runState(), deps({ store: other })));
    expect(error.name).toBe('GeminiRequestError');
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it('sends a generate chunk under the inline limit inline, keyed, and an embedding chunk as a file', async () => {
    await twoChunks();

    await submitBatchJobs(runState(), deps({ inlineMaxBytes: 1024 * 1024 }));

    expect(fake.calls.uploadJsonl).toBe(1);
    const batch = fake.batchNamed(`${RUN_ID}/chunk-00000`);
    expect(batch.inlineRequests?.map((request) => request.key)).toEqual(['a', 'b', 'c']);
    expect(await readLedger(store, 0)).toMatchObject({ inline: true, batchName: batch.name });
    expect(await readLedger(store, 1)).toMatchObject({ inline: false, uploadedFile: 'files/up-1' });
  });

  it('sends embedding chunks inline too when asked to', async () => {
    await twoChunks();

    await submitBatchJobs(runState(), deps({ inlineMaxBytes: 1024 * 1024, inlineEmbeddings: true }));

    expect(fake.calls.uploadJsonl).toBe(0);
    expect(fake.batchNamed(`${RUN_ID}/chunk-00001`).inlineRequests?.map((request) => request.key)).toEqual([
      'd',
      'e',
    ]);
  });

  it('uploads a chunk whose inline answers would weigh more than the bound, recording the estimate', async () => {
    await writePlan(store, [{ kind: 'embed', keys: ['d', 'e'] }]);
    // The fixtures ask for 3 dimensions: each answer weighs (3 values + overhead) × 2 copies.
    const perAnswer = (3 * EMBED_BYTES_PER_VALUE + ANSWER_OVERHEAD_BYTES) * 2;
    const inlineDeps = { inlineMaxBytes: 1024 * 1024, inlineEmbeddings: true };

    await submitBatchJobs(runState(), deps({ ...inlineDeps, inlineMaxAnswerBytes: 2 * perAnswer - 1 }));

    expect(fake.calls.uploadJsonl).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ inline: false, answerBytesEstimate: 2 * perAnswer });

    const other = new MemoryObjectStore();
    await writePlan(other, [{ kind: 'embed', keys: ['d', 'e'] }]);
    await submitBatchJobs(
      runState(),
      deps({ ...inlineDeps, store: other, inlineMaxAnswerBytes: 2 * perAnswer }),
    );
    expect(fake.calls.uploadJsonl).toBe(1);
    expect(await other.getJson(BUCKET, WORK.ledger(0))).toMatchObject({
      inline: true,
      answerBytesEstimate: 2 * perAnswer,
    });
  });

  it('leaves a chunk Gemini refuses with 429 waiting while the others get their jobs', async () => {
    await twoChunks();
    fake.failAt('createBatch', 2, new GeminiRateLimitError('429 enqueued tokens'));

    const submitted = await submitBatchJobs(runState(), deps({ concurrency: 1 }));

    expect(submitted).toEqual({ chunkCount: 2, submittedCount: 1, waitingCount: 1 });
    expect((await readLedger(store, 1))?.batchName).toBeUndefined();
  });

  it('does not fail the run when Gemini refuses every job: all chunks wait for the poll loop', async () => {
    await twoChunks();
    fake.rateLimit('createBatch', 2);

    const submitted = await submitBatchJobs(runState(), deps({ concurrency: 1 }));

    expect(submitted).toEqual({ chunkCount: 2, submittedCount: 0, waitingCount: 2 });
    expect(fake.batches.size).toBe(0);
    expect(await readLedger(store, 0)).toMatchObject({ creating: false, uploadedFile: 'files/up-1' });
  });

  it('clears creating after a 429 on create, so the next attempt creates without looking first', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.rateLimit('createBatch');
    await submitBatchJobs(runState(), deps());
    await submitBatchJobs(runState(), deps());
    expect(fake.calls.findBatchesByDisplayName).toBe(0);
    expect(fake.batches.size).toBe(1);
  });

  it('keeps creating after a 5xx that came once Gemini had made the job, and recovers that job instead of paying twice', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504 Gateway Timeout'));

    expect(await submitBatchJobs(runState(), deps())).toMatchObject({ waitingCount: 1 });
    expect(await readLedger(store, 0)).toMatchObject({ creating: true });
    expect((await readLedger(store, 0))?.batchName).toBeUndefined();

    expect(await submitBatchJobs(runState(), deps())).toMatchObject({ submittedCount: 1, waitingCount: 0 });
    expect(fake.batches.size).toBe(1);
    expect(fake.calls.createBatch).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ recovered: true, batchName: 'batches/b-1' });
  });

  it('waits without creating when the recovery listing answers 429', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('503'));
    await submitBatchJobs(runState(), deps());
    fake.rateLimit('findBatchesByDisplayName');

    expect(await submitBatchJobs(runState(), deps())).toMatchObject({ waitingCount: 1 });

    expect(fake.calls.createBatch).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ creating: true });
  });

  it.each([
    ['429', () => fake.rateLimit('uploadJsonl')],
    ['503', () => fake.unavailable('uploadJsonl')],
  ])('leaves a chunk whose upload answers %s waiting, marked as uploading', async (_status, refuse) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    refuse();

    expect(await submitBatchJobs(runState(), deps())).toMatchObject({ submittedCount: 0, waitingCount: 1 });

    expect(await readLedger(store, 0)).toMatchObject({ uploading: true });
    expect((await readLedger(store, 0))?.uploadedFile).toBeUndefined();
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it('reuses a file Gemini kept from an upload whose answer was lost, instead of leaving an orphan', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a', 'b'] }]);
    fake.failAfter(
      'uploadJsonl',
      new GeminiUnavailableError('Gemini ended the upload without naming the file'),
    );
    await submitBatchJobs(runState(), deps());
    expect(fake.files.size).toBe(1);

    await submitBatchJobs(runState(), deps());

    expect(fake.reusedUploads).toEqual(['files/up-1']);
    expect(fake.files.size).toBe(1);
    expect(fake.batchNamed(`${RUN_ID}/chunk-00000`).fileName).toBe('files/up-1');
    const ledger = await readLedger(store, 0);
    expect(ledger).toMatchObject({ uploadedFile: 'files/up-1', batchName: 'batches/b-1' });
    expect(ledger).not.toHaveProperty('uploading');
  });

  it("records a create Gemini refuses for good (4xx) in the chunk's ledger and submits the other chunks", async () => {
    await twoChunks();
    fake.refuse('createBatch', 400, 'Invalid JSON payload received.');

    const outcome = await submitBatchJobs(runState(), deps({ concurrency: 1 }));

    expect(outcome).toEqual({ chunkCount: 2, submittedCount: 1, waitingCount: 0 });
    expect(fake.batches.size).toBe(1);
    expect(fake.batchNamed(`${RUN_ID}/chunk-00001`).kind).toBe('embed');
    const refused = await readLedger(store, 0);
    expect(refused).toMatchObject({
      creating: false,
      uploadedFile: 'files/up-1',
      createError: { code: 400, message: expect.stringContaining('Invalid JSON payload received.') },
    });
    expect(refused).not.toHaveProperty('batchName');
    expect(refused).not.toHaveProperty('creatingSince');
  });

  it('fails only the chunk whose upload Gemini refuses for good, and never creates its job', async () => {
    await writePlan(store, [
      { kind: 'embed', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    fake.refuse('uploadJsonl', 400, 'Unsupported MIME type: application/json');

    const outcome = await submitBatchJobs(runState(), deps({ concurrency: 1 }));

    expect(outcome).toEqual({ chunkCount: 2, submittedCount: 1, waitingCount: 0 });
    expect(fake.batches.size).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({
      createError: {
        code: 400,
        message: expect.stringContaining("the upload of the chunk's requests was refused: "),
      },
    });
    expect(await readLedger(store, 0)).not.toHaveProperty('batchName');
  });

  it('keeps the start of a long refusal, which every key of the chunk repeats', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.refuse('createBatch', 400, `Unknown name "x". ${'detail '.repeat(1000)}`);

    await submitBatchJobs(runState(), deps());

    const message = (await readLedger(store, 0))?.createError?.message ?? '';
    expect(message).toHaveLength(MAX_CREATE_ERROR_CHARS + 1);
    expect(message).toContain('Unknown name "x"');
  });

  it('never asks Gemini again for a chunk it refused for good', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.refuse('createBatch', 404, 'models/gemini-9 is not found');
    await submitBatchJobs(runState(), deps());

    expect(await submitBatchJobs(runState(), deps())).toEqual({
      chunkCount: 1,
      submittedCount: 0,
      waitingCount: 0,
    });

    expect(fake.calls.createBatch).toBe(1);
    expect(fake.calls.uploadJsonl).toBe(1);
    expect(fake.calls.findBatchesByDisplayName).toBe(0);
    expect((await readLedger(store, 0))?.createError?.code).toBe(404);
  });

  it('keeps creating on a refusal after a create whose outcome is unknown, so Finalize still looks', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submitBatchJobs(runState(), deps());
    fake.refuse('createBatch');

    await submitBatchJobs(runState(), deps());

    expect(await readLedger(store, 0)).toMatchObject({ creating: true, createError: { code: 400 } });
  });

  it('fails the run on a refusal that is not an HTTP answer of Gemini, which proves nothing about the chunk', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failNext('createBatch', new GeminiRequestError('model not found'));
    expect((await rejection(submitBatchJobs(runState(), deps()))).name).toBe('GeminiRequestError');
  });

  it('looks for a job only as far back as the create whose outcome is unknown, less the margin', async () => {
    await writePlan(store, [{ kind: 'embed', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submitBatchJobs(runState(), deps({ now: () => new Date('2026-11-03T12:00:00.000Z') }));

    await submitBatchJobs(runState(), deps({ now: () => new Date('2026-11-03T15:00:00.000Z') }));

    expect(fake.searches).toEqual([
      {
        format: 'gemini',
        createdAfter: new Date(Date.parse('2026-11-03T12:00:00.000Z') - RECOVERY_MARGIN_MS),
      },
    ]);
    expect(RECOVERY_MARGIN_MS).toBe(10 * 60 * 1000);
  });

  it('does not take a job created before the lookup bound for this chunk', async () => {
    await writePlan(store, [{ kind: 'embed', keys: ['a'] }]);
    fake.now = () => new Date('2026-11-03T11:00:00.000Z');
    fake.addBatch({ kind: 'embed', model: 'm', displayName: `${RUN_ID}/chunk-00000`, fileName: '' });
    fake.now = fixedNow;
    fake.unavailable('createBatch');
    await submitBatchJobs(runState(), deps());

    await submitBatchJobs(runState(), deps());

    expect(fake.calls.findBatchesByDisplayName).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ batchName: 'batches/b-2' });
    expect(await readLedger(store, 0)).not.toHaveProperty('recovered');
  });

  it('keeps one of two jobs found under the chunk name, cancels the other and records it as a duplicate', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.now = fixedNow;
    const crashing = new CrashingStore(store, (_key, value) => (value as JobLedger).batchName !== undefined);
    await rejection(submitBatchJobs(runState(), deps({ store: crashing })));
    // A retry made a second job while the first create's answer was lost.
    const second = fake.addBatch({
      kind: 'generate',
      model: 'm',
      displayName: `${RUN_ID}/chunk-00000`,
      fileName: 'files/up-1',
    });

    await submitBatchJobs(runState(), deps());

    expect(fake.cancelledBatches).toEqual([second.name]);
    expect(fake.batches.get('batches/b-1')?.state).toBe('BATCH_STATE_PENDING');
    expect(await readLedger(store, 0)).toMatchObject({
      batchName: 'batches/b-1',
      recovered: true,
      creating: false,
      duplicates: [second.name],
    });
    expect(await readLedger(store, 0)).not.toHaveProperty('duplicatesLeftRunning');
    expect(fake.calls.createBatch).toBe(1);
  });

  it('keeps the duplicate that has succeeded over an older one still pending, and cancels the older', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504'));
    await submitBatchJobs(runState(), deps());
    const newer = fake.addBatch({
      kind: 'generate',
      model: 'm',
      displayName: `${RUN_ID}/chunk-00000`,
      fileName: 'files/up-1',
      state: 'BATCH_STATE_SUCCEEDED',
    });

    await submitBatchJobs(runState(), deps());

    expect(fake.cancelledBatches).toEqual(['batches/b-1']);
    expect(await readLedger(store, 0)).toMatchObject({ batchName: newer.name, duplicates: ['batches/b-1'] });
  });

  it('records a duplicate Gemini would not cancel for now, for Finalize to ask again', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504'));
    await submitBatchJobs(runState(), deps());
    fake.addBatch({
      kind: 'generate',
      model: 'm',
      displayName: `${RUN_ID}/chunk-00000`,
      fileName: 'files/up-1',
    });
    fake.rateLimit('cancelBatch');

    expect(await submitBatchJobs(runState(), deps())).toMatchObject({ submittedCount: 1 });

    expect(await readLedger(store, 0)).toMatchObject({
      batchName: 'batches/b-1',
      duplicates: ['batches/b-2'],
      duplicatesLeftRunning: ['batches/b-2'],
    });
  });

  it('records a lookup that found nothing before creating the chunk again', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504 Gateway Timeout'));
    await submitBatchJobs(runState(), deps({ now: () => new Date('2026-11-03T12:00:00.000Z') }));
    // The listing lags behind the create: the job the lost answer made is not in it yet.
    fake.unlisted.add('batches/b-1');
    // The second create's answer is lost too: what the ledger says before it is what survives.
    fake.unavailable('createBatch');

    await submitBatchJobs(runState(), deps({ now: () => new Date('2026-11-03T12:05:00.000Z') }));

    expect(await readLedger(store, 0)).toMatchObject({
      creating: true,
      creatingSince: '2026-11-03T12:00:00.000Z',
      emptyLookups: [{ at: '2026-11-03T12:05:00.000Z', since: '2026-11-03T11:50:00.000Z' }],
    });
  });

  it('records why a lookup could not look everywhere, as when the compat listing is refused', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submitBatchJobs(runState(), deps());
    fake.searchIncomplete = 'Gemini refused to list batches on its OpenAI-compatible layer (HTTP 404)';

    await submitBatchJobs(runState(), deps());

    expect(fake.batches.size).toBe(1);
    expect((await readLedger(store, 0))?.emptyLookups).toEqual([
      expect.objectContaining({ incomplete: fake.searchIncomplete }),
    ]);
  });

  it('keeps creating after a 429 that follows a create whose outcome is unknown, and looks again next time', async () => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submitBatchJobs(runState(), deps());
    fake.rateLimit('createBatch');
    await submitBatchJobs(runState(), deps());
    expect(await readLedger(store, 0)).toMatchObject({ creating: true });

    await submitBatchJobs(runState(), deps());

    expect(fake.calls.findBatchesByDisplayName).toBe(2);
    expect(fake.batches.size).toBe(1);
  });

  it('recovers an inline job created before a crash, found by display name, without creating another', async () => {
    await twoChunks();
    const crashing = new CrashingStore(
      store,
      (key, value) => key === WORK.ledger(0) && (value as JobLedger).batchName !== undefined,
    );
    await rejection(submitBatchJobs(runState(), deps({ store: crashing, inlineMaxBytes: 1024 * 1024 })));

    await submitBatchJobs(runState(), deps({ inlineMaxBytes: 1024 * 1024 }));

    expect(fake.calls.createBatch).toBe(2);
    expect(fake.batches.size).toBe(2);
    expect((await readLedger(store, 0))?.recovered).toBe(true);
  });
});

describe('isFinalRefusal', () => {
  it.each([400, 403, 404, 409, 422])('takes HTTP %i for a refusal no wait changes', (status) => {
    expect(isFinalRefusal(new GeminiRequestError('refused', { status }))).toBe(true);
  });

  it('takes no 408, 429, 5xx, status-less refusal or other error for one', () => {
    expect(isFinalRefusal(new GeminiRequestError('timeout', { status: 408 }))).toBe(false);
    expect(isFinalRefusal(new GeminiRequestError('quota', { status: 429 }))).toBe(false);
    expect(isFinalRefusal(new GeminiRequestError('odd', { status: 503 }))).toBe(false);
    expect(isFinalRefusal(new GeminiRequestError('too large to hold'))).toBe(false);
    expect(isFinalRefusal(new GeminiRateLimitError('429'))).toBe(false);
    expect(isFinalRefusal(new Error('400'))).toBe(false);
  });
});

describe('rankRecovered', () => {
  const job = (name: string, state: string, createTime?: string) => ({
    name,
    state,
    ...(createTime ? { createTime } : {}),
  });

  it('puts the furthest along first: succeeded, running, pending, then ended without answers', () => {
    const ranked = rankRecovered([
      job('batches/cancelled', 'BATCH_STATE_CANCELLED', '2026-11-03T12:00:00Z'),
      job('batches/pending', 'BATCH_STATE_PENDING', '2026-11-03T12:00:01Z'),
      job('batches/succeeded', 'BATCH_STATE_SUCCEEDED', '2026-11-03T12:00:02Z'),
      job('batches/odd', 'BATCH_STATE_QUEUED', '2026-11-03T12:00:03Z'),
      job('batches/running', 'BATCH_STATE_RUNNING', '2026-11-03T12:00:04Z'),
    ]);
    expect(ranked.map((found) => found.name)).toEqual([
      'batches/succeeded',
      'batches/running',
      'batches/pending',
      'batches/odd',
      'batches/cancelled',
    ]);
  });

  it('puts the oldest first among jobs as far along, and one without a creation time after them', () => {
    const ranked = rankRecovered([
      job('batches/c', 'BATCH_STATE_RUNNING'),
      job('batches/b', 'BATCH_STATE_RUNNING', '2026-11-03T12:00:05Z'),
      job('batches/a', 'BATCH_STATE_RUNNING', '2026-11-03T12:00:01Z'),
    ]);
    expect(ranked.map((found) => found.name)).toEqual(['batches/a', 'batches/b', 'batches/c']);
  });

  it('takes the one listed last for the older when creation times tie, as whole seconds do', () => {
    const ranked = rankRecovered([
      job('batches/a-newer', 'BATCH_STATE_PENDING', '2026-11-03T12:00:00.000Z'),
      job('batches/z-older', 'BATCH_STATE_PENDING', '2026-11-03T12:00:00.000Z'),
    ]);
    expect(ranked.map((found) => found.name)).toEqual(['batches/z-older', 'batches/a-newer']);
  });
});

describe('estimateAnswerBytes', () => {
  const copies = 2;

  it('weighs an embedding by its outputDimensionality, camelCase or snake_case', () => {
    const expected = (768 * EMBED_BYTES_PER_VALUE + ANSWER_OVERHEAD_BYTES) * copies;
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { outputDimensionality: 768 })).toBe(
      expected,
    );
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { output_dimensionality: 768 })).toBe(
      expected,
    );
  });

  it("weighs an embedding without a dimension by the model's default: 3072 for gemini-embedding-001 and -2", () => {
    const full = (DEFAULT_EMBED_DIMENSIONS * EMBED_BYTES_PER_VALUE + ANSWER_OVERHEAD_BYTES) * copies;
    expect(DEFAULT_EMBED_DIMENSIONS).toBe(3072);
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { content: {} })).toBe(full);
    expect(estimateAnswerBytes('embed', 'gemini-embedding-2', { content: {} })).toBe(full);
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { model: 'models/text-embedding-004' })).toBe(
      (768 * EMBED_BYTES_PER_VALUE + ANSWER_OVERHEAD_BYTES) * copies,
    );
  });

  it('weighs a generation by maxOutputTokens times candidateCount, or a conservative default', () => {
    const per = (tokens: number) => (tokens * BYTES_PER_OUTPUT_TOKEN + ANSWER_OVERHEAD_BYTES) * copies;
    expect(estimateAnswerBytes('generate', 'm', { generationConfig: { maxOutputTokens: 256 } })).toBe(
      per(256),
    );
    expect(
      estimateAnswerBytes('generate', 'm', {
        generation_config: { max_output_tokens: 100, candidate_count: 3 },
      }),
    ).toBe((300 * BYTES_PER_OUTPUT_TOKEN + ANSWER_OVERHEAD_BYTES) * copies);
    expect(estimateAnswerBytes('generate', 'm', { contents: [] })).toBe(per(DEFAULT_OUTPUT_TOKENS));
  });

  it('keeps the default bound at 32 MiB', () => {
    expect(DEFAULT_INLINE_MAX_ANSWER_BYTES).toBe(32 * 1024 * 1024);
  });
});
