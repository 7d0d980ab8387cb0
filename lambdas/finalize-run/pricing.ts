import { LONG_PROMPT_TOKENS, type ModelUsage } from '../shared/run/work-records.js';

/** USD per million tokens. Output includes thinking tokens, which Gemini bills as output. */
export interface TokenRates {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  /**
   * Prompt tokens served from a context cache (`cachedContentTokenCount`, implicit or explicit).
   * Absent where no rate is published: cached tokens are then priced as input, an over-estimate.
   */
  readonly cachedInputPerMillion?: number;
}

/**
 * One batch price of a model, for a span of days (UTC). Gemini's prices change on dates (Gemini 3.8
 * Flash doubles on 2027-01-01), so each entry says when it applies and where it was read.
 */
export interface PriceEntry extends TokenRates {
  /** First day it applies (`YYYY-MM-DD`, inclusive). Absent: since before the table was written. */
  readonly from?: string;
  /** First day it no longer applies (`YYYY-MM-DD`, exclusive). Absent: until further notice. */
  readonly until?: string;
  /**
   * The rates of a request whose prompt is longer than {@link LONG_PROMPT_TOKENS} (the whole request
   * is billed at them). Absent: the model has one rate for every prompt length.
   */
  readonly longPrompt?: TokenRates;
  /** Where the price was read and when: an estimate is only as current as this. */
  readonly source: string;
}

/**
 * A model's batch price as the stack's `batchPrices` prop and `BATCH_PRICES_JSON` have always
 * taken it (`{"inputPerMillion", "outputPerMillion"}`), now optionally with cached and long-prompt
 * rates: one entry for every date.
 */
export interface ModelPrice extends TokenRates {
  readonly longPrompt?: TokenRates;
  readonly source?: string;
}

export interface PriceTable {
  readonly currency: 'USD';
  /** What the rates are: batch prices, and how they relate to the published ones. */
  readonly basis: string;
  /** Each model's entries; at most one applies on any day. */
  readonly models: Readonly<Record<string, readonly PriceEntry[]>>;
}

/** Batch jobs cost half the standard (interactive) price: Gemini API pricing page, "Batch API (50% cost reduction)". */
export const BATCH_DISCOUNT = 0.5;

const PRICING_PAGE = 'https://ai.google.dev/gemini-api/docs/pricing';
/** Google's page as read on 2026-10-07 (transcribed verbatim in api-evangelist/deepmind, plans/deepmind-plans-pricing.yml). */
const READ_2026_10_07 = `${PRICING_PAGE} (standard prices read 2026-10-07)`;

/** The standard (interactive) prices, per model, as published: the batch table is derived from them. */
const STANDARD_PRICES: Readonly<Record<string, readonly PriceEntry[]>> = {
  'gemini-3.8-flash': [
    {
      from: '2026-09-02',
      until: '2027-01-01',
      inputPerMillion: 0.75,
      outputPerMillion: 3.75,
      cachedInputPerMillion: 0.075,
      source: `${READ_2026_10_07}: "$0.75 through December 31, 2026", output "$3.75"; cached input $0.075 from https://docs.apiyi.com/en/models/gemini-3-8-flash (2026-09-02); released 2026-09-02 (https://apidog.com/blog/how-to-use-gemini-3-8-flash-api/)`,
    },
    {
      from: '2027-01-01',
      inputPerMillion: 1.5,
      outputPerMillion: 7.5,
      // Not published yet: 10% of input, the ratio of every Gemini 3 cached rate that is.
      cachedInputPerMillion: 0.15,
      source: `${READ_2026_10_07}: "$1.50 starting January 1, 2027", output "$7.50 starting January 1, 2027"; cached input assumed 10% of input (unpublished)`,
    },
  ],
  'gemini-3.5-flash': [
    {
      from: '2026-05-19',
      inputPerMillion: 1.5,
      outputPerMillion: 9,
      cachedInputPerMillion: 0.15,
      source: `${READ_2026_10_07}; cached input from a third-party table of 2026-05-19 (gemini-reality-2026.md)`,
    },
  ],
  'gemini-3.5-flash-lite': [{ inputPerMillion: 0.3, outputPerMillion: 2.5, source: READ_2026_10_07 }],
  'gemini-3.1-pro-preview': [
    {
      inputPerMillion: 2,
      outputPerMillion: 12,
      longPrompt: { inputPerMillion: 4, outputPerMillion: 18 },
      source: `${READ_2026_10_07}: $2.00 / $12.00 for prompts <= 200k tokens, $4.00 / $18.00 above`,
    },
  ],
  'gemini-3-flash-preview': [
    {
      inputPerMillion: 0.5,
      outputPerMillion: 3,
      cachedInputPerMillion: 0.05,
      source: `${PRICING_PAGE} as quoted by https://factquire.com/models/google/gemini-3-flash-preview.json (accessed 2026-07-04)`,
    },
  ],
  'gemini-3.1-flash-lite-preview': [
    {
      inputPerMillion: 0.25,
      outputPerMillion: 1.5,
      cachedInputPerMillion: 0.025,
      source: `${PRICING_PAGE} (updated 2026-03-03) as quoted by https://macaron.im/blog/gemini-flash-lite-pricing`,
    },
  ],
  'gemini-2.5-pro': [
    {
      inputPerMillion: 1.25,
      outputPerMillion: 10,
      cachedInputPerMillion: 0.31,
      longPrompt: { inputPerMillion: 2.5, outputPerMillion: 15, cachedInputPerMillion: 0.625 },
      source: `${READ_2026_10_07}: input $1.25 <= 200k, $2.50 above; output $10 / $15 and caching $0.31 / $0.625 as quoted by https://deploybase.ai/articles/gemini-api-pricing (2026-01-08) and https://discuss.ai.google.dev/t/92919`,
    },
  ],
  'gemini-2.5-flash': [
    {
      inputPerMillion: 0.3,
      outputPerMillion: 2.5,
      source: `${READ_2026_10_07}: text, image and video input (audio input is $1.00 and is priced as text here)`,
    },
  ],
  'gemini-2.5-flash-lite': [{ inputPerMillion: 0.1, outputPerMillion: 0.4, source: READ_2026_10_07 }],
  'gemini-embedding-2': [
    { inputPerMillion: 0.2, outputPerMillion: 0, source: `${READ_2026_10_07}: text input` },
  ],
  'gemini-embedding-001': [
    {
      inputPerMillion: 0.15,
      outputPerMillion: 0,
      source: `${PRICING_PAGE} (read 2026-11, this table's earlier edition)`,
    },
  ],
};

const scaled = (rates: TokenRates, factor: number): TokenRates => ({
  inputPerMillion: rates.inputPerMillion * factor,
  outputPerMillion: rates.outputPerMillion * factor,
  ...(rates.cachedInputPerMillion !== undefined
    ? { cachedInputPerMillion: rates.cachedInputPerMillion * factor }
    : {}),
});

/** The batch entry of a standard entry: every rate at {@link BATCH_DISCOUNT}. */
function batchEntry(entry: PriceEntry): PriceEntry {
  return {
    ...entry,
    ...scaled(entry, BATCH_DISCOUNT),
    ...(entry.longPrompt ? { longPrompt: scaled(entry.longPrompt, BATCH_DISCOUNT) } : {}),
    source: `${entry.source}; batch = ${BATCH_DISCOUNT * 100}% of standard`,
  };
}

/**
 * Gemini Developer API batch prices: the published standard prices above, each halved. Which entry
 * applies is picked by date (see {@link estimateCost}). Override or extend with `BATCH_PRICES_JSON`
 * (see {@link priceTableWith}) when prices change before this table does.
 */
export const DEFAULT_BATCH_PRICES: PriceTable = {
  currency: 'USD',
  basis: `batch prices: ${BATCH_DISCOUNT * 100}% of the standard prices on ${PRICING_PAGE}`,
  models: Object.fromEntries(
    Object.entries(STANDARD_PRICES).map(([model, entries]) => [model, entries.map(batchEntry)]),
  ),
};

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

/** The entry in force on `day` (`YYYY-MM-DD`), if any. */
export function priceOn(entries: readonly PriceEntry[], day: string): PriceEntry | undefined {
  return entries.find((entry) => (!entry.from || entry.from <= day) && (!entry.until || day < entry.until));
}

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
      ...(entry.from ? { from: entry.from } : {}),
      ...(entry.until ? { until: entry.until } : {}),
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

const describe = (value: unknown): string =>
  value === undefined ? 'nothing' : typeof value === 'string' ? `"${value}"` : JSON.stringify(value);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const RATE_FIELDS = ['inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion'] as const;
const ENTRY_FIELDS = new Set<string>([...RATE_FIELDS, 'from', 'until', 'longPrompt', 'source']);
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function ratesFrom(value: unknown, where: string, what: string): TokenRates {
  if (!isObject(value))
    throw new Error(`${what}: ${where} must be an object of prices, got ${describe(value)}`);
  for (const field of RATE_FIELDS) {
    const rate = value[field];
    const optional = field === 'cachedInputPerMillion';
    if (optional && rate === undefined) continue;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
      throw new Error(
        `${what}: ${where} needs a numeric ${field} (USD per million tokens at batch prices, not negative), got ${describe(rate)}`,
      );
    }
  }
  return {
    inputPerMillion: value.inputPerMillion as number,
    outputPerMillion: value.outputPerMillion as number,
    ...(value.cachedInputPerMillion !== undefined
      ? { cachedInputPerMillion: value.cachedInputPerMillion as number }
      : {}),
  };
}

function entryFrom(value: unknown, where: string, what: string, defaultSource: string): PriceEntry {
  const rates = ratesFrom(value, where, what);
  const fields = value as Record<string, unknown>;
  for (const field of Object.keys(fields)) {
    if (!ENTRY_FIELDS.has(field)) {
      throw new Error(
        `${what}: ${where} has an unknown field "${field}"; a price has ${[...ENTRY_FIELDS].join(', ')}`,
      );
    }
  }
  for (const field of ['from', 'until'] as const) {
    const day = fields[field];
    if (day !== undefined && !(typeof day === 'string' && DAY.test(day) && !Number.isNaN(Date.parse(day)))) {
      throw new Error(`${what}: ${where}.${field} must be a day such as 2027-01-01, got ${describe(day)}`);
    }
  }
  const { from, until, source } = fields as { from?: string; until?: string; source?: unknown };
  if (from && until && from >= until) {
    throw new Error(
      `${what}: ${where} starts on ${from} but ends (until) on ${until}: "until" must come after "from"`,
    );
  }
  if (source !== undefined && (typeof source !== 'string' || source.trim() === '')) {
    throw new Error(`${what}: ${where}.source must be a non-empty string, got ${describe(source)}`);
  }
  return {
    ...rates,
    ...(from ? { from } : {}),
    ...(until ? { until } : {}),
    ...(fields.longPrompt !== undefined
      ? { longPrompt: ratesFrom(fields.longPrompt, `${where}.longPrompt`, what) }
      : {}),
    source: (source as string | undefined) ?? defaultSource,
  };
}

/** Throws when two entries of a model could both apply on some day. */
function checkNoOverlap(model: string, entries: readonly PriceEntry[], what: string): void {
  const sorted = [...entries].sort((a, b) => (a.from ?? '').localeCompare(b.from ?? ''));
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1] as PriceEntry;
    const after = sorted[i] as PriceEntry;
    if (!before.until || (after.from ?? '') < before.until) {
      throw new Error(
        `${what}: the prices of ${model} overlap: one applies ${before.from ?? 'from the start'} until ${before.until ?? 'further notice'}, another from ${after.from ?? 'the start'}; give each a "from" and "until" that do not overlap`,
      );
    }
  }
}

/**
 * Reads a price table's models from JSON, checked with messages that name the model and field.
 * Each model maps to one price for every date (`{"inputPerMillion": 0.15, "outputPerMillion": 1.25}`,
 * the format `BATCH_PRICES_JSON` has always had) or to a list of dated prices
 * (`[{"until": "2027-01-01", …}, {"from": "2027-01-01", …}]`); a price may add
 * `cachedInputPerMillion`, `longPrompt` (rates above 200k prompt tokens) and `source`. All rates are
 * batch prices, USD per million tokens.
 */
export function parsePriceModels(
  value: unknown,
  what: string,
  defaultSource: string,
): Readonly<Record<string, readonly PriceEntry[]>> {
  if (!isObject(value)) {
    throw new Error(
      `${what} must be an object of model names to prices, got ${Array.isArray(value) ? 'an array' : describe(value)}`,
    );
  }
  const models: Record<string, readonly PriceEntry[]> = {};
  for (const [model, prices] of Object.entries(value)) {
    const entries = Array.isArray(prices)
      ? prices.map((price, index) => entryFrom(price, `${model}[${index}]`, what, defaultSource))
      : [entryFrom(prices, model, what, defaultSource)];
    if (entries.length === 0) throw new Error(`${what}: ${model} has an empty list of prices`);
    checkNoOverlap(model, entries, what);
    models[model] = entries;
  }
  return models;
}

/**
 * The default table with a JSON override (`BATCH_PRICES_JSON`) applied: a model in the override
 * replaces all of its default entries (see {@link parsePriceModels} for the format).
 */
export function priceTableWith(overrideJson: string | undefined): PriceTable {
  if (!overrideJson) return DEFAULT_BATCH_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(overrideJson);
  } catch (error) {
    throw new Error(`BATCH_PRICES_JSON is not valid JSON: ${(error as Error).message}`);
  }
  const overrides = parsePriceModels(
    parsed,
    'BATCH_PRICES_JSON',
    "the stack's batchPrices (BATCH_PRICES_JSON)",
  );
  return {
    ...DEFAULT_BATCH_PRICES,
    basis: `${DEFAULT_BATCH_PRICES.basis}, with the stack's batchPrices for ${Object.keys(overrides).join(', ')}`,
    models: { ...DEFAULT_BATCH_PRICES.models, ...overrides },
  };
}
