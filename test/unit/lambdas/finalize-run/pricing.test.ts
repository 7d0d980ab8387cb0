import { describe, expect, it } from 'vitest';
import { DEFAULT_MODELS } from '../../../../infra/constructs/gemini-batch-pipeline.js';
import {
  BATCH_DISCOUNT,
  DEFAULT_BATCH_PRICES,
  estimateCost,
  type PriceTable,
  parsePriceModels,
  priceOn,
  priceTableWith,
} from '../../../../lambdas/finalize-run/pricing.js';
import { emptyModelUsage, type ModelUsage } from '../../../../lambdas/shared/run/work-records.js';

const usage = (counts: Partial<ModelUsage>): ModelUsage => ({ ...emptyModelUsage(), ...counts });
const on = (day: string) => ({ at: new Date(`${day}T12:00:00.000Z`) });
const M = 1_000_000;

/** A table with one model, for arithmetic that does not depend on the published prices. */
const table = (entries: PriceTable['models'][string]): PriceTable => ({
  currency: 'USD',
  basis: 'test',
  models: { m: entries },
});

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

describe('priceTableWith', () => {
  it('is the default table without an override', () => {
    expect(priceTableWith(undefined)).toBe(DEFAULT_BATCH_PRICES);
    expect(priceTableWith('')).toBe(DEFAULT_BATCH_PRICES);
  });

  it('still takes the original format: one batch price per model, for every date', () => {
    const prices = priceTableWith('{"my-tuned-model":{"inputPerMillion":1,"outputPerMillion":2}}');

    const cost = estimateCost(
      { 'my-tuned-model': usage({ promptTokens: M, outputTokens: M }) },
      prices,
      on('2030-01-01'),
    );
    expect(cost.total).toBe(3);
    expect(cost.prices).toEqual([
      { model: 'my-tuned-model', source: "the stack's batchPrices (BATCH_PRICES_JSON)" },
    ]);
    expect(prices.models['gemini-2.5-flash']).toEqual(DEFAULT_BATCH_PRICES.models['gemini-2.5-flash']);
    expect(prices.basis).toContain("the stack's batchPrices for my-tuned-model");
  });

  it("takes dated entries with cached and long-prompt rates and a source, replacing the model's defaults", () => {
    const prices = priceTableWith(
      JSON.stringify({
        'gemini-3.8-flash': [
          { until: '2027-01-01', inputPerMillion: 0.3, outputPerMillion: 1, source: 'our contract' },
          {
            from: '2027-01-01',
            inputPerMillion: 0.6,
            outputPerMillion: 2,
            cachedInputPerMillion: 0.06,
            longPrompt: { inputPerMillion: 1.2, outputPerMillion: 4 },
          },
        ],
      }),
    );
    const entries = prices.models['gemini-3.8-flash'] ?? [];
    expect(priceOn(entries, '2026-06-01')).toEqual({
      until: '2027-01-01',
      inputPerMillion: 0.3,
      outputPerMillion: 1,
      source: 'our contract',
    });
    expect(priceOn(entries, '2027-02-01')).toEqual({
      from: '2027-01-01',
      inputPerMillion: 0.6,
      outputPerMillion: 2,
      cachedInputPerMillion: 0.06,
      longPrompt: { inputPerMillion: 1.2, outputPerMillion: 4 },
      source: "the stack's batchPrices (BATCH_PRICES_JSON)",
    });
  });

  it.each([
    ['not json', 'BATCH_PRICES_JSON is not valid JSON: '],
    ['[1]', 'BATCH_PRICES_JSON must be an object of model names to prices, got an array'],
    [
      '{"m":{"inputPerMillion":"cheap"}}',
      'BATCH_PRICES_JSON: m needs a numeric inputPerMillion (USD per million tokens at batch prices, not negative), got "cheap"',
    ],
    [
      '{"m":{"inputPerMillion":1}}',
      'BATCH_PRICES_JSON: m needs a numeric outputPerMillion (USD per million tokens at batch prices, not negative), got nothing',
    ],
    [
      '{"m":{"inputPerMillion":-1,"outputPerMillion":1}}',
      'BATCH_PRICES_JSON: m needs a numeric inputPerMillion',
    ],
    [
      '{"m":{"inputPerMillion":1,"outputPerMillion":1,"cachedInputPerMillion":"x"}}',
      'BATCH_PRICES_JSON: m needs a numeric cachedInputPerMillion',
    ],
    [
      '{"m":[{"inputPerMillion":1,"outputPerMillion":1},{"inputPerMillion":1}]}',
      'BATCH_PRICES_JSON: m[1] needs a numeric outputPerMillion',
    ],
    [
      '{"m":{"inputPerMillion":1,"outputPerMillion":1,"longPrompt":{"inputPerMillion":2}}}',
      'BATCH_PRICES_JSON: m.longPrompt needs a numeric outputPerMillion',
    ],
    [
      '{"m":{"inputPerMilion":1,"outputPerMillion":1}}',
      'BATCH_PRICES_JSON: m needs a numeric inputPerMillion',
    ],
    [
      '{"m":{"inputPerMillion":1,"outputPerMillion":1,"form":"2027-01-01"}}',
      'BATCH_PRICES_JSON: m has an unknown field "form"',
    ],
    [
      '{"m":{"inputPerMillion":1,"outputPerMillion":1,"from":"Jan 1"}}',
      'BATCH_PRICES_JSON: m.from must be a day such as 2027-01-01, got "Jan 1"',
    ],
    [
      '{"m":{"inputPerMillion":1,"outputPerMillion":1,"from":"2027-01-01","until":"2026-01-01"}}',
      'BATCH_PRICES_JSON: m starts on 2027-01-01 but ends (until) on 2026-01-01',
    ],
    ['{"m":[]}', 'BATCH_PRICES_JSON: m has an empty list of prices'],
    [
      '{"m":[{"inputPerMillion":1,"outputPerMillion":1},{"from":"2027-01-01","inputPerMillion":2,"outputPerMillion":2}]}',
      'BATCH_PRICES_JSON: the prices of m overlap',
    ],
    [
      '{"m":{"inputPerMillion":1,"outputPerMillion":1,"source":""}}',
      'BATCH_PRICES_JSON: m.source must be a non-empty string',
    ],
  ])('refuses %s, saying what is wrong', (json, message) => {
    expect(() => priceTableWith(json)).toThrow(message);
  });

  it('accepts adjoining entries: one ending the day the next begins', () => {
    expect(() =>
      priceTableWith(
        '{"m":[{"until":"2027-01-01","inputPerMillion":1,"outputPerMillion":1},{"from":"2027-01-01","inputPerMillion":2,"outputPerMillion":2}]}',
      ),
    ).not.toThrow();
  });
});
