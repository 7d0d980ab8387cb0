import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  GeminiRateLimitError,
  GeminiRequestError,
  GeminiUnavailableError,
  RETRYABLE_ERRORS,
} from '../../../../../lambdas/shared/errors.js';
import {
  MAX_OPERATION_ENVELOPE_BYTES,
  type ScanAnswers,
  scanOperation,
  toBatchJobStatus,
  toPipelineError,
} from '../../../../../lambdas/shared/gemini/genai-batch-api.js';
import { rejection } from '../../run-fixtures.js';

const apiError = (status: number) =>
  new ApiError({
    message: JSON.stringify({ error: { code: status, message: `HTTP ${status} from Gemini` } }),
    status,
  });

describe('toPipelineError', () => {
  it('turns HTTP 429 into GeminiRateLimitError, which the workflow retries with long backoff', () => {
    const original = apiError(429);
    const error = toPipelineError(original, 'create batch job r/chunk-00000');
    expect(error).toBeInstanceOf(GeminiRateLimitError);
    expect(error.name).toBe('GeminiRateLimitError');
    expect(RETRYABLE_ERRORS.rateLimited).toContain(error.name);
    expect(error.message).toBe(
      `Gemini refused to create batch job r/chunk-00000 (HTTP 429): ${original.message}`,
    );
    expect(error.cause).toBe(original);
  });

  it.each([500, 502, 503, 504, 408])('turns HTTP %i into GeminiUnavailableError', (status) => {
    const error = toPipelineError(apiError(status), 'read batch job batches/x');
    expect(error.name).toBe('GeminiUnavailableError');
    expect(RETRYABLE_ERRORS.transient).toContain(error.name);
    expect(error.message).toContain(`(HTTP ${status})`);
  });

  it.each([400, 401, 403, 404])('turns HTTP %i into GeminiRequestError, which is not retried', (status) => {
    const error = toPipelineError(apiError(status), 'upload a request file');
    expect(error).toBeInstanceOf(GeminiRequestError);
    expect(error.name).toBe('GeminiRequestError');
    expect([...RETRYABLE_ERRORS.rateLimited, ...RETRYABLE_ERRORS.transient]).not.toContain(error.name);
  });

  it('turns a network failure (TypeError: fetch failed) into GeminiUnavailableError', () => {
    const original = new TypeError('fetch failed');
    const error = toPipelineError(original, 'list batch jobs');
    expect(error).toBeInstanceOf(GeminiUnavailableError);
    expect(error.message).toBe('could not reach Gemini to list batch jobs: fetch failed');
    expect(error.cause).toBe(original);
  });

  it.each([
    'Failed to upload file: Upload status is not finalized.',
    'All content has been uploaded, but the upload status is not finalized.',
    'Failed to get upload url. Server did not return the x-google-upload-url in the headers',
  ])("turns the SDK's plain Error '%s' into GeminiUnavailableError", (message) => {
    const original = new Error(message);
    const error = toPipelineError(original, 'upload the request file r/chunk-00000');
    expect(error).toBeInstanceOf(GeminiUnavailableError);
    expect(error.cause).toBe(original);
  });

  it('passes other errors through unchanged', () => {
    const original = new RangeError('something else');
    expect(toPipelineError(original, 'x')).toBe(original);
    const already = new GeminiRequestError('no file name');
    expect(toPipelineError(already, 'x')).toBe(already);
  });

  it('wraps a thrown non-error in an Error', () => {
    const error = toPipelineError('just a string', 'x');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('just a string');
  });
});

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

/** The bytes of `text`, in pieces of `size` bytes: a stream that splits tokens and characters anywhere. */
async function* piecesOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** Records what a scan hands over. */
function sink(): ScanAnswers & { readonly seen: [string, unknown][]; readonly starts: string[] } {
  const seen: [string, unknown][] = [];
  const starts: string[] = [];
  return {
    seen,
    starts,
    start: (copy) => starts.push(copy),
    add: (copy, text) => seen.push([copy, JSON.parse(text)]),
  };
}

const tricky = [
  {
    response: {
      candidates: [{ content: { parts: [{ text: 'quote " backslash \\ ] } [ { , : ü 日本 🎉' }] } }],
    },
    metadata: { key: 'k"1' },
  },
  { error: { code: 3, message: '\u005d not a bracket', details: [] }, metadata: { key: 'k2' } },
  { response: { embedding: { values: [1e-7, -0.5, 3, 0] } }, metadata: { key: 'é' } },
  'a string answer',
  42,
  null,
  [],
];

const operation = {
  name: 'batches/x',
  metadata: {
    '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
    state: 'BATCH_STATE_SUCCEEDED',
    'odd "name" [': { inlinedResponses: 'a string, not answers' },
    output: { inlinedResponses: { inlinedResponses: tricky } },
  },
  done: true,
  response: { '@type': 'out', inlinedResponses: { inlinedResponses: tricky.slice(0, 2) } },
};

/** The operation with every answer array emptied, as the scan leaves its envelope. */
const envelope = {
  ...operation,
  metadata: { ...operation.metadata, output: { inlinedResponses: { inlinedResponses: [] } } },
  response: { ...operation.response, inlinedResponses: { inlinedResponses: [] } },
};

describe('scanOperation', () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])(
    'hands over every answer of both copies and keeps the rest, in pieces of %i bytes',
    async (size) => {
      for (const text of [JSON.stringify(operation), JSON.stringify(operation, null, 2)]) {
        const answers = sink();
        const scan = await scanOperation(piecesOf(text, size), answers);
        expect(scan.operation).toEqual(envelope);
        expect(answers.starts).toEqual(['metadata', 'response']);
        expect(answers.seen).toEqual([
          ...tricky.map((answer) => ['metadata', answer]),
          ...tricky.slice(0, 2).map((answer) => ['response', answer]),
        ]);
      }
    },
  );

  it('skips the answers without holding them when nobody wants them', async () => {
    const scan = await scanOperation(piecesOf(JSON.stringify(operation), 5));
    expect(scan.operation).toEqual(envelope);
  });

  it('skips inline requests echoed in inputConfig, keeping them out of the envelope', async () => {
    const created = {
      name: 'batches/new',
      metadata: {
        inputConfig: { requests: { requests: [{ request: { contents: [] }, metadata: { key: 'a' } }] } },
      },
    };
    const answers = sink();
    const scan = await scanOperation(piecesOf(JSON.stringify(created), 3), answers);
    expect(scan.operation).toEqual({
      name: 'batches/new',
      metadata: { inputConfig: { requests: { requests: [] } } },
    });
    expect(answers.seen).toEqual([]);
  });

  it('reads an operation without answers as it is', async () => {
    const plain = {
      name: 'batches/p',
      metadata: { state: 'BATCH_STATE_RUNNING', batchStats: { requestCount: '3' } },
    };
    const answers = sink();
    expect((await scanOperation(piecesOf(JSON.stringify(plain), 4), answers)).operation).toEqual(plain);
    expect(answers.starts).toEqual([]);
  });

  it('throws GeminiUnavailableError for an answer cut off in the middle', async () => {
    const text = JSON.stringify(operation);
    const error = await rejection(scanOperation(piecesOf(text.slice(0, text.length / 2), 16), sink()));
    expect(error.name).toBe('GeminiUnavailableError');
  });

  it('refuses an operation whose envelope alone passes its bound', async () => {
    const huge = { name: 'batches/h', metadata: { note: 'x'.repeat(MAX_OPERATION_ENVELOPE_BYTES) } };
    const error = await rejection(scanOperation(piecesOf(JSON.stringify(huge), 1 << 16)));
    expect(error.name).toBe('GeminiUnavailableError');
  });
});
