/**
 * Contract tests for Gemini's upload quirks, through the real SDK's `files.upload`: refused MIME
 * types (python-genai #1547, cookbook #1008), a final answer without `file` (python-genai #1248,
 * #1590), a final chunk whose answer is not `final` (the SDK's TODO b/401391430), and an upload
 * cut off mid-chunk, with the resumable protocol a client recovers by. Raw REST where the SDK would
 * sleep between re-sends.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { defined, FAST_JOBS, jsonlOf, textOfSize, uploadText, useEmulator } from './emulator-harness.js';

const LINE = '{"key":"u-1","request":{"contents":[{"parts":[{"text":"hello"}]}]}}\n';

function upload(ai: GoogleGenAI, mimeType: string, displayName: string) {
  return ai.files.upload({ file: new Blob([LINE]), config: { mimeType, displayName } });
}

/** Display names of every file the project holds. */
async function storedNames(ai: GoogleGenAI): Promise<(string | undefined)[]> {
  const names: (string | undefined)[] = [];
  for await (const file of await ai.files.list({ config: { pageSize: 100 } })) names.push(file.displayName);
  return names;
}

describe('MIME types (defaults)', () => {
  const h = useEmulator();

  it("refuses a bare 'jsonl' MIME type with Google's 400 INVALID_ARGUMENT", async () => {
    await expect(upload(h.sdk(), 'jsonl', 'bare-jsonl')).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: JSON.stringify({
        error: { code: 400, message: 'Unsupported MIME type: jsonl', status: 'INVALID_ARGUMENT' },
      }),
    });
    expect(await storedNames(h.sdk())).not.toContain('bare-jsonl');
  });

  it('accepts application/jsonl and application/json unless a fault says otherwise', async () => {
    const ai = h.sdk();
    expect((await upload(ai, 'application/jsonl', 'jsonl-ok'))?.mimeType).toBe('application/jsonl');
    expect((await upload(ai, 'application/json', 'json-ok'))?.mimeType).toBe('application/json');
  });

  it('refuses application/jsonl now and then through a refuse-mime-type fault', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'refuse-mime-type', times: 1 });
    const other = await upload(ai, 'application/json', 'not-this-type');

    await expect(upload(ai, 'application/jsonl', 'refused-once')).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: expect.stringContaining('Unsupported MIME type: application/jsonl'),
    });
    const retried = await upload(ai, 'application/jsonl', 'accepted-after');

    expect(other?.name).toMatch(/^files\//);
    expect(retried?.name).toMatch(/^files\//);
  });

  it('refuses a seeded share of uploads at a rate', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'refuse-mime-type', mimeType: 'APPLICATION/JSONL', rate: 0.5 });
    const outcomes: boolean[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      outcomes.push(
        await upload(ai, 'application/jsonl', `rated-${attempt}`).then(
          () => true,
          () => false,
        ),
      );
    }

    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
  });
});

describe('MIME types with refusedMimeTypes set', () => {
  const h = useEmulator({ roughness: { refusedMimeTypes: ['text/csv'] } });

  it('refuses exactly the configured types', async () => {
    const ai = h.sdk();
    expect((await upload(ai, 'jsonl', 'bare-allowed'))?.mimeType).toBe('jsonl');
    await expect(upload(ai, 'text/csv', 'csv')).rejects.toMatchObject({
      name: 'ApiError',
      message: expect.stringContaining('Unsupported MIME type: text/csv'),
    });
  });
});

describe('final upload answers', () => {
  const h = useEmulator();

  it('answers an upload-no-file fault with HTTP 200 and no file, while the file is stored', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'upload-no-file' });

    const file = await upload(ai, 'application/jsonl', 'nameless');

    expect(file).toBeUndefined();
    expect(await storedNames(ai)).toContain('nameless');
    expect((await upload(ai, 'application/jsonl', 'named'))?.name).toMatch(/^files\//);
  });

  it('makes the SDK throw "Upload status is not finalized" for upload-not-final, the file stored all the same', async () => {
    const ai = h.sdk();
    h.emulator.faults.add({ kind: 'upload-not-final' });

    const refused = upload(ai, 'application/jsonl', 'not-final');

    await expect(refused).rejects.toThrow(
      new Error('Failed to upload file: Upload status is not finalized.'),
    );
    await expect(refused).rejects.not.toHaveProperty('status');
    expect(await storedNames(ai)).toContain('not-final');
  });

  it("makes the SDK throw its TODO b/401391430 error when the final chunk's status stays active", async () => {
    h.emulator.faults.add({ kind: 'upload-not-final', status: 'active' });

    await expect(upload(h.sdk(), 'application/jsonl', 'still-active')).rejects.toThrow(
      new Error('All content has been uploaded, but the upload status is not finalized.'),
    );
  });

  it('answers the final chunk and each re-send of it without any upload status for status absent', async () => {
    h.emulator.faults.add({ kind: 'upload-not-final', status: 'absent' });
    const start = await h.rest('/upload/v1beta/files', {
      method: 'POST',
      headers: {
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': String(LINE.length),
        'x-goog-upload-header-content-type': 'application/jsonl',
      },
      body: JSON.stringify({ file: { displayName: 'absent' } }),
    });
    const uploadUrl = new URL(defined(start.headers.get('x-goog-upload-url'), 'upload URL'));
    const finalize = () =>
      h.rest(`${uploadUrl.pathname}${uploadUrl.search}`, {
        method: 'POST',
        headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
        body: LINE,
      });

    for (const attempt of ['first', 'the SDK re-sends', 'and again']) {
      const answer = await finalize();
      expect(answer.status, attempt).toBe(200);
      expect(answer.headers.get('x-goog-upload-status'), attempt).toBeNull();
      expect(await answer.json(), attempt).toEqual({});
    }
    expect(await storedNames(h.sdk())).toContain('absent');
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

  /** Starts a resumable upload of `size` bytes; the path (and query) its bytes go to. */
  async function startRaw(
    size: number,
    displayName: string,
  ): Promise<{ start: Response; uploadPath: string }> {
    const start = await h.rest('/upload/v1beta/files', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Goog-Upload-Protocol': 'resumable',
        'X-Goog-Upload-Command': 'start',
        'X-Goog-Upload-Header-Content-Length': String(size),
        'X-Goog-Upload-Header-Content-Type': 'application/jsonl',
      },
      body: JSON.stringify({ file: { displayName } }),
    });
    const uploadUrl = new URL(defined(start.headers.get('x-goog-upload-url'), 'x-goog-upload-url'));
    return { start, uploadPath: `${uploadUrl.pathname}${uploadUrl.search}` };
  }

  /** A request of the upload at `uploadPath`: `query`, `upload` or `upload, finalize`. */
  const sender = (uploadPath: string) => (command: string, offset: number | undefined, body?: string) =>
    h.rest(uploadPath, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json', // what the SDK sends on chunks, though they are raw bytes
        'X-Goog-Upload-Command': command,
        ...(offset !== undefined ? { 'X-Goog-Upload-Offset': String(offset) } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });

  it('follows the resumable protocol: offsets, overruns, granularity, short finalize, query and final', async () => {
    // A granule and a bit: the SDK's pieces, and Gemini's stated granularity, are 8 MiB.
    const granule = 8 * 1024 * 1024;
    const text = textOfSize(granule + 3000);
    const size = Buffer.byteLength(text); // ASCII: one char per byte
    const { start, uploadPath } = await startRaw(size, 'x');
    expect(start.status).toBe(200);
    expect(start.headers.get('x-goog-upload-status')).toBe('active');
    expect(start.headers.get('x-goog-upload-chunk-granularity')).toBe(String(granule));
    expect(new URL(defined(start.headers.get('x-goog-upload-url'), 'upload URL')).origin).toBe(
      h.emulator.url,
    );
    const send = sender(uploadPath);
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

    // Every chunk but the last must be a whole number of granules.
    const misaligned = await send('upload', 0, text.slice(0, granule - 1));
    expect(misaligned.status).toBe(400);
    expect(await errorStatus(misaligned)).toBe('INVALID_ARGUMENT');
    expect(await received()).toBe(0);

    const firstChunk = await send('upload', 0, text.slice(0, granule));
    expect(firstChunk.status).toBe(200);
    expect(firstChunk.headers.get('x-goog-upload-status')).toBe('active');
    expect(firstChunk.headers.get('x-goog-upload-size-received')).toBe(String(granule));
    expect(await received()).toBe(granule);

    const shortFinalize = await send('upload, finalize', granule, text.slice(granule, granule + 100));
    expect(shortFinalize.status).toBe(400);
    expect(await errorStatus(shortFinalize)).toBe('INVALID_ARGUMENT');

    // A client resumes from what the server says it holds, whatever it kept of the refused request.
    const resumeAt = await received();
    expect(resumeAt).toBeGreaterThanOrEqual(granule);
    expect(resumeAt).toBeLessThanOrEqual(granule + 100);
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

  it('keeps only the whole granules of a request its client aborts, so the rest resumes cleanly', async () => {
    const granule = 8 * 1024 * 1024;
    const text = textOfSize(granule + 2 * 1024 * 1024);
    const { uploadPath } = await startRaw(text.length, 'aborted-by-client');
    const send = sender(uploadPath);
    // The client's body fails 9 MiB in (its source broke): the request dies with it.
    const sent = granule + 1024 * 1024;
    let at = 0;
    const failing = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at < sent) {
          controller.enqueue(Buffer.from(text.slice(at, at + 64 * 1024)));
          at += 64 * 1024;
          return;
        }
        await sleep(200); // what was sent has arrived by then
        controller.error(new Error('the source broke'));
      },
    });
    await expect(
      h.rest(uploadPath, {
        method: 'POST',
        headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
        body: failing,
        duplex: 'half',
      } as RequestInit),
    ).rejects.toThrow();
    const received = async () =>
      Number((await send('query', undefined)).headers.get('x-goog-upload-size-received'));
    await expect.poll(received).toBe(granule);

    const rest = await send('upload, finalize', granule, text.slice(granule));
    const { file } = (await rest.json()) as { file: { name: string; sizeBytes: string } };
    const downloadPath = join(h.dir, 'aborted-by-client.jsonl');
    await h.sdk().files.download({ file: file.name, downloadPath });
    expect(await readFile(downloadPath, 'utf8')).toBe(text);
  });

  it('keeps the whole granules of a request reset part-way, as query reports, and takes the rest from there', async () => {
    const granule = 8 * 1024 * 1024;
    const text = textOfSize(2 * granule + 5000);
    const { uploadPath } = await startRaw(text.length, 'cut-and-resumed');
    const send = sender(uploadPath);
    h.emulator.faults.add({ kind: 'interrupt-upload', afterBytes: 2 * granule - 1 });

    await expect(send('upload, finalize', 0, text)).rejects.toThrow(TypeError);
    const query = await send('query', undefined);
    expect(query.headers.get('x-goog-upload-status')).toBe('active');
    expect(query.headers.get('x-goog-upload-size-received')).toBe(String(granule));

    const rest = await send('upload, finalize', granule, text.slice(granule));
    expect(rest.headers.get('x-goog-upload-status')).toBe('final');
    const { file } = (await rest.json()) as { file: { name: string } };
    const downloadPath = join(h.dir, 'cut-and-resumed.jsonl');
    await h.sdk().files.download({ file: file.name, downloadPath });
    expect(await readFile(downloadPath, 'utf8')).toBe(text);
  });
});
