import { describe, expect } from 'vitest';
import {
  DEFAULT_INLINE_MAX_ANSWER_BYTES,
  estimateAnswerBytes,
} from '../../../../../lambdas/shared/batch-jobs/inline-or-file.js';
import { MemoryObjectStore } from '../../../../support/memory-object-store.js';
import { BUCKET, RUN_ID, readLedger, WORK, writePlan } from '../../run-fixtures.js';
import { it, submit, twoChunks } from './submit-fixtures.js';

describe('submitChunks, choosing inline or file', () => {
  it('sends a generate chunk under the inline limit inline, keyed, and an embedding chunk as a file', async ({
    store,
    fake,
    deps,
  }) => {
    await twoChunks(store);

    await submit(deps({ inlineMaxBytes: 1024 * 1024 }));

    expect(fake.calls.uploadJsonl).toBe(1);
    const batch = fake.batchNamed(`${RUN_ID}/chunk-00000`);
    expect(batch.inlineRequests?.map((request) => request.key)).toEqual(['a', 'b', 'c']);
    expect(await readLedger(store, 0)).toMatchObject({ inline: true, batchName: batch.name });
    expect(await readLedger(store, 1)).toMatchObject({ inline: false, uploadedFile: 'files/up-1' });
  });

  it('sends embedding chunks inline too when asked to', async ({ store, fake, deps }) => {
    await twoChunks(store);

    await submit(deps({ inlineMaxBytes: 1024 * 1024, inlineEmbeddings: true }));

    expect(fake.calls.uploadJsonl).toBe(0);
    expect(fake.batchNamed(`${RUN_ID}/chunk-00001`).inlineRequests?.map((request) => request.key)).toEqual([
      'd',
      'e',
    ]);
  });

  it('uploads a chunk whose inline answers would weigh more than the bound, recording the estimate', async ({
    store,
    fake,
    deps,
  }) => {
    await writePlan(store, [{ kind: 'embed', keys: ['d', 'e'] }]);
    // The fixtures ask for 3 dimensions: each answer weighs (3 values × 32 bytes + 1024) × 2 copies.
    const perAnswer = 2240;
    const inlineDeps = { inlineMaxBytes: 1024 * 1024, inlineEmbeddings: true };

    await submit(deps({ ...inlineDeps, inlineMaxAnswerBytes: 2 * perAnswer - 1 }));

    expect(fake.calls.uploadJsonl).toBe(1);
    expect(await readLedger(store, 0)).toMatchObject({ inline: false, answerBytesEstimate: 2 * perAnswer });

    const other = new MemoryObjectStore();
    await writePlan(other, [{ kind: 'embed', keys: ['d', 'e'] }]);
    await submit(deps({ ...inlineDeps, store: other, inlineMaxAnswerBytes: 2 * perAnswer }));
    expect(fake.calls.uploadJsonl).toBe(1);
    expect(await other.getJson(BUCKET, WORK.ledger(0))).toMatchObject({
      inline: true,
      answerBytesEstimate: 2 * perAnswer,
    });
  });
});

describe('estimateAnswerBytes', () => {
  it('weighs an embedding by its outputDimensionality, camelCase or snake_case', () => {
    const expected = 51_200; // (768 values × 32 bytes + 1024 overhead) × 2 copies
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { outputDimensionality: 768 })).toBe(
      expected,
    );
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { output_dimensionality: 768 })).toBe(
      expected,
    );
  });

  it("weighs an embedding without a dimension by the model's default: 3072 for gemini-embedding-001 and -2", () => {
    const full = 198_656; // (3072 × 32 + 1024) × 2
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { content: {} })).toBe(full);
    expect(estimateAnswerBytes('embed', 'gemini-embedding-2', { content: {} })).toBe(full);
    expect(estimateAnswerBytes('embed', 'gemini-embedding-001', { model: 'models/text-embedding-004' })).toBe(
      51_200,
    );
  });

  it('weighs a generation by maxOutputTokens times candidateCount, or a conservative default', () => {
    expect(estimateAnswerBytes('generate', 'm', { generationConfig: { maxOutputTokens: 256 } })).toBe(
      6144, // (256 tokens × 8 bytes + 1024) × 2
    );
    expect(
      estimateAnswerBytes('generate', 'm', {
        generation_config: { max_output_tokens: 100, candidate_count: 3 },
      }),
    ).toBe(6848); // (3 × 100 tokens × 8 + 1024) × 2
    expect(estimateAnswerBytes('generate', 'm', { contents: [] })).toBe(133_120); // 8192 tokens assumed
  });

  it('keeps the default bound at 32 MiB', () => {
    expect(DEFAULT_INLINE_MAX_ANSWER_BYTES).toBe(32 * 1024 * 1024);
  });
});
