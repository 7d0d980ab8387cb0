/**
 * What the check sends: a handful of tiny requests per probe, and what they can cost at most.
 */
import { estimateTokens } from '../../lambdas/prepare-requests/token-estimate.js';

export interface CheckModels {
  /** Model id for generate jobs, without `models/`. */
  readonly generate: string;
  /** Model id for embedding jobs, without `models/`. */
  readonly embed: string;
}

/** The cheapest current models (Google's pricing page, read 2026-10-07). */
export const DEFAULT_MODELS: CheckModels = {
  generate: 'gemini-2.5-flash-lite',
  embed: 'gemini-embedding-001',
};

/** Enough for a word or two: answers are not what is being checked. */
export const MAX_OUTPUT_TOKENS = 8;
/** The dimensionality Google's docs recommend first; small enough to keep answers to a few KB. */
export const EMBED_DIMENSIONS = 768;

const PROMPTS = ['Reply with the word yes.', 'Name one colour.', 'Say hi.'] as const;
const TEXTS = ['alpha', 'beta gamma', 'delta epsilon zeta'] as const;

export interface KeyedRequest {
  readonly key: string;
  /** The REST request body, as a pipeline user would write it. */
  readonly request: Record<string, unknown>;
}

export const generateRequest = (prompt: string): Record<string, unknown> => ({
  contents: [{ role: 'user', parts: [{ text: prompt }] }],
  generationConfig: { maxOutputTokens: MAX_OUTPUT_TOKENS },
});

export const embedRequest = (text: string): Record<string, unknown> => ({
  content: { parts: [{ text }] },
  outputDimensionality: EMBED_DIMENSIONS,
});

/** The requests of each probe job, keyed so every answer can be matched to its request. */
export const REQUESTS = {
  fileGenerate: PROMPTS.map((prompt, i) => ({ key: `file-gen-${i + 1}`, request: generateRequest(prompt) })),
  fileEmbed: TEXTS.map((text, i) => ({ key: `file-emb-${i + 1}`, request: embedRequest(text) })),
  inlineGenerate: PROMPTS.map((prompt, i) => ({
    key: `inline-gen-${i + 1}`,
    request: generateRequest(prompt),
  })),
  inlineEmbed: TEXTS.map((text, i) => ({ key: `inline-emb-${i + 1}`, request: embedRequest(text) })),
  /**
   * `generationConfg` is the misspelling Google should refuse. The correct `generationConfig` is
   * there too, so that if Google takes the request after all its answer is still a few tokens.
   */
  misspelled: [
    {
      key: 'typo-1',
      request: { ...generateRequest(PROMPTS[0]), generationConfg: { maxOutputTokens: MAX_OUTPUT_TOKENS } },
    },
  ],
  /** One request, cancelled as soon as its job exists. */
  cancel: [{ key: 'cancel-1', request: generateRequest(PROMPTS[0]) }],
} as const satisfies Record<string, readonly KeyedRequest[]>;

/** A JSONL input file's text, one `{"key","request"}` line per request. */
export function toJsonl(requests: readonly KeyedRequest[]): string {
  return `${requests.map((line) => JSON.stringify(line)).join('\n')}\n`;
}

/** Standard (not batch) prices, USD per million tokens: the worst case assumes no batch discount. */
interface Price {
  readonly input: number;
  readonly output: number;
}

/**
 * Google's standard prices from its pricing page (https://ai.google.dev/gemini-api/docs/pricing) as read on 2026-10-07,
 * each at its highest dated value; `gemini-embedding-001` from the pipeline's table (2026-11),
 * doubled back from its batch price.
 */
export const STANDARD_PRICES: Readonly<Record<string, Price>> = {
  'gemini-3.8-flash': { input: 1.5, output: 7.5 },
  'gemini-3.5-flash': { input: 1.5, output: 9 },
  'gemini-3.5-flash-lite': { input: 0.3, output: 2.5 },
  'gemini-3.1-pro-preview': { input: 2, output: 12 },
  'gemini-3-flash-preview': { input: 0.5, output: 3 },
  'gemini-3.1-flash-lite-preview': { input: 0.25, output: 1.5 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4 },
  'gemini-embedding-2': { input: 0.2, output: 0 },
  'gemini-embedding-001': { input: 0.15, output: 0 },
};
export const PRICES_AS_OF = '2026-10-07';

/** A model missing from the table is priced as the dearest one in it. */
const DEAREST: Price = {
  input: Math.max(...Object.values(STANDARD_PRICES).map((price) => price.input)),
  output: Math.max(...Object.values(STANDARD_PRICES).map((price) => price.output)),
};

/** Tokens a request may cost beyond its text: role markers, the template around the prompt. */
const OVERHEAD_TOKENS = 16;

export interface CostLine {
  readonly model: string;
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly usd: number;
  /** True when the model is not in the table and was priced as the dearest model that is. */
  readonly guessed: boolean;
}

export interface CostEstimate {
  readonly totalUsd: number;
  readonly lines: readonly CostLine[];
  readonly pricesAsOf: string;
}

/**
 * The most the check can cost: every request it may send (including the misspelled one, should
 * Google run it), input counted twice over the usual 4-characters-a-token estimate, every generate
 * request writing its full `maxOutputTokens` (which bounds thinking tokens too), at standard prices.
 */
export function worstCaseCost(models: CheckModels): CostEstimate {
  const generate = [
    ...REQUESTS.fileGenerate,
    ...REQUESTS.inlineGenerate,
    ...REQUESTS.misspelled,
    ...REQUESTS.cancel,
  ];
  const embed = [...REQUESTS.fileEmbed, ...REQUESTS.inlineEmbed];
  const line = (model: string, requests: readonly KeyedRequest[], outputPerRequest: number): CostLine => {
    const price = STANDARD_PRICES[model];
    const inputTokens = requests.reduce((sum, r) => sum + 2 * estimateTokens(r.request) + OVERHEAD_TOKENS, 0);
    const outputTokens = requests.length * outputPerRequest;
    const { input, output } = price ?? DEAREST;
    return {
      model,
      requests: requests.length,
      inputTokens,
      outputTokens,
      usd: (inputTokens * input + outputTokens * output) / 1e6,
      guessed: price === undefined,
    };
  };
  const lines = [line(models.generate, generate, MAX_OUTPUT_TOKENS), line(models.embed, embed, 0)];
  return { totalUsd: lines.reduce((sum, l) => sum + l.usd, 0), lines, pricesAsOf: PRICES_AS_OF };
}

/** `$0.000123`: enough digits that a tiny cost does not print as zero. */
export function formatUsd(usd: number): string {
  return `$${usd < 0.01 ? usd.toFixed(6) : usd.toFixed(4)}`;
}
