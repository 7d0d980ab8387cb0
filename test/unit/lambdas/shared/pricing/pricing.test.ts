import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_PRICES } from '../../../../../lambdas/shared/pricing/batch-prices.js';
import { estimateCost } from '../../../../../lambdas/shared/pricing/cost-estimate.js';
import { priceOn, priceTableWith } from '../../../../../lambdas/shared/pricing/pricing.js';
import { emptyModelUsage, type ModelUsage } from '../../../../../lambdas/shared/run/work-records.js';

const usage = (counts: Partial<ModelUsage>): ModelUsage => ({ ...emptyModelUsage(), ...counts });
const on = (day: string) => ({ at: new Date(`${day}T12:00:00.000Z`) });
const M = 1_000_000;

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
