/** Every call of the adapter names a 429 as the pipeline's rate-limit error: a wait, never an answer. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GenaiBatchApi } from '../../../../../lambdas/shared/gemini/genai-batch-api.js';
import { QUOTA, useHttpStub } from './gemini-http-stub.js';

const stub = useHttpStub();

describe('GenaiBatchApi on 429', () => {
  it.each([
    ['getBatch', (gemini: GenaiBatchApi) => gemini.getBatch('batches/x')],
    ['getInlineResponses', (gemini: GenaiBatchApi) => gemini.getInlineResponses('batches/x')],
    [
      'findBatchesByDisplayName',
      (gemini: GenaiBatchApi) =>
        gemini.findBatchesByDisplayName('run/chunk-00000', { format: 'gemini', createdAfter: new Date(0) }),
    ],
    [
      'downloadFile',
      (gemini: GenaiBatchApi) => gemini.downloadFile('files/out', join(stub.dir, 'out.jsonl')),
    ],
    ['cancelBatch', (gemini: GenaiBatchApi) => gemini.cancelBatch('batches/x')],
    ['deleteFile', (gemini: GenaiBatchApi) => gemini.deleteFile('files/out')],
  ])('throws GeminiRateLimitError when %s meets the generic quota answer', async (_method, call) => {
    stub.routes.push(() => QUOTA);
    await expect(call(stub.api())).rejects.toMatchObject({
      name: 'GeminiRateLimitError',
      message: expect.stringContaining('RESOURCE_EXHAUSTED'),
    });
  });
});
