/**
 * What a run cost at batch prices, estimated from the token usage Gemini reported and the price
 * table's entry in force on the day the requests were billed.
 */
import type { ModelUsage } from '../run/work-records.js';
import { type PriceEntry, type PriceTable, priceOn, type TokenRates } from './pricing.js';

/** Which entry priced a model's usage: what the manifest shows beside the cost. */
export interface UsedPrice {
  readonly model: string;
  readonly from?: string;
  readonly until?: string;
  readonly source: string;
}

export interface ModelCost {
  /** Prompt tokens not served from a cache. */
  readonly input: number;
  readonly cachedInput: number;
  /** Output and thinking tokens. */
  readonly output: number;
  readonly total: number;
}

export interface CostEstimate {
  readonly currency: 'USD';
  readonly basis: string;
  /** The instant whose day picked each model's entry (see {@link CostDates}). */
  readonly pricedAt: string;
  readonly total: number;
  readonly byModel: Readonly<Record<string, ModelCost>>;
  /** The entry used for each priced model: its dates and source. */
  readonly prices: readonly UsedPrice[];
  /** Models used that the table has no price for on that day: their cost is not in the total. */
  readonly unpricedModels: readonly string[];
  /** What a reader should know about the estimate, e.g. a price change during the run. */
  readonly notes: readonly string[];
}

/**
 * When the run's requests were billed. Gemini bills a batch request when it processes it, which is
 * some time between the job's creation and its end, so `at` should be as close to the jobs' end as
 * is known; `since` (when the run began) lets the estimate say when a price changed in between.
 */
export interface CostDates {
  readonly at: Date;
  readonly since?: Date;
}

/** Rounds to a hundredth of a cent: estimates, not invoices. */
const round = (usd: number): number => Math.round(usd * 10_000) / 10_000;

const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

const perMillion = (tokens: number, rate: number): number => (tokens / 1e6) * rate;

/** A model's cost under one entry, long-prompt requests at the long rates where the entry has them. */
function costOf(usage: ModelUsage, entry: PriceEntry): ModelCost {
  const long = entry.longPrompt ?? entry;
  const cachedRate = (rates: TokenRates) => rates.cachedInputPerMillion ?? rates.inputPerMillion;
  // promptTokens includes the cached ones, and the long-prompt counts are part of the totals.
  const shortCached = usage.cachedTokens - usage.longPromptCachedTokens;
  const shortInput = usage.promptTokens - usage.longPromptTokens - shortCached;
  const shortOutput = usage.outputTokens + usage.thoughtsTokens - usage.longPromptOutputTokens;
  const longCached = usage.longPromptCachedTokens;
  const longInput = usage.longPromptTokens - longCached;
  const input = perMillion(shortInput, entry.inputPerMillion) + perMillion(longInput, long.inputPerMillion);
  const cachedInput = perMillion(shortCached, cachedRate(entry)) + perMillion(longCached, cachedRate(long));
  const output =
    perMillion(shortOutput, entry.outputPerMillion) +
    perMillion(usage.longPromptOutputTokens, long.outputPerMillion);
  return {
    input: round(input),
    cachedInput: round(cachedInput),
    output: round(output),
    total: input + cachedInput + output,
  };
}

/**
 * The run's estimated cost at batch prices, from the token usage Gemini reported: uncached, cached
 * and output (thinking included) tokens at the rates of the entry in force on `dates.at`'s day
 * (UTC), long-prompt requests at the long-prompt rates.
 */
export function estimateCost(
  usageByModel: Readonly<Record<string, ModelUsage>>,
  prices: PriceTable,
  dates: CostDates,
): CostEstimate {
  const day = dayOf(dates.at);
  const startDay = dates.since ? dayOf(dates.since) : day;
  const byModel: Record<string, ModelCost> = {};
  const used: UsedPrice[] = [];
  const unpricedModels: string[] = [];
  const notes: string[] = [];
  let total = 0;
  for (const [model, usage] of Object.entries(usageByModel)) {
    const entries = prices.models[model] ?? [];
    const entry = priceOn(entries, day);
    if (!entry) {
      unpricedModels.push(model);
      continue;
    }
    const cost = costOf(usage, entry);
    byModel[model] = { ...cost, total: round(cost.total) };
    total += cost.total;
    used.push({
      model,
      from: entry.from,
      until: entry.until,
      source: entry.source,
    });
    if (startDay < day && priceOn(entries, startDay) !== entry) {
      notes.push(
        `the price of ${model} changed during the run (${entry.from ?? 'between its start and end'}): every request is priced at the later one, although those processed before may have cost less`,
      );
    }
  }
  return {
    currency: prices.currency,
    basis: prices.basis,
    pricedAt: dates.at.toISOString(),
    total: round(total),
    byModel,
    prices: used,
    unpricedModels,
    notes,
  };
}
