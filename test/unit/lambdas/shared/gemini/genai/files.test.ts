/**
 * Uploads against a stub that answers `Unsupported MIME type`, or ends an upload without a file or
 * without a final status, as Gemini has been reported to; and the reuse of an earlier attempt's file.
 */
import { describe, expect, it } from 'vitest';
import type { JsonlSource } from '../../../../../../lambdas/shared/gemini/gemini-batch-api.js';
import { on, type Reply, type Route, type Seen, useHttpStub } from '../gemini-http-stub.js';

const stub = useHttpStub();

/** Routes for one resumable upload; `finish` is the final chunk's answer. */
function uploadRoutes(finish: Reply, start: (request: Seen) => Reply | undefined = () => undefined): Route[] {
  return [
    (request) => (request.method === 'POST' && request.query.get('upload_id') === 'u1' ? finish : undefined),
    on('POST', /^\/upload\/v1beta\/files$/, (request) => {
      return (
        start(request) ?? {
          headers: { 'x-goog-upload-url': `${stub.baseUrl}/upload/v1beta/files?upload_id=u1` },
        }
      );
    }),
  ];
}

const FINAL_FILE: Reply = {
  headers: { 'x-goog-upload-status': 'final' },
  body: { file: { name: 'files/abc', displayName: 'run/chunk-00000', sizeBytes: '12', state: 'ACTIVE' } },
};

/** A chunk as S3 streams it: `content` in parts of `partBytes`, declared as `bytes` long. */
function chunkFile(
  content = '{"key":"a"}\n',
  partBytes = 5,
  bytes = Buffer.byteLength(content),
): JsonlSource {
  const whole = Buffer.from(content);
  return {
    bytes,
    open: async () =>
      (async function* () {
        for (let at = 0; at < whole.length; at += partBytes) yield whole.subarray(at, at + partBytes);
      })(),
  };
}

const startMimeTypes = () =>
  stub.seen
    .filter((request) => request.headers['x-goog-upload-command'] === 'start')
    .map((request) => request.headers['x-goog-upload-header-content-type']);

describe('GenaiBatchApi.uploadJsonl', () => {
  it('uploads as application/jsonl', async () => {
    stub.routes.push(...uploadRoutes(FINAL_FILE));
    expect(await stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000')).toBe('files/abc');
    expect(startMimeTypes()).toEqual(['application/jsonl']);
  });

  it('falls back to application/json when Gemini answers Unsupported MIME type', async () => {
    stub.routes.push(
      ...uploadRoutes(FINAL_FILE, (request) =>
        request.headers['x-goog-upload-header-content-type'] === 'application/jsonl'
          ? {
              status: 400,
              body: {
                error: {
                  code: 400,
                  message: 'Unsupported MIME type: application/jsonl',
                  status: 'INVALID_ARGUMENT',
                },
              },
            }
          : undefined,
      ),
    );
    expect(await stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000')).toBe('files/abc');
    expect(startMimeTypes()).toEqual(['application/jsonl', 'application/json']);
  });

  it('does not try another type for a 400 that is not about the MIME type', async () => {
    stub.routes.push(
      ...uploadRoutes(FINAL_FILE, () => ({
        status: 400,
        body: { error: { code: 400, message: 'File too large', status: 'INVALID_ARGUMENT' } },
      })),
    );
    await expect(stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiRequestError',
    });
    expect(startMimeTypes()).toEqual(['application/jsonl']);
  });

  it('treats a final answer without a file as GeminiUnavailableError, to be retried', async () => {
    stub.routes.push(...uploadRoutes({ headers: { 'x-goog-upload-status': 'final' }, body: {} }));
    await expect(stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining('without naming the file'),
    });
  });

  it('treats a final request answered with a status other than final as GeminiUnavailableError', async () => {
    stub.routes.push(...uploadRoutes({ headers: { 'x-goog-upload-status': 'cancelled' }, body: {} }));
    await expect(stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining('answered with status cancelled'),
    });
  });

  it('treats a final request answered with no status at all as GeminiUnavailableError', async () => {
    stub.routes.push(...uploadRoutes({ body: {} }));
    await expect(stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining('answered with status none'),
    });
  });

  it('reuses a file an earlier attempt uploaded under the same display name and size, uploading nothing', async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/files$/, {
        body: {
          files: [
            { name: 'files/other', displayName: 'run/chunk-00001', sizeBytes: '12', state: 'ACTIVE' },
            { name: 'files/short', displayName: 'run/chunk-00000', sizeBytes: '5', state: 'ACTIVE' },
            { name: 'files/failed', displayName: 'run/chunk-00000', sizeBytes: '12', state: 'FAILED' },
            { name: 'files/earlier', displayName: 'run/chunk-00000', sizeBytes: '12', state: 'ACTIVE' },
          ],
        },
      }),
      ...uploadRoutes(FINAL_FILE),
    );
    const name = await stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000', { reuseUploaded: true });
    expect(name).toBe('files/earlier');
    expect(startMimeTypes()).toEqual([]);
  });

  it('uploads when asked to reuse but no earlier upload matches', async () => {
    stub.routes.push(on('GET', /^\/v1beta\/files$/, { body: { files: [] } }), ...uploadRoutes(FINAL_FILE));
    expect(await stub.api().uploadJsonl(chunkFile(), 'run/chunk-00000', { reuseUploaded: true })).toBe(
      'files/abc',
    );
    expect(startMimeTypes()).toEqual(['application/jsonl']);
  });
});
