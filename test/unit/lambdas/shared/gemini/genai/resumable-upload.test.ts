/**
 * The requests a streamed upload sends, against a stub that takes each request whole: one
 * `upload, finalize` of the whole source, and after a 5xx answer, `query` and the rest from the
 * offset Gemini reports. Cut connections and wrong-sized sources are in
 * resumable-upload-emulator.test.ts, where a real receiver sees them.
 */
import { describe, expect, it } from 'vitest';
import type { JsonlSource } from '../../../../../../lambdas/shared/gemini/gemini-batch-api.js';
import { MAX_RESUMES } from '../../../../../../lambdas/shared/gemini/genai/resumable-upload.js';
import { on, type Reply, type Seen, useHttpStub } from '../gemini-http-stub.js';

const stub = useHttpStub();
const MIB = 1024 * 1024;
const FINAL: Reply = { headers: { 'x-goog-upload-status': 'final' }, body: { file: { name: 'files/abc' } } };
const BUSY: Reply = { status: 503, body: { error: { code: 503, message: 'busy', status: 'UNAVAILABLE' } } };

/** `bytes` bytes that differ along the way (letters by position), in S3-like parts of 64 KiB. */
function source(bytes: number): JsonlSource & { readonly whole: Buffer; opened: number } {
  const whole = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += 1) whole[at] = 97 + ((at >> 10) % 26);
  const made = {
    bytes,
    whole,
    opened: 0,
    open: async () => {
      made.opened += 1;
      return (async function* () {
        for (let at = 0; at < bytes; at += 64 * 1024) yield whole.subarray(at, at + 64 * 1024);
      })();
    },
  };
  return made;
}

/**
 * A session whose upload requests are answered by `upload(request, n)` (n counts them from 0) and
 * whose `query` by `query(request)`.
 */
function session(upload: (request: Seen, n: number) => Reply, query: () => Reply = () => BUSY): void {
  let uploads = 0;
  stub.routes.push(
    (request) => {
      if (request.method !== 'POST' || request.query.get('upload_id') !== 'u1') return undefined;
      if (request.headers['x-goog-upload-command'] === 'query') return query();
      const reply = upload(request, uploads);
      uploads += 1;
      return reply;
    },
    on('POST', /^\/upload\/v1beta\/files$/, {
      headers: {
        'x-goog-upload-url': 'http://elsewhere.invalid/upload/v1beta/files?upload_id=u1',
        'x-goog-upload-chunk-granularity': String(8 * MIB),
      },
    }),
  );
}

const uploadRequests = () =>
  stub.seen
    .filter((request) => request.query.get('upload_id') === 'u1')
    .map((request) => ({
      command: request.headers['x-goog-upload-command'],
      offset: request.headers['x-goog-upload-offset'],
      length: request.headers['content-length'],
      bytes: Buffer.byteLength(request.body),
    }));

describe('GenaiBatchApi.uploadJsonl, streamed in one request', () => {
  it('sends the whole source as one `upload, finalize` at offset 0, to the client’s own host', async () => {
    session(() => FINAL);
    const chunk = source(17 * MIB + 3);
    expect(await stub.api().uploadJsonl(chunk, 'run/chunk-00000')).toBe('files/abc');
    expect(uploadRequests()).toEqual([
      { command: 'upload, finalize', offset: '0', length: String(17 * MIB + 3), bytes: 17 * MIB + 3 },
    ]);
    expect(stub.seen.find((request) => request.query.has('upload_id'))?.body).toBe(chunk.whole.toString());
    expect(chunk.opened).toBe(1);
  });

  it('after a 5xx answer, asks what Gemini holds and sends the rest from there', async () => {
    session(
      (_request, n) => (n === 0 ? BUSY : FINAL),
      () => ({
        headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(8 * MIB) },
      }),
    );
    const chunk = source(12 * MIB + 5);
    expect(await stub.api().uploadJsonl(chunk, 'run/chunk-00000')).toBe('files/abc');
    expect(uploadRequests()).toEqual([
      { command: 'upload, finalize', offset: '0', length: String(12 * MIB + 5), bytes: 12 * MIB + 5 },
      { command: 'query', offset: undefined, length: '0', bytes: 0 },
      {
        command: 'upload, finalize',
        offset: String(8 * MIB),
        length: String(4 * MIB + 5),
        bytes: 4 * MIB + 5,
      },
    ]);
    const resumed = stub.seen.filter((request) => request.query.has('upload_id'))[2];
    expect(resumed?.body).toBe(chunk.whole.subarray(8 * MIB).toString());
    expect(chunk.opened).toBe(2);
  });

  it(`gives up after ${MAX_RESUMES} resumes, as a wait (GeminiUnavailableError)`, async () => {
    session(
      () => BUSY,
      () => ({ headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': '0' } }),
    );
    await expect(stub.api().uploadJsonl(source(1000), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
    });
    const commands = uploadRequests().map((request) => request.command);
    expect(commands.filter((command) => command === 'upload, finalize')).toHaveLength(1 + MAX_RESUMES);
    expect(commands.filter((command) => command === 'query')).toHaveLength(MAX_RESUMES);
  });

  it('returns the file when the query says the cut-off upload did finish', async () => {
    session(
      () => BUSY,
      () => ({ headers: { 'x-goog-upload-status': 'final' }, body: { file: { name: 'files/done' } } }),
    );
    expect(await stub.api().uploadJsonl(source(1000), 'run/chunk-00000')).toBe('files/done');
  });

  it('leaves an upload Gemini no longer knows to the caller’s retry (a wait, not a refusal)', async () => {
    session(
      () => BUSY,
      () => ({
        status: 404,
        body: { error: { code: 404, message: 'Unknown upload_id', status: 'NOT_FOUND' } },
      }),
    );
    await expect(stub.api().uploadJsonl(source(1000), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining('no longer knows the upload (HTTP 404)'),
    });
  });

  it('does not resume a 4xx refusal: it is the pipeline’s GeminiRequestError', async () => {
    session(() => ({
      status: 400,
      body: { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } },
    }));
    await expect(stub.api().uploadJsonl(source(1000), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiRequestError',
    });
    expect(uploadRequests()).toHaveLength(1);
  });

  it('fails, as a wait, when the final answer is not `final`', async () => {
    session(() => ({ headers: { 'x-goog-upload-status': 'active' } }));
    await expect(stub.api().uploadJsonl(source(1000), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining('answered with status active'),
    });
  });
});
