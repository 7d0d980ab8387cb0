/**
 * The Gemini client as the functions build it: the key comes from Secrets Manager by ARN, through
 * the real SDK client, here against the local runner's Secrets Manager stand-in (the one every local
 * run uses), and reaches Gemini in the key header.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { geminiFromEnvironment } from '../../../../../lambdas/shared/gemini/from-environment.js';
import { type AwsStandIns, startAwsStandIns } from '../../../../../local/runner/aws-stand-ins.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../../../local/runner/local-aws.js';
import { on, useHttpStub } from './gemini-http-stub.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gemini-key-AbCdEf';

const stub = useHttpStub();
const secrets = new Map<string, string>();
const secretReads: string[] = [];
let standIns: AwsStandIns;

beforeAll(async () => {
  standIns = await startAwsStandIns('arn:aws:states:us-east-1:123456789012:stateMachine:Test', {
    startExecution: () => {},
    isRunning: () => false,
    putEvent: () => {},
    secretValue: (secretArn) => {
      secretReads.push(secretArn);
      return secrets.get(secretArn);
    },
  });
});
afterAll(() => standIns?.stop());

beforeEach(() => {
  // The SDK client finds the stand-in as a function's does offline: by the service's endpoint variable.
  vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', standIns.url);
  vi.stubEnv('AWS_REGION', LOCAL_REGION);
  vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
  secrets.clear();
  secretReads.length = 0;
  return () => vi.unstubAllEnvs();
});

const environment = () => ({ GEMINI_API_KEY_SECRET_ARN: SECRET_ARN, GEMINI_BASE_URL: stub.baseUrl });

describe('geminiFromEnvironment', () => {
  it("sends Gemini the secret's value, trimmed, as the API key", async () => {
    secrets.set(SECRET_ARN, '  key-from-the-secret\n');
    stub.routes.push(on('GET', /\/models\/gemini-x$/, { body: { name: 'models/gemini-x' } }));

    const gemini = await geminiFromEnvironment(environment())();
    await gemini.getModel('gemini-x');

    expect(secretReads).toEqual([SECRET_ARN]);
    expect(stub.seen.map((request) => request.headers['x-goog-api-key'])).toEqual(['key-from-the-secret']);
  });

  it('reads the secret once for invocations within five minutes of each other', async () => {
    secrets.set(SECRET_ARN, 'key');
    const forInvocation = geminiFromEnvironment(environment());

    await forInvocation();
    await forInvocation();

    expect(secretReads).toEqual([SECRET_ARN]);
  });

  it('fails naming the secret when it holds no key', async () => {
    secrets.set(SECRET_ARN, ' \n');

    await expect(geminiFromEnvironment(environment())()).rejects.toThrow(
      `the secret ${SECRET_ARN} holds no Gemini API key: store the key as the secret's plain-text value`,
    );
  });

  it("fails with Secrets Manager's answer when the secret does not exist", async () => {
    await expect(geminiFromEnvironment(environment())()).rejects.toThrow(
      "Secrets Manager can't find the specified secret.",
    );
  });

  it('fails at cold start, by name, without the secret ARN', () => {
    expect(() => geminiFromEnvironment({ GEMINI_BASE_URL: stub.baseUrl })).toThrow(
      'missing required environment variable GEMINI_API_KEY_SECRET_ARN',
    );
  });
});
