import type { ModelUsage } from './run-records.js';

/** USD per million tokens at batch prices. Thinking tokens are billed as output. */
export interface ModelPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

export interface PriceTable {
  readonly currency: 'USD';
  /** When the prices were read, and where: estimates are only as current as this. */
  readonly asOf: string;
  readonly source: string;
  readonly models: Readonly<Record<string, ModelPrice>>;
}

/**
 * Gemini 2.5 batch prices: half the standard list prices for prompts up to 200k tokens, as
 * published on Google's Gemini API pricing page. Override or extend with `BATCH_PRICES_JSON`
 * (`{"model": {"inputPerMillion": n, "outputPerMillion": n}}`) when prices change.
 */
export const DEFAULT_BATCH_PRICES: PriceTable = {
  currency: 'USD',
  asOf: '2026-11',
  source: 'https://ai.google.dev/gemini-api/docs/pricing (Batch API: 50% of the standard price)',
  models: {
    'gemini-2.5-pro': { inputPerMillion: 0.625, outputPerMillion: 5 },
    'gemini-2.5-flash': { inputPerMillion: 0.15, outputPerMillion: 1.25 },
    'gemini-2.5-flash-lite': { inputPerMillion: 0.05, outputPerMillion: 0.2 },
    'gemini-embedding-001': { inputPerMillion: 0.075, outputPerMillion: 0 },
  },
};

export interface CostEstimate {
  readonly currency: 'USD';
  readonly total: number;
  readonly byModel: Readonly<
    Record<string, { readonly input: number; readonly output: number; readonly total: number }>
  >;
  /** Models used that the table has no price for: their cost is not in the total. */
  readonly unpricedModels: readonly string[];
  readonly prices: { readonly asOf: string; readonly source: string };
}

/** Rounds to a hundredth of a cent: estimates, not invoices. */
const round = (usd: number): number => Math.round(usd * 10_000) / 10_000;

/** The run's estimated cost at batch prices, from the token usage Gemini reported. */
export function estimateCost(
  usageByModel: Readonly<Record<string, ModelUsage>>,
  prices: PriceTable = DEFAULT_BATCH_PRICES,
): CostEstimate {
  const byModel: Record<string, { input: number; output: number; total: number }> = {};
  const unpricedModels: string[] = [];
  let total = 0;
  for (const [model, usage] of Object.entries(usageByModel)) {
    const price = prices.models[model];
    if (!price) {
      unpricedModels.push(model);
      continue;
    }
    const input = (usage.promptTokens / 1e6) * price.inputPerMillion;
    const output = ((usage.outputTokens + usage.thoughtsTokens) / 1e6) * price.outputPerMillion;
    byModel[model] = { input: round(input), output: round(output), total: round(input + output) };
    total += input + output;
  }
  return {
    currency: prices.currency,
    total: round(total),
    byModel,
    unpricedModels,
    prices: { asOf: prices.asOf, source: prices.source },
  };
}

/** The default table with a JSON override (`{"model": {"inputPerMillion", "outputPerMillion"}}`) applied. */
export function priceTableWith(overrideJson: string | undefined): PriceTable {
  if (!overrideJson) return DEFAULT_BATCH_PRICES;
  const overrides = JSON.parse(overrideJson) as Record<string, ModelPrice>;
  for (const [model, price] of Object.entries(overrides)) {
    if (!(Number.isFinite(price?.inputPerMillion) && Number.isFinite(price?.outputPerMillion))) {
      throw new Error(`BATCH_PRICES_JSON: ${model} needs numeric inputPerMillion and outputPerMillion`);
    }
  }
  return {
    ...DEFAULT_BATCH_PRICES,
    source: `${DEFAULT_BATCH_PRICES.source}, with the stack's overrides`,
    models: { ...DEFAULT_BATCH_PRICES.models, ...overrides },
  };
}
