import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { PipelineConfig } from './config.js';
import { GeminiBatchPipeline } from './constructs/gemini-batch-pipeline.js';
import { STACK_OUTPUTS } from './stack-outputs.js';

/** Properties of a {@link GeminiBatchPipelineStack}. */
export interface GeminiBatchPipelineStackProps extends StackProps {
  /** The pipeline's settings (see `infra/config.ts` for the defaults). */
  readonly config: PipelineConfig;
}

/**
 * The deployable stack: one {@link GeminiBatchPipeline} with its own bucket, and outputs that say
 * how to use it (where to upload, which secret takes the API key).
 */
export class GeminiBatchPipelineStack extends Stack {
  /** The pipeline. */
  public readonly pipeline: GeminiBatchPipeline;

  constructor(scope: Construct, id: string, props: GeminiBatchPipelineStackProps) {
    super(scope, id, {
      description:
        'gemini-batch-pipeline: drop a JSONL file of Gemini requests in S3, get keyed results back',
      ...props,
    });
    const { config } = props;

    this.pipeline = new GeminiBatchPipeline(this, 'Pipeline', {
      inputPrefix: config.inputPrefix,
      generateModel: config.generateModel,
      embedModel: config.embedModel,
      pollSchedule: config.pollSchedule,
      executionTimeout: config.executionTimeout,
      workExpiration: config.workExpiration,
      logRetention: config.logRetention,
      apiKeySecret:
        config.apiKeySecretName === undefined
          ? undefined
          : secretsmanager.Secret.fromSecretNameV2(this, 'ApiKeySecret', config.apiKeySecretName),
    });

    const bucketName = this.pipeline.bucket.bucketName;
    new CfnOutput(this, STACK_OUTPUTS.bucketName, {
      description: 'The bucket: upload under the input prefix, read results under results/',
      value: bucketName,
    });
    new CfnOutput(this, STACK_OUTPUTS.stateMachineArn, {
      description: 'The workflow; one execution per uploaded file',
      value: this.pipeline.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, STACK_OUTPUTS.inputPrefix, {
      description: 'Uploads of .jsonl files under this prefix start runs',
      value: config.inputPrefix,
    });
    new CfnOutput(this, 'EventBusName', {
      description: 'Where "Gemini Batch Run Finished" events are published',
      value: this.pipeline.eventBus.eventBusName,
    });
    new CfnOutput(this, 'ApiKeySecretName', {
      description: 'The secret that holds the Gemini API key',
      value: this.pipeline.apiKeySecret.secretName,
    });
    new CfnOutput(this, 'UploadCommand', {
      description: 'Starts a run: upload a JSONL file of requests under the input prefix',
      value: `aws s3 cp requests.jsonl s3://${bucketName}/${config.inputPrefix}requests.jsonl`,
    });
    if (this.pipeline.glueDatabase) {
      new CfnOutput(this, 'GlueDatabaseName', {
        description: 'The Glue database with the results and inputs tables, for Athena',
        value: this.pipeline.glueDatabase.databaseName,
      });
    }
    if (this.pipeline.dashboard) {
      new CfnOutput(this, 'DashboardName', {
        description: "The pipeline's CloudWatch dashboard",
        value: this.pipeline.dashboard.dashboardName,
      });
    }
    if (config.apiKeySecretName === undefined) {
      new CfnOutput(this, 'SetApiKeyCommand', {
        description: 'Replaces the placeholder in the created secret with your Gemini API key (run once)',
        value: `aws secretsmanager put-secret-value --secret-id ${this.pipeline.apiKeySecret.secretArn} --secret-string "$GEMINI_API_KEY"`,
      });
    }
  }
}
