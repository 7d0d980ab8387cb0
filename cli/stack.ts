/**
 * The deployed stack the CLI works on, found by name through CloudFormation `DescribeStacks`: its
 * bucket, state machine and input prefix are stack outputs. The clients use the standard AWS
 * credential chain and region (environment, profile, SSO, instance role), and the standard
 * service-specific endpoint variables (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_CLOUDFORMATION`,
 * `AWS_ENDPOINT_URL_SFN`, see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html),
 * which is how the same commands reach the local stack.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STACK_OUTPUTS } from '../infra/stack-outputs.js';
import { DEFAULT_INPUT_PREFIX } from '../lambdas/shared/run/bucket-layout.js';

/** A stack's resources, as the CLI uses them. */
export interface PipelineStack {
  readonly name: string;
  readonly bucket: string;
  readonly stateMachineArn: string;
  readonly inputPrefix: string;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
}

/** A failure the user can act on: printed as its message alone, with the usage exit code. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Finds the stack `name` and builds the clients for its bucket and state machine. */
export async function findStack(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<PipelineStack> {
  const cloudFormation = new CloudFormationClient({});
  let described: DescribeStacksCommandOutput;
  try {
    described = await cloudFormation.send(new DescribeStacksCommand({ StackName: name }));
  } catch (error) {
    // CloudFormation answers an unknown stack with ValidationError "Stack with id … does not exist".
    if ((error as Error).name === 'ValidationError') {
      throw new CliUsageError(`${(error as Error).message} (give the deployed stack's name with --stack)`);
    }
    throw error;
  } finally {
    cloudFormation.destroy();
  }
  const outputs = new Map(
    (described.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
  );
  const bucket = outputs.get(STACK_OUTPUTS.bucketName);
  const stateMachineArn = outputs.get(STACK_OUTPUTS.stateMachineArn);
  if (!bucket || !stateMachineArn) {
    throw new CliUsageError(
      `stack ${name} has no ${STACK_OUTPUTS.bucketName} and ${STACK_OUTPUTS.stateMachineArn} outputs: is it a gemini-batch-pipeline stack?`,
    );
  }
  return {
    name,
    bucket,
    stateMachineArn,
    // Stacks deployed before the InputPrefix output existed used the default prefix or said so in
    // their UploadCommand; the default is the one the construct uses.
    inputPrefix: outputs.get(STACK_OUTPUTS.inputPrefix) ?? DEFAULT_INPUT_PREFIX,
    // A local S3 has no bucket subdomains, as the functions' own client assumes offline.
    s3: new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3) }),
    sfn: new SFNClient({}),
  };
}
