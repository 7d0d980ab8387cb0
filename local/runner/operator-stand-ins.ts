/**
 * Loopback stand-ins for the AWS calls an operator's tools make against a deployed stack: the
 * `gemini-batch` CLI (`cli/`) finds the stack with CloudFormation `DescribeStacks` and follows runs
 * with Step Functions `DescribeExecution`, `ListExecutions` and `StopExecution`. Point
 * `AWS_ENDPOINT_URL_CLOUDFORMATION` and `AWS_ENDPOINT_URL_SFN` here and the real SDK clients run
 * unchanged. No maintained Node library serves these APIs offline (LocalStack and AWS's Step
 * Functions Local run in Docker or Java, and could not see the local runner's executions), so only
 * these four actions are written, with the shapes of the Step Functions API reference
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html,
 * API_ListExecutions.html, API_StopExecution.html): JSON 1.0, dates as epoch seconds.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { answerCloudFormation, type LocalStack } from './cloudformation-stand-in.js';
import type { ExecutionRecord, Executions } from './executions.js';
import { listenOnLoopback } from './loopback-server.js';

export interface OperatorStandInsInput {
  readonly stack: LocalStack;
  readonly executions: Executions;
  /** Stops a running execution with `cause`, as StopExecution does. */
  readonly stop: (name: string, cause: string) => void;
}

export interface OperatorStandIns {
  readonly url: string;
  stop(): Promise<void>;
}

interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

const epochSeconds = (date: Date): number => date.getTime() / 1000;
const failure = (type: string, message: string): JsonAnswer => ({
  status: 400,
  body: { __type: type, message },
});

/** ListExecutions' page size when none is asked: the reference's default of 100. */
const DEFAULT_PAGE = 100;

function summary(record: ExecutionRecord, stateMachineArn: string) {
  return {
    executionArn: record.executionArn,
    stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
  };
}

function answerStepFunctions(
  action: string,
  body: Record<string, unknown>,
  input: OperatorStandInsInput,
): JsonAnswer {
  const { executions } = input;
  const { stateMachineArn } = executions;
  if (action === 'ListExecutions') {
    if (body.stateMachineArn !== stateMachineArn) {
      return failure(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`,
      );
    }
    const filter = body.statusFilter as string | undefined;
    const all = executions.list().filter((record) => !filter || record.status === filter);
    const size = Number(body.maxResults) || DEFAULT_PAGE;
    const from = body.nextToken ? Number(Buffer.from(String(body.nextToken), 'base64url').toString()) : 0;
    const page = all.slice(from, from + size);
    const next =
      from + size < all.length ? Buffer.from(String(from + size)).toString('base64url') : undefined;
    return {
      status: 200,
      body: {
        executions: page.map((r) => summary(r, stateMachineArn)),
        ...(next ? { nextToken: next } : {}),
      },
    };
  }
  const executionArn = String(body.executionArn ?? '');
  const record = executions.byArn(executionArn);
  if (!record) return failure('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
  if (action === 'DescribeExecution') {
    return {
      status: 200,
      body: { ...summary(record, stateMachineArn), input: record.input, inputDetails: { included: true } },
    };
  }
  if (action === 'StopExecution') {
    // The reference does not say what stopping an ended execution answers; the CLI never asks
    // (it reads the status first), and the stand-in refuses it so no caller comes to rely on it here.
    if (record.status !== 'RUNNING') {
      return failure('ValidationException', `Execution ${executionArn} is not running (${record.status})`);
    }
    input.stop(record.name, String(body.cause ?? ''));
    return { status: 200, body: { stopDate: epochSeconds(new Date()) } };
  }
  return failure('UnknownOperationException', `not emulated: AWSStepFunctions.${action}`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const pieces: Buffer[] = [];
  for await (const piece of req as AsyncIterable<Buffer>) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8');
}

function send(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the stand-ins on a free loopback port. */
export async function startOperatorStandIns(input: OperatorStandInsInput): Promise<OperatorStandIns> {
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.startsWith('AWSStepFunctions.')) {
        const answer = answerStepFunctions(
          target.slice('AWSStepFunctions.'.length),
          JSON.parse(body || '{}') as Record<string, unknown>,
          input,
        );
        return send(res, answer.status, JSON.stringify(answer.body), 'application/x-amz-json-1.0');
      }
      const answer = answerCloudFormation(body, input.stack);
      send(res, answer.status, answer.xml, 'text/xml');
    })().catch((error: unknown) =>
      send(
        res,
        500,
        JSON.stringify({ __type: 'InternalFailure', message: String(error) }),
        'application/json',
      ),
    );
  });
  return listenOnLoopback(server);
}
