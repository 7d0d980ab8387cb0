import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { appConfig, pipelineConfig } from '../../infra/config.js';
import { REPO_ROOT } from '../../infra/names.js';

const noContext = () => undefined;

describe('appConfig', () => {
  it('defaults to the documented pipeline settings', () => {
    const config = appConfig({ env: {}, context: noContext });
    expect(config.stackId).toBe('GeminiBatchPipeline');
    expect(config.pipeline).toEqual({
      inputPrefix: 'inputs/',
      generateModel: 'gemini-3.8-flash',
      embedModel: 'gemini-embedding-2',
      pollSchedule: { initial: Duration.seconds(30), max: Duration.seconds(720), backoffRate: 1.5 },
      executionTimeout: Duration.hours(72),
      workExpiration: Duration.days(7),
      logRetention: RetentionDays.ONE_MONTH,
    });
    expect(config.pipeline.apiKeySecretName).toBeUndefined();
  });

  it('takes the account and region from the CDK CLI environment', () => {
    const config = appConfig({
      env: { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' },
      context: noContext,
    });
    expect(config.env).toEqual({ account: '123456789012', region: 'eu-west-1' });
  });

  it('is environment-agnostic when the CLI sets no account or region', () => {
    expect(appConfig({ env: {}, context: noContext }).env).toEqual({ account: undefined, region: undefined });
  });

  it('reads the optional context keys', () => {
    const context: Record<string, string> = {
      geminiApiKeySecretName: 'team/gemini-key',
      inputPrefix: 'uploads/',
      generateModel: 'gemini-2.5-pro',
      embedModel: 'text-embedding-005',
      stackName: 'GeminiBatchPipelineDev',
    };
    const config = appConfig({ env: {}, context: (key) => context[key] });
    expect(config.stackId).toBe('GeminiBatchPipelineDev');
    expect(config.pipeline).toMatchObject({
      apiKeySecretName: 'team/gemini-key',
      inputPrefix: 'uploads/',
      generateModel: 'gemini-2.5-pro',
      embedModel: 'text-embedding-005',
    });
  });

  it('rejects a context value that is not a non-empty string', () => {
    expect(() => appConfig({ env: {}, context: (key) => (key === 'inputPrefix' ? 42 : undefined) })).toThrow(
      "context 'inputPrefix' must be a non-empty string, got 42",
    );
  });
});

describe('pipelineConfig', () => {
  it('keeps defaults for overrides left undefined', () => {
    const config = pipelineConfig({ inputPrefix: undefined, embedModel: 'e' });
    expect(config.inputPrefix).toBe('inputs/');
    expect(config.embedModel).toBe('e');
    expect(config.generateModel).toBe('gemini-3.8-flash');
  });
});

describe('cdk.json', () => {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    app: string;
    context: Record<string, unknown>;
  };

  it('runs the TypeScript app with tsx', () => {
    expect(cdkJson.app).toBe('npx tsx infra/app.ts');
  });

  it('turns CLI telemetry off', () => {
    expect(cdkJson.context['cli-telemetry']).toBe(false);
  });

  it('sets exactly the feature flags the installed aws-cdk-lib recommends', () => {
    const { 'cli-telemetry': _telemetry, ...flags } = cdkJson.context;
    expect(flags).toEqual(CURRENTLY_RECOMMENDED_FLAGS);
  });
});
