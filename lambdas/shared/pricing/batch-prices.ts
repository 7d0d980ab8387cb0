/**
 * The default price table, as data: Gemini's published standard prices per model, dated and with
 * their sources, and the batch table derived from them. Kept apart from the pricing logic so a
 * price change touches only this file.
 */
import type { PriceEntry, PriceTable, TokenRates } from './pricing.js';

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
      source: `${READ_2026_10_07}; cached input from a third-party table of 2026-05-19`,
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
