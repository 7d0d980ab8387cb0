/**
 * The emulator's injected faults, each through the real SDK: one file because they share the harness and
 * read as the fault vocabulary, longer than 300 lines for that reason.
 */
import { ApiError, type BatchJob, GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  createFromLines,
  createInline,
  defined,
  downloadJsonl,
  FAST_JOBS,
  generateLine,
  type Harness,
  HOUR_MS,
  jsonlOf,
  rawBatch,
  uploadText,
  useEmulator,
  waitForJob,
} from './emulator-harness.js';

/** An SDK that retries failed calls itself, `attempts` times in all, a few milliseconds apart. */
function retryingSdk(h: Harness, attempts: number): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: h.emulator.apiKey,
    httpOptions: {
      baseUrl: h.emulator.url,
      retryOptions: { attempts, initialDelay: 0.02, maxDelay: 0.1, jitter: 0 },
    },
  });
}

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
    const ai = retryingSdk(h, 3);
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'batches.get', status: 503, times: 2 });
    const job = await ai.batches.get({ name });
    expect(job.name).toBe(name);
    // Both injected failures were consumed by the SDK's retries.
    expect(h.emulator.faults.list()).toEqual([]);
  });

  it('makes the retrying SDK give up with the last 429 once its attempts are spent', async () => {
    const ai = retryingSdk(h, 2);
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
