import type { Fault } from './faults.js';

/** How long jobs take on the emulator's clock. */
export interface JobTiming {
  /**
   * Time a new job spends in `BATCH_STATE_PENDING`.
   * @default 500
   */
  readonly pendingMs?: number;
  /**
   * Time in `BATCH_STATE_RUNNING` before a job of any size finishes.
   * @default 1500
   */
  readonly runningMs?: number;
  /**
   * Extra running time per request, so bigger jobs take longer, as they do on Gemini.
   * @default 0
   */
  readonly perRequestMs?: number;
  /**
   * After a cancel, how long the OpenAI-compatible layer reports the job as `cancelling` before
   * `cancelled`. Native reads see `BATCH_STATE_CANCELLED` at once: Gemini has no cancelling state.
   * @default 1000
   */
  readonly cancellingMs?: number;
}

/** How the OpenAI-compatible layer (`/{v}/openai/…`) answers errors other than authentication. */
export interface OpenAiCompatOptions {
  /**
   * `array`: Google's error object wrapped in a JSON list, `[{"error":{"code","message","status"}}]`,
   * as Gemini's compatibility layer has been reported to answer; the `openai` SDK then raises the
   * right class by status but with the message "<status> status code (no body)" and no `error`.
   * `object`: the same error object without the list, so the SDK's `error.message` is filled in.
   * @default 'array'
   */
  readonly errorShape?: 'array' | 'object';
}

/** The limits Gemini enforces, at their published values unless overridden (tests shrink them). */
export interface EmulatorLimits {
  /**
   * Largest file the Files API accepts.
   * @default 2 GiB
   */
  readonly maxFileBytes?: number;
  /**
   * Total size of uploaded files a project may hold at once.
   * @default 20 GiB
   */
  readonly maxStorageBytes?: number;
  /**
   * Largest create request body, which bounds inline batches.
   * @default 20 MiB (Google's "Request payload size exceeds the limit: 20971520 bytes")
   */
  readonly maxRequestBytes?: number;
  /**
   * Batch jobs that may be pending or running at once, per project.
   * @default 100
   */
  readonly maxActiveJobs?: number;
  /**
   * Input tokens that may be enqueued in active jobs, per model (bare model id, no `models/`).
   * @default Tier 1 values, see DEFAULT_ENQUEUED_TOKEN_LIMITS
   */
  readonly enqueuedTokensPerModel?: Readonly<Record<string, number>>;
  /**
   * Enqueued-token limit for a model missing from `enqueuedTokensPerModel`.
   * @default 3,000,000
   */
  readonly defaultEnqueuedTokens?: number;
  /**
   * Lifetime of a file, uploaded or generated.
   * @default 48 hours
   */
  readonly fileTtlMs?: number;
  /**
   * Time after which a job that has not finished becomes `BATCH_STATE_EXPIRED`.
   * @default 48 hours
   */
  readonly jobTtlMs?: number;
}

export interface GeminiEmulatorOptions {
  /**
   * TCP port to listen on; 0 picks a free one.
   * @default 0
   */
  readonly port?: number;
  /**
   * Interface to listen on. The emulator has no TLS and is meant for loopback only.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * The one API key the emulator accepts (in `x-goog-api-key` or `?key=`).
   * @default DEFAULT_EMULATOR_API_KEY
   */
  readonly apiKey?: string;
  /**
   * Where files and job outputs are stored.
   * @default - a new temporary directory, removed by `stop()`
   */
  readonly dataDir?: string;
  /** @default - see JobTiming */
  readonly timing?: JobTiming;
  /** @default - see EmulatorLimits */
  readonly limits?: EmulatorLimits;
  /** @default - see OpenAiCompatOptions */
  readonly openai?: OpenAiCompatOptions;
  /**
   * Seed for every rate-based fault, so a failing test replays exactly.
   * @default 1
   */
  readonly seed?: number;
  /**
   * Faults active from the start; more can be added with `emulator.faults.add()`.
   * @default []
   */
  readonly faults?: readonly Fault[];
  /**
   * Receives one line per request served.
   * @default - silent
   */
  readonly log?: (line: string) => void;
}

/** The key the emulator accepts unless told otherwise. It guards nothing; it only exercises the header. */
export const DEFAULT_EMULATOR_API_KEY = 'gemini-emulator-key';

const GIB = 1024 ** 3;
const HOUR_MS = 60 * 60 * 1000;

/**
 * Batch enqueued-token limits of Gemini's Tier 1, per model, as published on the Gemini API
 * rate-limits page (ai.google.dev/gemini-api/docs/rate-limits, read Nov 2026).
 */
export const DEFAULT_ENQUEUED_TOKEN_LIMITS: Readonly<Record<string, number>> = {
  'gemini-2.5-pro': 5_000_000,
  'gemini-2.5-flash': 3_000_000,
  'gemini-2.5-flash-lite': 10_000_000,
  'gemini-embedding-001': 10_000_000,
};

export type ResolvedTiming = Required<JobTiming>;
export type ResolvedLimits = Required<EmulatorLimits>;

export function resolveTiming(timing: JobTiming = {}): ResolvedTiming {
  const resolved = { pendingMs: 500, runningMs: 1500, perRequestMs: 0, cancellingMs: 1000, ...timing };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`timing.${name} must be a non-negative number of ms, got ${value}`);
    }
  }
  return resolved;
}

export function resolveLimits(limits: EmulatorLimits = {}): ResolvedLimits {
  return {
    maxFileBytes: 2 * GIB,
    maxStorageBytes: 20 * GIB,
    maxRequestBytes: 20 * 1024 * 1024,
    maxActiveJobs: 100,
    defaultEnqueuedTokens: 3_000_000,
    fileTtlMs: 48 * HOUR_MS,
    jobTtlMs: 48 * HOUR_MS,
    ...limits,
    enqueuedTokensPerModel: { ...DEFAULT_ENQUEUED_TOKEN_LIMITS, ...limits.enqueuedTokensPerModel },
  };
}
