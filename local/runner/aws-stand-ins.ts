/**
 * Loopback stand-ins for the AWS calls the functions make besides S3 and DynamoDB: Step Functions
 * `StartExecution` (start-run), EventBridge `PutEvents` (finalize-run) and Secrets Manager
 * `GetSecretValue` (the Gemini key, for every function that calls Gemini). They speak the services'
 * JSON protocols, so the functions run with their real SDK clients, unchanged, pointed here by
 * `AWS_ENDPOINT_URL_SFN`, `AWS_ENDPOINT_URL_EVENTBRIDGE` and `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { executionArnOf } from './local-aws.js';
import { listenOnLoopback } from './loopback-server.js';

export interface StartedExecution {
  readonly name: string;
  readonly input: string;
  readonly executionArn: string;
}

export interface PublishedEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
}

export interface AwsStandInHandlers {
  /** Starts an execution; called once per new name. */
  readonly startExecution: (execution: StartedExecution) => void;
  /** Whether the execution of that name is still running (duplicates of a running one are accepted). */
  readonly isRunning: (name: string) => boolean;
  readonly putEvent: (event: PublishedEvent) => void;
  /** The plain-text value of the secret of that ARN, or undefined for a secret that does not exist. */
  readonly secretValue: (secretArn: string) => string | undefined;
}

export interface AwsStandIns {
  readonly url: string;
  stop(): Promise<void>;
}

/** The one version of every local secret: the stand-ins live as long as one local stack. */
const LOCAL_SECRET_VERSION = '00000000-0000-4000-8000-000000000000';

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const pieces: Buffer[] = [];
  for await (const piece of req as AsyncIterable<Buffer>) pieces.push(piece);
  return JSON.parse(Buffer.concat(pieces).toString('utf8') || '{}') as Record<string, unknown>;
}

function reply(res: ServerResponse, status: number, body: unknown, contentType: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startAwsStandIns(
  stateMachineArn: string,
  handlers: AwsStandInHandlers,
): Promise<AwsStandIns> {
  const executions = new Map<string, StartedExecution>();
  const startedAt = Date.now() / 1000;

  const startExecution = (body: Record<string, unknown>, res: ServerResponse) => {
    const json = 'application/x-amz-json-1.0';
    const name = String(body.name ?? randomUUID());
    const input = String(body.input ?? '{}');
    const existing = executions.get(name);
    if (existing) {
      // As Step Functions does for Standard workflows: the same name and input while running is
      // idempotent; otherwise the name is taken for 90 days.
      if (existing.input === input && handlers.isRunning(name)) {
        reply(res, 200, { executionArn: existing.executionArn, startDate: Date.now() / 1000 }, json);
      } else {
        reply(
          res,
          400,
          {
            __type: 'ExecutionAlreadyExists',
            message: `Execution Already Exists: '${existing.executionArn}'`,
          },
          json,
        );
      }
      return;
    }
    const execution = {
      name,
      input,
      executionArn: executionArnOf(stateMachineArn, name),
    };
    executions.set(name, execution);
    handlers.startExecution(execution);
    reply(res, 200, { executionArn: execution.executionArn, startDate: Date.now() / 1000 }, json);
  };

  const putEvents = (body: Record<string, unknown>, res: ServerResponse) => {
    const entries = Array.isArray(body.Entries) ? (body.Entries as Record<string, unknown>[]) : [];
    for (const entry of entries) {
      handlers.putEvent({
        source: String(entry.Source),
        detailType: String(entry.DetailType),
        detail: JSON.parse(String(entry.Detail ?? '{}')),
      });
    }
    reply(
      res,
      200,
      { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) },
      'application/x-amz-json-1.1',
    );
  };

  // As Secrets Manager answers (API_GetSecretValue.html): the value, its ARN and its current version;
  // an unknown secret is ResourceNotFoundException, with Secrets Manager's own message.
  const getSecretValue = (body: Record<string, unknown>, res: ServerResponse) => {
    const json = 'application/x-amz-json-1.1';
    const secretArn = String(body.SecretId ?? '');
    const value = handlers.secretValue(secretArn);
    if (value === undefined) {
      reply(
        res,
        400,
        { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
        json,
      );
      return;
    }
    reply(
      res,
      200,
      {
        ARN: secretArn,
        Name: secretArn.split(':').at(-1),
        SecretString: value,
        VersionId: LOCAL_SECRET_VERSION,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: startedAt,
      },
      json,
    );
  };

  const server = createServer((req, res) => {
    void (async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readJson(req);
      if (target === 'AWSStepFunctions.StartExecution') return startExecution(body, res);
      if (target === 'AWSEvents.PutEvents') return putEvents(body, res);
      if (target === 'secretsmanager.GetSecretValue') return getSecretValue(body, res);
      reply(
        res,
        400,
        { __type: 'UnknownOperationException', message: `not emulated: ${target}` },
        'application/x-amz-json-1.0',
      );
    })().catch((error: unknown) =>
      reply(res, 500, { __type: 'InternalFailure', message: String(error) }, 'application/json'),
    );
  });
  return listenOnLoopback(server);
}
