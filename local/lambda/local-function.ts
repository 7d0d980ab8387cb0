/**
 * A Lambda function on this machine: its handler (a bundle from the cloud assembly, or the source
 * file) in a worker thread of its own, with exactly the environment the template gives it, invoked
 * the way the Lambda service invokes it and failing the way Lambda reports failures to Step
 * Functions. Separate threads give each function its own module cache and `process.env`, so several
 * local pipelines can run in one process and none sees another's endpoints, or the developer's shell.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { functionArnOf } from '../runner/local-aws.js';

const WORKER = new URL('./worker.mjs', import.meta.url);

/** What a function runs, and how it is configured. */
export interface LocalFunctionSpec {
  /** The function's name, for its context and its errors. */
  readonly name: string;
  /** The module to load: a bundle (`index.mjs`) or a source `handler.ts`. */
  readonly file: string;
  /** @default 'handler' */
  readonly exportName?: string;
  /** The whole environment the function sees. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** @default 128 */
  readonly memorySizeMb?: number;
}

/** What Lambda's Node.js runtime reports for a thrown error, and Step Functions receives. */
export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/**
 * The error a failed invocation rejects with, as Step Functions sees it: `name` is the `Error` a
 * Retry or Catch matches (the handler's error name, or `Lambda.Unknown` for a crash or a timeout),
 * `message` the `Cause` (Lambda's JSON error document).
 */
export class LambdaInvocationError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(JSON.stringify(payload));
    this.name = payload.errorType;
  }
}

export interface LocalFunction {
  readonly name: string;
  invoke(event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Starts the function's sandbox at once (its cold start overlaps the stack's) and invokes it one
 * event at a time per call. A crash or a timeout ends the sandbox and reports `Lambda.Unknown`, as
 * Step Functions reports out-of-memory errors and timeouts; the next invocation starts a new one.
 */
export function startLocalFunction(spec: LocalFunctionSpec): LocalFunction {
  let sandbox: { readonly worker: Worker; readonly pending: Map<string, Pending> } | undefined;

  const crash = (pending: Map<string, Pending>, message: string) => {
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(new LambdaInvocationError({ errorType: 'Lambda.Unknown', errorMessage: message, trace: [] }));
    }
    pending.clear();
  };

  const start = () => {
    const worker = new Worker(WORKER, {
      env: { ...spec.environment },
      workerData: {
        file: spec.file,
        exportName: spec.exportName ?? 'handler',
        typescript: spec.file.endsWith('.ts'),
        functionName: spec.name,
        functionArn: functionArnOf(spec.name),
        memorySizeMb: spec.memorySizeMb ?? 128,
        timeoutSeconds: spec.timeoutSeconds,
      },
    });
    const pending = new Map<string, Pending>();
    const current = { worker, pending };
    worker.on('message', (message: { id?: string; result?: unknown; error?: LambdaErrorPayload }) => {
      if (message.id === undefined) return;
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.error) waiting.reject(new LambdaInvocationError(message.error));
      else waiting.resolve(message.result);
    });
    worker.on('error', (error) => crash(pending, `${spec.name} crashed: ${error.message}`));
    worker.on('exit', (code) => {
      if (sandbox === current) sandbox = undefined;
      crash(pending, `${spec.name} exited with code ${code} before answering`);
    });
    sandbox = current;
    return current;
  };
  start();

  return {
    name: spec.name,
    invoke(event) {
      const { worker, pending } = sandbox ?? start();
      const id = randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new LambdaInvocationError({
              errorType: 'Lambda.Unknown',
              errorMessage: `Task timed out after ${spec.timeoutSeconds} seconds`,
              trace: [],
            }),
          );
          // As Lambda does after a timeout: the sandbox is discarded, the next invocation starts cold.
          void worker.terminate();
        }, spec.timeoutSeconds * 1000);
        pending.set(id, { resolve, reject, timer });
        worker.postMessage({ id, event, requestId: id });
      });
    },
    async stop() {
      const current = sandbox;
      sandbox = undefined;
      if (current) await current.worker.terminate();
    },
  };
}
