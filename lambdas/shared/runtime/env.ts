import type { AdmissionDeps } from '../batch-jobs/admit-chunks.js';
import type { InlineChoice } from '../batch-jobs/inline-or-file.js';

/**
 * The environment variables the functions read: set by the CDK construct in AWS, by the local
 * runner offline. Read once per cold start; a missing required one fails at start, by name.
 */
export const ENV = {
  /** start-run: the state machine to start. */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** start-run, prepare-requests, collect-results, finalize-run: where uploads land. */
  inputPrefix: 'INPUT_PREFIX',
  /** prepare-requests: default models by kind. */
  generateModel: 'GENERATE_MODEL',
  embedModel: 'EMBED_MODEL',
  /** functions that call Gemini: the Secrets Manager secret holding the API key. */
  apiKeySecretArn: 'GEMINI_API_KEY_SECRET_ARN',
  /** functions that call Gemini, offline only: the emulator's URL. */
  baseUrl: 'GEMINI_BASE_URL',
  /** poll-batch-jobs: the backoff schedule. */
  pollInitialSeconds: 'POLL_INITIAL_SECONDS',
  pollMaxSeconds: 'POLL_MAX_SECONDS',
  pollBackoffRate: 'POLL_BACKOFF_RATE',
  /** prepare-requests: the longest input line accepted, in bytes. */
  maxLineBytes: 'MAX_LINE_BYTES',
  /** prepare-requests: overrides of the per-job limits (bytes, requests, estimated tokens). */
  maxChunkBytes: 'MAX_CHUNK_BYTES',
  maxChunkRequests: 'MAX_CHUNK_REQUESTS',
  maxTokensPerJob: 'MAX_TOKENS_PER_JOB',
  /** submit-batch-jobs, poll-batch-jobs: chunks up to this size go inline. */
  inlineMaxBytes: 'INLINE_MAX_BYTES',
  /** submit-batch-jobs, poll-batch-jobs: chunks whose answers are estimated above this go as files. */
  inlineMaxAnswerBytes: 'INLINE_MAX_ANSWER_BYTES',
  /** submit-batch-jobs, poll-batch-jobs: `true` sends embedding chunks inline too. */
  inlineEmbeddings: 'INLINE_EMBEDDINGS',
  /** poll-batch-jobs: how long after the upload chunks may wait for Gemini to accept their job. */
  submitDeadlineSeconds: 'SUBMIT_DEADLINE_SECONDS',
  /** poll-batch-jobs: how many rounds requests that failed transiently (429, 5xx, timeouts) are sent again. */
  lineRetryRounds: 'LINE_RETRY_ROUNDS',
  /** poll-batch-jobs: how many times the requests of an expired or stuck job are resubmitted. */
  expiredResubmitRounds: 'EXPIRED_RESUBMIT_ROUNDS',
  /** poll-batch-jobs: how long a job may stay PENDING before it is cancelled and resubmitted. */
  pendingTimeoutSeconds: 'PENDING_TIMEOUT_SECONDS',
  /** poll-batch-jobs: how long after the upload retry and resubmitted chunks may still be created. */
  retryCutoffSeconds: 'RETRY_CUTOFF_SECONDS',
  /** prepare-requests: the most a run may cost at batch prices, estimated before any job exists (USD). */
  maxRunCostUsd: 'MAX_RUN_COST_USD',
  /** submit-batch-jobs, poll-batch-jobs: the DynamoDB table holding the admission queue every run shares. */
  admissionTableName: 'ADMISSION_TABLE_NAME',
  /** submit-batch-jobs, poll-batch-jobs: overrides of the admission gate's first and longest wait, in seconds. */
  admissionBackoffSeconds: 'ADMISSION_BACKOFF_SECONDS',
  admissionMaxBackoffSeconds: 'ADMISSION_MAX_BACKOFF_SECONDS',
  /** submit-batch-jobs, poll-batch-jobs: override of how long a ticket not refreshed still holds its place. */
  admissionStaleSeconds: 'ADMISSION_STALE_SECONDS',
  /** prepare-requests, finalize-run: batch prices to add to or replace the built-in table, as JSON. */
  batchPricesJson: 'BATCH_PRICES_JSON',
  /** finalize-run: where the run-finished event goes. */
  eventBusName: 'EVENT_BUS_NAME',
} as const;

/** The value of a required variable; throws naming it if it is missing or empty. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`missing required environment variable ${name}`);
  }
  return value;
}

/** A required numeric variable; throws naming it if it is missing, empty or not a number. */
export function requireNumberEnv(name: string, env: NodeJS.ProcessEnv = process.env): number {
  return parsedNumber(name, requireEnv(name, env));
}

/** A numeric variable that is absent unless set: for overrides whose default lives elsewhere. */
export function optionalNumberEnv(name: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : parsedNumber(name, value);
}

function parsedNumber(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed))
    throw new Error(`environment variable ${name} must be a number, got '${value}'`);
  return parsed;
}

/**
 * How Submit and Poll choose between inline and file jobs: the settings both take, read once. The
 * construct sets the bounds only when the stack overrides them; unset ones leave the core's defaults.
 */
export function inlineChoiceEnv(env: NodeJS.ProcessEnv = process.env): InlineChoice {
  return {
    inlineMaxBytes: optionalNumberEnv(ENV.inlineMaxBytes, env),
    inlineMaxAnswerBytes: optionalNumberEnv(ENV.inlineMaxAnswerBytes, env),
    inlineEmbeddings: env[ENV.inlineEmbeddings] === 'true',
  };
}

/**
 * How Submit and Poll back off at the admission queue: the overrides the stack sets; unset ones
 * leave the core's defaults (`admit-chunks.ts`).
 */
export function admissionSettingsEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<AdmissionDeps, 'backoffSeconds' | 'maxBackoffSeconds' | 'staleSeconds'> {
  return {
    backoffSeconds: optionalNumberEnv(ENV.admissionBackoffSeconds, env),
    maxBackoffSeconds: optionalNumberEnv(ENV.admissionMaxBackoffSeconds, env),
    staleSeconds: optionalNumberEnv(ENV.admissionStaleSeconds, env),
  };
}
