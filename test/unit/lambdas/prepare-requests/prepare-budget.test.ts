/** Prepare's estimate of the run's cost, recorded in the plan, and the cap it holds the run to. */
import { describe, expect, it } from 'vitest';
import { MAX_COST_METADATA } from '../../../../lambdas/prepare-requests/run-budget.js';
import type { PriceTable } from '../../../../lambdas/shared/pricing/pricing.js';
import { MODELS } from '../run-fixtures.js';
import { embed, generate, jsonl, preparation } from './prepare-fixture.js';

/** $1 per million input tokens and $1,000 per million output tokens: output dominates, on purpose. */
const PRICES: PriceTable = {
  currency: 'USD',
  basis: 'test prices',
  models: {
    [MODELS.generate]: [{ inputPerMillion: 1, outputPerMillion: 1000, source: 'test' }],
    [MODELS.embed]: [{ inputPerMillion: 1, outputPerMillion: 1000, source: 'test' }],
  },
};
const capped = (text: string, maxOutputTokens: number) => ({
  ...generate(text),
  generationConfig: { maxOutputTokens },
});
const LINES = jsonl([
  { key: 'a', request: capped('one', 100) },
  { key: 'b', request: generate('two') },
  { key: 'c', request: embed('three') },
]);

describe('prepareRequests: the run budget', () => {
  it('records the estimate in the plan, priced from the same tokens the chunks are cut by', async () => {
    const prepared = preparation(LINES, { prices: PRICES });
    await prepared.run();
    const { plan } = await prepared.outputs();
    const tokensOf = (model: string) =>
      (plan?.chunks ?? []).filter((c) => c.model === model).reduce((sum, c) => sum + c.estimatedTokens, 0);
    const generateInput = tokensOf(MODELS.generate);
    const embedInput = tokensOf(MODELS.embed);
    expect(plan?.estimate?.byModel).toEqual({
      [MODELS.generate]: {
        requests: 2,
        inputTokens: generateInput,
        outputTokens: 100 + 8192,
        assumedOutputRequests: 1,
        usd: expect.any(Number),
      },
      [MODELS.embed]: {
        requests: 1,
        inputTokens: embedInput,
        outputTokens: 0,
        assumedOutputRequests: 0,
        usd: expect.any(Number),
      },
    });
    const usd = ((generateInput + embedInput) * 1 + 8292 * 1000) / 1e6;
    expect(plan?.estimate?.estimatedUsd).toBeCloseTo(usd, 4);
    expect(plan?.estimate?.maxUsd).toBeUndefined();
  });

  it('fails a run over the stack cap with RunBudgetError, after writing the plan with the estimate', async () => {
    // 8,292 output tokens at $1,000/M is about $8.29.
    const prepared = preparation(LINES, { prices: PRICES, maxRunCostUsd: 5 });
    await expect(prepared.run()).rejects.toMatchObject({
      name: 'RunBudgetError',
      message: expect.stringMatching(
        /^the run's estimated cost at batch prices, \$8\.29\d*, is over its cap of \$5\.00 \(the stack's maxRunCostUsd\)/,
      ),
    });
    const { plan } = await prepared.outputs();
    expect(plan?.acceptedCount).toBe(3);
    expect(plan?.estimate).toMatchObject({ maxUsd: 5, capSource: 'stack', overBudget: true });
  });

  it('runs a file under its cap', async () => {
    const prepared = preparation(LINES, { prices: PRICES, maxRunCostUsd: 9 });
    await expect(prepared.run()).resolves.toMatchObject({ acceptedCount: 3 });
    expect((await prepared.outputs()).plan?.estimate).toMatchObject({ maxUsd: 9, overBudget: false });
  });

  it("lets the upload's gemini-max-cost-usd override the stack's cap, both ways", async () => {
    const raised = preparation(LINES, { prices: PRICES, maxRunCostUsd: 5 }, { [MAX_COST_METADATA]: '20' });
    await expect(raised.run()).resolves.toMatchObject({ acceptedCount: 3 });
    expect((await raised.outputs()).plan?.estimate).toMatchObject({ maxUsd: 20, capSource: 'metadata' });

    const lowered = preparation(LINES, { prices: PRICES, maxRunCostUsd: 100 }, { [MAX_COST_METADATA]: '1' });
    await expect(lowered.run()).rejects.toMatchObject({
      name: 'RunBudgetError',
      message: expect.stringContaining("cap of $1.00 (the upload's gemini-max-cost-usd metadata)"),
    });
  });

  it('refuses metadata that is not a positive number before reading a line', async () => {
    const prepared = preparation(LINES, { prices: PRICES }, { [MAX_COST_METADATA]: 'ten dollars' });
    await expect(prepared.run()).rejects.toMatchObject({
      name: 'InputValidationError',
      message:
        "object metadata gemini-max-cost-usd must be a positive number of US dollars such as 25 or 2.50, got 'ten dollars'",
    });
    expect((await prepared.outputs()).plan).toBeUndefined();
  });

  it('fails a capped run using a model the table cannot price, naming it', async () => {
    const prices: PriceTable = { ...PRICES, models: { [MODELS.embed]: PRICES.models[MODELS.embed] ?? [] } };
    const prepared = preparation(LINES, { prices, maxRunCostUsd: 1000 });
    await expect(prepared.run()).rejects.toMatchObject({
      name: 'RunBudgetError',
      message: expect.stringContaining(`no batch price on 2026-11-03 for ${MODELS.generate}`),
    });
  });
});
