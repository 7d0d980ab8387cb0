import { existsSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../infra/bundling/credential-provider-node.stub.js';
import { GoogleAuth } from '../../infra/bundling/google-auth-library.stub.js';
import { StubbedModuleError } from '../../infra/bundling/never-called.js';
import { gte } from '../../infra/bundling/semver.stub.js';
import { STUBBED_MODULES } from '../../infra/bundling/stubbed-modules.js';
import { WebSocket } from '../../infra/bundling/ws.stub.js';
import { handlerEntry, PipelineFunction } from '../../infra/constructs/pipeline-function.js';
import { testStack } from './helpers.js';

describe('PipelineFunction', () => {
  it('synthesizes without its handler file when bundling is skipped, with placeholder code', () => {
    const stack = testStack();
    new PipelineFunction(stack, 'Missing', {
      name: 'no-such-function',
      description: 'test',
      timeout: Duration.seconds(5),
    });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
    expect(fn?.Properties?.Code?.ZipFile).toContain('synthesized without bundling');
    expect(fn?.Properties?.Handler).toBe('index.handler');
  });

  it('refuses a missing handler file when the stack is bundled', () => {
    const stack = testStack({ bundling: true });
    expect(
      () =>
        new PipelineFunction(stack, 'Missing', {
          name: 'no-such-function',
          description: 'test',
          timeout: Duration.seconds(5),
        }),
    ).toThrow(
      `function no-such-function has no handler: expected ${handlerEntry('no-such-function')} exporting 'handler'`,
    );
  });

  it('takes its code from lambdas/<name>/handler.ts', () => {
    expect(handlerEntry('start-run')).toMatch(/\/lambdas\/start-run\/handler\.ts$/);
  });

  it('rejects a name that is not a kebab-case folder name', () => {
    const stack = testStack();
    expect(
      () =>
        new PipelineFunction(stack, 'Bad', {
          name: 'Start_Run',
          description: 'test',
          timeout: Duration.seconds(5),
        }),
    ).toThrow("function name must be kebab-case (the folder under lambdas/), got 'Start_Run'");
  });

  it('defaults to 256 MiB and a log group kept one month', () => {
    const stack = testStack();
    new PipelineFunction(stack, 'Fn', { name: 'x', description: 'test', timeout: Duration.seconds(5) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256, Timeout: 5 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('the bundles’ stub modules', () => {
  it.each([
    ['google-auth-library', () => new GoogleAuth()],
    ['ws', () => new WebSocket()],
    ['semver', () => gte()],
  ] as const)('%s throws, naming itself, if a code path ever reaches it', (module, call) => {
    expect(call).toThrow(StubbedModuleError);
    expect(call).toThrow(`${module} (`);
  });

  it('gives the AWS SDK the environment’s credentials, as Lambda sets them', async () => {
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'token');
    await expect(defaultProvider()()).resolves.toMatchObject({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
    vi.unstubAllEnvs();
  });

  it('refuses AWS_PROFILE, which the real chain would follow past the environment', () => {
    vi.stubEnv('AWS_PROFILE', 'dev');
    expect(() => defaultProvider()).toThrow(
      '@aws-sdk/credential-provider-node (defaultProvider with AWS_PROFILE)',
    );
    vi.unstubAllEnvs();
  });

  it('has a stub file for every stubbed module', () => {
    for (const stub of Object.values(STUBBED_MODULES)) expect(existsSync(stub)).toBe(true);
  });
});
