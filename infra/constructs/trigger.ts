import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/runtime/env.js';
import { SALVAGED_STATUSES } from '../../lambdas/start-run/start-run.js';
import { acknowledge } from './nag.js';
import type { PipelineFunction } from './pipeline-function.js';

/** What starts runs: uploads, and runs that ended early (their salvage run). */
export interface PipelineTriggerOptions {
  readonly bucket: s3.IBucket;
  readonly inputPrefix: string;
  readonly startRun: PipelineFunction;
  readonly stateMachine: sfn.StateMachine;
}

/** The trigger's parts, exposed by the pipeline. */
export interface PipelineTrigger {
  readonly inputRule: events.Rule;
  readonly runEndedEarlyRule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * S3 "Object Created" `<inputPrefix>**.jsonl` → EventBridge rule → start-run, which starts the
 * state machine; a timed-out or stopped execution's status change → start-run again, for its
 * salvage run. Deliveries that fail, and events start-run keeps failing on, go to one dead-letter
 * queue. Made directly in `scope`, the pipeline, so their construct ids (and logical ids) are the
 * pipeline's own.
 */
export function pipelineTrigger(scope: Construct, options: PipelineTriggerOptions): PipelineTrigger {
  const { startRun, stateMachine, inputPrefix } = options;
  startRun.function.addEnvironment(ENV.stateMachineArn, stateMachine.stateMachineArn);
  stateMachine.grantStartExecution(startRun);

  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(
    deadLetterQueue,
    'AwsSolutions-SQS3',
    'this queue is the dead-letter queue: of the input rule target, and of start-run asynchronous invocations',
  );
  // An event the function itself fails on (after Lambda's async retries) lands here too.
  startRun.function.configureAsyncInvoke({
    retryAttempts: 2,
    onFailure: new destinations.SqsDestination(deadLetterQueue),
  });

  const inputRule = new events.Rule(scope, 'InputUploadedRule', {
    description: `Starts a gemini-batch-pipeline run for each .jsonl object created under ${inputPrefix}`,
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: {
        bucket: { name: [options.bucket.bucketName] },
        // Anchored at the start of the key: nothing under results/ or work/ can match.
        object: { key: events.Match.wildcard(`${inputPrefix}*.jsonl`) },
      },
    },
  });
  const startRunTarget = new targets.LambdaFunction(startRun.function, {
    deadLetterQueue,
    retryAttempts: 8,
    maxEventAge: Duration.hours(24),
  });
  inputRule.addTarget(startRunTarget);

  // A timeout or a stop (how a run is cancelled) skips every Catch: the status-change event starts
  // the run's salvage execution, which stops its jobs, collects what finished and writes the manifest.
  const runEndedEarlyRule = new events.Rule(scope, 'RunEndedEarlyRule', {
    description: 'Starts the salvage run of a gemini-batch-pipeline execution that timed out or was stopped',
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: {
        stateMachineArn: [stateMachine.stateMachineArn],
        status: [...SALVAGED_STATUSES],
      },
    },
  });
  runEndedEarlyRule.addTarget(startRunTarget);

  return { inputRule, runEndedEarlyRule, deadLetterQueue };
}
