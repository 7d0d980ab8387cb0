import { describe, expect } from 'vitest';
import { isFinalRefusal } from '../../../../../lambdas/shared/batch-jobs/refusals.js';
import { GeminiRateLimitError, GeminiRequestError } from '../../../../../lambdas/shared/errors.js';
import { RUN_ID, readLedger, writePlan } from '../../run-fixtures.js';
import { it, submit, twoChunks } from './submit-fixtures.js';

describe('submitChunks, for a chunk Gemini refuses for good', () => {
  it("records a create Gemini refuses for good (4xx) in the chunk's ledger and submits the other chunks", async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);
    fake.refuse('createBatch', 400, 'Invalid JSON payload received.');

    const outcome = await submit(deps({ concurrency: 1 }));

    expect(outcome).toEqual({ submitted: 1, waiting: 0, refused: 1 });
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

  it('fails only the chunk whose upload Gemini refuses for good, and never creates its job', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [
      { kind: 'embed', keys: ['a'] },
      { kind: 'embed', keys: ['b'] },
    ]);
    fake.refuse('uploadJsonl', 400, 'Unsupported MIME type: application/json');

    const outcome = await submit(deps({ concurrency: 1 }));

    expect(outcome).toEqual({ submitted: 1, waiting: 0, refused: 1 });
    expect(fake.batches.size).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({
      createError: {
        code: 400,
        message: expect.stringContaining("the upload of the chunk's requests was refused: "),
      },
    });
    expect(await readLedger(store, 0)).not.toHaveProperty('batchName');
  });

  it('keeps the start of a long refusal, which every key of the chunk repeats', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.refuse('createBatch', 400, `Unknown name "x". ${'detail '.repeat(1000)}`);

    await submit(deps());

    const message = (await readLedger(store, 0))?.createError?.message ?? '';
    expect(message).toHaveLength(2001); // 2000 characters and an ellipsis
    expect(message).toContain('Unknown name "x"');
  });

  it('never asks Gemini again for a chunk it refused for good', async ({ store, fake, deps }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.refuse('createBatch', 404, 'models/gemini-9 is not found');
    await submit(deps());

    expect(await submit(deps())).toEqual({ submitted: 0, waiting: 0, refused: 1 });

    expect(fake.calls.createBatch).toBe(1);
    expect(fake.calls.uploadJsonl).toBe(1);
    expect(fake.calls.findBatchesByDisplayName).toBe(0);
    expect((await readLedger(store, 0))?.createError?.code).toBe(404);
  });

  it('keeps creating on a refusal after a create whose outcome is unknown, so Finalize still looks', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.unavailable('createBatch');
    await submit(deps());
    fake.refuse('createBatch');

    await submit(deps());

    expect(await readLedger(store, 0)).toMatchObject({ creating: true, createError: { code: 400 } });
  });

  it('fails the run on a refusal that is not an HTTP answer of Gemini, which proves nothing about the chunk', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'generate', keys: ['a'] }]);
    fake.failNext('createBatch', new GeminiRequestError('model not found'));
    await expect(submit(deps())).rejects.toMatchObject({ name: 'GeminiRequestError' });
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
