import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINE_CONFIG } from '../../../../infra/config.js';
import { chunkLimitsFor, DEFAULT_TOKENS_PER_JOB } from '../../../../lambdas/prepare-requests/chunk-limits.js';

describe('chunkLimitsFor', () => {
  it("gives the stack's default models a budget of their own, below the default", () => {
    for (const model of [DEFAULT_PIPELINE_CONFIG.generateModel, DEFAULT_PIPELINE_CONFIG.embedModel]) {
      expect(DEFAULT_TOKENS_PER_JOB[model], model).toBeDefined();
    }
    expect(chunkLimitsFor('gemini-3.8-flash').maxTokens).toBe(2_400_000);
    expect(chunkLimitsFor('gemini-embedding-2').maxTokens).toBe(1_600_000);
  });

  it('uses the default budget for a model it does not list', () => {
    expect(chunkLimitsFor('gemini-9-experimental')).toEqual({
      maxBytes: 1024 ** 3,
      maxRequests: 200_000,
      maxTokens: 2_000_000,
    });
  });

  it('takes per-model budgets over the defaults, leaving other models as they were', () => {
    const tokensPerJob = { 'gemini-3.8-flash': 900_000, 'my-tuned-model': 50_000 };
    expect(chunkLimitsFor('gemini-3.8-flash', {}, tokensPerJob).maxTokens).toBe(900_000);
    expect(chunkLimitsFor('my-tuned-model', {}, tokensPerJob).maxTokens).toBe(50_000);
    expect(chunkLimitsFor('gemini-2.5-pro', {}, tokensPerJob).maxTokens).toBe(4_000_000);
  });

  it('lets the overrides for every model win over any per-model budget', () => {
    expect(
      chunkLimitsFor('gemini-3.8-flash', { maxTokens: 10, maxRequests: 3 }, { 'gemini-3.8-flash': 900_000 }),
    ).toEqual({
      maxBytes: 1024 ** 3,
      maxRequests: 3,
      maxTokens: 10,
    });
  });
});
