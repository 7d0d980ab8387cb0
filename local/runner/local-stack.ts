/** The local stack as CloudFormation describes it: the deployed stack's name and the outputs operators read. */
import { DEFAULT_STACK_ID } from '../../infra/names.js';
import { STACK_OUTPUTS } from '../../infra/stack-outputs.js';
import type { LocalStack } from './cloudformation-stand-in.js';
import { LOCAL_ACCOUNT, LOCAL_BUCKET, LOCAL_REGION, LOCAL_STATE_MACHINE_ARN } from './local-aws.js';

/** The CDK app's default stack name (`stackName` context), which the CLI looks up by default. */
export const LOCAL_STACK_NAME = DEFAULT_STACK_ID;

/** The local stack, with the values its outputs take offline. */
export function localStack(inputPrefix: string): LocalStack {
  return {
    name: LOCAL_STACK_NAME,
    stackId: `arn:aws:cloudformation:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stack/${LOCAL_STACK_NAME}/00000000-0000-0000-0000-000000000000`,
    createdAt: new Date(),
    outputs: {
      [STACK_OUTPUTS.bucketName]: LOCAL_BUCKET,
      [STACK_OUTPUTS.stateMachineArn]: LOCAL_STATE_MACHINE_ARN,
      [STACK_OUTPUTS.inputPrefix]: inputPrefix,
    },
  };
}
