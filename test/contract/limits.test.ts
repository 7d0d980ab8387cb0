import { describe, expect, it } from 'vitest';
import {
  createInline,
  defined,
  FAST_JOBS,
  FLASH,
  HOUR_MS,
  textOfSize,
  uploadText,
  useEmulator,
  waitForJob,
} from './emulator-harness.js';

const FLASH_LITE = 'gemini-2.5-flash-lite';

describe('file size and storage limits', () => {
  const h = useEmulator({ timing: FAST_JOBS, limits: { maxFileBytes: 1000, maxStorageBytes: 3000 } });

  it('refuses a file over maxFileBytes with 400 and accepts one exactly at the limit', async () => {
    const ai = h.sdk();
    await expect(uploadText(ai, textOfSize(1001), 'too-large')).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: expect.stringContaining('INVALID_ARGUMENT'),
    });
    const file = await uploadText(ai, textOfSize(1000), 'at-limit');
    expect(file.sizeBytes).toBe('1000');
    await ai.files.delete({ name: defined(file.name, 'file.name') });
  });

  it('refuses an upload that would exceed maxStorageBytes with 429, until a file is deleted', async () => {
    const ai = h.sdk();
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      names.push(defined((await uploadText(ai, textOfSize(1000), `fill-${i}`)).name, 'file.name'));
    }
    await expect(uploadText(ai, textOfSize(500), 'one-too-many')).rejects.toMatchObject({
      name: 'ApiError',
      status: 429,
      message: expect.stringContaining('RESOURCE_EXHAUSTED'),
    });

    await ai.files.delete({ name: defined(names[0], 'first file') });
    const file = await uploadText(ai, textOfSize(500), 'after-delete');
    expect(file.sizeBytes).toBe('500');
  });

  it('counts an unfinished upload against storage until it is abandoned after 48 hours', async () => {
    const ai = h.sdk();
    h.emulator.clock.advance(48 * HOUR_MS); // earlier tests' files expire: start from an empty project
    const start = await h.rest('/upload/v1beta/files', {
      method: 'POST',
      headers: {
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': '1000',
        'x-goog-upload-header-content-type': 'application/jsonl',
      },
      body: JSON.stringify({ file: { displayName: 'abandoned' } }),
    });
    const uploadUrl = new URL(defined(start.headers.get('x-goog-upload-url'), 'upload URL'));
    h.emulator.clock.advance(47 * HOUR_MS);
    await uploadText(ai, textOfSize(1000), 'fill-1');
    await uploadText(ai, textOfSize(1000), 'fill-2');
    await expect(uploadText(ai, textOfSize(10), 'no-room')).rejects.toMatchObject({
      name: 'ApiError',
      status: 429,
    });

    h.emulator.clock.advance(HOUR_MS); // the session is 48 hours old; the files only one

    const lateChunk = await h.rest(`${uploadUrl.pathname}${uploadUrl.search}`, {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'x',
    });
    expect(lateChunk.status).toBe(404);
    expect((await uploadText(ai, textOfSize(1000), 'room-again')).sizeBytes).toBe('1000');
  });
});

describe('concurrent job limit', () => {
  const h = useEmulator({ timing: FAST_JOBS, limits: { maxActiveJobs: 2 } });

  it('refuses a third active job with 429 and admits one once the others finish', async () => {
    const ai = h.sdk();
    const one = defined((await createInline(ai, 'active-1')).name, 'job.name');
    const two = defined((await createInline(ai, 'active-2')).name, 'job.name');
    await expect(createInline(ai, 'active-3')).rejects.toMatchObject({
      name: 'ApiError',
      status: 429,
      message: expect.stringContaining('RESOURCE_EXHAUSTED'),
    });

    expect((await waitForJob(ai, h.emulator, one)).state).toBe('JOB_STATE_SUCCEEDED');
    expect((await waitForJob(ai, h.emulator, two)).state).toBe('JOB_STATE_SUCCEEDED');
    const admitted = await createInline(ai, 'active-3');
    expect(admitted.state).toBe('JOB_STATE_PENDING');
  });

  it('journals every create that reached the quota check, admitted or refused, in arrival order', async () => {
    const ai = h.sdk();
    const before = h.emulator.createAttempts().length;
    // The first test's third job may still be active: wait until nothing is, then fill the quota.
    for (const job of (await ai.batches.list({ config: { pageSize: 100 } })).page) {
      await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));
    }
    await createInline(ai, 'journal-1');
    await createInline(ai, 'journal-2');
    await expect(createInline(ai, 'journal-3')).rejects.toMatchObject({ status: 429 });

    expect(
      h.emulator
        .createAttempts()
        .slice(before)
        .map(({ displayName, admitted }) => ({ displayName, admitted })),
    ).toEqual([
      { displayName: 'journal-1', admitted: true },
      { displayName: 'journal-2', admitted: true },
      { displayName: 'journal-3', admitted: false },
    ]);
  });
});

describe('enqueued-token limit per model', () => {
  const h = useEmulator({ timing: FAST_JOBS, limits: { enqueuedTokensPerModel: { [FLASH]: 50 } } });
  // ~4 characters a token: 160 characters are about 40 tokens, so one such job fits under 50, two do not.
  const prompt = 'p'.repeat(160);

  it('refuses a job that would push a model over its cap with Google’s generic 429', async () => {
    const ai = h.sdk();
    const first = defined((await createInline(ai, 'tokens-1', [prompt], FLASH)).name, 'job.name');
    const refused = createInline(ai, 'tokens-2', [prompt], FLASH);
    await expect(refused).rejects.toMatchObject({
      name: 'ApiError',
      status: 429,
      message: expect.stringContaining('RESOURCE_EXHAUSTED'),
    });
    // Gemini names neither the quota nor the model (langchain4j PR #3942).
    await expect(refused).rejects.toMatchObject({
      message: expect.stringContaining('You exceeded your current quota'),
    });
    await expect(refused).rejects.toMatchObject({ message: expect.not.stringContaining(FLASH) });

    // Another model has its own budget.
    const other = await createInline(ai, 'tokens-lite', [prompt], FLASH_LITE);
    expect(other.state).toBe('JOB_STATE_PENDING');
    expect(other.model).toBe(`models/${FLASH_LITE}`);

    // Tokens of finished jobs are no longer enqueued.
    expect((await waitForJob(ai, h.emulator, first)).state).toBe('JOB_STATE_SUCCEEDED');
    const again = await createInline(ai, 'tokens-2', [prompt], FLASH);
    expect(again.state).toBe('JOB_STATE_PENDING');
    await waitForJob(ai, h.emulator, defined(again.name, 'job.name'));
    await waitForJob(ai, h.emulator, defined(other.name, 'job.name'));
  });
});
