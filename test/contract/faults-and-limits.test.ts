/**
 * Contract tests: the real `@google/genai` SDK against the emulator, for everything that goes wrong —
 * auth, unknown resources, Google's limits, and every kind of injected fault. Each test would fail if
 * the emulator answered differently from what the SDK sees from Gemini (see docs/gemini-protocol.md).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError, type BatchJob, GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  defined,
  downloadJsonl,
  generateLine,
  type Harness,
  rawBatch,
  useEmulator,
  waitForJob,
  writeJsonl,
} from './emulator-harness.js';

const HOUR_MS = 60 * 60 * 1000;
const FLASH = 'gemini-2.5-flash';
const FLASH_LITE = 'gemini-2.5-flash-lite';
const FAST_JOBS = { pendingMs: 1000, runningMs: 1000 };

/** JSONL text of `count` generate requests, keyed `<prefix>-<i>`. */
function jsonlOf(prefix: string, count: number, text = (i: number) => `Say something about ${i}`): string {
  return `${Array.from({ length: count }, (_, i) => generateLine(`${prefix}-${i}`, text(i))).join('\n')}\n`;
}

/** ASCII text of exactly `bytes` bytes. */
function textOfSize(bytes: number): string {
  return 'abcdefghij'.repeat(Math.ceil(bytes / 10)).slice(0, bytes);
}

function uploadText(ai: GoogleGenAI, text: string, displayName?: string) {
  return ai.files.upload({
    file: new Blob([text], { type: 'application/jsonl' }),
    config: { mimeType: 'application/jsonl', ...(displayName !== undefined ? { displayName } : {}) },
  });
}

/** An inline generate batch of one request per text, keyed by position in `metadata.key`. */
function createInline(
  ai: GoogleGenAI,
  displayName: string,
  texts: readonly string[] = ['hello'],
  model = FLASH,
) {
  return ai.batches.create({
    model,
    src: texts.map((text, i) => ({
      contents: [{ role: 'user', parts: [{ text }] }],
      metadata: { key: `${displayName}-${i}` },
    })),
    config: { displayName },
  });
}

/** Uploads `lines` as a JSONL file and starts a generate batch on it. */
async function createFromLines(h: Harness, ai: GoogleGenAI, displayName: string, lines: readonly string[]) {
  const path = await writeJsonl(h.dir, `${displayName}.jsonl`, lines);
  const file = await ai.files.upload({ file: path, config: { mimeType: 'application/jsonl', displayName } });
  return ai.batches.create({ model: FLASH, src: defined(file.name, 'file.name'), config: { displayName } });
}

describe('authentication and unknown resources', () => {
  // With a configured key only that key passes; without one any key does (rough-gemini.test.ts).
  const h = useEmulator({ timing: FAST_JOBS, apiKey: 'the-one-configured-key' });

  it('rejects a wrong API key with 400 API_KEY_INVALID, as Google does', async () => {
    const refused = h.sdk(undefined, 'not-the-key').batches.list();
    await expect(refused).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: expect.stringContaining('API_KEY_INVALID'),
    });
    await expect(refused).rejects.toThrow('INVALID_ARGUMENT');
  });

  it('rejects a request without any key with 403 PERMISSION_DENIED', async () => {
    const response = await fetch(`${h.emulator.url}/v1beta/batches`);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { code: number; status: string } };
    expect(body.error.status).toBe('PERMISSION_DENIED');
    expect(body.error.code).toBe(403);
  });

  it('accepts the key in the ?key= query parameter and checks it there too', async () => {
    const good = await fetch(`${h.emulator.url}/v1beta/batches?key=${h.emulator.apiKey}`);
    expect(good.status).toBe(200);
    const bad = await fetch(`${h.emulator.url}/v1beta/batches?key=wrong-key`);
    expect(bad.status).toBe(400);
  });

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

describe('http-error and drop-connection faults', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('answers 429 RESOURCE_EXHAUSTED to the next two creates, then admits the third', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'batches.create', status: 429, times: 2 });
    for (const attempt of [1, 2]) {
      await expect(createInline(ai, `throttled-${attempt}`)).rejects.toMatchObject({
        name: 'ApiError',
        status: 429,
        message: expect.stringContaining('RESOURCE_EXHAUSTED'),
      });
    }
    const job = await createInline(ai, 'throttled-3');
    expect(job.state).toBe('JOB_STATE_PENDING');
    expect(job.displayName).toBe('throttled-3');
    // The refused creates left no job behind.
    const names = (await ai.batches.list()).page.map((listed) => listed.displayName);
    expect(names).toContain('throttled-3');
    expect(names).not.toContain('throttled-1');
    expect(names).not.toContain('throttled-2');
  });

  it('answers 503 UNAVAILABLE to the next two gets of a batch, then the real job', async () => {
    const ai = h.sdk();
    const name = defined((await createInline(ai, 'unavailable')).name, 'job.name');
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'batches.get', status: 503, times: 2 });
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(ai.batches.get({ name })).rejects.toMatchObject({
        name: 'ApiError',
        status: 503,
        message: expect.stringContaining('UNAVAILABLE'),
      });
    }
    expect((await ai.batches.get({ name })).name).toBe(name);
  });

  it('lets an SDK with retryOptions ride over two 503s, since 503 is a status the SDK retries', async () => {
    const plain = h.sdk();
    const name = defined((await createInline(plain, 'retried')).name, 'job.name');
    const ai = new GoogleGenAI({
      apiKey: h.emulator.apiKey,
      httpOptions: {
        baseUrl: h.emulator.url,
        retryOptions: { attempts: 3, initialDelay: 0.02, maxDelay: 0.1, jitter: 0 },
      },
    });
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'batches.get', status: 503, times: 2 });
    const job = await ai.batches.get({ name });
    expect(job.name).toBe(name);
    // Both injected failures were consumed by the SDK's retries.
    expect(h.emulator.faults.list()).toEqual([]);
  });

  it('makes the retrying SDK give up with the last 429 once its attempts are spent', async () => {
    const ai = new GoogleGenAI({
      apiKey: h.emulator.apiKey,
      httpOptions: {
        baseUrl: h.emulator.url,
        retryOptions: { attempts: 2, initialDelay: 0.02, maxDelay: 0.1, jitter: 0 },
      },
    });
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'batches.list', status: 429, times: 3 });
    await expect(ai.batches.list()).rejects.toMatchObject({ name: 'ApiError', status: 429 });
    expect(h.emulator.faults.list().map((fault) => fault.remaining)).toEqual([1]);
  });

  it('drops the connection of a batches.get so the SDK sees a network error, and the next get works', async () => {
    const ai = h.sdk();
    const name = defined((await createInline(ai, 'dropped')).name, 'job.name');
    h.emulator.faults.add({ kind: 'drop-connection', endpoint: 'batches.get' });
    // A TypeError (`fetch failed`) is never an ApiError: no HTTP answer came.
    await expect(ai.batches.get({ name })).rejects.toThrow(TypeError);
    expect((await ai.batches.get({ name })).name).toBe(name);
  });

  it('only hits the endpoint a fault names', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'files.list', status: 500 });
    await expect(ai.batches.list()).resolves.toBeDefined();
    await expect(ai.files.list()).rejects.toMatchObject({ name: 'ApiError', status: 500 });
    await expect(ai.files.list()).resolves.toBeDefined();
  });
});

describe('seeded rate faults', () => {
  const first = useEmulator({ seed: 7, timing: FAST_JOBS });
  const replay = useEmulator({ seed: 7, timing: FAST_JOBS });
  const otherSeed = useEmulator({ seed: 8, timing: FAST_JOBS });

  /** Which of 20 listings fail under a 50% http-error fault: true where the call failed. */
  async function httpPattern(h: Harness): Promise<boolean[]> {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'batches.list', status: 503, rate: 0.5 });
    const pattern: boolean[] = [];
    for (let call = 0; call < 20; call++) {
      try {
        await ai.batches.list();
        pattern.push(false);
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).status).toBe(503);
        pattern.push(true);
      }
    }
    return pattern;
  }

  it('fails the same calls for the same seed and different calls for a different seed', async () => {
    const a = await httpPattern(first);
    const b = await httpPattern(replay);
    const c = await httpPattern(otherSeed);
    expect(a).toContain(true);
    expect(a).toContain(false);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  /** The keys a 40% line-error fault turns into errors in a 20-line file batch. */
  async function failingKeys(h: Harness): Promise<string[]> {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'line-error', rate: 0.4 });
    const lines = Array.from({ length: 20 }, (_, i) => generateLine(`line-${i}`, `Tell me about ${i}`));
    const job = await createFromLines(h, ai, 'rated', lines);
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const output = await downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));
    expect(output).toHaveLength(20);
    // Sorted: which lines fail is what the seed decides here, not where they land in the file.
    return output
      .filter((line) => 'error' in line)
      .map((line) => String(line.key))
      .sort();
  }

  it('fails the same lines of the same input for the same seed, on another emulator run', async () => {
    const a = await failingKeys(first);
    const b = await failingKeys(replay);
    const c = await failingKeys(otherSeed);
    expect(a.length).toBeGreaterThan(0);
    expect(a.length).toBeLessThan(20);
    // The seed exists "so a failing test replays exactly": same seed + same input => same failing keys.
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});

describe('uploads: interrupt-upload fault and the resumable protocol', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  const uploadText10k = jsonlOf('up', 120); // ~10 KB: a single `upload, finalize` chunk for the SDK

  it('cuts the connection of an interrupted upload chunk, so the SDK fails with a network error', async () => {
    expect(Buffer.byteLength(uploadText10k)).toBeGreaterThan(8000);
    h.emulator.faults.add({ kind: 'interrupt-upload', afterBytes: 1000 });
    // A dropped connection is what the fault promises: `TypeError: fetch failed`, not an HTTP answer.
    await expect(uploadText(h.sdk(), uploadText10k, 'cut')).rejects.toThrow(TypeError);
    expect(h.emulator.faults.list()).toEqual([]);
  });

  it('accepts the same upload after an interrupted one, with the right size and bytes', async () => {
    const ai = h.sdk();
    const bytes = Buffer.byteLength(uploadText10k);
    h.emulator.faults.add({ kind: 'interrupt-upload', afterBytes: 1000 });
    await expect(uploadText(ai, uploadText10k, 'interrupted')).rejects.toThrow();
    const afterFailure: (string | undefined)[] = [];
    for await (const file of await ai.files.list()) afterFailure.push(file.displayName);
    expect(afterFailure).not.toContain('interrupted');

    const file = await uploadText(ai, uploadText10k, 'interrupted-retry');
    const name = defined(file.name, 'file.name');
    const got = await ai.files.get({ name });
    expect(got.sizeBytes).toBe(String(bytes));
    expect(got.state).toBe('ACTIVE');
    const downloadPath = join(h.dir, 'interrupted-retry.jsonl');
    await ai.files.download({ file: name, downloadPath });
    expect(await readFile(downloadPath, 'utf8')).toBe(uploadText10k);
  });

  it('follows the resumable protocol: offsets, overruns, short finalize, query and final', async () => {
    const text = jsonlOf('raw', 40);
    const size = Buffer.byteLength(text); // ASCII: one char per byte
    const start = await h.rest('/upload/v1beta/files', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Goog-Upload-Protocol': 'resumable',
        'X-Goog-Upload-Command': 'start',
        'X-Goog-Upload-Header-Content-Length': String(size),
        'X-Goog-Upload-Header-Content-Type': 'application/jsonl',
      },
      body: JSON.stringify({ file: { displayName: 'x' } }),
    });
    expect(start.status).toBe(200);
    expect(start.headers.get('x-goog-upload-status')).toBe('active');
    const uploadUrl = new URL(defined(start.headers.get('x-goog-upload-url'), 'x-goog-upload-url'));
    expect(uploadUrl.origin).toBe(h.emulator.url);
    const uploadPath = `${uploadUrl.pathname}${uploadUrl.search}`;

    const send = (command: string, offset: number | undefined, body?: string) =>
      h.rest(uploadPath, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json', // what the SDK sends on chunks, though they are raw bytes
          'X-Goog-Upload-Command': command,
          ...(offset !== undefined ? { 'X-Goog-Upload-Offset': String(offset) } : {}),
        },
        ...(body !== undefined ? { body } : {}),
      });
    const received = async () => {
      const query = await send('query', undefined);
      expect(query.status).toBe(200);
      return Number(query.headers.get('x-goog-upload-size-received'));
    };
    const errorStatus = async (response: Response) =>
      ((await response.json()) as { error: { status: string } }).error.status;

    expect(await received()).toBe(0);

    const wrongOffset = await send('upload', 10, text.slice(0, 100));
    expect(wrongOffset.status).toBe(400);
    expect(await errorStatus(wrongOffset)).toBe('INVALID_ARGUMENT');

    const overrun = await send('upload', 0, `${text}one byte too many`);
    expect(overrun.status).toBe(400);
    expect(await errorStatus(overrun)).toBe('INVALID_ARGUMENT');
    expect(await received()).toBe(0); // refused chunks leave nothing behind

    const half = Math.floor(size / 2);
    const firstChunk = await send('upload', 0, text.slice(0, half));
    expect(firstChunk.status).toBe(200);
    expect(firstChunk.headers.get('x-goog-upload-status')).toBe('active');
    expect(firstChunk.headers.get('x-goog-upload-size-received')).toBe(String(half));
    expect(await received()).toBe(half);

    const shortFinalize = await send('upload, finalize', half, text.slice(half, half + 100));
    expect(shortFinalize.status).toBe(400);
    expect(await errorStatus(shortFinalize)).toBe('INVALID_ARGUMENT');

    // A client resumes from what the server says it holds, whatever it kept of the refused request.
    const resumeAt = await received();
    expect(resumeAt).toBeGreaterThanOrEqual(half);
    expect(resumeAt).toBeLessThanOrEqual(half + 100);
    const last = await send('upload, finalize', resumeAt, text.slice(resumeAt));
    expect(last.status).toBe(200);
    expect(last.headers.get('x-goog-upload-status')).toBe('final');
    const { file } = (await last.json()) as {
      file: { name: string; displayName: string; mimeType: string; sizeBytes: string; source: string };
    };
    expect(file.name).toMatch(/^files\/[a-z0-9]+$/);
    expect(file).toMatchObject({
      displayName: 'x',
      mimeType: 'application/jsonl',
      sizeBytes: String(size),
      source: 'UPLOADED',
    });

    const downloadPath = join(h.dir, 'raw-upload.jsonl');
    await h.sdk().files.download({ file: file.name, downloadPath });
    expect(await readFile(downloadPath, 'utf8')).toBe(text);

    // The finished session is gone.
    expect((await send('upload', size, 'more')).status).toBe(404);
  });
});

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

describe('expiry and job-outcome faults on the emulator clock', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('keeps a file for 48 hours of emulator time and then answers 404', async () => {
    const ai = h.sdk();
    const name = defined((await uploadText(ai, jsonlOf('ttl', 2), 'short-lived')).name, 'file.name');
    h.emulator.clock.advance(47 * HOUR_MS);
    expect((await ai.files.get({ name })).name).toBe(name);
    h.emulator.clock.advance(HOUR_MS);
    await expect(ai.files.get({ name })).rejects.toMatchObject({ name: 'ApiError', status: 404 });
  });

  it('holds a STUCK_PENDING job in PENDING, then expires it after 48 hours with no results', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'STUCK_PENDING' });
    const name = defined((await createInline(ai, 'stuck')).name, 'job.name');
    for (let poll = 0; poll < 4; poll++) {
      h.emulator.clock.advance(HOUR_MS);
      expect((await ai.batches.get({ name })).state).toBe('JOB_STATE_PENDING');
    }
    h.emulator.clock.advance(48 * HOUR_MS);
    const job = await ai.batches.get({ name });
    expect(job.state).toBe('JOB_STATE_EXPIRED');
    expect(job.dest).toBeUndefined();
    expect(job.endTime).toBeDefined();
  });

  it('ends a job with the EXPIRED outcome as JOB_STATE_EXPIRED and no results', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'EXPIRED' });
    const job = await createFromLines(h, ai, 'expires', [generateLine('e-1', 'hello')]);
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));
    expect(done.state).toBe('JOB_STATE_EXPIRED');
    expect(done.dest).toBeUndefined();
    expect((await rawBatch(h, defined(job.name, 'job.name'))).metadata.output).toBeUndefined();
  });

  it('ends a job with the FAILED outcome as JOB_STATE_FAILED carrying the given error', async () => {
    const ai = h.sdk();
    const errorMessage = 'The model backend melted (injected).';
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'FAILED', errorMessage });
    const name = defined((await createInline(ai, 'fails')).name, 'job.name');
    const done = await waitForJob(ai, h.emulator, name);
    expect(done.state).toBe('JOB_STATE_FAILED');
    expect(done.dest).toBeUndefined();
    // The SDK's batchJobFromMldev drops the Operation's `done` and `error` (BatchJob.error is never
    // set in Gemini API mode), so the failure reason is only visible over raw REST.
    const raw = await rawBatch(h, name);
    expect(raw.done).toBe(true);
    expect(raw.metadata.state).toBe('BATCH_STATE_FAILED');
    expect(raw.error).toEqual({ code: 13, message: errorMessage });
  });

  it('keeps a SLOW job RUNNING until an hour of running time has passed on the clock', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'SLOW', runningMs: HOUR_MS });
    const created = await createInline(ai, 'slow');
    const name = defined(created.name, 'job.name');
    h.emulator.clock.advance(2000); // past pendingMs
    expect((await ai.batches.get({ name })).state).toBe('JOB_STATE_RUNNING');
    h.emulator.clock.advance(HOUR_MS - 60_000);
    expect((await ai.batches.get({ name })).state).toBe('JOB_STATE_RUNNING');
    h.emulator.clock.advance(2 * 60_000);
    const done = await waitForJob(ai, h.emulator, name);
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const took = Date.parse(defined(done.endTime, 'endTime')) - Date.parse(defined(created.createTime, 'ct'));
    expect(took).toBeGreaterThanOrEqual(HOUR_MS);
    expect(took).toBeLessThan(HOUR_MS + 10 * 60_000);
  });

  it('applies a job-outcome fault only to jobs whose display name matches', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'FAILED', displayName: 'doomed', times: 5 });
    const healthy = defined((await createInline(ai, 'healthy-a')).name, 'job.name');
    const doomed = defined((await createInline(ai, 'nightly-doomed-run')).name, 'job.name');
    const healthyToo = defined((await createInline(ai, 'healthy-b')).name, 'job.name');
    const states = async (name: string) => (await waitForJob(ai, h.emulator, name)).state;
    expect(await states(healthy)).toBe('JOB_STATE_SUCCEEDED');
    expect(await states(doomed)).toBe('JOB_STATE_FAILED');
    expect(await states(healthyToo)).toBe('JOB_STATE_SUCCEEDED');
  });
});

describe('per-line errors in job output', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  async function finishedOutput(ai: GoogleGenAI, job: BatchJob) {
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    return downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));
  }

  it('turns exactly the lines carrying a line-error marker into error lines with the given code', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'line-error', marker: 'PLEASE_FAIL', code: 13 });
    const lines = [
      generateLine('m-0', 'A normal question'),
      generateLine('m-1', 'Please PLEASE_FAIL this one'),
      generateLine('m-2', 'Another normal question'),
      generateLine('m-3', 'PLEASE_FAIL as well'),
      generateLine('m-4', 'The last normal question'),
    ];
    const job = await createFromLines(h, ai, 'marked', lines);
    const output = await finishedOutput(ai, job);

    expect(output.map((line) => line.key).sort()).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    const failed = output.filter((line) => 'error' in line);
    expect(failed.map((line) => line.key).sort()).toEqual(['m-1', 'm-3']);
    for (const line of failed) {
      expect(line.error).toMatchObject({ code: 13, message: expect.any(String) });
      expect(line).not.toHaveProperty('response');
    }
    for (const line of output.filter((candidate) => !('error' in candidate))) {
      expect(line.response).toMatchObject({ candidates: expect.any(Array) });
    }

    // batchStats is dropped by the SDK; int64 counts travel as strings.
    const raw = await rawBatch(h, defined(job.name, 'job.name'));
    expect(raw.metadata.batchStats).toMatchObject({
      requestCount: '5',
      successfulRequestCount: '3',
      failedRequestCount: '2',
    });
  });

  it('answers malformed lines with a code-3 error for that line and the rest normally', async () => {
    const ai = h.sdk();
    const lines = [
      generateLine('ok-first', 'Hello there'),
      'this line is { not JSON',
      '',
      JSON.stringify({ key: 'no-request', contents: [{ parts: [{ text: 'request field missing' }] }] }),
      JSON.stringify({ key: 'empty-contents', request: { contents: [] } }),
      '   ',
      generateLine('ok-last', 'Goodbye'),
    ];
    const job = await createFromLines(h, ai, 'malformed', lines);
    const output = await finishedOutput(ai, job);

    // One output line per non-blank input line (in a seeded order: found by key).
    expect(output).toHaveLength(5);
    const byKey = (key: string | undefined) => {
      const matching = output.filter((line) => line.key === key);
      expect(matching).toHaveLength(1);
      return matching[0];
    };
    for (const key of [undefined, 'no-request', 'empty-contents']) {
      expect(byKey(key)?.error).toMatchObject({ code: 3, message: expect.any(String) });
      expect(byKey(key)).not.toHaveProperty('response');
    }
    for (const key of ['ok-first', 'ok-last']) {
      expect(byKey(key)).not.toHaveProperty('error');
      expect(byKey(key)?.response).toMatchObject({ candidates: expect.any(Array) });
    }
    const raw = await rawBatch(h, defined(job.name, 'job.name'));
    expect(raw.metadata.batchStats).toMatchObject({
      requestCount: '5',
      successfulRequestCount: '2',
      failedRequestCount: '3',
    });
  });
});
