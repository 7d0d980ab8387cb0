/**
 * Loopback stand-ins for the two AWS control-plane calls the functions make besides S3: Step
 * Functions `StartExecution` (start-run) and EventBridge `PutEvents` (finalize-run). They speak the
 * services' JSON protocols, so the functions run with their real SDK clients, unchanged, pointed here
 * by `AWS_ENDPOINT_URL_SFN` and `AWS_ENDPOINT_URL_EVENTBRIDGE`.
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
}

export interface AwsStandIns {
  readonly url: string;
  stop(): Promise<void>;
}

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

  const server = createServer((req, res) => {
    void (async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readJson(req);
      if (target === 'AWSStepFunctions.StartExecution') return startExecution(body, res);
      if (target === 'AWSEvents.PutEvents') return putEvents(body, res);
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
