import type { Fault } from './faults.js';
import {
  type CatalogueModel,
  DEFAULT_ENQUEUED_TOKENS,
  enqueuedTokenLimits,
  GEMINI_MODELS,
  RETIRED_MODELS,
} from './model-catalogue.js';

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

/**
 * How rough the emulator is. Each switch is one behaviour public reports show on the real service
 * (see the README, "How it is as rough as Gemini", for the source of each). What Gemini does every
 * time is on by default; what it does now and then is a seeded rate (here, or a fault kind), off by
 * default and on in the `ROUGH_GEMINI` preset.
 */
export interface RoughnessOptions {
  /**
   * Inline answers (generate and embed) come back in a seeded permutation of request order, never
   * in request order when there are two or more (js-genai #1207, python-genai #1909).
   * @default true
   */
  readonly shuffleInlineAnswers?: boolean;
  /**
   * Share (0–1) of inline answers, chosen by seed, that come back without the `metadata` (key) of
   * their request (js-genai #1191, python-genai #2008). 1 drops every one.
   * @default 0 (every answer echoes its request's metadata, generate and embed alike)
   */
  readonly inlineMetadataDropRate?: number;
  /**
   * Result-file lines in a seeded order, never input order when there are two or more
   * (python-genai #1909). Streamed through a bounded window, so memory stays bounded.
   * @default true
   */
  readonly shuffleResultLines?: boolean;
  /**
   * `batches.list` shows a finished job with the counts it had when it started running (every
   * request pending), while `GET batches/{id}` is current (capture of 2026-07-25).
   * @default true
   */
  readonly staleListStats?: boolean;
  /**
   * MIME types refused at upload start with 400 `Unsupported MIME type: <type>` (python-genai #1547).
   * Compared case-insensitively. `application/jsonl` is refused now and then by a `refuse-mime-type`
   * fault instead (cookbook #1008).
   * @default ['jsonl']
   */
  readonly refusedMimeTypes?: readonly string[];
  /**
   * Model ids that Google retired: `models.get` answers 404, yet `batches.create` accepts jobs on
   * them, which never run and end `BATCH_STATE_EXPIRED` with no results (python-genai #2439).
   * @default RETIRED_MODELS (the Gemini 2.0 ids, retired 2026-06-01)
   */
  readonly retiredModels?: readonly string[];
  /**
   * Requests with a field Gemini's v1beta schema lacks are refused as Google's JSON parser refuses
   * them: an inline create with 400 `INVALID_ARGUMENT` ("Invalid JSON payload received. Unknown name
   * … Cannot find field."), a file line with an error line of code 400 (an assumption). The schema
   * is the pipeline's `lambdas/prepare-requests/request-schema.ts`.
   * @default true
   */
  readonly refuseUnknownFields?: boolean;
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
   * @default 3,000,000 (DEFAULT_ENQUEUED_TOKENS)
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
   * The one API key the emulator accepts (in `x-goog-api-key` or `?key=`, or as the Bearer token of
   * the OpenAI-compatible layer). A wrong key then gets 400 `API_KEY_INVALID`.
   * @default - any non-empty key is accepted
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
  /** @default - see RoughnessOptions: Gemini's constant quirks on, its intermittent ones off */
  readonly roughness?: RoughnessOptions;
  /**
   * The models the Models API lists and batches may name; a batch on any other (not retired) model
   * is refused with 404 as Google refuses it.
   * @default GEMINI_MODELS
   */
  readonly models?: readonly CatalogueModel[];
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

/** The key `emulator.apiKey` offers when none is configured. It guards nothing; any non-empty key works then. */
export const DEFAULT_EMULATOR_API_KEY = 'gemini-emulator-key';

const GIB = 1024 ** 3;
const HOUR_MS = 60 * 60 * 1000;

/**
 * Batch enqueued-token limits of Gemini's Tier 1, per batch-capable model of GEMINI_MODELS, from
 * the catalogue (published values for the 2.5 models and gemini-embedding-001; Google no longer
 * publishes them per model, so the rest are estimates: treat 429 as the truth).
 */
export const DEFAULT_ENQUEUED_TOKEN_LIMITS: Readonly<Record<string, number>> =
  enqueuedTokenLimits(GEMINI_MODELS);

export type ResolvedRoughness = Required<RoughnessOptions>;

export function resolveRoughness(roughness: RoughnessOptions = {}): ResolvedRoughness {
  const resolved = {
    shuffleInlineAnswers: true,
    inlineMetadataDropRate: 0,
    shuffleResultLines: true,
    staleListStats: true,
    refusedMimeTypes: ['jsonl'],
    retiredModels: RETIRED_MODELS.map((model) => model.id),
    refuseUnknownFields: true,
    ...roughness,
  };
  const rate = resolved.inlineMetadataDropRate;
  if (!(rate >= 0 && rate <= 1)) {
    throw new RangeError(`roughness.inlineMetadataDropRate must be between 0 and 1, got ${rate}`);
  }
  return resolved;
}

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

/** The limits, with per-model enqueued-token caps taken from `models` unless `limits` overrides them. */
export function resolveLimits(
  limits: EmulatorLimits = {},
  models: readonly CatalogueModel[] = GEMINI_MODELS,
): ResolvedLimits {
  return {
    maxFileBytes: 2 * GIB,
    maxStorageBytes: 20 * GIB,
    maxRequestBytes: 20 * 1024 * 1024,
    maxActiveJobs: 100,
    defaultEnqueuedTokens: DEFAULT_ENQUEUED_TOKENS,
    fileTtlMs: 48 * HOUR_MS,
    jobTtlMs: 48 * HOUR_MS,
    ...limits,
    enqueuedTokensPerModel: { ...enqueuedTokenLimits(models), ...limits.enqueuedTokensPerModel },
  };
}
