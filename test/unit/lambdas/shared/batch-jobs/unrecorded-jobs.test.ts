import { describe, expect } from 'vitest';
import { rankRecovered } from '../../../../../lambdas/shared/batch-jobs/unrecorded-jobs.js';
import { GeminiUnavailableError } from '../../../../../lambdas/shared/errors.js';
import type { JobLedger } from '../../../../../lambdas/shared/run/work-records.js';
import { fixedNow, RUN_ID, readLedger, WORK, writePlan } from '../../run-fixtures.js';
import { CrashingStore, it, submit, twoChunks } from './submit-fixtures.js';

describe('submitChunks, for a chunk whose create may have made a job it never recorded', () => {
  it('recovers the job by display name after a crash between creating it and recording it, creating it once', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    const crashing = new CrashingStore(
      store,
      (key, value) => key === WORK.ledger(0) && (value as Partial<JobLedger>).batchName !== undefined,
    );
    await expect(submit(deps({ store: crashing, concurrency: 1 }))).rejects.toThrow('simulated crash');
    // Chunk 0's job exists on Gemini but not in its ledger; chunk 1 finished before the error surfaced.
    expect(fake.batches.size).toBe(2);
    expect((await readLedger(store, 0))?.batchName).toBeUndefined();

    await submit(deps());
    await submit(deps());

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

  it('keeps creating after a 5xx that came once Gemini had made the job, and recovers that job instead of paying twice', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504 Gateway Timeout'));

    expect(await submit(deps())).toMatchObject({ waiting: 1 });
    expect(await readLedger(store, 0)).toMatchObject({ creating: true });
    expect((await readLedger(store, 0))?.batchName).toBeUndefined();

    expect(await submit(deps())).toMatchObject({ submitted: 1, waiting: 0 });
    expect(fake.batches.size).toBe(1);
    expect(fake.calls.createBatch).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ recovered: true, batchName: 'batches/b-1' });
  });

  it('waits without creating when the recovery listing answers 429', async ({ store, fake, deps }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('503'));
    await submit(deps());
    fake.rateLimit('findBatchesByDisplayName');

    expect(await submit(deps())).toMatchObject({ waiting: 1 });

    expect(fake.calls.createBatch).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ creating: true });
  });

  it('looks for a job only as far back as the create whose outcome is unknown, less the margin', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'embed', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submit(deps({ now: () => new Date('2026-11-03T12:00:00.000Z') }));

    await submit(deps({ now: () => new Date('2026-11-03T15:00:00.000Z') }));

    expect(fake.searches).toEqual([
      {
        format: 'gemini',
        // Ten minutes' margin for the clocks of Lambda and Google.
        createdAfter: new Date('2026-11-03T11:50:00.000Z'),
      },
    ]);
  });

  it('does not take a job created before the lookup bound for this chunk', async ({ store, fake, deps }) => {
    await writePlan(store, [{ kind: 'embed', keys: ['a'] }]);
    fake.now = () => new Date('2026-11-03T11:00:00.000Z');
    fake.addBatch({ kind: 'embed', model: 'm', displayName: `${RUN_ID}/chunk-00000`, fileName: '' });
    fake.now = fixedNow;
    fake.unavailable('createBatch');
    await submit(deps());

    await submit(deps());

    expect(fake.calls.findBatchesByDisplayName).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ batchName: 'batches/b-2' });
    expect(await readLedger(store, 0)).not.toHaveProperty('recovered');
  });

  it('keeps one of two jobs found under the chunk name, cancels the other and records it as a duplicate', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.now = fixedNow;
    const crashing = new CrashingStore(store, (_key, value) => (value as JobLedger).batchName !== undefined);
    await expect(submit(deps({ store: crashing }))).rejects.toThrow('simulated crash');
    // A retry made a second job while the first create's answer was lost.
    const second = fake.addBatch({
      kind: 'generate',
      model: 'm',
      displayName: `${RUN_ID}/chunk-00000`,
      fileName: 'files/up-1',
    });

    await submit(deps());

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

  it('keeps the duplicate that has succeeded over an older one still pending, and cancels the older', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504'));
    await submit(deps());
    const newer = fake.addBatch({
      kind: 'generate',
      model: 'm',
      displayName: `${RUN_ID}/chunk-00000`,
      fileName: 'files/up-1',
      state: 'BATCH_STATE_SUCCEEDED',
    });

    await submit(deps());

    expect(fake.cancelledBatches).toEqual(['batches/b-1']);
    expect(await readLedger(store, 0)).toMatchObject({ batchName: newer.name, duplicates: ['batches/b-1'] });
  });

  it('records a duplicate Gemini would not cancel for now, for Finalize to ask again', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504'));
    await submit(deps());
    fake.addBatch({
      kind: 'generate',
      model: 'm',
      displayName: `${RUN_ID}/chunk-00000`,
      fileName: 'files/up-1',
    });
    fake.rateLimit('cancelBatch');

    expect(await submit(deps())).toMatchObject({ submitted: 1 });

    expect(await readLedger(store, 0)).toMatchObject({
      batchName: 'batches/b-1',
      duplicates: ['batches/b-2'],
      duplicatesLeftRunning: ['batches/b-2'],
    });
  });

  it('records a lookup that found nothing before creating the chunk again', async ({ store, fake, deps }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failAfter('createBatch', new GeminiUnavailableError('504 Gateway Timeout'));
    await submit(deps({ now: () => new Date('2026-11-03T12:00:00.000Z') }));
    // The listing lags behind the create: the job the lost answer made is not in it yet.
    fake.unlisted.add('batches/b-1');
    // The second create's answer is lost too: what the ledger says before it is what survives.
    fake.unavailable('createBatch');

    await submit(deps({ now: () => new Date('2026-11-03T12:05:00.000Z') }));

    expect(await readLedger(store, 0)).toMatchObject({
      creating: true,
      creatingSince: '2026-11-03T12:00:00.000Z',
      emptyLookups: [{ at: '2026-11-03T12:05:00.000Z', since: '2026-11-03T11:50:00.000Z' }],
    });
  });

  it('records why a lookup could not look everywhere, as when the compat listing is refused', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submit(deps());
    fake.searchIncomplete = 'Gemini refused to list batches on its OpenAI-compatible layer (HTTP 404)';

    await submit(deps());

    expect(fake.batches.size).toBe(1);
    expect((await readLedger(store, 0))?.emptyLookups).toEqual([
      expect.objectContaining({ incomplete: fake.searchIncomplete }),
    ]);
  });

  it('keeps creating after a 429 that follows a create whose outcome is unknown, and looks again next time', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submit(deps());
    fake.rateLimit('createBatch');
    await submit(deps());
    expect(await readLedger(store, 0)).toMatchObject({ creating: true });

    await submit(deps());

    expect(fake.calls.findBatchesByDisplayName).toBe(2);
    expect(fake.batches.size).toBe(1);
  });

  it('recovers an inline job created before a crash, found by display name, without creating another', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    const crashing = new CrashingStore(
      store,
      (key, value) => key === WORK.ledger(0) && (value as JobLedger).batchName !== undefined,
    );
    await expect(submit(deps({ store: crashing, inlineMaxBytes: 1024 * 1024 }))).rejects.toThrow(
      'simulated crash',
    );

    await submit(deps({ inlineMaxBytes: 1024 * 1024 }));

    expect(fake.calls.createBatch).toBe(2);
    expect(fake.batches.size).toBe(2);
    expect((await readLedger(store, 0))?.recovered).toBe(true);
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
