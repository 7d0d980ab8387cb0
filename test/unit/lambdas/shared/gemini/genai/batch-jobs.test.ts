/** Creating jobs: inline requests carry their keys, refusals keep Gemini's status, a nameless job is a wait. */
import { describe, expect, it } from 'vitest';
import { on, useHttpStub } from '../gemini-http-stub.js';

const stub = useHttpStub();

describe('GenaiBatchApi.createBatch', () => {
  it.each([
    ['generate', 'batchGenerateContent'],
    ['embed', 'asyncBatchEmbedContent'],
  ] as const)('sends every inline %s request with its key in metadata', async (kind, method) => {
    stub.routes.push(on('POST', new RegExp(`:${method}$`), { body: { name: 'batches/new', metadata: {} } }));
    const name = await stub.api().createBatch({
      kind,
      model: 'models/m-1',
      displayName: 'run/chunk-00000',
      inlineRequests: [
        { key: 'k1', request: { content: { parts: [{ text: 'one' }] } } },
        { key: 'k2', request: { content: { parts: [{ text: 'two' }] } } },
      ],
    });
    expect(name).toBe('batches/new');
    expect(stub.seen[0]?.path).toBe(`/v1beta/models/m-1:${method}`);
    const body = JSON.parse(stub.seen[0]?.body ?? '{}') as {
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
    stub.routes.push(
      on('POST', /:batchGenerateContent$/, {
        status: 400,
        body: { error: { code: 400, message: 'Unknown name "generationConfg"', status: 'INVALID_ARGUMENT' } },
      }),
    );
    await expect(
      stub
        .api()
        .createBatch({ kind: 'generate', model: 'm', displayName: 'run/chunk-00000', fileName: 'files/a' }),
    ).rejects.toMatchObject({ name: 'GeminiRequestError', status: 400 });
  });

  it('takes a created job without a name for a wait, not a refusal: the next attempt finds it', async () => {
    stub.routes.push(
      on('POST', /:batchGenerateContent$/, { body: { metadata: { state: 'BATCH_STATE_PENDING' } } }),
    );
    await expect(
      stub
        .api()
        .createBatch({ kind: 'generate', model: 'm', displayName: 'run/chunk-00000', fileName: 'files/a' }),
    ).rejects.toMatchObject({ name: 'GeminiUnavailableError' });
  });
});
