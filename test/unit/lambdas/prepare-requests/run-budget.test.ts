/** The run's budget: its cap and where it comes from, each request's output, and the estimate's arithmetic. */
import { describe, expect, it } from 'vitest';
import {
  ASSUMED_OUTPUT_TOKENS,
  budgetProblem,
  MAX_COST_METADATA,
  RunCostTally,
  requestOutputTokens,
  runCostCap,
} from '../../../../lambdas/prepare-requests/run-budget.js';
import { InputValidationError, RunBudgetError } from '../../../../lambdas/shared/errors.js';
import type { PriceTable } from '../../../../lambdas/shared/pricing/pricing.js';

/** Round numbers, so every expected cost below is arithmetic a reader can redo. */
const PRICES: PriceTable = {
  currency: 'USD',
  basis: 'test prices',
  models: {
    flash: [{ inputPerMillion: 1, outputPerMillion: 4, source: 'test' }],
    pro: [
      {
        inputPerMillion: 1,
        outputPerMillion: 4,
        longPrompt: { inputPerMillion: 2, outputPerMillion: 8 },
        source: 'test',
      },
    ],
    dated: [{ until: '2026-01-01', inputPerMillion: 1, outputPerMillion: 1, source: 'old' }],
  },
};
const AT = new Date('2026-11-03T12:00:00.000Z');

describe('runCostCap', () => {
  it("takes the upload's metadata over the stack's cap, lower or higher", () => {
    expect(runCostCap(10, { [MAX_COST_METADATA]: '2.50' })).toEqual({ maxUsd: 2.5, source: 'metadata' });
    expect(runCostCap(10, { [MAX_COST_METADATA]: ' 40 ' })).toEqual({ maxUsd: 40, source: 'metadata' });
  });

  it("takes the stack's cap when the upload sets none, and no cap when neither does", () => {
    expect(runCostCap(10, { 'gemini-model': 'x' })).toEqual({ maxUsd: 10, source: 'stack' });
    expect(runCostCap(undefined, {})).toBeUndefined();
    expect(runCostCap(undefined, { [MAX_COST_METADATA]: '.5' })).toEqual({ maxUsd: 0.5, source: 'metadata' });
  });

  it.each(['0', '0.00', '-3', 'abc', '', '$5', '1e3', '0x10', 'Infinity', '5 USD'])(
    'refuses metadata %j, which is not a positive number of dollars, naming the metadata',
    (value) => {
      const refusal = () => runCostCap(10, { [MAX_COST_METADATA]: value });
      expect(refusal).toThrow(InputValidationError);
      expect(refusal).toThrow(
        `object metadata gemini-max-cost-usd must be a positive number of US dollars such as 25 or 2.50, got '${value}'`,
      );
    },
  );
});

describe('requestOutputTokens', () => {
  it("takes a Gemini request's maxOutputTokens times its candidates, in either field spelling", () => {
    expect(requestOutputTokens('gemini', 'generate', { generationConfig: { maxOutputTokens: 300 } })).toBe(
      300,
    );
    expect(
      requestOutputTokens('gemini', 'generate', {
        generationConfig: { maxOutputTokens: 300, candidateCount: 3 },
      }),
    ).toBe(900);
    expect(
      requestOutputTokens('gemini', 'generate', {
        generation_config: { max_output_tokens: 50, candidate_count: 2 },
      }),
    ).toBe(100);
  });

  it("takes an OpenAI body's max_completion_tokens or max_tokens, times n", () => {
    expect(requestOutputTokens('openai', 'generate', { max_tokens: 70 })).toBe(70);
    expect(
      requestOutputTokens('openai', 'generate', { max_completion_tokens: 80, max_tokens: 70, n: 2 }),
    ).toBe(160);
  });

  it('says a request sets no cap when it has none or one that is not a positive whole number', () => {
    expect(requestOutputTokens('gemini', 'generate', { contents: [] })).toBeUndefined();
    expect(
      requestOutputTokens('gemini', 'generate', { generationConfig: { maxOutputTokens: '300' } }),
    ).toBeUndefined();
    expect(requestOutputTokens('openai', 'generate', { max_tokens: 0 })).toBeUndefined();
  });

  it('counts no output for an embedding, in either format', () => {
    expect(requestOutputTokens('gemini', 'embed', { content: { parts: [] } })).toBe(0);
    expect(requestOutputTokens('openai', 'embed', { input: 'x', max_tokens: 99 })).toBe(0);
  });
});

describe('RunCostTally', () => {
  it('prices input and output tokens at the batch rates, counting the assumption for a request with no cap', () => {
    const tally = new RunCostTally();
    tally.add('flash', 100_000, 50_000);
    tally.add('flash', 200_000, undefined);
    const estimate = tally.estimate(PRICES, AT, undefined);
    // 300,000 input at $1/M = 0.3; (50,000 + 8,192) output at $4/M = 0.232768.
    expect(ASSUMED_OUTPUT_TOKENS).toBe(8192);
    expect(estimate.estimatedUsd).toBe(0.5328);
    expect(estimate.byModel).toEqual({
      flash: {
        requests: 2,
        inputTokens: 300_000,
        outputTokens: 58_192,
        assumedOutputRequests: 1,
        usd: 0.5328,
      },
    });
    expect(estimate).toMatchObject({
      pricedAt: AT.toISOString(),
      unpricedModels: [],
      outputTokensAssumed: 8192,
    });
    expect(estimate.maxUsd).toBeUndefined();
    expect(estimate.overBudget).toBeUndefined();
  });

  it('prices a request over 200k input tokens whole at the long-prompt rates', () => {
    const tally = new RunCostTally();
    tally.add('pro', 300_000, 1_000);
    tally.add('pro', 100_000, 0);
    // Long: 300,000 × $2/M + 1,000 × $8/M = 0.608; short: 100,000 × $1/M = 0.1.
    expect(tally.estimate(PRICES, AT, undefined).estimatedUsd).toBe(0.708);
  });

  it('marks the estimate over budget only when it passes the cap', () => {
    const tally = new RunCostTally();
    tally.add('flash', 1_000_000, 0);
    expect(tally.estimate(PRICES, AT, { maxUsd: 1, source: 'stack' })).toMatchObject({
      estimatedUsd: 1,
      maxUsd: 1,
      capSource: 'stack',
      overBudget: false,
    });
    expect(tally.estimate(PRICES, AT, { maxUsd: 0.99, source: 'metadata' }).overBudget).toBe(true);
  });

  it('leaves a model with no price that day out of the total, and over any cap', () => {
    const tally = new RunCostTally();
    tally.add('flash', 1_000_000, 0);
    tally.add('dated', 1_000_000, 0);
    const uncapped = tally.estimate(PRICES, AT, undefined);
    expect(uncapped).toMatchObject({ estimatedUsd: 1, unpricedModels: ['dated'] });
    expect(uncapped.byModel.dated?.usd).toBeUndefined();
    expect(tally.estimate(PRICES, AT, { maxUsd: 100, source: 'stack' }).overBudget).toBe(true);
  });
});

describe('budgetProblem', () => {
  it('is none within the cap, or without one', () => {
    const tally = new RunCostTally();
    tally.add('flash', 1_000_000, 0);
    expect(budgetProblem(tally.estimate(PRICES, AT, undefined))).toBeUndefined();
    expect(budgetProblem(tally.estimate(PRICES, AT, { maxUsd: 5, source: 'stack' }))).toBeUndefined();
  });

  it('says the estimate, the cap and where the cap came from, and what to change', () => {
    const tally = new RunCostTally();
    tally.add('flash', 1_000_000, 250_000);
    tally.add('flash', 0, undefined);
    const error = budgetProblem(tally.estimate(PRICES, AT, { maxUsd: 1.5, source: 'metadata' }));
    expect(error).toBeInstanceOf(RunBudgetError);
    expect(error?.name).toBe('RunBudgetError');
    // 1,000,000 × $1/M + (250,000 + 8,192) × $4/M = 2.032768.
    expect(error?.message).toBe(
      "the run's estimated cost at batch prices, $2.0328, is over its cap of $1.50 (the upload's gemini-max-cost-usd metadata): 2 requests, about 1000000 input and 258192 output tokens; 1 requests set no maxOutputTokens and were counted at 8192 output tokens each. No batch job was created; raise the cap, send fewer requests or set their maxOutputTokens",
    );
  });

  it('names the models it cannot price under a cap', () => {
    const tally = new RunCostTally();
    tally.add('dated', 10, 0);
    expect(budgetProblem(tally.estimate(PRICES, AT, { maxUsd: 100, source: 'stack' }))?.message).toBe(
      "the run cannot be held to its cap of $100.00 (the stack's maxRunCostUsd): the price table has no batch price on 2026-11-03 for dated; add it with the stack's batchPrices, or remove the cap. No batch job was created",
    );
  });
});
