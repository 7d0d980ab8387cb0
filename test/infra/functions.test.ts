import { Duration, Size } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PipelineFunctionName } from '../../infra/constructs/gemini-batch-pipeline.js';
import { environmentOf, logicalIdOf, type SynthesizedPipeline, synthPipeline } from './helpers.js';

const HOUSE_ENV = [
  'NODE_OPTIONS',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_SERVICE_NAME',
];

/**
 * Timeout (s), memory (MiB), /tmp (MiB, undefined = Lambda's default) and the variables each
 * function gets with default props, spelled out (function-environment.test.ts checks them against
 * what the handlers read).
 */
const FUNCTIONS: Record<
  PipelineFunctionName,
  { timeout: number; memory: number; ephemeral?: number; env: string[] }
> = {
  'start-run': { timeout: 30, memory: 256, env: ['INPUT_PREFIX', 'STATE_MACHINE_ARN'] },
  'prepare-requests': {
    timeout: 900,
    memory: 1769,
    env: ['INPUT_PREFIX', 'GENERATE_MODEL', 'EMBED_MODEL', 'GEMINI_API_KEY_SECRET_ARN'],
  },
  'submit-batch-jobs': {
    // I/O-bound: sized from the cost bench's CPU and RSS figures (docs/benchmarks.md).
    timeout: 900,
    memory: 1024,
    env: ['GEMINI_API_KEY_SECRET_ARN', 'ADMISSION_TABLE_NAME'],
  },
  'poll-batch-jobs': {
    // Poll also uploads chunks that were waiting for quota, so it is sized like Submit.
    timeout: 900,
    memory: 1024,
    ephemeral: 10240,
    env: [
      'GEMINI_API_KEY_SECRET_ARN',
      'POLL_INITIAL_SECONDS',
      'POLL_MAX_SECONDS',
      'POLL_BACKOFF_RATE',
      'SUBMIT_DEADLINE_SECONDS',
      'LINE_RETRY_ROUNDS',
      'EXPIRED_RESUBMIT_ROUNDS',
      'PENDING_TIMEOUT_SECONDS',
      'RETRY_CUTOFF_SECONDS',
      'ADMISSION_TABLE_NAME',
    ],
  },
  'stop-batch-jobs': { timeout: 900, memory: 512, env: ['GEMINI_API_KEY_SECRET_ARN'] },
  'collect-results': {
    timeout: 900,
    memory: 1769,
    ephemeral: 10240,
    env: ['GEMINI_API_KEY_SECRET_ARN', 'INPUT_PREFIX'],
  },
  'finalize-run': {
    timeout: 300,
    memory: 512,
    env: ['GEMINI_API_KEY_SECRET_ARN', 'EVENT_BUS_NAME', 'INPUT_PREFIX'],
  },
};
const NAMES = Object.keys(FUNCTIONS) as PipelineFunctionName[];

describe('GeminiBatchPipeline functions with default props', () => {
  let synth: SynthesizedPipeline;
  const env = (name: PipelineFunctionName) => environmentOf(synth.json, synth.logicalId(name));
  beforeAll(() => {
    synth = synthPipeline();
  });

  it('exposes the seven functions by folder name', () => {
    expect(Object.keys(synth.pipeline.functions).sort()).toEqual([...NAMES].sort());
    synth.template.resourceCountIs('AWS::Lambda::Function', 7);
  });

  it.each(NAMES)('runs %s on nodejs24.x, arm64, traced, with its timeout and memory', (name) => {
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
  });

  it.each(NAMES)('sets exactly the environment %s reads, plus the house defaults', (name) => {
    expect(Object.keys(env(name)).sort()).toEqual([...HOUSE_ENV, ...FUNCTIONS[name].env].sort());
    expect(env(name)).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'gemini-batch-pipeline',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // The namespace the dashboard and alarms read (METRICS_NAMESPACE), spelled out.
      POWERTOOLS_METRICS_NAMESPACE: 'GeminiBatchPipeline',
      NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=16',
    });
  });

  it('passes the default models, input prefix and poll schedule', () => {
    expect(env('prepare-requests')).toMatchObject({
      INPUT_PREFIX: 'inputs/',
      GENERATE_MODEL: 'gemini-3.8-flash',
      EMBED_MODEL: 'gemini-embedding-2',
    });
    expect(env('poll-batch-jobs')).toMatchObject({
      POLL_INITIAL_SECONDS: '30',
      POLL_MAX_SECONDS: '720',
      SUBMIT_DEADLINE_SECONDS: String(12 * 3600),
      POLL_BACKOFF_RATE: '1.5',
      LINE_RETRY_ROUNDS: '2',
      EXPIRED_RESUBMIT_ROUNDS: '1',
      PENDING_TIMEOUT_SECONDS: String(12 * 3600),
      // 72 h less 48 h for a job Gemini may run before expiring it, less 1 h to collect.
      RETRY_CUTOFF_SECONDS: String(23 * 3600),
    });
    expect(env('finalize-run').EVENT_BUS_NAME).toBe('default');
    expect(env('start-run').STATE_MACHINE_ARN).toEqual({
      Ref: logicalIdOf(synth, synth.pipeline.stateMachine),
    });
  });

  it.each(NAMES)('logs %s to its own log group, kept one month', (name) => {
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

describe('GeminiBatchPipeline functions with props overridden', () => {
  const envOf = (synth: SynthesizedPipeline, name: PipelineFunctionName) =>
    environmentOf(synth.json, synth.logicalId(name));

  it('passes a custom input prefix to every function that reads it', () => {
    const synth = synthPipeline({ inputPrefix: 'uploads/batch/' });
    for (const name of NAMES.filter((n) => FUNCTIONS[n].env.includes('INPUT_PREFIX'))) {
      expect(envOf(synth, name).INPUT_PREFIX).toBe('uploads/batch/');
    }
  });

  it('passes custom models to Prepare, the function that picks models', () => {
    const synth = synthPipeline({ generateModel: 'gemini-2.5-pro', embedModel: 'text-embedding-005' });
    expect(envOf(synth, 'prepare-requests')).toMatchObject({
      GENERATE_MODEL: 'gemini-2.5-pro',
      EMBED_MODEL: 'text-embedding-005',
    });
  });

  it('uses a custom poll schedule in the poll function', () => {
    const synth = synthPipeline({
      pollSchedule: { initial: Duration.seconds(5), max: Duration.minutes(2), backoffRate: 2 },
    });
    expect(envOf(synth, 'poll-batch-jobs')).toMatchObject({
      POLL_INITIAL_SECONDS: '5',
      POLL_MAX_SECONDS: '120',
      POLL_BACKOFF_RATE: '2',
    });
  });

  it('shortens the submit deadline and retry cutoff under a short execution timeout, to leave a late job time to end', () => {
    const synth = synthPipeline({ executionTimeout: Duration.hours(50) });
    expect(envOf(synth, 'poll-batch-jobs')).toMatchObject({
      SUBMIT_DEADLINE_SECONDS: String(3600),
      RETRY_CUTOFF_SECONDS: String(3600),
    });
  });

  it('creates no retry job when the execution timeout leaves a resubmitted job no time to end', () => {
    const synth = synthPipeline({ executionTimeout: Duration.hours(48) });
    expect(envOf(synth, 'poll-batch-jobs').RETRY_CUTOFF_SECONDS).toBe('0');
  });

  it('passes custom retry rounds, pending timeout and submit deadline to Poll', () => {
    const synth = synthPipeline({
      lineRetryRounds: 0,
      expiredResubmitRounds: 3,
      pendingTimeout: Duration.hours(6),
      submitDeadline: Duration.hours(2),
    });
    expect(envOf(synth, 'poll-batch-jobs')).toMatchObject({
      LINE_RETRY_ROUNDS: '0',
      EXPIRED_RESUBMIT_ROUNDS: '3',
      PENDING_TIMEOUT_SECONDS: String(6 * 3600),
      SUBMIT_DEADLINE_SECONDS: String(7200),
    });
  });

  it('gives Finalize the name of a given bus', () => {
    const synth = synthPipeline((stack) => ({ eventBus: new events.EventBus(stack, 'RunsBus') }));
    expect(envOf(synth, 'finalize-run').EVENT_BUS_NAME).toEqual({
      Ref: logicalIdOf(synth, synth.pipeline.eventBus as events.EventBus),
    });
  });

  it('passes only the job limits that are set, to the functions that apply them', () => {
    const synth = synthPipeline({
      jobLimits: {
        maxFileSize: Size.mebibytes(256),
        maxTokens: 1_000_000,
        inlineThreshold: Size.mebibytes(4),
      },
    });
    expect(envOf(synth, 'prepare-requests')).toMatchObject({
      MAX_CHUNK_BYTES: String(256 * 1024 * 1024),
      MAX_TOKENS_PER_JOB: '1000000',
    });
    expect(envOf(synth, 'prepare-requests')).not.toHaveProperty('MAX_CHUNK_REQUESTS');
    for (const name of ['submit-batch-jobs', 'poll-batch-jobs'] as const) {
      expect(envOf(synth, name)).toMatchObject({ INLINE_MAX_BYTES: String(4 * 1024 * 1024) });
      expect(envOf(synth, name)).not.toHaveProperty('INLINE_MAX_ANSWER_BYTES');
      expect(envOf(synth, name)).not.toHaveProperty('INLINE_EMBEDDINGS');
    }
  });

  it('passes the request limit, the inline answer bound and inline embeddings', () => {
    const synth = synthPipeline({
      jobLimits: { maxRequests: 5000, inlineAnswerThreshold: Size.mebibytes(8), inlineEmbeddings: true },
    });
    expect(envOf(synth, 'prepare-requests').MAX_CHUNK_REQUESTS).toBe('5000');
    for (const name of ['submit-batch-jobs', 'poll-batch-jobs'] as const) {
      expect(envOf(synth, name)).toMatchObject({
        INLINE_MAX_ANSWER_BYTES: String(8 * 1024 * 1024),
        INLINE_EMBEDDINGS: 'true',
      });
    }
  });

  it('gives Prepare a custom longest-line limit', () => {
    const synth = synthPipeline({ maxLineSize: Size.mebibytes(1) });
    expect(envOf(synth, 'prepare-requests').MAX_LINE_BYTES).toBe(String(1024 * 1024));
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
    expect(JSON.parse(envOf(synth, 'finalize-run').BATCH_PRICES_JSON as string)).toEqual(batchPrices);
  });

  it("gives Prepare the same batch prices, for the run's estimate before any job exists", () => {
    const batchPrices = { 'my-tuned-model': { inputPerMillion: 1, outputPerMillion: 2 } };
    const synth = synthPipeline({ batchPrices });
    expect(JSON.parse(envOf(synth, 'prepare-requests').BATCH_PRICES_JSON as string)).toEqual(batchPrices);
  });

  it('gives Prepare the run cost cap, and no cap by default', () => {
    expect(envOf(synthPipeline({ maxRunCostUsd: 12.5 }), 'prepare-requests').MAX_RUN_COST_USD).toBe('12.5');
    expect(envOf(synthPipeline({}), 'prepare-requests').MAX_RUN_COST_USD).toBeUndefined();
  });

  it('keeps every log for a custom retention', () => {
    const synth = synthPipeline({ logRetention: logs.RetentionDays.ONE_YEAR });
    const groups = Object.values(synth.template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(8);
    for (const group of groups) expect(group.Properties?.RetentionInDays).toBe(365);
  });
});
