/**
 * The stack outputs tools read by name: the `gemini-batch` CLI finds a deployed stack's bucket,
 * state machine and input prefix through CloudFormation `DescribeStacks`, and the local runner
 * answers with the same keys.
 */
export const STACK_OUTPUTS = {
  bucketName: 'BucketName',
  stateMachineArn: 'StateMachineArn',
  inputPrefix: 'InputPrefix',
} as const;
