/**
 * The Gemini adapter against a local HTTP stub that answers as rough as Gemini has been reported to
 * (gemini-reality-2026.md): `fields` ignored or refused, both copies of inline answers, generic 429s
 * on reads, uploads that end without a file or without a final status, `Unsupported MIME type`.
 * The real SDK and the adapter's raw REST calls both go through the stub.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  GenaiBatchApi,
  INLINE_ANSWER_FIELDS,
  STATUS_FIELDS,
} from '../../../../../lambdas/shared/gemini/genai-batch-api.js';
import { GEMINI_QUOTA_429 } from '../../../../fixtures/gemini-quota-429.js';
import { rejection } from '../../run-fixtures.js';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

interface Reply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

type Route = (request: Seen) => Reply | undefined;

let server: Server;
let baseUrl: string;
let routes: Route[];
let seen: Seen[];
let dir: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://stub');
    const request: Seen = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    seen.push(request);
    const reply = routes.map((route) => route(request)).find((answer) => answer !== undefined) ?? {
      status: 404,
      body: { error: { code: 404, message: `stub: no route for ${request.method} ${request.path}` } },
    };
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  routes = [];
  seen = [];
  dir = await mkdtemp(join(tmpdir(), 'genai-http-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const api = () => new GenaiBatchApi({ apiKey: 'stub-key', baseUrl });
const on =
  (method: string, path: RegExp, reply: Reply | ((request: Seen) => Reply)): Route =>
  (request) =>
    request.method === method && path.test(request.path)
      ? typeof reply === 'function'
        ? reply(request)
        : reply
      : undefined;

/** Google's generic quota answer. */
const QUOTA: Reply = { status: 429, body: GEMINI_QUOTA_429 };

const answersOf = (tag: string) => ({
  inlinedResponses: {
    inlinedResponses: [
      { response: { embedding: { values: [0.25, -1.5e-7] } }, metadata: { key: `${tag}-a` } },
      { error: { code: 3, message: 'bad [request] {"x"}' }, metadata: { key: `${tag}-b` } },
    ],
  },
});

/** A succeeded inline batch as Gemini sends it when it ignores `fields`: the answers twice. */
const succeededInline = (copies: { metadata?: unknown; response?: unknown }) => ({
  name: 'batches/inl',
  metadata: {
    '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.EmbedContentBatch',
    state: 'BATCH_STATE_SUCCEEDED',
    displayName: 'run/chunk-00000',
    batchStats: { requestCount: '2', successfulRequestCount: '1', failedRequestCount: '1' },
    ...(copies.metadata ? { output: copies.metadata } : {}),
  },
  done: true,
  ...(copies.response ? { response: copies.response } : {}),
});

describe('GenaiBatchApi.getBatch', () => {
  it('asks only for state, counts, error and the responses file, compactly', async () => {
    routes.push(on('GET', /^\/v1beta\/batches\/inl$/, { body: succeededInline({}) }));
    await api().getBatch('batches/inl');
    expect(seen[0]?.query.get('fields')).toBe(STATUS_FIELDS);
    expect(seen[0]?.query.get('prettyPrint')).toBe('false');
    expect(STATUS_FIELDS).not.toContain('inlinedResponses');
  });

  it('reads the status when Gemini ignores the mask and sends both copies of the answers', async () => {
    const both = succeededInline({ metadata: answersOf('m'), response: answersOf('r') });
    routes.push(on('GET', /^\/v1beta\/batches\/inl$/, { body: JSON.stringify(both, null, 2) }));
    expect(await api().getBatch('batches/inl')).toEqual({
      name: 'batches/inl',
      state: 'BATCH_STATE_SUCCEEDED',
      displayName: 'run/chunk-00000',
      requestCount: 2,
      successfulCount: 1,
      failedCount: 1,
    });
  });

  it('goes on without the mask once Gemini refuses it with 400', async () => {
    routes.push(
      on('GET', /^\/v1beta\/batches\/inl$/, (request) =>
        request.query.has('fields')
          ? {
              status: 400,
              body: { error: { code: 400, message: 'Invalid field selection', status: 'INVALID_ARGUMENT' } },
            }
          : { body: succeededInline({ metadata: answersOf('m') }) },
      ),
    );
    const gemini = api();
    expect((await gemini.getBatch('batches/inl')).state).toBe('BATCH_STATE_SUCCEEDED');
    await gemini.getBatch('batches/inl');
    expect(seen.map((request) => request.query.has('fields'))).toEqual([true, false, false]);
  });

  it("reads a responses file named only under the operation's response", async () => {
    routes.push(
      on('GET', /^\/v1beta\/batches\/f$/, {
        body: {
          name: 'batches/f',
          metadata: { state: 'BATCH_STATE_SUCCEEDED' },
          response: { responsesFile: 'files/batch-f' },
        },
      }),
    );
    expect((await api().getBatch('batches/f')).responsesFile).toBe('files/batch-f');
  });
});

describe('GenaiBatchApi.getInlineResponses', () => {
  it('asks for one copy of the answers', async () => {
    routes.push(on('GET', /^\/v1beta\/batches\/inl$/, { body: { metadata: { output: answersOf('m') } } }));
    const answers = await api().getInlineResponses('batches/inl');
    expect(seen[0]?.query.get('fields')).toBe(INLINE_ANSWER_FIELDS);
    expect(answers.map((answer) => answer.metadata?.key)).toEqual(['m-a', 'm-b']);
    expect(answers[0]?.response).toEqual({ embedding: { values: [0.25, -1.5e-7] } });
    expect(answers[1]?.error).toEqual({ code: 3, message: 'bad [request] {"x"}' });
  });

  it('keeps metadata.output when Gemini ignores the mask and sends both copies, in either order', async () => {
    const both = succeededInline({ metadata: answersOf('m'), response: answersOf('r') });
    const responseFirst = { name: both.name, response: both.response, metadata: both.metadata };
    for (const body of [both, responseFirst]) {
      routes = [on('GET', /^\/v1beta\/batches\/inl$/, { body })];
      const answers = await api().getInlineResponses('batches/inl');
      expect(answers.map((answer) => answer.metadata?.key)).toEqual(['m-a', 'm-b']);
    }
  });

  it('falls back to the response copy when the operation has no metadata.output', async () => {
    routes.push(
      on('GET', /^\/v1beta\/batches\/inl$/, { body: succeededInline({ response: answersOf('r') }) }),
    );
    const answers = await api().getInlineResponses('batches/inl');
    expect(answers.map((answer) => answer.metadata?.key)).toEqual(['r-a', 'r-b']);
  });

  it('reads again without the mask when the masked answer holds no copy of the answers', async () => {
    routes.push(
      on('GET', /^\/v1beta\/batches\/inl$/, (request) =>
        request.query.has('fields') ? { body: {} } : { body: succeededInline({ response: answersOf('r') }) },
      ),
    );
    const answers = await api().getInlineResponses('batches/inl');
    expect(answers.map((answer) => answer.metadata?.key)).toEqual(['r-a', 'r-b']);
    expect(seen).toHaveLength(2);
  });
});

describe('GenaiBatchApi on 429', () => {
  it.each([
    ['getBatch', (gemini: GenaiBatchApi) => gemini.getBatch('batches/x')],
    ['getInlineResponses', (gemini: GenaiBatchApi) => gemini.getInlineResponses('batches/x')],
    [
      'findBatchesByDisplayName',
      (gemini: GenaiBatchApi) =>
        gemini.findBatchesByDisplayName('run/chunk-00000', { format: 'gemini', createdAfter: new Date(0) }),
    ],
    ['downloadFile', (gemini: GenaiBatchApi) => gemini.downloadFile('files/out', join(dir, 'out.jsonl'))],
    ['cancelBatch', (gemini: GenaiBatchApi) => gemini.cancelBatch('batches/x')],
    ['deleteFile', (gemini: GenaiBatchApi) => gemini.deleteFile('files/out')],
  ])('throws GeminiRateLimitError when %s meets the generic quota answer', async (_method, call) => {
    routes.push(() => QUOTA);
    const error = await rejection(call(api()));
    expect(error.name).toBe('GeminiRateLimitError');
    expect(error.message).toContain('RESOURCE_EXHAUSTED');
  });
});

/** Routes for one resumable upload; `finish` is the final chunk's answer. */
function uploadRoutes(finish: Reply, start: (request: Seen) => Reply | undefined = () => undefined): Route[] {
  return [
    (request) => (request.method === 'POST' && request.query.get('upload_id') === 'u1' ? finish : undefined),
    on('POST', /^\/upload\/v1beta\/files$/, (request) => {
      return (
        start(request) ?? { headers: { 'x-goog-upload-url': `${baseUrl}/upload/v1beta/files?upload_id=u1` } }
      );
    }),
  ];
}

const FINAL_FILE: Reply = {
  headers: { 'x-goog-upload-status': 'final' },
  body: { file: { name: 'files/abc', displayName: 'run/chunk-00000', sizeBytes: '12', state: 'ACTIVE' } },
};

async function chunkFile(content = '{"key":"a"}\n'): Promise<string> {
  const path = join(dir, 'chunk.jsonl');
  await writeFile(path, content);
  return path;
}

const startMimeTypes = () =>
  seen
    .filter((request) => request.headers['x-goog-upload-command'] === 'start')
    .map((request) => request.headers['x-goog-upload-header-content-type']);

describe('GenaiBatchApi.uploadJsonl', () => {
  it('uploads as application/jsonl', async () => {
    routes.push(...uploadRoutes(FINAL_FILE));
    expect(await api().uploadJsonl(await chunkFile(), 'run/chunk-00000')).toBe('files/abc');
    expect(startMimeTypes()).toEqual(['application/jsonl']);
  });

  it('falls back to application/json when Gemini answers Unsupported MIME type', async () => {
    routes.push(
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
    expect(await api().uploadJsonl(await chunkFile(), 'run/chunk-00000')).toBe('files/abc');
    expect(startMimeTypes()).toEqual(['application/jsonl', 'application/json']);
  });

  it('does not try another type for a 400 that is not about the MIME type', async () => {
    routes.push(
      ...uploadRoutes(FINAL_FILE, () => ({
        status: 400,
        body: { error: { code: 400, message: 'File too large', status: 'INVALID_ARGUMENT' } },
      })),
    );
    const error = await rejection(api().uploadJsonl(await chunkFile(), 'run/chunk-00000'));
    expect(error.name).toBe('GeminiRequestError');
    expect(startMimeTypes()).toEqual(['application/jsonl']);
  });

  it('treats a final answer without a file as GeminiUnavailableError, to be retried', async () => {
    routes.push(...uploadRoutes({ headers: { 'x-goog-upload-status': 'final' }, body: {} }));
    const error = await rejection(api().uploadJsonl(await chunkFile(), 'run/chunk-00000'));
    expect(error.name).toBe('GeminiUnavailableError');
    expect(error.message).toContain('without naming the file');
  });

  it("treats the SDK's 'Upload status is not finalized' as GeminiUnavailableError", async () => {
    routes.push(...uploadRoutes({ headers: { 'x-goog-upload-status': 'cancelled' }, body: {} }));
    const error = await rejection(api().uploadJsonl(await chunkFile(), 'run/chunk-00000'));
    expect(error.name).toBe('GeminiUnavailableError');
    expect(error.message).toContain('Upload status is not finalized');
  });

  it('reuses a file an earlier attempt uploaded under the same display name and size, uploading nothing', async () => {
    routes.push(
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
    const name = await api().uploadJsonl(await chunkFile(), 'run/chunk-00000', { reuseUploaded: true });
    expect(name).toBe('files/earlier');
    expect(startMimeTypes()).toEqual([]);
  });

  it('uploads when asked to reuse but no earlier upload matches', async () => {
    routes.push(on('GET', /^\/v1beta\/files$/, { body: { files: [] } }), ...uploadRoutes(FINAL_FILE));
    expect(await api().uploadJsonl(await chunkFile(), 'run/chunk-00000', { reuseUploaded: true })).toBe(
      'files/abc',
    );
    expect(startMimeTypes()).toEqual(['application/jsonl']);
  });
});

describe('GenaiBatchApi.createBatch', () => {
  it.each([
    ['generate', 'batchGenerateContent'],
    ['embed', 'asyncBatchEmbedContent'],
  ] as const)('sends every inline %s request with its key in metadata', async (kind, method) => {
    routes.push(on('POST', new RegExp(`:${method}$`), { body: { name: 'batches/new', metadata: {} } }));
    const name = await api().createBatch({
      kind,
      model: 'models/m-1',
      displayName: 'run/chunk-00000',
      inlineRequests: [
        { key: 'k1', request: { content: { parts: [{ text: 'one' }] } } },
        { key: 'k2', request: { content: { parts: [{ text: 'two' }] } } },
      ],
    });
    expect(name).toBe('batches/new');
    expect(seen[0]?.path).toBe(`/v1beta/models/m-1:${method}`);
    const body = JSON.parse(seen[0]?.body ?? '{}') as {
      batch: { inputConfig: { requests: { requests: { metadata: unknown }[] } } };
    };
    expect(body.batch.inputConfig.requests.requests.map((request) => request.metadata)).toEqual([
      { key: 'k1' },
      { key: 'k2' },
    ]);
  });
});

describe('GenaiBatchApi.createBatch refusals', () => {
  it("keeps Gemini's HTTP status on a refusal, which is what makes it final", async () => {
    routes.push(
      on('POST', /:batchGenerateContent$/, {
        status: 400,
        body: { error: { code: 400, message: 'Unknown name "generationConfg"', status: 'INVALID_ARGUMENT' } },
      }),
    );
    const error = await rejection(
      api().createBatch({
        kind: 'generate',
        model: 'm',
        displayName: 'run/chunk-00000',
        fileName: 'files/a',
      }),
    );
    expect(error).toMatchObject({ name: 'GeminiRequestError', status: 400 });
  });

  it('takes a created job without a name for a wait, not a refusal: the next attempt finds it', async () => {
    routes.push(
      on('POST', /:batchGenerateContent$/, { body: { metadata: { state: 'BATCH_STATE_PENDING' } } }),
    );
    const error = await rejection(
      api().createBatch({
        kind: 'generate',
        model: 'm',
        displayName: 'run/chunk-00000',
        fileName: 'files/a',
      }),
    );
    expect(error.name).toBe('GeminiUnavailableError');
  });
});

describe('GenaiBatchApi.findBatchesByDisplayName', () => {
  const operation = (
    name: string,
    displayName: string,
    createTime: string,
    state = 'BATCH_STATE_RUNNING',
  ) => ({
    name,
    metadata: { displayName, createTime, state, batchStats: { requestCount: '1' } },
  });
  const since = new Date('2026-11-03T11:50:00.000Z');

  it('returns every job carrying the name, newest first, and stops at the first job older than the bound', async () => {
    routes.push(
      on('GET', /^\/v1beta\/batches$/, (request) =>
        request.query.get('pageToken') === null
          ? {
              body: {
                operations: [
                  operation('batches/dup', 'run/chunk-00000', '2026-11-03T12:01:00Z', 'BATCH_STATE_PENDING'),
                  operation('batches/other', 'run/chunk-00001', '2026-11-03T12:00:30Z'),
                ],
                nextPageToken: 'p2',
              },
            }
          : request.query.get('pageToken') === 'p2'
            ? {
                body: {
                  operations: [
                    operation(
                      'batches/first',
                      'run/chunk-00000',
                      '2026-11-03T12:00:00Z',
                      'BATCH_STATE_SUCCEEDED',
                    ),
                    operation('batches/old', 'run/chunk-00000', '2026-11-03T11:00:00Z'),
                  ],
                  nextPageToken: 'p3',
                },
              }
            : { status: 500, body: { error: { code: 500, message: 'the search read too far' } } },
      ),
    );

    const search = await api().findBatchesByDisplayName('run/chunk-00000', {
      format: 'gemini',
      createdAfter: since,
    });

    expect(search).toEqual({
      found: [
        { name: 'batches/dup', state: 'BATCH_STATE_PENDING', createTime: '2026-11-03T12:01:00Z' },
        { name: 'batches/first', state: 'BATCH_STATE_SUCCEEDED', createTime: '2026-11-03T12:00:00Z' },
      ],
    });
    expect(seen.map((request) => request.query.get('pageToken'))).toEqual([null, 'p2']);
  });

  it('reads past jobs without a creation time instead of stopping at them', async () => {
    routes.push(
      on('GET', /^\/v1beta\/batches$/, {
        body: {
          operations: [
            { name: 'batches/undated', metadata: { displayName: 'x', state: 'BATCH_STATE_RUNNING' } },
            operation('batches/mine', 'run/chunk-00000', '2026-11-03T12:00:00Z'),
          ],
        },
      }),
    );
    const search = await api().findBatchesByDisplayName('run/chunk-00000', {
      format: 'gemini',
      createdAfter: since,
    });
    expect(search.found.map((job) => job.name)).toEqual(['batches/mine']);
  });

  it('finds OpenAI-format jobs on the compat listing by metadata.display_name, stopping at the bound', async () => {
    const seconds = (iso: string) => Date.parse(iso) / 1000;
    const batch = (id: string, displayName: string | undefined, created: string, status: string) => ({
      id,
      object: 'batch',
      status,
      created_at: seconds(created),
      metadata: displayName ? { display_name: displayName } : null,
    });
    routes.push(
      on('GET', /^\/v1beta\/openai\/batches$/, (request) =>
        request.query.get('after') === null
          ? {
              body: {
                object: 'list',
                data: [
                  batch('batches/b2', 'run/chunk-00002', '2026-11-03T12:02:00Z', 'in_progress'),
                  batch('batches/n1', undefined, '2026-11-03T12:01:00Z', 'completed'),
                  batch('batches/b1', 'run/chunk-00002', '2026-11-03T12:00:00Z', 'completed'),
                ],
                has_more: true,
              },
            }
          : {
              body: {
                object: 'list',
                data: [batch('batches/b0', 'run/chunk-00002', '2026-11-03T10:00:00Z', 'completed')],
                has_more: true,
              },
            },
      ),
    );

    const search = await api().findBatchesByDisplayName('run/chunk-00002', {
      format: 'openai',
      createdAfter: since,
    });

    expect(search).toEqual({
      found: [
        { name: 'batches/b2', state: 'BATCH_STATE_RUNNING', createTime: '2026-11-03T12:02:00.000Z' },
        { name: 'batches/b1', state: 'BATCH_STATE_SUCCEEDED', createTime: '2026-11-03T12:00:00.000Z' },
      ],
    });
    expect(seen).toHaveLength(2);
    expect(seen.every((request) => request.path === '/v1beta/openai/batches')).toBe(true);
  });

  it('says the search is incomplete when the compat layer refuses to list, instead of finding nothing', async () => {
    routes.push(
      on('GET', /^\/v1beta\/openai\/batches$/, {
        status: 404,
        body: [{ error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } }],
      }),
    );
    const search = await api().findBatchesByDisplayName('run/chunk-00002', {
      format: 'openai',
      createdAfter: since,
    });
    expect(search.found).toEqual([]);
    expect(search.incomplete).toContain('HTTP 404');
  });

  it.each(['gemini', 'openai'] as const)(
    'throws GeminiRateLimitError when the %s listing answers 429: a wait, never "not found"',
    async (format) => {
      routes.push(() => QUOTA);
      const error = await rejection(
        api().findBatchesByDisplayName('run/chunk-00000', { format, createdAfter: since }),
      );
      expect(error.name).toBe('GeminiRateLimitError');
    },
  );
});
