import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_PRICES } from '../../../../../lambdas/shared/pricing/batch-prices.js';
import { estimateCost } from '../../../../../lambdas/shared/pricing/cost-estimate.js';
import type { PriceTable } from '../../../../../lambdas/shared/pricing/pricing.js';
import { emptyModelUsage, type ModelUsage } from '../../../../../lambdas/shared/run/work-records.js';

const usage = (counts: Partial<ModelUsage>): ModelUsage => ({ ...emptyModelUsage(), ...counts });
const on = (day: string) => ({ at: new Date(`${day}T12:00:00.000Z`) });
const M = 1_000_000;

/** A table with one model, for arithmetic that does not depend on the published prices. */
const table = (entries: PriceTable['models'][string]): PriceTable => ({
  currency: 'USD',
  basis: 'test',
  models: { m: entries },
});

describe('estimateCost', () => {
  it('prices input and output (thinking included) per million tokens at batch prices', () => {
    const cost = estimateCost(
      { 'gemini-2.5-flash': usage({ promptTokens: 2 * M, outputTokens: 600_000, thoughtsTokens: 400_000 }) },
      DEFAULT_BATCH_PRICES,
      on('2026-11-03'),
    );

    // 2M × $0.15 + (0.6M + 0.4M) × $1.25
    expect(cost.byModel['gemini-2.5-flash']).toEqual({
      input: 0.3,
      cachedInput: 0,
      output: 1.25,
      total: 1.55,
    });
    expect(cost.total).toBe(1.55);
    expect(cost.currency).toBe('USD');
  });

  it('picks the entry in force on the day of `at`, and says which it used', () => {
    const usageOf = { 'gemini-3.8-flash': usage({ promptTokens: M, outputTokens: M }) };
    const before = estimateCost(usageOf, DEFAULT_BATCH_PRICES, on('2026-12-31'));
    const after = estimateCost(usageOf, DEFAULT_BATCH_PRICES, on('2027-01-01'));

    expect(before.total).toBe(0.375 + 1.875);
    expect(after.total).toBe(0.75 + 3.75);
    expect(before.prices).toEqual([
      {
        model: 'gemini-3.8-flash',
        from: '2026-09-02',
        until: '2027-01-01',
        source: expect.stringContaining('https://ai.google.dev/gemini-api/docs/pricing'),
      },
    ]);
    expect(after.prices).toEqual([
      { model: 'gemini-3.8-flash', from: '2027-01-01', source: expect.any(String) },
    ]);
    expect(after.pricedAt).toBe('2027-01-01T12:00:00.000Z');
  });

  it('uses the UTC day: 23:30 on Dec 31 in UTC is still the 2026 price', () => {
    const cost = estimateCost({ 'gemini-3.8-flash': usage({ promptTokens: M }) }, DEFAULT_BATCH_PRICES, {
      at: new Date('2026-12-31T23:30:00.000Z'),
    });
    expect(cost.total).toBe(0.375);
  });

  it('notes a price change between the start of the run and the day it was priced', () => {
    const usageOf = { 'gemini-3.8-flash': usage({ promptTokens: M }) };
    const across = estimateCost(usageOf, DEFAULT_BATCH_PRICES, {
      at: new Date('2027-01-01T02:00:00.000Z'),
      since: new Date('2026-12-31T22:00:00.000Z'),
    });
    const within = estimateCost(usageOf, DEFAULT_BATCH_PRICES, {
      at: new Date('2026-12-30T02:00:00.000Z'),
      since: new Date('2026-12-29T22:00:00.000Z'),
    });
    expect(across.notes).toEqual([
      'the price of gemini-3.8-flash changed during the run (2027-01-01): every request is priced at the later one, although those processed before may have cost less',
    ]);
    expect(within.notes).toEqual([]);
  });

  it('prices cached prompt tokens at the cached rate, and as input where there is none', () => {
    const withCache = table([
      { inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: 0.1, source: 's' },
    ]);
    const withoutCache = table([{ inputPerMillion: 1, outputPerMillion: 2, source: 's' }]);
    const used = { m: usage({ promptTokens: 3 * M, cachedTokens: 2 * M }) };

    expect(estimateCost(used, withCache, on('2026-12-01')).byModel.m).toEqual({
      input: 1,
      cachedInput: 0.2,
      output: 0,
      total: 1.2,
    });
    expect(estimateCost(used, withoutCache, on('2026-12-01')).byModel.m?.total).toBe(3);
  });

  it('prices long-prompt requests at the long-prompt rates, cached and output included', () => {
    const tiered = table([
      {
        inputPerMillion: 1,
        outputPerMillion: 10,
        cachedInputPerMillion: 0.1,
        longPrompt: { inputPerMillion: 2, outputPerMillion: 20, cachedInputPerMillion: 0.2 },
        source: 's',
      },
    ]);
    const used = {
      m: usage({
        // 1M short prompt (0.5M of it cached) and 3M long prompt (1M of it cached)
        promptTokens: 4 * M,
        cachedTokens: 1.5 * M,
        longPromptRequests: 10,
        longPromptTokens: 3 * M,
        longPromptCachedTokens: M,
        // 1M short output + thinking, 0.5M long
        outputTokens: 1.2 * M,
        thoughtsTokens: 0.3 * M,
        longPromptOutputTokens: 0.5 * M,
      }),
    };
    expect(estimateCost(used, tiered, on('2026-12-01')).byModel.m).toEqual({
      input: 0.5 * 1 + 2 * 2,
      cachedInput: 0.5 * 0.1 + 1 * 0.2,
      output: 1 * 10 + 0.5 * 20,
      total: 4.5 + 0.25 + 20,
    });
  });

  it('prices long prompts at the ordinary rates for a model without a long-prompt tier', () => {
    const flat = table([{ inputPerMillion: 1, outputPerMillion: 10, source: 's' }]);
    const used = {
      m: usage({ promptTokens: 3 * M, longPromptTokens: 2 * M, outputTokens: M, longPromptOutputTokens: M }),
    };
    expect(estimateCost(used, flat, on('2026-12-01')).byModel.m?.total).toBe(3 + 10);
  });

  it('prices Gemini 2.5 Pro above 200k prompt tokens at its long-prompt batch rates', () => {
    const cost = estimateCost(
      {
        'gemini-2.5-pro': usage({
          promptTokens: M,
          longPromptTokens: M,
          longPromptRequests: 4,
          outputTokens: M,
          longPromptOutputTokens: M,
        }),
      },
      DEFAULT_BATCH_PRICES,
      on('2026-12-01'),
    );
    // Half of $2.50 and $15.00.
    expect(cost.byModel['gemini-2.5-pro']).toEqual({ input: 1.25, cachedInput: 0, output: 7.5, total: 8.75 });
  });

  it('sums models and leaves unpriced ones out of the total, naming them', () => {
    const cost = estimateCost(
      {
        'gemini-embedding-001': usage({ promptTokens: 4 * M }),
        'gemini-9-experimental': usage({ promptTokens: M }),
      },
      DEFAULT_BATCH_PRICES,
      on('2026-12-01'),
    );
    expect(cost.total).toBe(0.3);
    expect(cost.unpricedModels).toEqual(['gemini-9-experimental']);
    expect(cost.prices.map((price) => price.model)).toEqual(['gemini-embedding-001']);
  });

  it('leaves a model unpriced on a day none of its entries covers', () => {
    const before = table([{ from: '2027-01-01', inputPerMillion: 1, outputPerMillion: 1, source: 's' }]);
    const cost = estimateCost({ m: usage({ promptTokens: M }) }, before, on('2026-12-31'));
    expect(cost.unpricedModels).toEqual(['m']);
    expect(cost.total).toBe(0);
  });
});
