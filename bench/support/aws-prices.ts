/**
 * AWS list prices the cost figure uses, us-east-1, on-demand, no free tier, as data: each with the
 * page it was read from, the day it was read, and whether AWS's own page confirmed the number (an
 * unconfirmed price is quoted from a third-party page that cites AWS's; the table says so).
 * A price change touches only this file.
 */

export interface AwsPrice {
  readonly usd: number;
  /** What `usd` buys. */
  readonly per: string;
  readonly source: string;
  readonly read: string;
  /** False when only a third-party page quoting AWS's was read. */
  readonly confirmedOnAwsPage: boolean;
}

const READ = '2026-12-01';

export const AWS_PRICES = {
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 'GB-second, arm64, first 7.5 billion GB-s a month',
    source:
      'https://aws.amazon.com/lambda/pricing/ as quoted by https://cloudchipr.com/blog/aws-lambda-pricing and lambda_local_runner docs/lambdas-md/lambda-13-cost.md (2026-05-11)',
    read: READ,
    confirmedOnAwsPage: false,
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    per: 'request ($0.20 per million, x86 and arm64 alike)',
    source:
      'https://aws.amazon.com/lambda/pricing/ as quoted by lambda_local_runner docs/lambdas-md/lambda-13-cost.md',
    read: READ,
    confirmedOnAwsPage: false,
  },
  lambdaEphemeralGbSecond: {
    usd: 0.0000000309,
    per: 'GB-second of /tmp configured above the free 512 MB',
    source:
      'https://aws.amazon.com/lambda/pricing/ (ephemeral storage; the figure as remembered, not read in this round)',
    read: READ,
    confirmedOnAwsPage: false,
  },
  stepFunctionsTransition: {
    usd: 0.025 / 1000,
    per: 'standard-workflow state transition ($0.025 per 1,000, US East (N. Virginia))',
    source: 'https://aws.amazon.com/step-functions/pricing/ (state transitions pricing table)',
    read: READ,
    confirmedOnAwsPage: true,
  },
  s3PutRequest: {
    usd: 0.005 / 1000,
    per: 'S3 Standard PUT, COPY, POST or LIST request ($0.005 per 1,000)',
    source: 'https://aws.amazon.com/s3/pricing/ as quoted by https://c3x.dev/blog/s3-request-fees-explained',
    read: READ,
    confirmedOnAwsPage: false,
  },
  s3GetRequest: {
    usd: 0.0004 / 1000,
    per: 'S3 Standard GET, HEAD or SELECT request ($0.0004 per 1,000)',
    source: 'https://aws.amazon.com/s3/pricing/ as quoted by https://c3x.dev/blog/s3-request-fees-explained',
    read: READ,
    confirmedOnAwsPage: false,
  },
  secretsManagerCall: {
    usd: 0.05 / 10_000,
    per: 'Secrets Manager API call ($0.05 per 10,000; the secret itself is $0.40 a month, not per request)',
    source:
      'https://aws.amazon.com/secrets-manager/pricing/ as quoted by https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms',
    read: READ,
    confirmedOnAwsPage: false,
  },
} as const satisfies Record<string, AwsPrice>;
