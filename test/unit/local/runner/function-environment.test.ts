import { describe, expect, it } from 'vitest';
import { GEMINI_API_URL } from '../../../../lambdas/shared/gemini/gemini-api.js';
import { functionEnvironment, localAdmissionWaits } from '../../../../local/runner/function-environment.js';
import {
  LOCAL_ADMISSION_TABLE,
  LOCAL_GEMINI_KEY_SECRET_ARN,
  LOCAL_STATE_MACHINE_ARN,
} from '../../../../local/runner/local-aws.js';
import type { TemplateFunction } from '../../../../local/template/template-functions.js';

const FUNCTION: TemplateFunction = {
  folder: 'submit-batch-jobs',
  logicalId: 'PipelineSubmitBatchJobs0123ABCD',
  environment: { INPUT_PREFIX: 'inputs/', MAX_CHUNK_REQUESTS: '10000' },
  deployTimeVariables: ['GEMINI_API_KEY_SECRET_ARN', 'STATE_MACHINE_ARN', 'ADMISSION_TABLE_NAME'],
  timeoutSeconds: 60,
  memorySizeMb: 512,
  handler: 'index.handler',
};

const EMULATOR = { url: 'http://127.0.0.1:4000', apiKey: 'emulator-key' };

const environmentOf = (overrides: Partial<Parameters<typeof functionEnvironment>[0]> = {}) =>
  functionEnvironment({
    fn: FUNCTION,
    endpoints: {
      s3: 'http://127.0.0.1:4001',
      dynamoDb: 'http://127.0.0.1:4003',
      awsStandIns: 'http://127.0.0.1:4002',
      gemini: EMULATOR,
    },
    tmpDir: '/tmp/scratch/submit-batch-jobs',
    path: '/usr/bin',
    verbose: false,
    ...overrides,
  });

describe('functionEnvironment', () => {
  it("is the template's variables, Lambda's own and the local endpoints, nothing else", () => {
    expect(environmentOf()).toEqual({
      PATH: '/usr/bin',
      TZ: 'UTC',
      TMPDIR: '/tmp/scratch/submit-batch-jobs',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'submit-batch-jobs',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4001',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4003',
      AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:4002',
      AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:4002',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4002',
      INPUT_PREFIX: 'inputs/',
      MAX_CHUNK_REQUESTS: '10000',
      GEMINI_API_KEY_SECRET_ARN: LOCAL_GEMINI_KEY_SECRET_ARN,
      GEMINI_BASE_URL: 'http://127.0.0.1:4000',
      STATE_MACHINE_ARN: LOCAL_STATE_MACHINE_ARN,
      ADMISSION_TABLE_NAME: LOCAL_ADMISSION_TABLE,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // EMF lines would print on the terminal like logs.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
  });

  it("leaves Google's own endpoint to the SDK's default, and the key itself in no variable", () => {
    const environment = environmentOf({
      endpoints: {
        s3: 's3',
        dynamoDb: 'dynamodb',
        awsStandIns: 'aws',
        gemini: { url: GEMINI_API_URL, apiKey: 'real-key' },
      },
    });

    expect(Object.values(environment)).not.toContain('real-key');
    expect(environment.GEMINI_API_KEY_SECRET_ARN).toBe(LOCAL_GEMINI_KEY_SECRET_ARN);
    expect(environment).not.toHaveProperty('GEMINI_BASE_URL');
  });

  it("gives settings over the template's, and the functions' logs when verbose", () => {
    const environment = environmentOf({ overrides: { MAX_CHUNK_REQUESTS: '4' }, verbose: true });

    expect(environment).toMatchObject({
      MAX_CHUNK_REQUESTS: '4',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
    });
  });

  it('refuses a deploy-time value it has no local stand-in for', () => {
    expect(() => environmentOf({ fn: { ...FUNCTION, deployTimeVariables: ['TABLE_NAME'] } })).toThrow(
      'function submit-batch-jobs gets TABLE_NAME from the stack at deploy time; the local runner has no value for it',
    );
  });
});

describe('localAdmissionWaits', () => {
  it("shrinks the admission gate's waits to one and eight poll waits", () => {
    expect(localAdmissionWaits(250)).toEqual({
      ADMISSION_BACKOFF_SECONDS: '0.25',
      ADMISSION_MAX_BACKOFF_SECONDS: '2',
    });
  });
});
