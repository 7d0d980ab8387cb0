import { Duration, type Size, Token } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULT_SUBMIT_DEADLINE_SECONDS } from '../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import {
  DEFAULT_EXPIRED_RESUBMIT_ROUNDS,
  DEFAULT_LINE_RETRY_ROUNDS,
  DEFAULT_PENDING_TIMEOUT_SECONDS,
} from '../../lambdas/poll-batch-jobs/retries.js';
import { type ModelPrice, type PriceEntry, parsePriceModels } from '../../lambdas/shared/pricing/pricing.js';
import { RESULTS_PREFIX, WORK_PREFIX } from '../../lambdas/shared/run/bucket-layout.js';
import {
  DEFAULT_MODELS,
  type GeminiBatchPipelineProps,
  PIPELINE_DEFAULTS,
  type PollSchedule,
} from './gemini-batch-pipeline-props.js';
import { type JobLimitValues, validatedJobLimits } from './validate-job-limits.js';

/** {@link GeminiBatchPipelineProps} with every default applied, validated, and what follows from them. */
export interface PipelineSettings {
  readonly inputPrefix: string;
  readonly generateModel: string;
  readonly embedModel: string;
  readonly pollSchedule: PollSchedule;
  readonly executionTimeout: Duration;
  readonly workExpiration: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly jobLimits: JobLimitValues;
  readonly submitDeadline: Duration;
  readonly lineRetryRounds: number;
  readonly expiredResubmitRounds: number;
  readonly pendingTimeout: Duration;
  /** How long after the upload Poll may still create a retry or resubmitted job. */
  readonly retryCutoffSeconds: number;
  /** Unset: Prepare's own default. */
  readonly maxLineBytes?: number;
  readonly batchPrices?: Readonly<Record<string, ModelPrice | readonly PriceEntry[]>>;
  /** Unset: no cap. */
  readonly maxRunCostUsd?: number;
  /** Which observability parts to build, and the long-run alarm's threshold. */
  readonly observability: ObservabilitySettings;
}

/** The alarms, dashboard and Glue tables to build (each on by default). */
export interface ObservabilitySettings {
  readonly alarms: boolean;
  readonly dashboard: boolean;
  readonly glueTables: boolean;
  readonly longRunThreshold: Duration;
}

/**
 * The props with their defaults, or an error saying what is wrong, with the value, and what would
 * work (lower-case, as CDK's own messages). Runs before any resource is made.
 */
export function validatedSettings(props: GeminiBatchPipelineProps): PipelineSettings {
  const inputPrefix = props.inputPrefix ?? PIPELINE_DEFAULTS.inputPrefix;
  const generateModel = props.generateModel ?? PIPELINE_DEFAULTS.generateModel;
  const embedModel = props.embedModel ?? PIPELINE_DEFAULTS.embedModel;
  const pollSchedule = props.pollSchedule ?? PIPELINE_DEFAULTS.pollSchedule;
  const executionTimeout = props.executionTimeout ?? PIPELINE_DEFAULTS.executionTimeout;
  const workExpiration = props.workExpiration ?? PIPELINE_DEFAULTS.workExpiration;

  validateInputPrefix(inputPrefix);
  validateModel('generate model', generateModel);
  validateModel('embed model', embedModel);
  // Checked here, with the same rules Finalize reads them by, so a bad price fails the synth.
  if (props.batchPrices) parsePriceModels(props.batchPrices, 'batchPrices', "the stack's batchPrices");
  validatePollSchedule(pollSchedule);
  validateExecutionTimeout(executionTimeout);
  validateWorkExpiration(workExpiration, executionTimeout);
  const jobLimits = validatedJobLimits(props.jobLimits ?? {});
  const submitDeadline = props.submitDeadline ?? defaultSubmitDeadline(executionTimeout);
  validateSubmitDeadline(submitDeadline, executionTimeout);
  const lineRetryRounds = validatedRounds(
    'lineRetryRounds',
    props.lineRetryRounds ?? DEFAULT_LINE_RETRY_ROUNDS,
  );
  const expiredResubmitRounds = validatedRounds(
    'expiredResubmitRounds',
    props.expiredResubmitRounds ?? DEFAULT_EXPIRED_RESUBMIT_ROUNDS,
  );
  const pendingTimeout = props.pendingTimeout ?? Duration.seconds(DEFAULT_PENDING_TIMEOUT_SECONDS);
  validatePendingTimeout(pendingTimeout);
  if (props.maxRunCostUsd !== undefined) validateMaxRunCost(props.maxRunCostUsd);

  return {
    inputPrefix,
    generateModel,
    embedModel,
    pollSchedule,
    executionTimeout,
    workExpiration,
    logRetention: props.logRetention ?? PIPELINE_DEFAULTS.logRetention,
    jobLimits,
    submitDeadline,
    lineRetryRounds,
    expiredResubmitRounds,
    pendingTimeout,
    retryCutoffSeconds: retryCutoffSeconds(executionTimeout),
    maxLineBytes: props.maxLineSize && validatedLineSize(props.maxLineSize),
    batchPrices: props.batchPrices,
    maxRunCostUsd: props.maxRunCostUsd,
    observability: {
      alarms: props.createCloudWatchAlarms ?? true,
      dashboard: props.createDashboard ?? true,
      glueTables: props.createGlueTables ?? true,
      longRunThreshold: validatedLongRunThreshold(props.longRunThreshold, executionTimeout),
    },
  };
}

function validatedLongRunThreshold(given: Duration | undefined, executionTimeout: Duration): Duration {
  const threshold = given ?? PIPELINE_DEFAULTS.longRunThreshold;
  const seconds = threshold.toSeconds();
  if (!(seconds >= 3600 && seconds < executionTimeout.toSeconds())) {
    throw new Error(
      `long run threshold must be at least 1 hour and less than the execution timeout (${executionTimeout.toHours()} hours), got ${seconds / 3600} hours`,
    );
  }
  return threshold;
}

function validateInputPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) {
    throw new Error(
      'input prefix must be a literal string, not a token: the trigger pattern is built from it',
    );
  }
  if (!prefix.endsWith('/')) {
    throw new Error(`input prefix must end with '/', got '${prefix}' (try '${prefix}/')`);
  }
  if (prefix.startsWith('/')) {
    throw new Error(`input prefix must not start with '/', got '${prefix}' (S3 keys have no leading slash)`);
  }
  if (/[*\\]/.test(prefix)) {
    throw new Error(
      `input prefix must not contain '*' or '\\', got '${prefix}' (the trigger matches it literally)`,
    );
  }
  for (const reserved of [RESULTS_PREFIX, WORK_PREFIX]) {
    if (prefix.startsWith(reserved) || reserved.startsWith(prefix)) {
      throw new Error(
        `input prefix must not overlap '${reserved}', where the pipeline writes, got '${prefix}' (a run could start another run); use a prefix outside '${RESULTS_PREFIX}' and '${WORK_PREFIX}', such as 'inputs/'`,
      );
    }
  }
}

/** A job may run 48 hours before Gemini expires it, plus time to notice, collect and finalize. */
const JOB_LIFETIME_WITH_MARGIN_SECONDS = 49 * 3600;

/** 12 hours, or less when the execution timeout would not leave a late-accepted job time to end. */
function defaultSubmitDeadline(executionTimeout: Duration): Duration {
  const room = executionTimeout.toSeconds() - JOB_LIFETIME_WITH_MARGIN_SECONDS;
  return Duration.seconds(Math.min(DEFAULT_SUBMIT_DEADLINE_SECONDS, Math.max(60, room)));
}

/**
 * The execution timeout less 49 hours (48 for Gemini to run or expire the job, one to collect and
 * finalize), so that every job Poll creates ends inside the execution. 23 hours by default; 0 (no
 * retries) when the timeout is 49 hours or less.
 */
function retryCutoffSeconds(executionTimeout: Duration): number {
  return Math.max(0, executionTimeout.toSeconds() - JOB_LIFETIME_WITH_MARGIN_SECONDS);
}

function validatedRounds(name: string, rounds: number): number {
  if (!(Number.isInteger(rounds) && rounds >= 0 && rounds <= 10)) {
    throw new Error(`${name} must be a whole number from 0 to 10, got ${rounds}`);
  }
  return rounds;
}

function validatePendingTimeout(timeout: Duration): void {
  const seconds = timeout.toSeconds();
  if (!(seconds >= 60 && seconds < 48 * 3600)) {
    throw new Error(
      `pendingTimeout must be at least 1 minute and under 48 hours (Gemini expires jobs then), got ${seconds / 3600} hours`,
    );
  }
}

function validateSubmitDeadline(deadline: Duration, executionTimeout: Duration): void {
  const seconds = deadline.toSeconds();
  if (seconds < 60 || seconds >= executionTimeout.toSeconds()) {
    throw new Error(
      `submit deadline must be at least 1 minute and less than the execution timeout (${executionTimeout.toHours()} hours), ` +
        `got ${seconds / 3600} hours`,
    );
  }
}

function validateMaxRunCost(usd: number): void {
  if (Token.isUnresolved(usd)) return;
  if (!(Number.isFinite(usd) && usd > 0)) {
    throw new Error(
      `maxRunCostUsd must be a positive number of US dollars (leave it unset for no cap), got ${usd}`,
    );
  }
}

function validatedLineSize(size: Size): number {
  const bytes = size.toBytes();
  if (!(bytes >= 1024 && bytes <= 512 * 1024 * 1024)) {
    throw new Error(`max line size must be between 1 KiB and 512 MiB, got ${bytes} bytes`);
  }
  return bytes;
}

function validateModel(what: string, model: string): void {
  if (Token.isUnresolved(model)) return;
  if (model.trim() === '' || /\s/.test(model)) {
    throw new Error(
      `${what} must be a model name without spaces, such as '${DEFAULT_MODELS.generate}', got '${model}'`,
    );
  }
}

function wholeSeconds(duration: Duration): number | undefined {
  const ms = duration.toMilliseconds();
  return ms % 1000 === 0 ? ms / 1000 : undefined;
}

function validatePollSchedule(schedule: PollSchedule): void {
  const initial = wholeSeconds(schedule.initial);
  const max = wholeSeconds(schedule.max);
  if (initial === undefined || initial < 1) {
    throw new Error(
      `initial poll wait must be a whole number of seconds, at least 1, got ${schedule.initial.toHumanString()}`,
    );
  }
  if (max === undefined || max < 1) {
    throw new Error(
      `maximum poll wait must be a whole number of seconds, at least 1, got ${schedule.max.toHumanString()}`,
    );
  }
  if (initial > max) {
    throw new Error(
      `initial poll wait (${initial} seconds) must not exceed the maximum poll wait (${max} seconds); raise max or lower initial`,
    );
  }
  if (!Number.isFinite(schedule.backoffRate) || schedule.backoffRate < 1) {
    throw new Error(
      `poll backoff rate must be a number of at least 1 (1 polls at a fixed rate), got ${schedule.backoffRate}`,
    );
  }
}

function validateExecutionTimeout(timeout: Duration): void {
  const ms = timeout.toMilliseconds();
  if (ms < Duration.minutes(1).toMilliseconds() || ms > Duration.days(365).toMilliseconds()) {
    throw new Error(
      `execution timeout must be between 1 minute and 365 days (the Standard workflow limit), got ${timeout.toHumanString()}`,
    );
  }
}

function validateWorkExpiration(expiration: Duration, executionTimeout: Duration): void {
  const ms = expiration.toMilliseconds();
  const day = Duration.days(1).toMilliseconds();
  if (ms < day || ms % day !== 0) {
    throw new Error(
      `work expiration must be a whole number of days, at least 1, got ${expiration.toHumanString()}`,
    );
  }
  if (ms < executionTimeout.toMilliseconds()) {
    throw new Error(
      `work expiration (${expiration.toHumanString()}) must be at least the execution timeout (${executionTimeout.toHumanString()}): a run's working state must outlive the run`,
    );
  }
}
