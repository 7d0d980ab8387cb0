/**
 * CloudFormation `DescribeStacks` for the local stack, in the service's query protocol: a
 * form-encoded POST (`Action=DescribeStacks&StackName=…&Version=2010-05-15`) answered in XML, as
 * the API reference shows (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
 * `@aws-sdk/client-cloudformation` speaks this protocol (its `AwsQueryProtocol`); the CLI's calls
 * through that client are the test of these shapes.
 */
import { randomUUID } from 'node:crypto';

/** The one stack the local runner has. */
export interface LocalStack {
  readonly name: string;
  readonly stackId: string;
  readonly createdAt: Date;
  /** Output key → value, as the deployed stack would give them. */
  readonly outputs: Readonly<Record<string, string>>;
}

/** An answer in the query protocol: HTTP status and XML body. */
export interface QueryAnswer {
  readonly status: number;
  readonly xml: string;
}

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`,
  );
}

function errorAnswer(status: number, code: string, message: string): QueryAnswer {
  return {
    status,
    xml: `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

function stackXml(stack: LocalStack): string {
  const outputs = Object.entries(stack.outputs)
    .map(
      ([key, value]) =>
        `<member><OutputKey>${escapeXml(key)}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`,
    )
    .join('');
  return `<member><StackName>${escapeXml(stack.name)}</StackName><StackId>${escapeXml(stack.stackId)}</StackId><CreationTime>${stack.createdAt.toISOString()}</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${outputs}</Outputs></member>`;
}

/** Answers one query-protocol request (its form-encoded body) for the local stack. */
export function answerCloudFormation(body: string, stack: LocalStack): QueryAnswer {
  const form = new URLSearchParams(body);
  const action = form.get('Action');
  if (action !== 'DescribeStacks') {
    return errorAnswer(400, 'InvalidAction', `not emulated: ${action ?? '(no Action)'}`);
  }
  const asked = form.get('StackName');
  // A stack is named by its name or its stack id; without a name, every stack is described.
  if (asked && asked !== stack.name && asked !== stack.stackId) {
    return errorAnswer(400, 'ValidationError', `Stack with id ${asked} does not exist`);
  }
  return {
    status: 200,
    xml: `<DescribeStacksResponse xmlns="${NAMESPACE}"><DescribeStacksResult><Stacks>${stackXml(stack)}</Stacks></DescribeStacksResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  };
}
