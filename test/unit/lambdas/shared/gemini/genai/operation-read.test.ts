/**
 * Reading operations: the status a poll gets and the answers Collect gets, against a stub that
 * ignores or refuses the `fields` mask and sends both copies of inline answers.
 */
import { describe, expect, it } from 'vitest';
import { toBatchJobStatus } from '../../../../../../lambdas/shared/gemini/genai/operation-read.js';
import { on, useHttpStub } from '../gemini-http-stub.js';

const stub = useHttpStub();

describe('toBatchJobStatus', () => {
  it('reads state, display name and int64 string counts from the raw Operation', () => {
    const status = toBatchJobStatus({
      name: 'batches/abc123',
      metadata: {
        state: 'BATCH_STATE_RUNNING',
        displayName: '20261103T101530Z-0123456789abcdef/chunk-00000',
        batchStats: {
          requestCount: '1200',
          successfulRequestCount: '1000',
          failedRequestCount: '7',
          pendingRequestCount: '193',
        },
      },
    });
    expect(status).toEqual({
      name: 'batches/abc123',
      state: 'BATCH_STATE_RUNNING',
      displayName: '20261103T101530Z-0123456789abcdef/chunk-00000',
      requestCount: 1200,
      successfulCount: 1000,
      failedCount: 7,
    });
  });

  it('reads omitted counts as zero, as proto3 JSON leaves zeros out', () => {
    const status = toBatchJobStatus({
      name: 'batches/p',
      metadata: { state: 'BATCH_STATE_PENDING', batchStats: { requestCount: '3', pendingRequestCount: '3' } },
    });
    expect(status).toMatchObject({ requestCount: 3, successfulCount: 0, failedCount: 0 });
    expect(toBatchJobStatus({ name: 'batches/q', metadata: { state: 'BATCH_STATE_PENDING' } })).toMatchObject(
      {
        requestCount: 0,
        successfulCount: 0,
        failedCount: 0,
      },
    );
  });

  it('reads the responses file of a finished job from metadata.output', () => {
    const status = toBatchJobStatus({
      name: 'batches/done',
      metadata: {
        state: 'BATCH_STATE_SUCCEEDED',
        batchStats: { requestCount: '2', successfulRequestCount: '2' },
        output: { responsesFile: 'files/batch-done' },
      },
    });
    expect(status).toMatchObject({ state: 'BATCH_STATE_SUCCEEDED', responsesFile: 'files/batch-done' });
    expect(status).not.toHaveProperty('error');
  });

  it("reads a failed job's error, with or without a code", () => {
    expect(
      toBatchJobStatus({
        name: 'batches/f',
        metadata: { state: 'BATCH_STATE_FAILED' },
        error: { code: 13, message: 'internal error' },
      }),
    ).toMatchObject({ state: 'BATCH_STATE_FAILED', error: { code: 13, message: 'internal error' } });
    const withoutCode = toBatchJobStatus({
      name: 'batches/g',
      metadata: { state: 'BATCH_STATE_FAILED' },
      error: { message: 'x' },
    });
    expect(withoutCode.error).toEqual({ message: 'x' });
  });

  it('leaves out what the Operation does not have', () => {
    const status = toBatchJobStatus({ name: 'batches/bare' });
    expect(status).toEqual({
      name: 'batches/bare',
      state: 'BATCH_STATE_UNSPECIFIED',
      requestCount: 0,
      successfulCount: 0,
      failedCount: 0,
    });
  });
});

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
    stub.routes.push(on('GET', /^\/v1beta\/batches\/inl$/, { body: succeededInline({}) }));
    await stub.api().getBatch('batches/inl');
    expect(stub.seen[0]?.query.get('fields')).toBe(
      'name,done,error,metadata(state,displayName,batchStats,output/responsesFile),response/responsesFile',
    );
    expect(stub.seen[0]?.query.get('prettyPrint')).toBe('false');
  });

  it('reads the status when Gemini ignores the mask and sends both copies of the answers', async () => {
    const both = succeededInline({ metadata: answersOf('m'), response: answersOf('r') });
    stub.routes.push(on('GET', /^\/v1beta\/batches\/inl$/, { body: JSON.stringify(both, null, 2) }));
    expect(await stub.api().getBatch('batches/inl')).toEqual({
      name: 'batches/inl',
      state: 'BATCH_STATE_SUCCEEDED',
      displayName: 'run/chunk-00000',
      requestCount: 2,
      successfulCount: 1,
      failedCount: 1,
    });
  });

  it('goes on without the mask once Gemini refuses it with 400', async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/batches\/inl$/, (request) =>
        request.query.has('fields')
          ? {
              status: 400,
              body: { error: { code: 400, message: 'Invalid field selection', status: 'INVALID_ARGUMENT' } },
            }
          : { body: succeededInline({ metadata: answersOf('m') }) },
      ),
    );
    const gemini = stub.api();
    expect((await gemini.getBatch('batches/inl')).state).toBe('BATCH_STATE_SUCCEEDED');
    await gemini.getBatch('batches/inl');
    expect(stub.seen.map((request) => request.query.has('fields'))).toEqual([true, false, false]);
  });

  it("reads a responses file named only under the operation's response", async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/batches\/f$/, {
        body: {
          name: 'batches/f',
          metadata: { state: 'BATCH_STATE_SUCCEEDED' },
          response: { responsesFile: 'files/batch-f' },
        },
      }),
    );
    expect((await stub.api().getBatch('batches/f')).responsesFile).toBe('files/batch-f');
  });
});

describe('GenaiBatchApi.getInlineResponses', () => {
  it('asks for one copy of the answers', async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/batches\/inl$/, { body: { metadata: { output: answersOf('m') } } }),
    );
    const answers = await stub.api().getInlineResponses('batches/inl');
    expect(stub.seen[0]?.query.get('fields')).toBe('metadata/output');
    expect(answers.map((answer) => answer.metadata?.key)).toEqual(['m-a', 'm-b']);
    expect(answers[0]?.response).toEqual({ embedding: { values: [0.25, -1.5e-7] } });
    expect(answers[1]?.error).toEqual({ code: 3, message: 'bad [request] {"x"}' });
  });

  it('keeps metadata.output when Gemini ignores the mask and sends both copies, in either order', async () => {
    const both = succeededInline({ metadata: answersOf('m'), response: answersOf('r') });
    const responseFirst = { name: both.name, response: both.response, metadata: both.metadata };
    for (const body of [both, responseFirst]) {
      stub.routes = [on('GET', /^\/v1beta\/batches\/inl$/, { body })];
      const answers = await stub.api().getInlineResponses('batches/inl');
      expect(answers.map((answer) => answer.metadata?.key)).toEqual(['m-a', 'm-b']);
    }
  });

  it('falls back to the response copy when the operation has no metadata.output', async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/batches\/inl$/, { body: succeededInline({ response: answersOf('r') }) }),
    );
    const answers = await stub.api().getInlineResponses('batches/inl');
    expect(answers.map((answer) => answer.metadata?.key)).toEqual(['r-a', 'r-b']);
  });

  it('reads again without the mask when the masked answer holds no copy of the answers', async () => {
    stub.routes.push(
      on('GET', /^\/v1beta\/batches\/inl$/, (request) =>
        request.query.has('fields') ? { body: {} } : { body: succeededInline({ response: answersOf('r') }) },
      ),
    );
    const answers = await stub.api().getInlineResponses('batches/inl');
    expect(answers.map((answer) => answer.metadata?.key)).toEqual(['r-a', 'r-b']);
    expect(stub.seen).toHaveLength(2);
  });
});
