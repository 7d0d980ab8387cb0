import { Duration, RemovalPolicy, SecretValue, Size, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type ModelPrice, type PriceEntry, parsePriceModels } from '../../lambdas/finalize-run/pricing.js';
import {
  DEFAULT_POLL_SCHEDULE,
  DEFAULT_SUBMIT_DEADLINE_SECONDS,
} from '../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import {
  DEFAULT_EXPIRED_RESUBMIT_ROUNDS,
  DEFAULT_LINE_RETRY_ROUNDS,
  DEFAULT_PENDING_TIMEOUT_SECONDS,
} from '../../lambdas/poll-batch-jobs/retries.js';
import { DEFAULT_INPUT_PREFIX, RESULTS_PREFIX, WORK_PREFIX } from '../../lambdas/shared/run/bucket-layout.js';
import { ENV } from '../../lambdas/shared/runtime/env.js';
import { SALVAGED_STATUSES } from '../../lambdas/start-run/start-run.js';
import { acknowledge, acknowledgeWildcards } from './nag.js';
import { PipelineFunction } from './pipeline-function.js';
import { PipelineWorkflow } from './workflow.js';

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
 *   batches on 2026-07-25 (gemini-reality-2026.md); `gemini-embedding-001` is its predecessor.
 *
 * Gemini 2.0 models were retired on 2026-06-01, and jobs on a retired model expire unanswered.
 */
export const DEFAULT_MODELS = { generate: 'gemini-3.8-flash', embed: 'gemini-embedding-2' } as const;

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
} as const satisfies {
  inputPrefix: string;
  generateModel: string;
  embedModel: string;
  pollSchedule: PollSchedule;
  executionTimeout: Duration;
  workExpiration: Duration;
  logRetention: logs.RetentionDays;
};

/**
 * The value the default API-key secret is created with. It is not a key: replace it with
 * `aws secretsmanager put-secret-value --secret-id <ApiKeySecretArn> --secret-string "$GEMINI_API_KEY"`.
 * CloudFormation does not put it back on later deployments unless this value changes.
 */
export const API_KEY_PLACEHOLDER = 'replace-me-with-a-gemini-api-key';

/** The pipeline's functions, by folder name under `lambdas/`. */
export const PIPELINE_FUNCTION_NAMES = [
  'start-run',
  'prepare-requests',
  'submit-batch-jobs',
  'poll-batch-jobs',
  'stop-batch-jobs',
  'collect-results',
  'finalize-run',
] as const;

/** The name of one of the pipeline's functions (its folder under `lambdas/`). */
export type PipelineFunctionName = (typeof PIPELINE_FUNCTION_NAMES)[number];

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
export interface GeminiBatchPipelineProps {
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
   * The model for generate requests that do not name one.
   *
   * @default 'gemini-3.8-flash' (see {@link DEFAULT_MODELS})
   */
  readonly generateModel?: string;

  /**
   * The model for embedding requests that do not name one.
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
   * (see `DEFAULT_BATCH_PRICES` in lambdas/finalize-run/pricing.ts)
   */
  readonly batchPrices?: Readonly<Record<string, ModelPrice | readonly PriceEntry[]>>;

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

/**
 * Gemini's Batch API as infrastructure: a JSONL file of requests created under the input prefix
 * of a bucket becomes a run, and its results come back to the same bucket, keyed.
 *
 * ```
 * S3 "Object Created" <inputPrefix>**.jsonl ─► EventBridge rule ─► start-run λ ─► Step Functions:
 *   Prepare Requests → Submit Batch Jobs → (Wait For Jobs → Poll Batch Jobs → All Jobs Done?)*
 *   → Collect Results → Finalize Run → Run Failed? → Run Failed | Run Succeeded
 * ```
 *
 * Results land under `results/<input path>/<runId>/` (results.jsonl, rejected.jsonl, and
 * manifest.json, written last); working state under `work/<runId>/`. Every failure is caught and
 * ends in Finalize Run, which records it in the manifest. Trigger deliveries that fail go to a
 * dead-letter queue. Each function can reach only the key prefixes it needs.
 */
export class GeminiBatchPipeline extends Construct {
  /** The bucket with inputs, working state and results. */
  public readonly bucket: s3.IBucket;

  /** The bucket the data bucket's server access logs go to, when the construct created both. */
  public readonly accessLogsBucket?: s3.IBucket;

  /** The state machine that runs one input file. */
  public readonly stateMachine: sfn.StateMachine;

  /** The secret holding the Gemini API key. */
  public readonly apiKeySecret: secretsmanager.ISecret;

  /** The functions, by folder name under `lambdas/`. */
  public readonly functions: Readonly<Record<PipelineFunctionName, lambda.IFunction>>;

  /** The rule that starts a run for each uploaded input file. */
  public readonly inputRule: events.Rule;

  /** The rule on the state machine's TIMED_OUT and ABORTED executions that starts their salvage run. */
  public readonly runEndedEarlyRule: events.Rule;

  /** Where trigger events go when they cannot start a run (delivery or start-run failures). */
  public readonly deadLetterQueue: sqs.Queue;

  /** The bus Finalize Run publishes run-finished events to. */
  public readonly eventBus: events.IEventBus;

  /** The validated input prefix. */
  public readonly inputPrefix: string;

  constructor(scope: Construct, id: string, props: GeminiBatchPipelineProps = {}) {
    super(scope, id);
    const inputPrefix = props.inputPrefix ?? PIPELINE_DEFAULTS.inputPrefix;
    const generateModel = props.generateModel ?? PIPELINE_DEFAULTS.generateModel;
    const embedModel = props.embedModel ?? PIPELINE_DEFAULTS.embedModel;
    const pollSchedule = props.pollSchedule ?? PIPELINE_DEFAULTS.pollSchedule;
    const executionTimeout = props.executionTimeout ?? PIPELINE_DEFAULTS.executionTimeout;
    const workExpiration = props.workExpiration ?? PIPELINE_DEFAULTS.workExpiration;
    const logRetention = props.logRetention ?? PIPELINE_DEFAULTS.logRetention;

    validateInputPrefix(inputPrefix);
    validateModel('generate model', generateModel);
    validateModel('embed model', embedModel);
    // Checked here, with the same rules Finalize reads them by, so a bad price fails the synth.
    if (props.batchPrices) parsePriceModels(props.batchPrices, 'batchPrices', "the stack's batchPrices");
    validatePollSchedule(pollSchedule);
    validateExecutionTimeout(executionTimeout);
    validateWorkExpiration(workExpiration, executionTimeout);
    const jobLimitsEnvironment = jobLimitEnvironment(props.jobLimits ?? {});
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
    this.inputPrefix = inputPrefix;

    // Storage -----------------------------------------------------------------------------------
    if (props.bucket) {
      this.bucket = props.bucket;
    } else {
      const accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(90) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const bucket = new s3.Bucket(this, 'Bucket', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        versioned: false,
        serverAccessLogsBucket: accessLogsBucket,
        lifecycleRules: [
          { id: 'ExpireWorkState', prefix: WORK_PREFIX, expiration: workExpiration },
          { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // EventBridge delivery set on the bucket itself: `eventBridgeEnabled: true` would add CDK's
      // notifications custom resource (a Lambda function with s3:PutBucketNotification on `*`)
      // for a setting CloudFormation supports natively. Do not add L2 event notifications to this
      // bucket: that custom resource would then manage, and drop, this configuration.
      (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
        eventBridgeConfiguration: { eventBridgeEnabled: true },
      };
      this.bucket = bucket;
      this.accessLogsBucket = accessLogsBucket;
    }

    if (props.apiKeySecret) {
      this.apiKeySecret = props.apiKeySecret;
    } else {
      const secret = new secretsmanager.Secret(this, 'ApiKeySecret', {
        description:
          'Gemini API key of gemini-batch-pipeline. Created with a placeholder: put your key in with ' +
          'aws secretsmanager put-secret-value --secret-id <this secret> --secret-string <key>',
        secretStringValue: SecretValue.unsafePlainText(API_KEY_PLACEHOLDER),
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'a Gemini API key is issued by Google AI Studio, not generated by AWS: a rotation function cannot mint one, so rotation is manual (put-secret-value)',
      );
      this.apiKeySecret = secret;
    }

    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');

    // Functions ---------------------------------------------------------------------------------
    const apiKeySecretArn = this.apiKeySecret.secretArn;
    const bigWorker = {
      timeout: Duration.minutes(15),
      memorySize: 1769,
      ephemeralStorageSize: Size.gibibytes(10),
    };
    const startRun = new PipelineFunction(this, 'StartRun', {
      name: 'start-run',
      description: 'starts one run per uploaded input file',
      timeout: Duration.seconds(30),
      logRetention,
      environment: { [ENV.inputPrefix]: inputPrefix },
    });
    const prepareRequests = new PipelineFunction(this, 'PrepareRequests', {
      name: 'prepare-requests',
      description: 'validates, normalises and splits an input file into chunks',
      ...bigWorker,
      logRetention,
      environment: {
        [ENV.inputPrefix]: inputPrefix,
        [ENV.generateModel]: generateModel,
        [ENV.embedModel]: embedModel,
        // Prepare asks the Models API about each model before anything is uploaded or paid for.
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        ...jobLimitsEnvironment.prepare,
        ...(props.maxLineSize ? { [ENV.maxLineBytes]: String(validatedLineSize(props.maxLineSize)) } : {}),
      },
    });
    const submitBatchJobs = new PipelineFunction(this, 'SubmitBatchJobs', {
      name: 'submit-batch-jobs',
      description: 'creates one Gemini batch job per chunk, idempotently',
      ...bigWorker,
      logRetention,
      environment: {
        [ENV.generateModel]: generateModel,
        [ENV.embedModel]: embedModel,
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        [ENV.inputPrefix]: inputPrefix,
        ...jobLimitsEnvironment.submit,
      },
    });
    // Poll also submits chunks Gemini refused for now (429), so it is sized to upload like Submit.
    const pollBatchJobs = new PipelineFunction(this, 'PollBatchJobs', {
      name: 'poll-batch-jobs',
      description: "checks every chunk's batch job in one call, submitting chunks that were waiting",
      ...bigWorker,
      logRetention,
      environment: {
        ...jobLimitsEnvironment.submit,
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        [ENV.pollInitialSeconds]: String(pollSchedule.initial.toSeconds()),
        [ENV.pollMaxSeconds]: String(pollSchedule.max.toSeconds()),
        [ENV.pollBackoffRate]: String(pollSchedule.backoffRate),
        [ENV.submitDeadlineSeconds]: String(submitDeadline.toSeconds()),
        [ENV.lineRetryRounds]: String(lineRetryRounds),
        [ENV.expiredResubmitRounds]: String(expiredResubmitRounds),
        [ENV.pendingTimeoutSeconds]: String(pendingTimeout.toSeconds()),
        [ENV.retryCutoffSeconds]: String(retryCutoffSeconds(executionTimeout)),
      },
    });
    // Stop reads and cancels jobs only: no uploads, no /tmp.
    const stopBatchJobs = new PipelineFunction(this, 'StopBatchJobs', {
      name: 'stop-batch-jobs',
      description: 'cancels the jobs of a run that ends early and records the ones that finished',
      timeout: Duration.minutes(15),
      memorySize: 512,
      logRetention,
      environment: { [ENV.apiKeySecretArn]: apiKeySecretArn },
    });
    const collectResults = new PipelineFunction(this, 'CollectResults', {
      name: 'collect-results',
      description: 'turns batch results into keyed results.jsonl',
      ...bigWorker,
      logRetention,
      environment: { [ENV.apiKeySecretArn]: apiKeySecretArn, [ENV.inputPrefix]: inputPrefix },
    });
    const finalizeRun = new PipelineFunction(this, 'FinalizeRun', {
      name: 'finalize-run',
      description: 'writes manifest.json, announces the run and cleans up Gemini files',
      timeout: Duration.minutes(5),
      memorySize: 512,
      logRetention,
      environment: {
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        [ENV.eventBusName]: this.eventBus.eventBusName,
        ...(props.batchPrices ? { [ENV.batchPricesJson]: JSON.stringify(props.batchPrices) } : {}),
        [ENV.inputPrefix]: inputPrefix,
      },
    });
    const all = [
      startRun,
      prepareRequests,
      submitBatchJobs,
      pollBatchJobs,
      stopBatchJobs,
      collectResults,
      finalizeRun,
    ];
    this.functions = {
      'start-run': startRun.function,
      'prepare-requests': prepareRequests.function,
      'submit-batch-jobs': submitBatchJobs.function,
      'poll-batch-jobs': pollBatchJobs.function,
      'stop-batch-jobs': stopBatchJobs.function,
      'collect-results': collectResults.function,
      'finalize-run': finalizeRun.function,
    };

    // Permissions: each function reaches only the prefixes it needs ------------------------------
    const objects = new ObjectGrants(this.bucket);
    objects.read(prepareRequests, inputPrefix);
    objects.readWrite(prepareRequests, WORK_PREFIX);
    objects.put(prepareRequests, RESULTS_PREFIX);
    objects.readWrite(submitBatchJobs, WORK_PREFIX);
    objects.readWrite(pollBatchJobs, WORK_PREFIX);
    objects.readWrite(stopBatchJobs, WORK_PREFIX);
    objects.readWrite(collectResults, WORK_PREFIX);
    objects.put(collectResults, RESULTS_PREFIX);
    objects.read(finalizeRun, WORK_PREFIX);
    objects.readWrite(finalizeRun, RESULTS_PREFIX);
    // Every function but start-run calls Gemini, so reads the key (never an environment variable).
    for (const fn of all.filter((each) => each !== startRun)) this.apiKeySecret.grantRead(fn);
    this.eventBus.grantPutEventsTo(finalizeRun);
    for (const fn of all) {
      acknowledgeWildcards(
        fn,
        { resources: ['*'] },
        'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions',
      );
    }

    // Workflow ----------------------------------------------------------------------------------
    const workflow = new PipelineWorkflow(this, 'Workflow', {
      functions: {
        prepareRequests: prepareRequests.function,
        submitBatchJobs: submitBatchJobs.function,
        pollBatchJobs: pollBatchJobs.function,
        stopBatchJobs: stopBatchJobs.function,
        collectResults: collectResults.function,
        finalizeRun: finalizeRun.function,
      },
      initialPollWait: pollSchedule.initial,
      executionTimeout,
      logRetention,
    });
    this.stateMachine = workflow.stateMachine;
    acknowledge(
      workflow,
      'AwsSolutions-SF1',
      'errors only, never execution data: states pass S3 pointers, and per-request outcomes are in manifest.json; ALL would log every state transition of runs that poll for up to 48 hours',
    );
    acknowledgeWildcards(
      workflow,
      { resources: ['*'] },
      'log delivery (logs:CreateLogDelivery and related) and X-Ray actions of the state machine role do not support resource-level permissions',
    );
    acknowledgeWildcards(
      workflow,
      { resources: all.slice(1).map((fn) => `${fn.function.functionArn}:*`) },
      'lambda:InvokeFunction on the function and its versions/aliases (functionArn:*), as CDK grants it to a Task state',
    );

    // Trigger -----------------------------------------------------------------------------------
    startRun.function.addEnvironment(ENV.stateMachineArn, this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(startRun);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'this queue is the dead-letter queue: of the input rule target, and of start-run asynchronous invocations',
    );
    // An event the function itself fails on (after Lambda's async retries) lands here too.
    startRun.function.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    this.inputRule = new events.Rule(this, 'InputUploadedRule', {
      description: `Starts a gemini-batch-pipeline run for each .jsonl object created under ${inputPrefix}`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.bucket.bucketName] },
          // Anchored at the start of the key: nothing under results/ or work/ can match.
          object: { key: events.Match.wildcard(`${inputPrefix}*.jsonl`) },
        },
      },
    });
    const startRunTarget = new targets.LambdaFunction(startRun.function, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(24),
    });
    this.inputRule.addTarget(startRunTarget);

    // A timeout or a stop (how a run is cancelled) skips every Catch: the status-change event starts
    // the run's salvage execution, which stops its jobs, collects what finished and writes the manifest.
    this.runEndedEarlyRule = new events.Rule(this, 'RunEndedEarlyRule', {
      description:
        'Starts the salvage run of a gemini-batch-pipeline execution that timed out or was stopped',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: [...SALVAGED_STATUSES],
        },
      },
    });
    this.runEndedEarlyRule.addTarget(startRunTarget);
  }
}

/**
 * S3 object grants by key prefix, through CDK's `grant*`, each with its cdk-nag acknowledgement:
 * CDK's action groups (`s3:GetObject*`, …) and the prefix's `*` are wildcards by nature.
 */
class ObjectGrants {
  constructor(private readonly bucket: s3.IBucket) {}

  read(fn: PipelineFunction, prefix: string): void {
    this.bucket.grantRead(fn, `${prefix}*`);
    this.acknowledge(fn, prefix, ['s3:GetObject*', 's3:GetBucket*', 's3:List*'], 'read');
  }

  readWrite(fn: PipelineFunction, prefix: string): void {
    this.bucket.grantReadWrite(fn, `${prefix}*`);
    this.acknowledge(
      fn,
      prefix,
      ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'],
      'read and write',
    );
  }

  put(fn: PipelineFunction, prefix: string): void {
    this.bucket.grantPut(fn, `${prefix}*`);
    this.acknowledge(fn, prefix, ['s3:Abort*'], 'write');
  }

  private acknowledge(fn: PipelineFunction, prefix: string, actions: string[], access: string): void {
    acknowledgeWildcards(
      fn,
      { actions, resources: [this.bucket.arnForObjects(`${prefix}*`)] },
      `the function must ${access} objects under ${prefix}, whose keys are made per run; CDK grants its action groups on that prefix only`,
    );
  }
}

// Validation: lower-case messages that say what is wrong, with the value, and what would work. -

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

const GEMINI_MAX_FILE_BYTES = 2 * 1000 ** 3;
const GEMINI_MAX_REQUEST_BYTES = 20 * 1000 ** 2;

/** The job limits as the functions' environment, validated; only the limits set are passed. */
function jobLimitEnvironment(limits: JobLimits): {
  prepare: Record<string, string>;
  submit: Record<string, string>;
} {
  const prepare: Record<string, string> = {};
  const submit: Record<string, string> = {};
  if (limits.maxFileSize !== undefined) {
    const bytes = limits.maxFileSize.toBytes();
    if (!(bytes > 0 && bytes <= GEMINI_MAX_FILE_BYTES)) {
      throw new Error(
        `job limit maxFileSize must be more than 0 and at most 2 GB (Gemini's file limit), got ${bytes} bytes`,
      );
    }
    prepare[ENV.maxChunkBytes] = String(bytes);
  }
  for (const [name, value, variable] of [
    ['maxRequests', limits.maxRequests, ENV.maxChunkRequests],
    ['maxTokens', limits.maxTokens, ENV.maxTokensPerJob],
  ] as const) {
    if (value === undefined) continue;
    if (!(Number.isInteger(value) && value > 0))
      throw new Error(`job limit ${name} must be a positive whole number, got ${value}`);
    prepare[variable] = String(value);
  }
  if (limits.inlineThreshold !== undefined) {
    const bytes = limits.inlineThreshold.toBytes();
    if (!(bytes >= 0 && bytes < GEMINI_MAX_REQUEST_BYTES)) {
      throw new Error(
        `job limit inlineThreshold must be under 20 MB (Gemini refuses larger create requests), got ${bytes} bytes; use 0 to never send inline`,
      );
    }
    submit[ENV.inlineMaxBytes] = String(bytes);
  }
  if (limits.inlineAnswerThreshold !== undefined) {
    const bytes = limits.inlineAnswerThreshold.toBytes();
    if (!(Number.isInteger(bytes) && bytes >= 0)) {
      throw new Error(`job limit inlineAnswerThreshold must be a whole number of bytes, got ${bytes}`);
    }
    submit[ENV.inlineMaxAnswerBytes] = String(bytes);
  }
  if (limits.inlineEmbeddings !== undefined) submit[ENV.inlineEmbeddings] = String(limits.inlineEmbeddings);
  return { prepare, submit };
}

/** A job may run 48 hours before Gemini expires it, plus time to notice, collect and finalize. */
const JOB_LIFETIME_WITH_MARGIN_SECONDS = 49 * 3600;

/** 12 hours, or less when the execution timeout would not leave a late-accepted job time to end. */
function defaultSubmitDeadline(executionTimeout: Duration): Duration {
  const room = executionTimeout.toSeconds() - JOB_LIFETIME_WITH_MARGIN_SECONDS;
  return Duration.seconds(Math.min(DEFAULT_SUBMIT_DEADLINE_SECONDS, Math.max(60, room)));
}

/**
 * How long after the upload Poll may still create a retry or resubmitted job: the execution timeout
 * less 49 hours (48 for Gemini to run or expire the job, one to collect and finalize), so that every
 * job it creates ends inside the execution. 23 hours by default; 0 (no retries) when the timeout is
 * 49 hours or less.
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
