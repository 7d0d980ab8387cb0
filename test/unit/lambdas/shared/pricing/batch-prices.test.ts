import { describe, expect, it } from 'vitest';
import { DEFAULT_MODELS } from '../../../../../infra/constructs/gemini-batch-pipeline.js';
import { BATCH_DISCOUNT, DEFAULT_BATCH_PRICES } from '../../../../../lambdas/shared/pricing/batch-prices.js';
import { parsePriceModels, priceOn } from '../../../../../lambdas/shared/pricing/pricing.js';

describe('DEFAULT_BATCH_PRICES', () => {
  it('is half of the standard price: Gemini 3.8 Flash at $0.375 / $1.875 in 2026', () => {
    const entry = priceOn(DEFAULT_BATCH_PRICES.models['gemini-3.8-flash'] ?? [], '2026-12-31');
    expect(entry).toMatchObject({
      inputPerMillion: 0.375,
      outputPerMillion: 1.875,
      cachedInputPerMillion: 0.0375,
    });
    expect(BATCH_DISCOUNT).toBe(0.5);
  });

  it('doubles Gemini 3.8 Flash on 2027-01-01, as the pricing page announces', () => {
    const entries = DEFAULT_BATCH_PRICES.models['gemini-3.8-flash'] ?? [];
    expect(priceOn(entries, '2026-12-31')).toMatchObject({ until: '2027-01-01', inputPerMillion: 0.375 });
    expect(priceOn(entries, '2027-01-01')).toMatchObject({
      from: '2027-01-01',
      inputPerMillion: 0.75,
      outputPerMillion: 3.75,
    });
  });

  it('has a source with a date for every entry, and passes its own validation', () => {
    for (const [model, entries] of Object.entries(DEFAULT_BATCH_PRICES.models)) {
      for (const entry of entries) expect(entry.source, model).toMatch(/https:\/\/.+(20\d\d-\d\d)/);
    }
    expect(() => parsePriceModels(DEFAULT_BATCH_PRICES.models, 'the default table', '')).not.toThrow();
  });

  it('prices the default models of the stack', () => {
    for (const model of Object.values(DEFAULT_MODELS)) {
      expect(priceOn(DEFAULT_BATCH_PRICES.models[model] ?? [], '2026-12-01'), model).toBeDefined();
    }
  });
});
