/**
 * How big one Gemini job may be. A chunk is closed when the next request would pass any limit.
 */
export interface ChunkLimits {
  /** Bytes of JSONL per job: Gemini accepts input files up to 2 GB; staying well under keeps uploads and /tmp comfortable. */
  readonly maxBytes: number;
  /** Requests per job. */
  readonly maxRequests: number;
  /** Estimated input tokens per job: must stay under the model's enqueued-token cap, or the job is refused. */
  readonly maxTokens: number;
}

export const DEFAULT_CHUNK_LIMITS: ChunkLimits = {
  maxBytes: 1024 * 1024 * 1024,
  maxRequests: 200_000,
  maxTokens: 2_000_000,
};

/**
 * Token budgets per model: 80% of Gemini's Tier 1 batch enqueued-token caps, leaving room for
 * estimation error. A job over its model's cap is refused (429) however long it waits, so these err
 * low; a budget too low only makes more, smaller jobs. Models not listed use the default budget.
 *
 * The caps are unverified: Google stopped publishing the per-model table in 2026, and its
 * rate-limits page (https://ai.google.dev/gemini-api/docs/rate-limits) points to AI Studio. The
 * last published table (Tier 1: 2.5 Pro 5M, 2.5 Flash 3M, 2.5 Flash-Lite 10M) is applied to the
 * newer models by class — Flash 3M, Flash-Lite 10M, Pro 5M — which nothing public confirms or
 * refutes. Gemini Embedding 2 is set from a Tier 1 report of a
 * 2M-token limit per embedding job (discuss.ai.google.dev/t/107091, for gemini-embedding-001).
 * Change them for every model with `jobLimits.maxTokensPerJob` (`MAX_TOKENS_PER_JOB`), or per
 * model through `tokensPerJob` of {@link chunkLimitsFor}; Gemini's 429 is the truth either way.
 */
export const DEFAULT_TOKENS_PER_JOB: Readonly<Record<string, number>> = {
  'gemini-3.8-flash': 2_400_000,
  'gemini-3.7-flash': 2_400_000,
  'gemini-3.6-flash': 2_400_000,
  'gemini-3.5-flash': 2_400_000,
  'gemini-3-flash-preview': 2_400_000,
  'gemini-3.5-flash-lite': 8_000_000,
  'gemini-3.1-flash-lite-preview': 8_000_000,
  'gemini-3.1-pro-preview': 4_000_000,
  'gemini-2.5-pro': 4_000_000,
  'gemini-2.5-flash': 2_400_000,
  'gemini-2.5-flash-lite': 8_000_000,
  'gemini-embedding-2': 1_600_000,
  'gemini-embedding-001': 8_000_000,
};

/**
 * The limits of one model's jobs: the defaults, the model's token budget, then `overrides` (which
 * apply to every model).
 *
 * @param tokensPerJob - per-model token budgets, over {@link DEFAULT_TOKENS_PER_JOB}.
 */
export function chunkLimitsFor(
  model: string,
  overrides: Partial<ChunkLimits> = {},
  tokensPerJob: Readonly<Record<string, number>> = DEFAULT_TOKENS_PER_JOB,
): ChunkLimits {
  return {
    ...DEFAULT_CHUNK_LIMITS,
    maxTokens: tokensPerJob[model] ?? DEFAULT_TOKENS_PER_JOB[model] ?? DEFAULT_CHUNK_LIMITS.maxTokens,
    ...overrides,
  };
}

/**
 * {@link chunkLimitsFor} worked out once per model: the limits depend only on the model, and a
 * file has millions of lines but few models.
 */
export function chunkLimitsByModel(
  overrides?: Partial<ChunkLimits>,
  tokensPerJob?: Readonly<Record<string, number>>,
): (model: string) => ChunkLimits {
  const byModel = new Map<string, ChunkLimits>();
  return (model) => {
    let limits = byModel.get(model);
    if (!limits) {
      limits = chunkLimitsFor(model, overrides, tokensPerJob);
      byModel.set(model, limits);
    }
    return limits;
  };
}
