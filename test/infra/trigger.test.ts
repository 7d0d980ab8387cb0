import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalIdOf, type SynthesizedPipeline, synthPipeline } from './helpers.js';

describe('GeminiBatchPipeline trigger with default props', () => {
  let synth: SynthesizedPipeline;
  let dlqArn: unknown;
  let startRunArn: unknown;
  beforeAll(() => {
    synth = synthPipeline();
    dlqArn = { 'Fn::GetAtt': [logicalIdOf(synth, synth.pipeline.deadLetterQueue), 'Arn'] };
    startRunArn = { 'Fn::GetAtt': [synth.logicalId('start-run'), 'Arn'] };
  });

  it('matches S3 Object Created events for this bucket and <prefix>*.jsonl keys only', () => {
    synth.template.resourceCountIs('AWS::Events::Rule', 2);
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: logicalIdOf(synth, synth.pipeline.bucket) }] },
          object: { key: [{ wildcard: 'inputs/*.jsonl' }] },
        },
      },
      State: 'ENABLED',
    });
  });

  it('is on the default bus, the only one S3 sends events to', () => {
    for (const rule of Object.values(synth.template.findResources('AWS::Events::Rule'))) {
      expect(rule.Properties?.EventBusName).toBeUndefined();
    }
  });

  it('targets start-run with retries and a dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.s3'] }),
      Targets: [
        Match.objectLike({
          Arn: startRunArn,
          DeadLetterConfig: { Arn: dlqArn },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
  });

  it("starts the salvage run of this state machine's executions that time out or are stopped", () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: logicalIdOf(synth, synth.pipeline.stateMachine) }],
          status: ['TIMED_OUT', 'ABORTED'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: startRunArn,
          DeadLetterConfig: { Arn: dlqArn },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
  });

  it('sends start-run invocations that keep failing to the same dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: synth.logicalId('start-run') },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: dlqArn } },
    });
  });

  it('encrypts the dead-letter queue and refuses non-SSL access to it', () => {
    const dlqId = logicalIdOf(synth, synth.pipeline.deadLetterQueue);
    expect(synth.json.Resources[dlqId]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('GeminiBatchPipeline trigger with props overridden', () => {
  it('matches uploads to an existing bucket', () => {
    const synth = synthPipeline((stack) => ({
      bucket: s3.Bucket.fromBucketName(stack, 'Existing', 'my-existing-bucket'),
    }));
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { bucket: { name: ['my-existing-bucket'] }, object: Match.anyValue() },
      }),
    });
  });

  it('matches keys under a custom input prefix', () => {
    const synth = synthPipeline({ inputPrefix: 'uploads/batch/' });
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { bucket: Match.anyValue(), object: { key: [{ wildcard: 'uploads/batch/*.jsonl' }] } },
      }),
    });
  });

  it('still matches uploads on the default bus when run-finished events go to a given bus', () => {
    const synth = synthPipeline((stack) => ({ eventBus: new events.EventBus(stack, 'RunsBus') }));
    for (const rule of Object.values(synth.template.findResources('AWS::Events::Rule'))) {
      expect(rule.Properties?.EventBusName).toBeUndefined();
    }
  });
});
