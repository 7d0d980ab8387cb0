/**
 * A price table: its types, the entry in force on a day, and reading one from JSON (the stack's
 * `batchPrices`, `BATCH_PRICES_JSON`) over the default table (`batch-prices.ts`).
 */
import { isJsonObject } from '../json.js';
import { DEFAULT_BATCH_PRICES } from './batch-prices.js';

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
   * The rates of a request whose prompt is longer than `LONG_PROMPT_TOKENS`, 200k tokens (the whole request
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
/** The entry in force on `day` (`YYYY-MM-DD`), if any. */
export function priceOn(entries: readonly PriceEntry[], day: string): PriceEntry | undefined {
  return entries.find((entry) => (!entry.from || entry.from <= day) && (!entry.until || day < entry.until));
}

const describe = (value: unknown): string =>
  value === undefined ? 'nothing' : typeof value === 'string' ? `"${value}"` : JSON.stringify(value);

const RATE_FIELDS = ['inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion'] as const;
const ENTRY_FIELDS = new Set<string>([...RATE_FIELDS, 'from', 'until', 'longPrompt', 'source']);
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function ratesFrom(value: unknown, where: string, what: string): TokenRates {
  if (!isJsonObject(value))
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
    cachedInputPerMillion: value.cachedInputPerMillion as number | undefined,
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
    from,
    until,
    longPrompt:
      fields.longPrompt === undefined ? undefined : ratesFrom(fields.longPrompt, `${where}.longPrompt`, what),
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
  if (!isJsonObject(value)) {
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
