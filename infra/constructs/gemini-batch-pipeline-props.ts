import { Duration, type Size } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DEFAULT_POLL_SCHEDULE } from '../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import type { ModelPrice, PriceEntry } from '../../lambdas/shared/pricing/pricing.js';
import { DEFAULT_INPUT_PREFIX } from '../../lambdas/shared/run/bucket-layout.js';
import type { ObservabilityProps } from './observability-props.js';

/** How often the poll loop checks on the batch jobs: exponential backoff with a cap. */
export interface PollSchedule {
  /** The wait before the first poll. A whole number of seconds, at least 1. */
  readonly initial: Duration;

  /** The longest wait between two polls. A whole number of seconds, at least `initial`. */
  readonly max: Duration;

  /** Each wait is the previous one times this, up to `max`. At least 1 (1 polls at a fixed rate). */
  readonly backoffRate: number;
}

/**
 * The default models: current, batch-capable ones (chosen 2026-12-01).
 *
 * - `gemini-3.8-flash`: the newest Flash, generally available (no preview suffix) since
 *   2026-09-02: $0.75 / $3.75 per million tokens standard through 2026-12-31, $1.50 / $7.50 from
 *   2027-01-01 (ai.google.dev/gemini-api/docs/pricing, read 2026-10-07), batch half of that — below
 *   Gemini 3.5 Flash ($1.50 / $9.00) even after the rise. Gemini 3.5 Flash-Lite ($0.30 / $2.50) or
 *   2.5 Flash ($0.30 / $2.50) cost less for simple tasks, as smaller or older models. No public
 *   source confirms 3.8 Flash's batch methods: Prepare asks the Models API on every run and says so
 *   if it cannot batch.
 * - `gemini-embedding-2`: the current embedding model ($0.20 per million standard), seen in inline
 *   batches in a public capture of 2026-07-25 (docs/gemini-protocol.md); `gemini-embedding-001` is
 *   its predecessor.
 *
 * Gemini 2.0 models were retired on 2026-06-01, and jobs on a retired model expire unanswered.
 */
export const DEFAULT_MODELS = { generate: 'gemini-3.8-flash', embed: 'gemini-embedding-2' } as const;

/** The props {@link PIPELINE_DEFAULTS} gives a value, which the deployable stack's config also sets. */
export type DefaultedProp =
  | 'inputPrefix'
  | 'generateModel'
  | 'embedModel'
  | 'pollSchedule'
  | 'executionTimeout'
  | 'workExpiration'
  | 'logRetention';

/** The defaults of {@link GeminiBatchPipelineProps}, also the deployable stack's defaults. */
export const PIPELINE_DEFAULTS = {
  inputPrefix: DEFAULT_INPUT_PREFIX,
  generateModel: DEFAULT_MODELS.generate,
  embedModel: DEFAULT_MODELS.embed,
  pollSchedule: {
    initial: Duration.seconds(DEFAULT_POLL_SCHEDULE.initialSeconds),
    max: Duration.seconds(DEFAULT_POLL_SCHEDULE.maxSeconds),
    backoffRate: DEFAULT_POLL_SCHEDULE.backoffRate,
  },
  // Gemini expires jobs still pending or running after 48 h; leave room for Collect and retries.
  executionTimeout: Duration.hours(72),
  workExpiration: Duration.days(7),
  logRetention: logs.RetentionDays.ONE_MONTH,
  // Gemini's stated turnaround for a batch job: "within 24 hours" (developers.googleblog.com,
  // "Batch Mode in the Gemini API", 2025-07-07). A run still polling after that is worth a look.
  longRunThreshold: Duration.hours(24),
} as const satisfies Required<Pick<GeminiBatchPipelineProps, DefaultedProp | 'longRunThreshold'>>;

/**
 * The value the default API-key secret is created with. It is not a key: replace it with
 * `aws secretsmanager put-secret-value --secret-id <ApiKeySecretArn> --secret-string "$GEMINI_API_KEY"`.
 * CloudFormation does not put it back on later deployments unless this value changes.
 */
export const API_KEY_PLACEHOLDER = 'replace-me-with-a-gemini-api-key';

/** The size of one Gemini job. Set only what you need to change. */
export interface JobLimits {
  /**
   * Bytes of requests per job. Gemini accepts input files up to 2 GB.
   *
   * @default Size.gibibytes(1)
   */
  readonly maxFileSize?: Size;
  /**
   * Requests per job.
   *
   * @default 200,000
   */
  readonly maxRequests?: number;
  /**
   * Estimated input tokens per job, for every model: keep it under your tier's enqueued-token cap,
   * or Gemini refuses the job.
   *
   * @default - per model, 80% of Gemini's Tier 1 caps (2.4M for gemini-2.5-flash, 4M for 2.5 Pro,
   * 8M for 2.5 Flash-Lite and embeddings); 2M for other models
   */
  readonly maxTokens?: number;
  /**
   * Chunks up to this size go inline. Gemini refuses create requests over 20 MB.
   *
   * @default Size.mebibytes(15)
   */
  readonly inlineThreshold?: Size;
  /**
   * A chunk whose answers are estimated to weigh more than this (both copies Gemini puts in the
   * operation) goes as a file even when its requests are small: reading an inline batch's answers
   * is one read of the whole operation, while result files stream to disk.
   *
   * @default Size.mebibytes(32)
   */
  readonly inlineAnswerThreshold?: Size;
  /**
   * Send embedding chunks inline too. An inline answer is tied to its key only by the
   * `metadata.key` Gemini echoes; for embeddings one public capture shows it (2026-07-25), so they
   * go as files, whose result lines always carry their key, unless this is set. Answers that come
   * back without their key are kept in `unmatched.jsonl`, never guessed.
   *
   * @default false
   */
  readonly inlineEmbeddings?: boolean;
}

/** Properties of a {@link GeminiBatchPipeline}. */
export interface GeminiBatchPipelineProps extends ObservabilityProps {
  /**
   * The bucket that holds inputs, working state and results. An existing bucket must send its
   * events to EventBridge (`eventBridgeEnabled`), and should expire `work/` by a lifecycle rule:
   * the construct cannot change a bucket it did not create.
   *
   * @default - a new bucket: all public access blocked, SSL only, S3-managed encryption, events
   * to EventBridge, no versioning, `work/` expiring after `workExpiration`, incomplete multipart
   * uploads aborted after 1 day, server access logs to a second bucket (kept 90 days), retained
   * when the stack is deleted
   */
  readonly bucket?: s3.IBucket;

  /**
   * Where uploads start runs: every `<inputPrefix>**.jsonl` object created in the bucket starts
   * one. Ends with `/`, and lies outside `results/` and `work/`, where the pipeline writes (so a
   * run can never start another).
   *
   * @default 'inputs/'
   */
  readonly inputPrefix?: string;

  /**
   * The model for generate requests that do not name one (a file can pick another with the object
   * metadata `gemini-model`). Prepare checks it with Gemini's Models API before every run and
   * rejects its lines, saying so, if Gemini no longer knows it or it cannot batch.
   *
   * @default 'gemini-3.8-flash' (see {@link DEFAULT_MODELS})
   */
  readonly generateModel?: string;

  /**
   * The model for embedding requests that do not name one (object metadata `gemini-embed-model`,
   * or the request's own `model`, picks another).
   *
   * @default 'gemini-embedding-2' (see {@link DEFAULT_MODELS})
   */
  readonly embedModel?: string;

  /**
   * The secret whose value is the Gemini API key. The functions get its ARN and read it at start;
   * no key is ever in code, in the template or in an environment variable.
   *
   * @default - a new secret holding a placeholder ({@link API_KEY_PLACEHOLDER}); put the real key
   * in it after the first deployment
   */
  readonly apiKeySecret?: secretsmanager.ISecret;

  /**
   * How often to check on the batch jobs.
   *
   * @default - 30 s first, then ×1.5 each time, at most 720 s (a 24-hour job stays under 400 state transitions)
   */
  readonly pollSchedule?: PollSchedule;

  /**
   * How much one Gemini job may hold. Prepare cuts each input into chunks that fit; a chunk up to
   * `inlineThreshold` is sent inline in the create call (no upload), larger ones as a file.
   *
   * @default - each limit at its default (see {@link JobLimits})
   */
  readonly jobLimits?: JobLimits;

  /**
   * The longest input line accepted; longer lines are rejected with their line number, without
   * being held in memory.
   *
   * @default Size.mebibytes(10)
   */
  readonly maxLineSize?: Size;

  /**
   * Batch prices (USD per million tokens) to add to or replace the built-in table the manifest's
   * cost estimate uses, e.g. for a tuned model or after a price change. Per model, one price for
   * every date, or a list of dated entries (`from`/`until`, cached-input and long-prompt rates,
   * `source`); a model given here replaces all of its built-in entries.
   *
   * @default - the current Gemini models' batch prices, each with its effective dates and source
   * (see `DEFAULT_BATCH_PRICES` in lambdas/shared/pricing/batch-prices.ts)
   */
  readonly batchPrices?: Readonly<Record<string, ModelPrice | readonly PriceEntry[]>>;

  /**
   * The most one run may cost, in US dollars at batch prices. Before any job is created, Prepare
   * estimates the run's cost from its token estimate (each request's `maxOutputTokens` or
   * `max_tokens` as its output, 8,192 output tokens when it sets none, none for embeddings) with the
   * price table the manifest uses (`batchPrices`); a run over the cap creates no job, ends FAILED and
   * answers every accepted request with an error line. An upload's `gemini-max-cost-usd` object
   * metadata overrides it for that file, higher or lower. With a cap, a model the table has no price
   * for fails the run the same way, since its cost cannot be estimated.
   *
   * @default - no cap (the estimate is still made, and recorded in the manifest)
   */
  readonly maxRunCostUsd?: number;

  /**
   * How long after the upload chunks may wait for Gemini to accept their job (it answers 429 while
   * a quota is full). Past it, the run goes on without them and their keys come back as
   * `NOT_SUBMITTED` errors. Keep it at least 49 hours below the execution timeout: a job accepted
   * at the deadline may run 48 hours before Gemini expires it, and must still be collected.
   *
   * @default - 12 hours, or the execution timeout less 49 hours if that is shorter (at least 1 minute)
   */
  readonly submitDeadline?: Duration;

  /**
   * Rounds in which requests Gemini answered with a transient error (429/8 RESOURCE_EXHAUSTED,
   * 500/13 INTERNAL, 503/14 UNAVAILABLE, 504/4 DEADLINE_EXCEEDED) are re-batched into new jobs, once
   * every job of the round before has ended. Each key's results line is its last attempt. 0 turns
   * line retries off. Permanent errors (400 …) are never sent again.
   *
   * @default 2
   */
  readonly lineRetryRounds?: number;

  /**
   * Times the requests of a job Gemini expired (or that stayed PENDING past `pendingTimeout` and
   * was cancelled) are resubmitted, split in two halves. A resubmitted job that expires again leaves
   * its keys with the expiry error. 0 turns resubmission off.
   *
   * @default 1
   */
  readonly expiredResubmitRounds?: number;

  /**
   * How long a job may stay PENDING before Poll cancels it and resubmits its requests (within
   * `expiredResubmitRounds` and before the retry cutoff: the execution timeout less 49 hours).
   *
   * @default Duration.hours(12)
   */
  readonly pendingTimeout?: Duration;

  /**
   * The longest a run may take before Step Functions stops it (at most 365 days). Gemini expires
   * jobs that have not finished after 48 hours; the rest is room for Collect and retries.
   *
   * @default Duration.hours(72)
   */
  readonly executionTimeout?: Duration;

  /**
   * How long a run's working state under `work/` is kept, in whole days; at least the execution
   * timeout, so that a run's state outlives the run. Applies to the bucket the construct creates.
   *
   * @default Duration.days(7)
   */
  readonly workExpiration?: Duration;

  /**
   * Where Finalize Run puts the "Gemini Batch Run Finished" event. Uploads are always matched on
   * the account's default bus, the only one S3 sends events to.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * How long the functions' and the state machine's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}
