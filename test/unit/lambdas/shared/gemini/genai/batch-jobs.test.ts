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

describe('GenaiBatchApi.createBatch, OpenAI format', () => {
  const request = {
    kind: 'generate',
    format: 'openai',
    model: 'm',
    displayName: 'run/chunk-00003',
    fileName: 'files/in',
  } as const;

  it('creates the job on the compat layer as the openai SDK did: Bearer key, JSON body, the display name in metadata', async () => {
    stub.routes.push(
      on('POST', /^\/v1beta\/openai\/batches$/, { body: { id: 'batches/oa1', status: 'validating' } }),
    );
    expect(await stub.api().createBatch(request)).toBe('batches/oa1');
    const [seen] = stub.seen;
    expect(seen?.headers.authorization).toBe('Bearer stub-key');
    expect(seen?.headers['x-goog-api-key']).toBeUndefined();
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen?.body ?? '{}')).toEqual({
      input_file_id: 'files/in',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { display_name: 'run/chunk-00003' },
    });
  });

  it('sends an embedding chunk to /v1/embeddings', async () => {
    stub.routes.push(on('POST', /^\/v1beta\/openai\/batches$/, { body: { id: 'batches/oa2' } }));
    await stub.api().createBatch({ ...request, kind: 'embed' });
    expect(JSON.parse(stub.seen[0]?.body ?? '{}')).toMatchObject({ endpoint: '/v1/embeddings' });
  });

  it("keeps Gemini's status of a compat refusal sent as a JSON array, with Gemini's words", async () => {
    stub.routes.push(
      on('POST', /^\/v1beta\/openai\/batches$/, {
        status: 400,
        body: [{ error: { code: 400, message: 'input_file_id is not a file', status: 'INVALID_ARGUMENT' } }],
      }),
    );
    const refusal = stub.api().createBatch(request);
    await expect(refusal).rejects.toMatchObject({ name: 'GeminiRequestError', status: 400 });
    await expect(refusal).rejects.toThrow(/input_file_id is not a file/);
  });

  it.each([
    [429, 'GeminiRateLimitError'],
    [503, 'GeminiUnavailableError'],
  ])('takes a compat %i for a wait (%s)', async (status, name) => {
    stub.routes.push(
      on('POST', /^\/v1beta\/openai\/batches$/, { status, body: [{ error: { code: status } }] }),
    );
    await expect(stub.api().createBatch(request)).rejects.toMatchObject({ name });
  });

  it('takes a created compat job without an id for a wait, not a refusal: the next attempt finds it', async () => {
    stub.routes.push(on('POST', /^\/v1beta\/openai\/batches$/, { body: { status: 'validating' } }));
    await expect(stub.api().createBatch(request)).rejects.toMatchObject({ name: 'GeminiUnavailableError' });
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
