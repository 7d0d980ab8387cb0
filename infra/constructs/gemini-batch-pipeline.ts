import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as glue from 'aws-cdk-lib/aws-glue';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { admissionTable } from './admission-table.js';
import { PipelineAlarms } from './alarms.js';
import { pipelineDashboard } from './dashboard.js';
import { type PipelineFunctionName, pipelineFunctions } from './functions.js';
import type { GeminiBatchPipelineProps } from './gemini-batch-pipeline-props.js';

export type { ObservabilityProps } from './observability-props.js';

import { grantPipelineAccess } from './grants.js';
import { ResultsTables } from './results-table.js';
import { apiKeySecret, pipelineBuckets } from './storage.js';
import { pipelineTrigger } from './trigger.js';
import { validatedSettings } from './validate-props.js';
import { PipelineWorkflow } from './workflow.js';

// What users of the construct import, from the file named for it.
export { PIPELINE_FUNCTION_NAMES, type PipelineFunctionName } from './functions.js';
export {
  API_KEY_PLACEHOLDER,
  DEFAULT_MODELS,
  type DefaultedProp,
  type GeminiBatchPipelineProps,
  type JobLimits,
  PIPELINE_DEFAULTS,
  type PollSchedule,
} from './gemini-batch-pipeline-props.js';

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

  /** The admission queue every run shares in front of Gemini's quota (see docs/architecture.md, "Many runs, one quota"). */
  public readonly admissionTable: dynamodb.ITable;

  /** The validated input prefix. */
  public readonly inputPrefix: string;

  /** The alarms, by what each watches (`ExecutionsFailed`, `PollBatchJobsErrors` …); empty when turned off. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  /** The CloudWatch dashboard, unless turned off. */
  public readonly dashboard?: cloudwatch.Dashboard;

  /** The Glue database holding the `results` and `inputs` tables, unless turned off. */
  public readonly glueDatabase?: glue.IDatabase;

  /** The Glue table over `results/`, partitioned by `input` and `run` (projection), unless turned off. */
  public readonly resultsTable?: glue.ITable;

  /** The Glue table over the input prefix, unless turned off. */
  public readonly inputsTable?: glue.ITable;

  constructor(scope: Construct, id: string, props: GeminiBatchPipelineProps = {}) {
    super(scope, id);
    // Each part is made directly in this construct, as before the split: construct ids, and so
    // logical ids, do not depend on which file builds what.
    const settings = validatedSettings(props);
    this.inputPrefix = settings.inputPrefix;

    const buckets = pipelineBuckets(this, { given: props.bucket, workExpiration: settings.workExpiration });
    this.bucket = buckets.bucket;
    this.accessLogsBucket = buckets.accessLogsBucket;
    this.apiKeySecret = apiKeySecret(this, props.apiKeySecret);
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');

    this.admissionTable = admissionTable(this);

    const functions = pipelineFunctions(this, settings, {
      apiKeySecretArn: this.apiKeySecret.secretArn,
      eventBusName: this.eventBus.eventBusName,
      admissionTableName: this.admissionTable.tableName,
    });
    this.functions = {
      'start-run': functions['start-run'].function,
      'prepare-requests': functions['prepare-requests'].function,
      'submit-batch-jobs': functions['submit-batch-jobs'].function,
      'poll-batch-jobs': functions['poll-batch-jobs'].function,
      'stop-batch-jobs': functions['stop-batch-jobs'].function,
      'collect-results': functions['collect-results'].function,
      'finalize-run': functions['finalize-run'].function,
    };
    grantPipelineAccess({
      functions,
      bucket: this.bucket,
      inputPrefix: settings.inputPrefix,
      apiKeySecret: this.apiKeySecret,
      eventBus: this.eventBus,
      admissionTable: this.admissionTable,
    });

    this.stateMachine = new PipelineWorkflow(this, 'Workflow', {
      functions: {
        prepareRequests: functions['prepare-requests'].function,
        submitBatchJobs: functions['submit-batch-jobs'].function,
        pollBatchJobs: functions['poll-batch-jobs'].function,
        stopBatchJobs: functions['stop-batch-jobs'].function,
        collectResults: functions['collect-results'].function,
        finalizeRun: functions['finalize-run'].function,
      },
      initialPollWait: settings.pollSchedule.initial,
      executionTimeout: settings.executionTimeout,
      logRetention: settings.logRetention,
    }).stateMachine;

    const trigger = pipelineTrigger(this, {
      bucket: this.bucket,
      inputPrefix: settings.inputPrefix,
      startRun: functions['start-run'],
      stateMachine: this.stateMachine,
    });
    this.inputRule = trigger.inputRule;
    this.runEndedEarlyRule = trigger.runEndedEarlyRule;
    this.deadLetterQueue = trigger.deadLetterQueue;

    // Observability and analytics come last: they watch or read what is built above.
    const { observability } = settings;
    this.alarms = observability.alarms
      ? new PipelineAlarms(this, 'Alarms', {
          stateMachine: this.stateMachine,
          deadLetterQueue: this.deadLetterQueue,
          functions: this.functions,
          longRunThreshold: observability.longRunThreshold,
          maxPollWait: settings.pollSchedule.max,
          alarmAction: props.alarmAction,
        }).alarms
      : {};
    if (observability.dashboard) {
      this.dashboard = pipelineDashboard(this, {
        stateMachine: this.stateMachine,
        functions: this.functions,
        alarms: Object.values(this.alarms),
      });
    }
    if (observability.glueTables) {
      const tables = new ResultsTables(this, 'GlueTables', {
        bucket: this.bucket,
        inputPrefix: this.inputPrefix,
      });
      this.glueDatabase = tables.database;
      this.resultsTable = tables.resultsTable;
      this.inputsTable = tables.inputsTable;
    }
  }
}
