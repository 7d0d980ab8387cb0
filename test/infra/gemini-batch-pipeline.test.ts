import { type CfnElement, Duration, Size } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY_PLACEHOLDER,
  PIPELINE_FUNCTION_NAMES,
  type PipelineFunctionName,
} from '../../infra/constructs/gemini-batch-pipeline.js';
import { ENV } from '../../lambdas/shared/runtime/env.js';
import { stateMachineDefinition } from '../../local/template/template-workflow.js';
import {
  actionsOf,
  environmentOf,
  flatten,
  objectPatternsAllowed,
  resourcesOf,
  roleOf,
  type Statement,
  type SynthesizedPipeline,
  statementsOfFunction,
  statementsOfRole,
  synthPipeline,
} from './helpers.js';

const HOUSE_ENV = ['NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME'];

/** Timeout (s), memory (MiB), /tmp (MiB, undefined = Lambda's default) and own env of each function. */
const FUNCTIONS: Record<
  PipelineFunctionName,
  { timeout: number; memory: number; ephemeral?: number; env: string[] }
> = {
  'start-run': { timeout: 30, memory: 256, env: [ENV.inputPrefix, ENV.stateMachineArn] },
  'prepare-requests': {
    timeout: 900,
    memory: 1769,
    ephemeral: 10240,
    env: [ENV.inputPrefix, ENV.generateModel, ENV.embedModel, ENV.apiKeySecretArn],
  },
  'submit-batch-jobs': {
    timeout: 900,
    memory: 1769,
    ephemeral: 10240,
    env: [ENV.generateModel, ENV.embedModel, ENV.apiKeySecretArn, ENV.inputPrefix],
  },
  'poll-batch-jobs': {
    // Poll also uploads chunks that were waiting for quota, so it is sized like Submit.
    timeout: 900,
    memory: 1769,
    ephemeral: 10240,
    env: [
      ENV.apiKeySecretArn,
      ENV.pollInitialSeconds,
      ENV.pollMaxSeconds,
      ENV.pollBackoffRate,
      ENV.submitDeadlineSeconds,
      ENV.lineRetryRounds,
      ENV.expiredResubmitRounds,
      ENV.pendingTimeoutSeconds,
      ENV.retryCutoffSeconds,
    ],
  },
  'stop-batch-jobs': { timeout: 900, memory: 512, env: [ENV.apiKeySecretArn] },
  'collect-results': {
    timeout: 900,
    memory: 1769,
    ephemeral: 10240,
    env: [ENV.apiKeySecretArn, ENV.inputPrefix],
  },
  'finalize-run': {
    timeout: 300,
    memory: 512,
    env: [ENV.apiKeySecretArn, ENV.eventBusName, ENV.inputPrefix],
  },
};

function logicalIdOf(synth: SynthesizedPipeline, construct: { node: { defaultChild?: unknown } }): string {
  return synth.stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Every policy statement anywhere in the template (identity and resource policies). */
function allStatements(synth: SynthesizedPipeline): { owner: string; statement: Statement }[] {
  const found: { owner: string; statement: Statement }[] = [];
  const visit = (owner: string, node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(owner, item);
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (Array.isArray(record.Statement)) {
        for (const statement of record.Statement as Statement[]) found.push({ owner, statement });
      } else {
        for (const value of Object.values(record)) visit(owner, value);
      }
    }
  };
  for (const [id, resource] of Object.entries(synth.json.Resources)) visit(id, resource.Properties);
  return found;
}

describe('GeminiBatchPipeline with default props', () => {
  let synth: SynthesizedPipeline;
  let bucketId: string;
  beforeAll(() => {
    synth = synthPipeline();
    bucketId = logicalIdOf(synth, synth.pipeline.bucket);
  });

  describe('bucket', () => {
    it('creates the data bucket and its access-logs bucket, both kept when the stack is deleted', () => {
      synth.template.resourceCountIs('AWS::S3::Bucket', 2);
      for (const bucket of Object.values(synth.template.findResources('AWS::S3::Bucket'))) {
        expect(bucket.DeletionPolicy).toBe('Retain');
        expect(bucket.UpdateReplacePolicy).toBe('Retain');
      }
    });

    it('blocks all public access', () => {
      expect(synth.json.Resources[bucketId]?.Properties?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    });

    it('encrypts objects with S3-managed keys', () => {
      expect(synth.json.Resources[bucketId]?.Properties?.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
    });

    it('denies every request that does not use SSL', () => {
      synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: [
                { 'Fn::GetAtt': [bucketId, 'Arn'] },
                { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
              ],
            }),
          ]),
        },
      });
    });

    it('sends its events to EventBridge natively, without the notifications custom resource', () => {
      expect(synth.json.Resources[bucketId]?.Properties?.NotificationConfiguration).toEqual({
        EventBridgeConfiguration: { EventBridgeEnabled: true },
      });
      synth.template.resourceCountIs('Custom::S3BucketNotifications', 0);
    });

    it('expires work/ after 7 days and aborts incomplete multipart uploads after 1 day', () => {
      expect(synth.json.Resources[bucketId]?.Properties?.LifecycleConfiguration).toEqual({
        Rules: [
          { Id: 'ExpireWorkState', Prefix: 'work/', ExpirationInDays: 7, Status: 'Enabled' },
          {
            Id: 'AbortIncompleteMultipartUploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      });
    });

    it('is not versioned', () => {
      expect(synth.json.Resources[bucketId]?.Properties?.VersioningConfiguration).toBeUndefined();
    });

    it('writes server access logs to the access-logs bucket, which expires them after 90 days', () => {
      const logsId = logicalIdOf(synth, synth.pipeline.accessLogsBucket as s3.IBucket);
      expect(synth.json.Resources[bucketId]?.Properties?.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logsId },
      });
      expect(synth.json.Resources[logsId]?.Properties).toMatchObject({
        LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      });
    });
  });

  describe('API key secret', () => {
    it('creates a secret holding only the placeholder', () => {
      synth.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
      synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        SecretString: API_KEY_PLACEHOLDER,
      });
    });

    it('gives functions the secret ARN and never a key', () => {
      const secretId = logicalIdOf(synth, synth.pipeline.apiKeySecret);
      for (const name of PIPELINE_FUNCTION_NAMES) {
        const env = environmentOf(synth.json, synth.logicalId(name));
        expect(Object.keys(env)).not.toContain(ENV.apiKey);
        expect(JSON.stringify(env)).not.toContain(API_KEY_PLACEHOLDER);
        expect(JSON.stringify(env)).not.toMatch(/AIza[0-9A-Za-z_-]{20,}/);
        if (FUNCTIONS[name].env.includes(ENV.apiKeySecretArn)) {
          expect(env[ENV.apiKeySecretArn]).toEqual({ Ref: secretId });
        }
      }
    });
  });

  describe('functions', () => {
    it('exposes the seven functions by folder name', () => {
      expect(Object.keys(synth.pipeline.functions).sort()).toEqual([...PIPELINE_FUNCTION_NAMES].sort());
      synth.template.resourceCountIs('AWS::Lambda::Function', 7);
    });

    it.each(PIPELINE_FUNCTION_NAMES)(
      'runs %s on nodejs24.x, arm64, traced, with its timeout and memory',
      (name) => {
        const props = synth.json.Resources[synth.logicalId(name)]?.Properties;
        const expected = FUNCTIONS[name];
        expect(props).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          Timeout: expected.timeout,
          MemorySize: expected.memory,
          Handler: 'index.handler',
        });
        expect(props?.EphemeralStorage).toEqual(
          expected.ephemeral === undefined ? undefined : { Size: expected.ephemeral },
        );
      },
    );

    it.each(PIPELINE_FUNCTION_NAMES)(
      'sets exactly the environment %s reads, plus the house defaults',
      (name) => {
        const env = environmentOf(synth.json, synth.logicalId(name));
        expect(Object.keys(env).sort()).toEqual([...HOUSE_ENV, ...FUNCTIONS[name].env].sort());
        expect(env).toMatchObject({
          POWERTOOLS_SERVICE_NAME: 'gemini-batch-pipeline',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        });
      },
    );

    it('passes the default models, input prefix and poll schedule', () => {
      expect(environmentOf(synth.json, synth.logicalId('prepare-requests'))).toMatchObject({
        [ENV.inputPrefix]: 'inputs/',
        [ENV.generateModel]: 'gemini-3.8-flash',
        [ENV.embedModel]: 'gemini-embedding-2',
      });
      expect(environmentOf(synth.json, synth.logicalId('poll-batch-jobs'))).toMatchObject({
        [ENV.pollInitialSeconds]: '30',
        [ENV.pollMaxSeconds]: '720',
        [ENV.submitDeadlineSeconds]: String(12 * 3600),
        [ENV.pollBackoffRate]: '1.5',
        [ENV.lineRetryRounds]: '2',
        [ENV.expiredResubmitRounds]: '1',
        [ENV.pendingTimeoutSeconds]: String(12 * 3600),
        // 72 h less 48 h for a job Gemini may run before expiring it, less 1 h to collect.
        [ENV.retryCutoffSeconds]: String(23 * 3600),
      });
      expect(environmentOf(synth.json, synth.logicalId('finalize-run'))[ENV.eventBusName]).toBe('default');
      expect(environmentOf(synth.json, synth.logicalId('start-run'))[ENV.stateMachineArn]).toEqual({
        Ref: logicalIdOf(synth, synth.pipeline.stateMachine),
      });
    });

    it.each(PIPELINE_FUNCTION_NAMES)('logs %s to its own log group, kept one month', (name) => {
      const logging = synth.json.Resources[synth.logicalId(name)]?.Properties?.LoggingConfig as {
        LogGroup: { Ref: string };
      };
      const logGroup = synth.json.Resources[logging.LogGroup.Ref];
      expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup?.Properties?.RetentionInDays).toBe(30);
      expect(logGroup?.Properties?.LogGroupName).toBeUndefined();
    });

    it('gives no resource a physical name', () => {
      const nameFields: Record<string, string> = {
        'AWS::S3::Bucket': 'BucketName',
        'AWS::Lambda::Function': 'FunctionName',
        'AWS::IAM::Role': 'RoleName',
        'AWS::StepFunctions::StateMachine': 'StateMachineName',
        'AWS::SQS::Queue': 'QueueName',
        'AWS::Logs::LogGroup': 'LogGroupName',
        'AWS::SecretsManager::Secret': 'Name',
        'AWS::Events::Rule': 'Name',
      };
      const named = Object.entries(synth.json.Resources).filter(([, resource]) => {
        const field = nameFields[resource.Type];
        return field !== undefined && resource.Properties?.[field] !== undefined;
      });
      expect(named).toEqual([]);
    });
  });

  describe('trigger', () => {
    it('matches S3 Object Created events for this bucket and <prefix>*.jsonl keys only', () => {
      synth.template.resourceCountIs('AWS::Events::Rule', 2);
      synth.template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: {
            bucket: { name: [{ Ref: bucketId }] },
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

    it("starts the salvage run of this state machine's executions that time out or are stopped", () => {
      const machineId = logicalIdOf(synth, synth.pipeline.stateMachine);
      synth.template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { stateMachineArn: [{ Ref: machineId }], status: ['TIMED_OUT', 'ABORTED'] },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [synth.logicalId('start-run'), 'Arn'] },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [logicalIdOf(synth, synth.pipeline.deadLetterQueue), 'Arn'] },
            },
          }),
        ],
      });
    });

    it('targets start-run with retries and a dead-letter queue', () => {
      const dlqId = logicalIdOf(synth, synth.pipeline.deadLetterQueue);
      synth.template.hasResourceProperties('AWS::Events::Rule', {
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [synth.logicalId('start-run'), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
    });

    it('sends start-run invocations that keep failing to the same dead-letter queue', () => {
      synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: synth.logicalId('start-run') },
        MaximumRetryAttempts: 2,
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [logicalIdOf(synth, synth.pipeline.deadLetterQueue), 'Arn'] },
          },
        },
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

  describe('state machine', () => {
    it('is a Standard workflow, traced, logging errors without execution data', () => {
      synth.template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
      synth.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
      });
    });

    it('stops an execution after 72 hours', () => {
      expect(stateMachineDefinition(synth.json).TimeoutSeconds).toBe(72 * 3600);
    });
  });

  describe('least privilege', () => {
    let bucketArn: unknown;
    beforeAll(() => {
      bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
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

    it('lets prepare-requests read inputs/* but not every object', () => {
      const statements = statementsOfFunction(synth, 'prepare-requests');
      expect(objectPatternsAllowed(statements, 's3:GetObject*', bucketArn)).toEqual(['inputs/*', 'work/*']);
      expect(objectPatternsAllowed(statements, 's3:GetObject*', bucketArn)).not.toContain('*');
    });

    it.each([
      ['start-run', [], [], []],
      ['prepare-requests', ['inputs/*', 'work/*'], ['results/*', 'work/*'], ['work/*']],
      ['submit-batch-jobs', ['work/*'], ['work/*'], ['work/*']],
      ['poll-batch-jobs', ['work/*'], ['work/*'], ['work/*']],
      ['collect-results', ['work/*'], ['results/*', 'work/*'], ['work/*']],
      ['finalize-run', ['results/*', 'work/*'], ['results/*'], ['results/*']],
    ] as const)('lets %s read %j, write %j and delete %j', (name, read, write, remove) => {
      const statements = statementsOfFunction(synth, name);
      expect(objectPatternsAllowed(statements, 's3:GetObject*', bucketArn)).toEqual(read);
      expect(objectPatternsAllowed(statements, 's3:PutObject', bucketArn)).toEqual(write);
      expect(objectPatternsAllowed(statements, 's3:DeleteObject*', bucketArn)).toEqual(remove);
    });

    it('lets only the functions that call Gemini read the API key secret', () => {
      const secretId = logicalIdOf(synth, synth.pipeline.apiKeySecret);
      for (const name of PIPELINE_FUNCTION_NAMES) {
        const reads = statementsOfFunction(synth, name).filter((s) =>
          actionsOf(s).includes('secretsmanager:GetSecretValue'),
        );
        const callsGemini = FUNCTIONS[name].env.includes(ENV.apiKeySecretArn);
        expect(reads.map((s) => resourcesOf(s).map(flatten))).toEqual(callsGemini ? [[`<${secretId}>`]] : []);
      }
    });

    it('lets only finalize-run put events, on the default bus only', () => {
      for (const name of PIPELINE_FUNCTION_NAMES) {
        const puts = statementsOfFunction(synth, name).filter((s) =>
          actionsOf(s).includes('events:PutEvents'),
        );
        expect(puts.map((s) => s.Resource)).toEqual(
          name === 'finalize-run' ? ['arn:aws:events:us-east-1:000000000000:event-bus/default'] : [],
        );
      }
    });

    it('lets the state machine invoke the five workflow functions and not start-run', () => {
      const roleId = roleOf(synth.json, logicalIdOf(synth, synth.pipeline.stateMachine), 'RoleArn');
      const invoke = statementsOfRole(synth.json, roleId).filter((s) =>
        actionsOf(s).includes('lambda:InvokeFunction'),
      );
      const invoked = invoke.flatMap((s) => resourcesOf(s).map(flatten));
      const workflowFunctions = PIPELINE_FUNCTION_NAMES.filter((name) => name !== 'start-run');
      expect(invoked.sort()).toEqual(
        workflowFunctions
          .flatMap((name) => [`<${synth.logicalId(name)}.Arn>`, `<${synth.logicalId(name)}.Arn>:*`])
          .sort(),
      );
    });

    it("has a '*' resource only in the X-Ray and log-delivery statements cdk-nag acknowledges", () => {
      const policyOf = (role: iam.IRole | undefined): string =>
        synth.stack.getLogicalId(role?.node.findChild('DefaultPolicy').node.defaultChild as CfnElement);
      const byOwner = (a: { owner: string }, b: { owner: string }) => a.owner.localeCompare(b.owner);
      const xray = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
      const wildcard = allStatements(synth)
        .filter(({ statement }) => statement.Effect === 'Allow' && resourcesOf(statement).includes('*'))
        .map(({ owner, statement }) => ({ owner, actions: actionsOf(statement).sort() }));
      expect(wildcard.sort(byOwner)).toEqual(
        [
          ...PIPELINE_FUNCTION_NAMES.map((name) => ({
            owner: policyOf(synth.pipeline.functions[name].role),
            actions: xray,
          })),
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

    it('uses no AWS managed policy', () => {
      for (const role of Object.values(synth.template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
      }
    });
  });
});

describe('GeminiBatchPipeline with props overridden', () => {
  it('uses an existing bucket and creates none', () => {
    const synth = synthPipeline((stack) => ({
      bucket: s3.Bucket.fromBucketName(stack, 'Existing', 'my-existing-bucket'),
    }));
    synth.template.resourceCountIs('AWS::S3::Bucket', 0);
    synth.template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    expect(synth.pipeline.accessLogsBucket).toBeUndefined();
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { bucket: { name: ['my-existing-bucket'] }, object: Match.anyValue() },
      }),
    });
    const statements = statementsOfFunction(synth, 'prepare-requests');
    expect(objectPatternsAllowed(statements, 's3:GetObject*', 'arn:aws:s3:::my-existing-bucket')).toEqual([
      'inputs/*',
      'work/*',
    ]);
  });

  it('uses a custom input prefix in the trigger, the environment and the grants', () => {
    const synth = synthPipeline({ inputPrefix: 'uploads/batch/' });
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { bucket: Match.anyValue(), object: { key: [{ wildcard: 'uploads/batch/*.jsonl' }] } },
      }),
    });
    for (const name of PIPELINE_FUNCTION_NAMES.filter((n) => FUNCTIONS[n].env.includes(ENV.inputPrefix))) {
      expect(environmentOf(synth.json, synth.logicalId(name))[ENV.inputPrefix]).toBe('uploads/batch/');
    }
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(synth, synth.pipeline.bucket), 'Arn'] };
    expect(
      objectPatternsAllowed(statementsOfFunction(synth, 'prepare-requests'), 's3:GetObject*', bucketArn),
    ).toEqual(['uploads/batch/*', 'work/*']);
  });

  it('passes custom models to the functions that pick models', () => {
    const synth = synthPipeline({ generateModel: 'gemini-2.5-pro', embedModel: 'text-embedding-005' });
    for (const name of ['prepare-requests', 'submit-batch-jobs'] as const) {
      expect(environmentOf(synth.json, synth.logicalId(name))).toMatchObject({
        [ENV.generateModel]: 'gemini-2.5-pro',
        [ENV.embedModel]: 'text-embedding-005',
      });
    }
  });

  it('uses a given API key secret and creates none', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:team/gemini-key-AbCdEf';
    const synth = synthPipeline((stack) => ({
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', arn),
    }));
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(environmentOf(synth.json, synth.logicalId('submit-batch-jobs'))[ENV.apiKeySecretArn]).toBe(arn);
    const reads = statementsOfFunction(synth, 'poll-batch-jobs').filter((s) =>
      actionsOf(s).includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.map((s) => s.Resource)).toEqual([arn]);
  });

  it('uses a custom poll schedule in the poll function and the first wait', () => {
    const synth = synthPipeline({
      pollSchedule: { initial: Duration.seconds(5), max: Duration.minutes(2), backoffRate: 2 },
    });
    expect(environmentOf(synth.json, synth.logicalId('poll-batch-jobs'))).toMatchObject({
      [ENV.pollInitialSeconds]: '5',
      [ENV.pollMaxSeconds]: '120',
      [ENV.pollBackoffRate]: '2',
    });
    expect(stateMachineDefinition(synth.json).States['Start Polling']?.Result).toEqual({
      attempt: 0,
      waitSeconds: 5,
      allDone: false,
    });
  });

  it('uses a custom execution timeout, shortening the submit deadline to leave a late job time to end', () => {
    const synth = synthPipeline({ executionTimeout: Duration.hours(50) });
    expect(stateMachineDefinition(synth.json).TimeoutSeconds).toBe(50 * 3600);
    expect(environmentOf(synth.json, synth.logicalId('poll-batch-jobs'))).toMatchObject({
      [ENV.submitDeadlineSeconds]: String(3600),
      [ENV.retryCutoffSeconds]: String(3600),
    });
  });

  it('creates no retry job when the execution timeout leaves a resubmitted job no time to end', () => {
    const synth = synthPipeline({ executionTimeout: Duration.hours(48) });
    expect(environmentOf(synth.json, synth.logicalId('poll-batch-jobs'))[ENV.retryCutoffSeconds]).toBe('0');
  });

  it('passes custom retry rounds and pending timeout to Poll', () => {
    const synth = synthPipeline({
      lineRetryRounds: 0,
      expiredResubmitRounds: 3,
      pendingTimeout: Duration.hours(6),
    });
    expect(environmentOf(synth.json, synth.logicalId('poll-batch-jobs'))).toMatchObject({
      [ENV.lineRetryRounds]: '0',
      [ENV.expiredResubmitRounds]: '3',
      [ENV.pendingTimeoutSeconds]: String(6 * 3600),
    });
  });

  it('uses a custom submit deadline', () => {
    const synth = synthPipeline({ submitDeadline: Duration.hours(2) });
    expect(environmentOf(synth.json, synth.logicalId('poll-batch-jobs'))).toMatchObject({
      [ENV.submitDeadlineSeconds]: String(7200),
    });
  });

  it('expires work/ after a custom number of days', () => {
    const synth = synthPipeline({ workExpiration: Duration.days(30) });
    synth.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'work/', ExpirationInDays: 30 })]),
      },
    });
  });

  it('publishes run-finished events to a given bus', () => {
    const synth = synthPipeline((stack) => ({ eventBus: new events.EventBus(stack, 'RunsBus') }));
    const busId = synth.stack.getLogicalId(
      (synth.pipeline.eventBus as events.EventBus).node.defaultChild as CfnElement,
    );
    expect(environmentOf(synth.json, synth.logicalId('finalize-run'))[ENV.eventBusName]).toEqual({
      Ref: busId,
    });
    const puts = statementsOfFunction(synth, 'finalize-run').filter((s) =>
      actionsOf(s).includes('events:PutEvents'),
    );
    expect(puts.map((s) => flatten(s.Resource))).toEqual([`<${busId}.Arn>`]);
    // Uploads are still matched on the default bus.
    expect(
      Object.values(synth.template.findResources('AWS::Events::Rule'))[0]?.Properties?.EventBusName,
    ).toBeUndefined();
  });

  it('passes only the job limits that are set, to the functions that apply them', () => {
    const synth = synthPipeline({
      jobLimits: {
        maxFileSize: Size.mebibytes(256),
        maxTokens: 1_000_000,
        inlineThreshold: Size.mebibytes(4),
      },
    });

    expect(environmentOf(synth.json, synth.logicalId('prepare-requests'))).toMatchObject({
      [ENV.maxChunkBytes]: String(256 * 1024 * 1024),
      [ENV.maxTokensPerJob]: '1000000',
    });
    expect(environmentOf(synth.json, synth.logicalId('prepare-requests'))).not.toHaveProperty(
      ENV.maxChunkRequests,
    );
    for (const name of ['submit-batch-jobs', 'poll-batch-jobs'] as const) {
      expect(environmentOf(synth.json, synth.logicalId(name))).toMatchObject({
        [ENV.inlineMaxBytes]: String(4 * 1024 * 1024),
      });
      expect(environmentOf(synth.json, synth.logicalId(name))).not.toHaveProperty(ENV.inlineMaxAnswerBytes);
      expect(environmentOf(synth.json, synth.logicalId(name))).not.toHaveProperty(ENV.inlineEmbeddings);
    }
  });

  it('passes the inline answer bound and inline embeddings to Submit and Poll', () => {
    const synth = synthPipeline({
      jobLimits: { inlineAnswerThreshold: Size.mebibytes(8), inlineEmbeddings: true },
    });

    for (const name of ['submit-batch-jobs', 'poll-batch-jobs'] as const) {
      expect(environmentOf(synth.json, synth.logicalId(name))).toMatchObject({
        [ENV.inlineMaxAnswerBytes]: String(8 * 1024 * 1024),
        [ENV.inlineEmbeddings]: 'true',
      });
    }
  });

  it('gives Prepare a custom longest-line limit', () => {
    const synth = synthPipeline({ maxLineSize: Size.mebibytes(1) });

    expect(environmentOf(synth.json, synth.logicalId('prepare-requests'))).toMatchObject({
      [ENV.maxLineBytes]: String(1024 * 1024),
    });
  });

  it('gives Finalize the batch price overrides as JSON, undated or dated', () => {
    const batchPrices = {
      'my-tuned-model': { inputPerMillion: 1, outputPerMillion: 2 },
      'my-dated-model': [
        { until: '2027-01-01', inputPerMillion: 1, outputPerMillion: 2, source: 'contract A' },
        { from: '2027-01-01', inputPerMillion: 2, outputPerMillion: 4, source: 'contract B' },
      ],
    };
    const synth = synthPipeline({ batchPrices });

    expect(environmentOf(synth.json, synth.logicalId('finalize-run'))).toMatchObject({
      [ENV.batchPricesJson]: JSON.stringify(batchPrices),
    });
  });

  it('leaves the job limits to the functions when none are set', () => {
    const synth = synthPipeline();
    const limitVariables = [ENV.maxChunkBytes, ENV.maxChunkRequests, ENV.maxTokensPerJob, ENV.inlineMaxBytes];
    for (const name of ['prepare-requests', 'submit-batch-jobs', 'poll-batch-jobs'] as const) {
      const environment = environmentOf(synth.json, synth.logicalId(name));
      for (const variable of limitVariables) expect(environment).not.toHaveProperty(variable);
    }
  });

  it('keeps every log for a custom retention', () => {
    const synth = synthPipeline({ logRetention: logs.RetentionDays.ONE_YEAR });
    const groups = Object.values(synth.template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(8);
    for (const group of groups) expect(group.Properties?.RetentionInDays).toBe(365);
  });
});

describe('GeminiBatchPipeline prop validation', () => {
  it.each([
    [
      { jobLimits: { maxFileSize: Size.gibibytes(3) } },
      'job limit maxFileSize must be more than 0 and at most 2 GB',
    ],
    [{ jobLimits: { maxRequests: 0 } }, 'job limit maxRequests must be a positive whole number, got 0'],
    [{ jobLimits: { maxTokens: 1.5 } }, 'job limit maxTokens must be a positive whole number, got 1.5'],
    [{ jobLimits: { inlineThreshold: Size.mebibytes(20) } }, 'job limit inlineThreshold must be under 20 MB'],
    [{ maxLineSize: Size.bytes(10) }, 'max line size must be between 1 KiB and 512 MiB, got 10 bytes'],
    [
      { submitDeadline: Duration.hours(72) },
      'submit deadline must be at least 1 minute and less than the execution timeout (72 hours), got 72 hours',
    ],
    [{ submitDeadline: Duration.seconds(10) }, 'submit deadline must be at least 1 minute'],
    [{ lineRetryRounds: -1 }, 'lineRetryRounds must be a whole number from 0 to 10, got -1'],
    [{ expiredResubmitRounds: 1.5 }, 'expiredResubmitRounds must be a whole number from 0 to 10, got 1.5'],
    [{ pendingTimeout: Duration.hours(48) }, 'pendingTimeout must be at least 1 minute and under 48 hours'],
    [
      { batchPrices: { m: { inputPerMillion: -1, outputPerMillion: 0 } } },
      'batchPrices: m needs a numeric inputPerMillion (USD per million tokens at batch prices, not negative), got -1',
    ],
  ])('refuses job limits and prices %j', (props, message) => {
    expect(() => synthPipeline(props)).toThrow(message);
  });

  it.each([
    [{ inputPrefix: 'inputs' }, "input prefix must end with '/', got 'inputs'"],
    [{ inputPrefix: '/inputs/' }, "input prefix must not start with '/', got '/inputs/'"],
    [{ inputPrefix: 'in*puts/' }, "input prefix must not contain '*' or '\\', got 'in*puts/'"],
    [
      { inputPrefix: 'results/' },
      "input prefix must not overlap 'results/', where the pipeline writes, got 'results/'",
    ],
    [{ inputPrefix: 'results/inputs/' }, "input prefix must not overlap 'results/'"],
    [
      { inputPrefix: 'work/in/' },
      "input prefix must not overlap 'work/', where the pipeline writes, got 'work/in/'",
    ],
    [
      { generateModel: '' },
      "generate model must be a model name without spaces, such as 'gemini-3.8-flash', got ''",
    ],
    [
      { embedModel: 'gemini embedding' },
      "embed model must be a model name without spaces, such as 'gemini-3.8-flash', got 'gemini embedding'",
    ],
    [
      { pollSchedule: { initial: Duration.seconds(30), max: Duration.seconds(600), backoffRate: 0.5 } },
      'poll backoff rate must be a number of at least 1 (1 polls at a fixed rate), got 0.5',
    ],
    [
      { pollSchedule: { initial: Duration.seconds(700), max: Duration.seconds(600), backoffRate: 1.5 } },
      'initial poll wait (700 seconds) must not exceed the maximum poll wait (600 seconds)',
    ],
    [
      { pollSchedule: { initial: Duration.millis(1500), max: Duration.seconds(600), backoffRate: 1.5 } },
      'initial poll wait must be a whole number of seconds, at least 1, got 1 second 500 millis',
    ],
    [{ executionTimeout: Duration.days(400) }, 'execution timeout must be between 1 minute and 365 days'],
    [
      { workExpiration: Duration.hours(36) },
      'work expiration must be a whole number of days, at least 1, got 1 day 12 hours',
    ],
    [
      { workExpiration: Duration.days(2) },
      "work expiration (2 days) must be at least the execution timeout (3 days): a run's working state must outlive the run",
    ],
  ])('rejects %j', (props, message) => {
    expect(() => synthPipeline(props)).toThrow(message);
  });

  it('accepts a nested input prefix outside results/ and work/', () => {
    expect(() => synthPipeline({ inputPrefix: 'team-a/inputs/' })).not.toThrow();
  });
});
