import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../local/template/cfn-template.js';
import { synthesizePipelineTemplate } from '../../local/template/synthesize.js';
import { environmentOf, flatten } from './helpers.js';

const logicalId = (template: CfnTemplate, type: string): string => {
  const ids = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};

describe('GeminiBatchPipelineStack', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthesizePipelineTemplate();
  });

  it('outputs the bucket name, state machine ARN, event bus name and secret name', () => {
    const outputs = template.Outputs ?? {};
    const dataBucket = Object.entries(template.Resources).find(
      ([, resource]) => resource.Type === 'AWS::S3::Bucket' && resource.Properties?.NotificationConfiguration,
    );
    expect(outputs.BucketName?.Value).toEqual({ Ref: dataBucket?.[0] });
    expect(outputs.StateMachineArn?.Value).toEqual({
      Ref: logicalId(template, 'AWS::StepFunctions::StateMachine'),
    });
    expect(outputs.EventBusName?.Value).toBe('default');
    expect(JSON.stringify(outputs.ApiKeySecretName?.Value)).toContain(
      logicalId(template, 'AWS::SecretsManager::Secret'),
    );
  });

  it('outputs the input prefix, which the CLI uploads under', () => {
    expect(template.Outputs?.InputPrefix?.Value).toBe('inputs/');
  });

  it('outputs the Glue database and the dashboard', () => {
    const outputs = template.Outputs ?? {};
    expect(outputs.GlueDatabaseName?.Value).toEqual({ Ref: logicalId(template, 'AWS::Glue::Database') });
    expect(outputs.DashboardName?.Value).toEqual({ Ref: logicalId(template, 'AWS::CloudWatch::Dashboard') });
  });

  it('outputs an upload command for the input prefix', () => {
    const bucket = flatten(template.Outputs?.BucketName?.Value);
    expect(flatten(template.Outputs?.UploadCommand?.Value)).toBe(
      `aws s3 cp requests.jsonl s3://${bucket}/inputs/requests.jsonl`,
    );
  });

  it('outputs the command that replaces the placeholder key', () => {
    const secret = logicalId(template, 'AWS::SecretsManager::Secret');
    expect(flatten(template.Outputs?.SetApiKeyCommand?.Value)).toBe(
      `aws secretsmanager put-secret-value --secret-id <${secret}> --secret-string "$GEMINI_API_KEY"`,
    );
    expect(JSON.stringify(template.Outputs)).not.toContain('replace-me-with-a-gemini-api-key');
  });

  it('uses an existing secret by name and creates none', () => {
    const withSecret = synthesizePipelineTemplate({ apiKeySecretName: 'team/gemini-key' });
    expect(
      Object.values(withSecret.Resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret'),
    ).toEqual([]);
    expect(withSecret.Outputs?.SetApiKeyCommand).toBeUndefined();
    const submit = Object.keys(withSecret.Resources).find((id) =>
      /^PipelineSubmitBatchJobs[0-9A-F]{8}$/.test(id),
    );
    expect(flatten(environmentOf(withSecret, submit ?? '').GEMINI_API_KEY_SECRET_ARN)).toBe(
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:team/gemini-key',
    );
  });
});
