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
 * Token budgets per model: 80% of Gemini's Tier 1 batch enqueued-token caps (rate-limits page,
 * read Nov 2026), leaving room for estimation error. Models not listed use the default budget.
 */
export const DEFAULT_TOKENS_PER_JOB: Readonly<Record<string, number>> = {
  'gemini-2.5-pro': 4_000_000,
  'gemini-2.5-flash': 2_400_000,
  'gemini-2.5-flash-lite': 8_000_000,
  'gemini-embedding-001': 8_000_000,
};

export function chunkLimitsFor(
  model: string,
  overrides: Partial<ChunkLimits> = {},
  tokensPerJob: Readonly<Record<string, number>> = DEFAULT_TOKENS_PER_JOB,
): ChunkLimits {
  return {
    ...DEFAULT_CHUNK_LIMITS,
    maxTokens: tokensPerJob[model] ?? DEFAULT_CHUNK_LIMITS.maxTokens,
    ...overrides,
  };
}
