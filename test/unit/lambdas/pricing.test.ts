import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_PRICES, estimateCost, priceTableWith } from '../../../lambdas/shared/pricing.js';
import { emptyModelUsage, type ModelUsage } from '../../../lambdas/shared/run-records.js';

const usage = (counts: Partial<ModelUsage>): ModelUsage => ({ ...emptyModelUsage(), ...counts });

describe('estimateCost', () => {
  it('prices input and output (thinking included) per million tokens at batch prices', () => {
    const cost = estimateCost({
      'gemini-2.5-flash': usage({ promptTokens: 2_000_000, outputTokens: 600_000, thoughtsTokens: 400_000 }),
    });

    // 2M × $0.15 + (0.6M + 0.4M) × $1.25
    expect(cost.byModel['gemini-2.5-flash']).toEqual({ input: 0.3, output: 1.25, total: 1.55 });
    expect(cost.total).toBe(1.55);
    expect(cost.currency).toBe('USD');
  });

  it('sums models and leaves unpriced ones out of the total, naming them', () => {
    const cost = estimateCost({
      'gemini-embedding-001': usage({ promptTokens: 4_000_000 }),
      'gemini-9-experimental': usage({ promptTokens: 1_000_000 }),
    });

    expect(cost.total).toBe(0.3);
    expect(cost.unpricedModels).toEqual(['gemini-9-experimental']);
  });

  it('says when and where its prices were read', () => {
    expect(estimateCost({}).prices).toEqual({
      asOf: DEFAULT_BATCH_PRICES.asOf,
      source: DEFAULT_BATCH_PRICES.source,
    });
  });
});

describe('priceTableWith', () => {
  it('adds and replaces models from a JSON override', () => {
    const table = priceTableWith('{"my-tuned-model":{"inputPerMillion":1,"outputPerMillion":2}}');

    expect(
      estimateCost({ 'my-tuned-model': usage({ promptTokens: 1_000_000, outputTokens: 1_000_000 }) }, table)
        .total,
    ).toBe(3);
    expect(table.models['gemini-2.5-flash']).toEqual(DEFAULT_BATCH_PRICES.models['gemini-2.5-flash']);
  });

  it('refuses an override without numeric prices, naming the model', () => {
    expect(() => priceTableWith('{"m":{"inputPerMillion":"cheap"}}')).toThrow(
      'BATCH_PRICES_JSON: m needs numeric',
    );
  });
});
