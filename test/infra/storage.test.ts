import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { environmentOf, logicalIdOf, type SynthesizedPipeline, synthPipeline } from './helpers.js';

const FUNCTIONS_WITH_THE_KEY = [
  'prepare-requests',
  'submit-batch-jobs',
  'poll-batch-jobs',
  'stop-batch-jobs',
  'collect-results',
  'finalize-run',
] as const;

describe('GeminiBatchPipeline storage with default props', () => {
  let synth: SynthesizedPipeline;
  let bucketId: string;
  const bucketProperties = () => synth.json.Resources[bucketId]?.Properties;
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
      expect(bucketProperties()?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    });

    it('encrypts objects with S3-managed keys', () => {
      expect(bucketProperties()?.BucketEncryption).toEqual({
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
      expect(bucketProperties()?.NotificationConfiguration).toEqual({
        EventBridgeConfiguration: { EventBridgeEnabled: true },
      });
      synth.template.resourceCountIs('Custom::S3BucketNotifications', 0);
    });

    it('expires work/ after 7 days and aborts incomplete multipart uploads after 1 day', () => {
      expect(bucketProperties()?.LifecycleConfiguration).toEqual({
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
      expect(bucketProperties()?.VersioningConfiguration).toBeUndefined();
    });

    it('writes server access logs to the access-logs bucket, which expires them after 90 days', () => {
      const logsId = logicalIdOf(synth, synth.pipeline.accessLogsBucket as s3.IBucket);
      expect(bucketProperties()?.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId } });
      expect(synth.json.Resources[logsId]?.Properties).toMatchObject({
        LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      });
    });
  });

  describe('API key secret', () => {
    it('creates a secret holding only the placeholder, which is not a key', () => {
      synth.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
      synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        SecretString: 'replace-me-with-a-gemini-api-key',
      });
    });

    it('gives the functions that call Gemini the secret ARN, and no function a key', () => {
      const secretId = logicalIdOf(synth, synth.pipeline.apiKeySecret);
      for (const name of FUNCTIONS_WITH_THE_KEY) {
        expect(environmentOf(synth.json, synth.logicalId(name)).GEMINI_API_KEY_SECRET_ARN).toEqual({
          Ref: secretId,
        });
      }
      for (const name of [...FUNCTIONS_WITH_THE_KEY, 'start-run'] as const) {
        const env = environmentOf(synth.json, synth.logicalId(name));
        expect(Object.keys(env)).not.toContain('GEMINI_API_KEY');
        expect(JSON.stringify(env)).not.toContain('replace-me-with-a-gemini-api-key');
        expect(JSON.stringify(env)).not.toMatch(/AIza[0-9A-Za-z_-]{20,}/);
      }
    });
  });
});

describe('GeminiBatchPipeline storage with props overridden', () => {
  it('uses an existing bucket and creates none', () => {
    const synth = synthPipeline((stack) => ({
      bucket: s3.Bucket.fromBucketName(stack, 'Existing', 'my-existing-bucket'),
    }));
    synth.template.resourceCountIs('AWS::S3::Bucket', 0);
    synth.template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    expect(synth.pipeline.accessLogsBucket).toBeUndefined();
  });

  it('uses a given API key secret and creates none', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:team/gemini-key-AbCdEf';
    const synth = synthPipeline((stack) => ({
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', arn),
    }));
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(environmentOf(synth.json, synth.logicalId('submit-batch-jobs')).GEMINI_API_KEY_SECRET_ARN).toBe(
      arn,
    );
  });

  it('expires work/ after a custom number of days', () => {
    const synth = synthPipeline({ workExpiration: Duration.days(30) });
    synth.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'work/', ExpirationInDays: 30 })]),
      },
    });
  });
});
