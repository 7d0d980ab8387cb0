import { describe, expect } from 'vitest';
import { GeminiRateLimitError, GeminiUnavailableError } from '../../../../../lambdas/shared/errors.js';
import type { FakeGemini } from '../../../../support/fake-gemini.js';
import { BUCKET, fixedNow, RUN_ID, readLedger, WORK, writePlan } from '../../run-fixtures.js';
import { CrashingStore, it, submit, twoChunks } from './submit-fixtures.js';

describe('submitChunks', () => {
  it('creates one job per chunk, named <runId>/<chunk>, from the chunk file', async ({
    store,
    fake,
    deps,
  }) => {
    const plan = await twoChunks(store);
    const outcome = await submit(deps());
    expect(outcome).toEqual({ submitted: 2, waiting: 0, refused: 0 });
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

  it('writes each chunk ledger with the uploaded file and the job name', async ({ store, deps }) => {
    await twoChunks(store);
    await submit(deps({ concurrency: 1 }));
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

  it('creates no second job, uploads nothing again, looks nothing up and rewrites no ledger when run twice', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    await submit(deps());
    const ledgers = [await readLedger(store, 0), await readLedger(store, 1)];

    await submit(deps({ now: () => new Date('2026-11-03T13:00:00.000Z') }));

    expect(fake.calls.createBatch).toBe(2);
    expect(fake.calls.uploadJsonl).toBe(2);
    expect(fake.batches.size).toBe(2);
    expect(fake.calls.findBatchesByDisplayName).toBe(0);
    expect([await readLedger(store, 0), await readLedger(store, 1)]).toEqual(ledgers);
  });

  it('reuses the uploaded file after a 429 on create, and creates without looking for a job first', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a', 'b'] }]);
    fake.rateLimit('createBatch');
    expect(await submit(deps())).toMatchObject({ submitted: 0, waiting: 1 });
    expect(await readLedger(store, 0)).toMatchObject({ uploadedFile: 'files/up-1' });

    await submit(deps());

    expect(fake.calls.uploadJsonl).toBe(1);
    // A 429 created nothing: `creating` was cleared, so nothing is looked up.
    expect(fake.calls.findBatchesByDisplayName).toBe(0);
    expect(fake.batches.size).toBe(1);
    expect(fake.batchNamed(`${RUN_ID}/chunk-00000`).fileName).toBe('files/up-1');
    expect(await readLedger(store, 0)).toMatchObject({
      uploadedFile: 'files/up-1',
      batchName: 'batches/b-1',
    });
    expect(await readLedger(store, 0)).not.toHaveProperty('recovered');
  });

  it('counts each job created and each create refused for quota, for the dashboard', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a', 'b'] }]);
    const added: string[] = [];
    const metrics = { add: (name: string, value: number) => added.push(`${name}=${value}`) };
    fake.rateLimit('createBatch');
    await submit(deps({ metrics }));
    await submit(deps({ metrics }));
    expect(added).toEqual(['CreatesRefused=1', 'JobsCreated=1']);
  });

  it('creates only the missing job on retry when Gemini failed on a later chunk', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    fake.failAt('createBatch', 2, new GeminiUnavailableError('503 Service Unavailable'));
    const first = await submit(deps({ concurrency: 1 }));
    expect(first).toMatchObject({ submitted: 1, waiting: 1 });
    expect(fake.batches.size).toBe(1);

    await submit(deps());

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

  it('submits the remaining chunk after a crash on a later chunk, leaving the first job alone', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    const crashing = new CrashingStore(store, (key) => key === WORK.ledger(1));
    await expect(submit(deps({ store: crashing }))).rejects.toThrow('simulated crash');
    expect(fake.batches.size).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ batchName: 'batches/b-1' });

    await submit(deps());
    expect(fake.batches.size).toBe(2);
    expect(fake.calls.createBatch).toBe(2);
  });

  it('leaves a chunk Gemini refuses with 429 waiting while the others get their jobs', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    fake.failAt('createBatch', 2, new GeminiRateLimitError('429 enqueued tokens'));

    const submitted = await submit(deps({ concurrency: 1 }));

    expect(submitted).toEqual({ submitted: 1, waiting: 1, refused: 0 });
    expect((await readLedger(store, 1))?.batchName).toBeUndefined();
  });

  it('does not fail the run when Gemini refuses every job: all chunks wait for the poll loop', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    fake.rateLimit('createBatch', 2);

    const submitted = await submit(deps({ concurrency: 1 }));

    expect(submitted).toEqual({ submitted: 0, waiting: 2, refused: 0 });
    expect(fake.batches.size).toBe(0);
    expect(await readLedger(store, 0)).toMatchObject({ creating: false, uploadedFile: 'files/up-1' });
  });

  it.for([
    ['429', (fake: FakeGemini) => fake.rateLimit('uploadJsonl')],
    ['503', (fake: FakeGemini) => fake.unavailable('uploadJsonl')],
  ] as const)(
    'leaves a chunk whose upload answers %s waiting, marked as uploading',
    async ([_status, refuse], { store, fake, deps }) => {
      await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
      refuse(fake);

      expect(await submit(deps())).toMatchObject({ submitted: 0, waiting: 1 });

      expect(await readLedger(store, 0)).toMatchObject({ uploading: true });
      expect((await readLedger(store, 0))?.uploadedFile).toBeUndefined();
    },
  );

  it('reuses a file Gemini kept from an upload whose answer was lost, instead of leaving an orphan', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a', 'b'] }]);
    fake.failAfter(
      'uploadJsonl',
      new GeminiUnavailableError('Gemini ended the upload without naming the file'),
    );
    await submit(deps());
    expect(fake.files.size).toBe(1);

    await submit(deps());

    expect(fake.reusedUploads).toEqual(['files/up-1']);
    expect(fake.files.size).toBe(1);
    expect(fake.batchNamed(`${RUN_ID}/chunk-00000`).fileName).toBe('files/up-1');
    const ledger = await readLedger(store, 0);
    expect(ledger).toMatchObject({ uploadedFile: 'files/up-1', batchName: 'batches/b-1' });
    expect(ledger).not.toHaveProperty('uploading');
  });
});
