/** Finding jobs by display name on both listings, bounded by creation time. */
import { describe, expect, it } from 'vitest';
import { on, QUOTA, useHttpStub } from '../gemini-http-stub.js';

const stub = useHttpStub();

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
    stub.routes.push(
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

    const search = await stub.api().findBatchesByDisplayName('run/chunk-00000', {
      format: 'gemini',
      createdAfter: since,
    });

    expect(search).toEqual({
      found: [
        { name: 'batches/dup', state: 'BATCH_STATE_PENDING', createTime: '2026-11-03T12:01:00Z' },
        { name: 'batches/first', state: 'BATCH_STATE_SUCCEEDED', createTime: '2026-11-03T12:00:00Z' },
      ],
    });
    expect(stub.seen.map((request) => request.query.get('pageToken'))).toEqual([null, 'p2']);
  });

  it('reads past jobs without a creation time instead of stopping at them', async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/batches$/, {
        body: {
          operations: [
            { name: 'batches/undated', metadata: { displayName: 'x', state: 'BATCH_STATE_RUNNING' } },
            operation('batches/mine', 'run/chunk-00000', '2026-11-03T12:00:00Z'),
          ],
        },
      }),
    );
    const search = await stub.api().findBatchesByDisplayName('run/chunk-00000', {
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
    stub.routes.push(
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

    const search = await stub.api().findBatchesByDisplayName('run/chunk-00002', {
      format: 'openai',
      createdAfter: since,
    });

    expect(search).toEqual({
      found: [
        { name: 'batches/b2', state: 'BATCH_STATE_RUNNING', createTime: '2026-11-03T12:02:00.000Z' },
        { name: 'batches/b1', state: 'BATCH_STATE_SUCCEEDED', createTime: '2026-11-03T12:00:00.000Z' },
      ],
    });
    expect(stub.seen).toHaveLength(2);
    expect(stub.seen.every((request) => request.path === '/v1beta/openai/batches')).toBe(true);
    // The cursor pages as OpenAI's: the next page starts after the last id of the one before.
    expect(stub.seen.map((request) => [request.query.get('limit'), request.query.get('after')])).toEqual([
      ['100', null],
      ['100', 'batches/b1'],
    ]);
    expect(stub.seen.every((request) => request.headers.authorization === 'Bearer stub-key')).toBe(true);
  });

  it('reads no further page when the compat listing says has_more: false, or says nothing of it', async () => {
    const page = (hasMore: boolean | undefined) => ({
      body: {
        object: 'list',
        data: [
          { id: 'batches/x', status: 'completed', created_at: Date.parse('2026-11-03T12:00:00Z') / 1000 },
        ],
        ...(hasMore === undefined ? {} : { has_more: hasMore }),
      },
    });
    for (const hasMore of [false, undefined]) {
      stub.seen.length = 0;
      stub.routes = [on('GET', /^\/v1beta\/openai\/batches$/, page(hasMore))];
      await stub.api().findBatchesByDisplayName('run/chunk-00002', { format: 'openai', createdAfter: since });
      expect(stub.seen).toHaveLength(1);
    }
  });

  it('says the search is incomplete when the compat layer refuses to list, instead of finding nothing', async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/openai\/batches$/, {
        status: 404,
        body: [{ error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } }],
      }),
    );
    const search = await stub.api().findBatchesByDisplayName('run/chunk-00002', {
      format: 'openai',
      createdAfter: since,
    });
    expect(search.found).toEqual([]);
    expect(search.incomplete).toContain('HTTP 404');
  });

  // The native listing's 429 is in the adapter's table of 429s; the compat search takes other 4xx
  // for "could not look", so its 429 is pinned here.
  it('throws GeminiRateLimitError when the openai listing answers 429: a wait, never "not found"', async () => {
    stub.routes.push(() => QUOTA);
    await expect(
      stub.api().findBatchesByDisplayName('run/chunk-00000', { format: 'openai', createdAfter: since }),
    ).rejects.toMatchObject({ name: 'GeminiRateLimitError' });
  });
});
