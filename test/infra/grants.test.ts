import type { CfnElement } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PipelineFunctionName } from '../../infra/constructs/gemini-batch-pipeline.js';
import {
  actionsOf,
  allStatements,
  flatten,
  logicalIdOf,
  resourcesOf,
  roleOf,
  type SynthesizedPipeline,
  s3Permissions,
  statementsOfFunction,
  statementsOfRole,
  synthPipeline,
} from './helpers.js';

/**
 * Each function's S3 permissions, exactly: what its code calls (GetObject, GetObjectVersion for
 * the upload, PutObject, AbortMultipartUpload for streamed writes) on the prefixes it uses, and
 * ListBucket on the bucket so that a missing object reads as missing (404), not forbidden (403).
 */
const S3_PERMISSIONS: Record<PipelineFunctionName, string[]> = {
  'start-run': [],
  'prepare-requests': [
    's3:AbortMultipartUpload bucket/results/*',
    's3:AbortMultipartUpload bucket/work/*',
    's3:GetObject bucket/inputs/*',
    's3:GetObjectVersion bucket/inputs/*',
    's3:ListBucket bucket',
    's3:PutObject bucket/results/*',
    's3:PutObject bucket/work/*',
  ],
  'submit-batch-jobs': ['s3:GetObject bucket/work/*', 's3:ListBucket bucket', 's3:PutObject bucket/work/*'],
  'poll-batch-jobs': [
    's3:AbortMultipartUpload bucket/work/*',
    's3:GetObject bucket/work/*',
    's3:ListBucket bucket',
    's3:PutObject bucket/work/*',
  ],
  'stop-batch-jobs': ['s3:GetObject bucket/work/*', 's3:ListBucket bucket', 's3:PutObject bucket/work/*'],
  'collect-results': [
    's3:AbortMultipartUpload bucket/results/*',
    's3:GetObject bucket/work/*',
    's3:ListBucket bucket',
    's3:PutObject bucket/results/*',
    's3:PutObject bucket/work/*',
  ],
  // Writes manifest.json; reads nothing under results/ and deletes nothing.
  'finalize-run': ['s3:GetObject bucket/work/*', 's3:ListBucket bucket', 's3:PutObject bucket/results/*'],
};
const NAMES = Object.keys(S3_PERMISSIONS) as PipelineFunctionName[];
const CALLS_GEMINI: readonly PipelineFunctionName[] = NAMES.filter((name) => name !== 'start-run');

const putEventsOf = (synth: SynthesizedPipeline, name: PipelineFunctionName) =>
  statementsOfFunction(synth, name)
    .filter((statement) => actionsOf(statement).includes('events:PutEvents'))
    .map((statement) => ({ ...statement, Resource: flatten(statement.Resource) }));

describe('GeminiBatchPipeline grants with default props', () => {
  let synth: SynthesizedPipeline;
  let bucketArn: unknown;
  beforeAll(() => {
    synth = synthPipeline();
    bucketArn = { 'Fn::GetAtt': [logicalIdOf(synth, synth.pipeline.bucket), 'Arn'] };
  });

  it.each(NAMES)('gives %s exactly the S3 actions its code calls, on its prefixes only', (name) => {
    expect(s3Permissions(statementsOfFunction(synth, name), bucketArn)).toEqual(S3_PERMISSIONS[name]);
  });

  it('lets start-run do nothing but log, trace, start this state machine and dead-letter', () => {
    const statements = statementsOfFunction(synth, 'start-run').map((statement) => ({
      actions: actionsOf(statement).sort(),
      resources: resourcesOf(statement).map(flatten),
    }));
    const machine = logicalIdOf(synth, synth.pipeline.stateMachine);
    const dlq = logicalIdOf(synth, synth.pipeline.deadLetterQueue);
    expect(statements).toEqual(
      expect.arrayContaining([
        { actions: ['states:StartExecution'], resources: [`<${machine}>`] },
        { actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resources: ['*'] },
        {
          actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          resources: [`<${dlq}.Arn>`],
        },
      ]),
    );
    expect(statements).toHaveLength(4);
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('logs:')))).toEqual([
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [expect.stringMatching(/^<PipelineStartRunLogGroup[0-9A-F]{8}\.Arn>$/)],
      },
    ]);
  });

  it('lets only the functions that call Gemini read the API key secret', () => {
    const secretId = logicalIdOf(synth, synth.pipeline.apiKeySecret);
    for (const name of NAMES) {
      const reads = statementsOfFunction(synth, name).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
      );
      expect(
        reads.map((s) => ({ actions: actionsOf(s).sort(), resources: resourcesOf(s).map(flatten) })),
      ).toEqual(
        CALLS_GEMINI.includes(name)
          ? [
              {
                actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
                resources: [`<${secretId}>`],
              },
            ]
          : [],
      );
    }
  });

  it("lets only finalize-run put events, on the default bus, of the pipeline's own source only", () => {
    for (const name of NAMES.filter((n) => n !== 'finalize-run'))
      expect(putEventsOf(synth, name)).toEqual([]);
    expect(putEventsOf(synth, 'finalize-run')).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default',
        Condition: { StringEquals: { 'events:source': 'gemini-batch-pipeline' } },
      },
    ]);
  });

  it('lets the state machine invoke the five workflow functions and not start-run', () => {
    const roleId = roleOf(synth.json, logicalIdOf(synth, synth.pipeline.stateMachine), 'RoleArn');
    const invoked = statementsOfRole(synth.json, roleId)
      .filter((s) => actionsOf(s).includes('lambda:InvokeFunction'))
      .flatMap((s) => resourcesOf(s).map(flatten));
    expect(invoked.sort()).toEqual(
      CALLS_GEMINI.flatMap((name) => [
        `<${synth.logicalId(name)}.Arn>`,
        `<${synth.logicalId(name)}.Arn>:*`,
      ]).sort(),
    );
  });

  it("has a '*' resource only in the X-Ray and log-delivery statements cdk-nag acknowledges", () => {
    const policyOf = (role: iam.IRole | undefined): string =>
      synth.stack.getLogicalId(role?.node.findChild('DefaultPolicy').node.defaultChild as CfnElement);
    const byOwner = (a: { owner: string }, b: { owner: string }) => a.owner.localeCompare(b.owner);
    const xray = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const wildcard = allStatements(synth.json)
      .filter(({ statement }) => statement.Effect === 'Allow' && resourcesOf(statement).includes('*'))
      .map(({ owner, statement }) => ({ owner, actions: actionsOf(statement).sort() }));
    expect(wildcard.sort(byOwner)).toEqual(
      [
        ...NAMES.map((name) => ({ owner: policyOf(synth.pipeline.functions[name].role), actions: xray })),
        {
          owner: policyOf(synth.pipeline.stateMachine.role),
          actions: [
            'logs:CreateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:DescribeLogGroups',
            'logs:DescribeResourcePolicies',
            'logs:GetLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:UpdateLogDelivery',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
            ...xray,
          ],
        },
      ].sort(byOwner),
    );
  });

  it('allows no wildcard action anywhere', () => {
    const actions = allStatements(synth.json)
      .filter(({ statement }) => statement.Effect === 'Allow')
      .flatMap(({ statement }) => actionsOf(statement));
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('uses no AWS managed policy', () => {
    for (const role of Object.values(synth.template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('GeminiBatchPipeline grants with props overridden', () => {
  it('grants the same S3 actions on an existing bucket', () => {
    const synth = synthPipeline((stack) => ({
      bucket: s3.Bucket.fromBucketName(stack, 'Existing', 'my-existing-bucket'),
    }));
    for (const name of NAMES) {
      expect(s3Permissions(statementsOfFunction(synth, name), 'arn:aws:s3:::my-existing-bucket')).toEqual(
        S3_PERMISSIONS[name],
      );
    }
  });

  it('lets the functions use the KMS key of an existing bucket', () => {
    const synth = synthPipeline((stack) => ({
      bucket: s3.Bucket.fromBucketAttributes(stack, 'Existing', {
        bucketName: 'my-encrypted-bucket',
        encryptionKey: new kms.Key(stack, 'BucketKey'),
      }),
    }));
    const keyUse = (name: PipelineFunctionName) =>
      statementsOfFunction(synth, name)
        .filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))
        .flatMap((s) => actionsOf(s))
        .sort();
    expect(keyUse('start-run')).toEqual([]);
    // Every other function reads its records and writes (a multipart upload under SSE-KMS decrypts too).
    for (const name of CALLS_GEMINI) {
      expect(keyUse(name)).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']);
    }
  });

  it('grants the custom input prefix, not inputs/', () => {
    const synth = synthPipeline({ inputPrefix: 'uploads/batch/' });
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(synth, synth.pipeline.bucket), 'Arn'] };
    expect(
      s3Permissions(statementsOfFunction(synth, 'prepare-requests'), bucketArn).filter((p) =>
        p.includes('Get'),
      ),
    ).toEqual(['s3:GetObject bucket/uploads/batch/*', 's3:GetObjectVersion bucket/uploads/batch/*']);
  });

  it('lets the functions read a given API key secret', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:team/gemini-key-AbCdEf';
    const synth = synthPipeline((stack) => ({
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', arn),
    }));
    const reads = statementsOfFunction(synth, 'poll-batch-jobs').filter((s) =>
      actionsOf(s).includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.map((s) => s.Resource)).toEqual([arn]);
  });

  it("lets finalize-run put events of the pipeline's own source on a given bus only", () => {
    const synth = synthPipeline((stack) => ({ eventBus: new events.EventBus(stack, 'RunsBus') }));
    const busId = logicalIdOf(synth, synth.pipeline.eventBus as events.EventBus);
    expect(putEventsOf(synth, 'finalize-run')).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: `<${busId}.Arn>`,
        Condition: { StringEquals: { 'events:source': 'gemini-batch-pipeline' } },
      },
    ]);
  });
});
