/**
 * The pieces a streamed upload sends: sizes, offsets, the one `finalize`, and what it refuses to
 * finalize (a short or long source, a piece Gemini did not take whole).
 */
import { describe, expect, it } from 'vitest';
import type { JsonlSource } from '../../../../../../lambdas/shared/gemini/gemini-batch-api.js';
import {
  pieceBytesFor,
  pieces,
  UPLOAD_PIECE_BYTES,
} from '../../../../../../lambdas/shared/gemini/genai/resumable-upload.js';
import { on, type Reply, type Seen, useHttpStub } from '../gemini-http-stub.js';

const stub = useHttpStub();
const MIB = 1024 * 1024;

/** `bytes` bytes of `x` in S3-like parts of 64 KiB, declared as `declared` bytes. */
function source(bytes: number, declared = bytes): JsonlSource & { opened: number } {
  const part = Buffer.alloc(64 * 1024, 'x');
  const opened = { count: 0 };
  return {
    bytes: declared,
    get opened() {
      return opened.count;
    },
    open: async () => {
      opened.count += 1;
      return (async function* () {
        for (let at = 0; at < bytes; at += part.length)
          yield part.subarray(0, Math.min(part.length, bytes - at));
      })();
    },
  };
}

/** A session that takes every piece whole (or answers `piece(request)`), finishing with a file. */
function session(piece: (request: Seen, received: number) => Reply | undefined = () => undefined): void {
  let received = 0;
  stub.routes.push(
    (request) => {
      if (request.method !== 'POST' || request.query.get('upload_id') !== 'u1') return undefined;
      const own = piece(request, received);
      if (own) return own;
      received += Buffer.byteLength(request.body);
      if (String(request.headers['x-goog-upload-command']).includes('finalize')) {
        return { headers: { 'x-goog-upload-status': 'final' }, body: { file: { name: 'files/abc' } } };
      }
      return {
        headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(received) },
      };
    },
    on('POST', /^\/upload\/v1beta\/files$/, {
      headers: {
        'x-goog-upload-url': 'http://elsewhere.invalid/upload/v1beta/files?upload_id=u1',
        'x-goog-upload-chunk-granularity': String(8 * MIB),
      },
    }),
  );
}

const pieceRequests = () =>
  stub.seen
    .filter((request) => request.query.get('upload_id') === 'u1')
    .map((request) => ({
      command: request.headers['x-goog-upload-command'],
      offset: Number(request.headers['x-goog-upload-offset']),
      bytes: Buffer.byteLength(request.body),
    }));

describe('pieces', () => {
  it('cuts a stream into pieces of the size asked, whatever its parts, the last one shorter', async () => {
    const parts = async function* () {
      yield Buffer.from('abcdefg');
      yield Buffer.from('h');
      yield Buffer.from('ijklmnopq');
    };
    const cut: string[] = [];
    for await (const piece of pieces(parts(), 5)) cut.push(Buffer.from(piece).toString());
    expect(cut).toEqual(['abcde', 'fghij', 'klmno', 'pq']);
  });

  it('sizes pieces at 8 MiB or the next multiple of the granularity Gemini states', () => {
    expect(pieceBytesFor(undefined)).toBe(UPLOAD_PIECE_BYTES);
    expect(pieceBytesFor(256 * 1024)).toBe(8 * MIB);
    expect(pieceBytesFor(3 * MIB)).toBe(9 * MIB);
  });
});

describe('GenaiBatchApi.uploadJsonl, streamed in pieces', () => {
  it('sends 8 MiB pieces at their offsets, finalizing only the last, to the client’s own host', async () => {
    session();
    const chunk = source(17 * MIB + 3);
    expect(await stub.api().uploadJsonl(chunk, 'run/chunk-00000')).toBe('files/abc');
    expect(pieceRequests()).toEqual([
      { command: 'upload', offset: 0, bytes: 8 * MIB },
      { command: 'upload', offset: 8 * MIB, bytes: 8 * MIB },
      { command: 'upload, finalize', offset: 16 * MIB, bytes: MIB + 3 },
    ]);
    expect(chunk.opened).toBe(1);
  });

  it('sends a chunk smaller than a piece as one finalizing piece', async () => {
    session();
    expect(await stub.api().uploadJsonl(source(1000), 'run/chunk-00000')).toBe('files/abc');
    expect(pieceRequests()).toEqual([{ command: 'upload, finalize', offset: 0, bytes: 1000 }]);
  });

  it('never finalizes a source shorter than declared', async () => {
    session();
    await expect(stub.api().uploadJsonl(source(9 * MIB, 10 * MIB), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining(`ended after ${9 * MIB} of ${10 * MIB} bytes`),
    });
    expect(pieceRequests().map((piece) => piece.command)).toEqual(['upload']);
  });

  it('never finalizes a source longer than declared', async () => {
    session();
    await expect(
      stub.api().uploadJsonl(source(9 * MIB, 8 * MIB + 1), 'run/chunk-00000'),
    ).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining('more than the'),
    });
    expect(pieceRequests().map((piece) => piece.command)).toEqual(['upload']);
  });

  it('never finalizes a source that goes on past its declared size at a piece boundary', async () => {
    session();
    await expect(stub.api().uploadJsonl(source(9 * MIB, 8 * MIB), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining('more than the'),
    });
    expect(pieceRequests()).toEqual([]);
  });

  it('stops, without finalizing, when Gemini has not received every byte sent so far', async () => {
    session((_request, received) =>
      received === 0
        ? { headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(4 * MIB) } }
        : undefined,
    );
    await expect(stub.api().uploadJsonl(source(12 * MIB), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining(`${4 * MIB} bytes received of ${8 * MIB} sent`),
    });
    expect(pieceRequests()).toHaveLength(1);
  });

  it('names an HTTP refusal of a piece as the pipeline names it (a 503 is a wait)', async () => {
    session(() => ({ status: 503, body: { error: { code: 503, message: 'busy', status: 'UNAVAILABLE' } } }));
    await expect(stub.api().uploadJsonl(source(1000), 'run/chunk-00000')).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
    });
  });
});
