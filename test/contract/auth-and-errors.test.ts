import { describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_API_KEY, QUOTA_EXCEEDED_MESSAGE } from '../../local/gemini-emulator/index.js';
import { GEMINI_QUOTA_429 } from '../fixtures/gemini-quota-429.js';
import {
  createInline,
  createInlineRest,
  defined,
  FAST_JOBS,
  FLASH,
  generateLine,
  items,
  jsonlOf,
  uploadJsonl,
  uploadText,
  useEmulator,
  waitForJob,
} from './emulator-harness.js';

describe('API keys', () => {
  const anyKey = useEmulator({ timing: FAST_JOBS });
  const oneKey = useEmulator({ timing: FAST_JOBS, apiKey: 'the-one-configured-key' });

  it('accepts any non-empty key when none is configured', async () => {
    for (const key of ['some-real-looking-key', 'x', DEFAULT_EMULATOR_API_KEY]) {
      await expect(anyKey.sdk(undefined, key).batches.list()).resolves.toBeDefined();
    }
  });

  it.each([
    ['none is configured', anyKey, '/v1beta/models'],
    ['one is configured', oneKey, '/v1beta/batches'],
  ])(
    "refuses a request without a key with Google's 403 PERMISSION_DENIED when %s",
    async (_when, h, path) => {
      const response = await fetch(`${h.emulator.url}${path}`);

      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        error: {
          code: 403,
          message: expect.stringContaining("Method doesn't allow unregistered callers"),
          status: 'PERMISSION_DENIED',
        },
      });
    },
  );

  it('accepts only the configured key when one is given, refusing others with 400 API_KEY_INVALID', async () => {
    const good = await fetch(`${oneKey.emulator.url}/v1beta/batches`, {
      headers: { 'x-goog-api-key': 'the-one-configured-key' },
    });
    const refused = oneKey.sdk(undefined, 'not-the-key').batches.list();

    expect(oneKey.emulator.apiKey).toBe('the-one-configured-key');
    expect(good.status).toBe(200);
    await expect(refused).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: expect.stringContaining('API_KEY_INVALID'),
    });
    await expect(refused).rejects.toThrow('INVALID_ARGUMENT');
  });

  it('accepts the key in the ?key= query parameter and checks it there too', async () => {
    const h = oneKey;
    const good = await fetch(`${h.emulator.url}/v1beta/batches?key=${h.emulator.apiKey}`);
    expect(good.status).toBe(200);
    const bad = await fetch(`${h.emulator.url}/v1beta/batches?key=wrong-key`);
    expect(bad.status).toBe(400);
  });
});

describe('unknown resources and refused requests', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('answers 404 for a batch that does not exist', async () => {
    await expect(h.sdk().batches.get({ name: 'batches/doesnotexist123' })).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
      message: expect.stringContaining('NOT_FOUND'),
    });
  });

  it('answers 404 for a file that does not exist', async () => {
    await expect(h.sdk().files.get({ name: 'files/nosuchfile123' })).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
    });
  });

  it('answers 404 for a file once it has been deleted', async () => {
    const ai = h.sdk();
    const file = await uploadText(ai, jsonlOf('del', 2), 'to-delete');
    const name = defined(file.name, 'file.name');
    expect((await ai.files.get({ name })).name).toBe(name);
    await ai.files.delete({ name });
    await expect(ai.files.get({ name })).rejects.toMatchObject({ name: 'ApiError', status: 404 });
    await expect(ai.files.delete({ name })).rejects.toMatchObject({ name: 'ApiError', status: 404 });
  });

  it('refuses to cancel a job that already succeeded with 400 FAILED_PRECONDITION', async () => {
    const ai = h.sdk();
    const job = await createInline(ai, 'finished-job');
    const name = defined(job.name, 'job.name');
    expect((await waitForJob(ai, h.emulator, name)).state).toBe('JOB_STATE_SUCCEEDED');
    await expect(ai.batches.cancel({ name })).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: expect.stringContaining('FAILED_PRECONDITION'),
    });
    expect((await ai.batches.get({ name })).state).toBe('JOB_STATE_SUCCEEDED');
  });

  it('refuses an inline batch whose request body is over 20 MiB, with Google’s message', async () => {
    const MiB = 1024 * 1024;
    const big = 'x'.repeat(MiB);
    const texts = Array.from({ length: 21 }, () => big);
    await expect(createInline(h.sdk(), 'too-big', texts)).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: expect.stringContaining('Request payload size exceeds the limit: 20971520 bytes'),
    });
    // Nothing was created by the refused request.
    const listed = await h.sdk().batches.list();
    expect(listed.page.map((job) => job.displayName)).not.toContain('too-big');
  });
});

describe("Google's generic 429 on every endpoint", () => {
  const h = useEmulator({ timing: FAST_JOBS });
  const oneJob = useEmulator({ timing: FAST_JOBS, limits: { maxActiveJobs: 1 } });

  it('answers http-error 429 faults on reads, listings, downloads and the Models API with the generic body', async () => {
    const ai = h.sdk();
    const name = (await createInlineRest(h, 'generate', FLASH, items('quota', 1))).name;
    const fileName = await uploadJsonl(h, ai, 'quota.jsonl', [generateLine('q-1', 'quota')]);
    const id = fileName.slice('files/'.length);
    const reads: [string, string][] = [
      ['batches.get', `/v1beta/${name}`],
      ['batches.list', '/v1beta/batches'],
      ['files.get', `/v1beta/${fileName}`],
      ['files.list', '/v1beta/files'],
      ['files.download', `/v1beta/files/${id}:download?alt=media`],
      ['models.get', `/v1beta/models/${FLASH}`],
      ['models.list', '/v1beta/models'],
    ];
    for (const [endpoint, path] of reads) {
      h.emulator.faults.add({ kind: 'http-error', endpoint: endpoint as 'batches.get', status: 429 });

      const response = await h.rest(path);

      expect(response.status, endpoint).toBe(429);
      expect(await response.json(), endpoint).toEqual(GEMINI_QUOTA_429);
      expect((await h.rest(path)).status, `${endpoint} once the fault is spent`).toBe(200);
    }
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'models.get', status: 429 });
    await expect(ai.models.get({ model: FLASH })).rejects.toMatchObject({
      name: 'ApiError',
      status: 429,
      message: JSON.stringify(GEMINI_QUOTA_429),
    });
  });

  it('answers its own quota refusals (active jobs here) with the same generic body', async () => {
    await createInlineRest(oneJob, 'generate', FLASH, items('fills-the-quota', 1));

    const refused = await oneJob.rest(`/v1beta/models/${FLASH}:batchGenerateContent`, {
      method: 'POST',
      body: JSON.stringify({ batch: { inputConfig: { requests: { requests: [{ request: {} }] } } } }),
    });

    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual(GEMINI_QUOTA_429);
    expect(QUOTA_EXCEEDED_MESSAGE).toBe(GEMINI_QUOTA_429.error.message);
  });
});
