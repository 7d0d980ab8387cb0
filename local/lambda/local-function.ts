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
import { highestMemory, type SandboxMemory, sandboxResourceLimits } from './sandbox-memory.js';

export type { SandboxMemory } from './sandbox-memory.js';

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
  /** Also the sandbox's heap limit (`sandbox-memory.ts`). @default 128 */
  readonly memorySizeMb?: number;
  /**
   * A sandbox left idle this long after an invocation is ended, as Lambda reclaims idle sandboxes
   * (after minutes there; sooner here, where every sandbox's memory is one process's), and the
   * next invocation starts cold.
   * @default - never
   */
  readonly reclaimAfterIdleMs?: number;
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
  /** Whether a sandbox is up: from an invocation until it is reclaimed, crashes or is stopped. */
  readonly warm: boolean;
  /** The highest memory any of its sandboxes reported, at its start or after an invocation; undefined before any did. */
  memoryPeak(): SandboxMemory | undefined;
  stop(): Promise<void>;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  /** The invocation's timeout, set once the sandbox has loaded the handler. */
  timer?: NodeJS.Timeout;
}

interface Sandbox {
  readonly worker: Worker;
  readonly pending: Map<string, Pending>;
  /** Resolves once the handler is loaded (or failed to load): the cold start is over. */
  readonly ready: Promise<void>;
  idleTimer?: NodeJS.Timeout;
}

/** What the sandbox posts: an invocation's answer, or its readiness; each with its memory so far. */
interface SandboxMessage {
  readonly id?: string;
  readonly ready?: boolean;
  readonly result?: unknown;
  readonly error?: LambdaErrorPayload;
  readonly memory?: SandboxMemory;
}

/**
 * A function whose sandbox starts on its first invocation, as Lambda starts one, and answers one
 * event at a time per call. Nothing runs before it is needed: every sandbox is a thread of the one
 * local process, and one started early would hold its memory through every other step. A crash or
 * a timeout ends the sandbox and reports `Lambda.Unknown`, as Step Functions reports out-of-memory
 * errors and timeouts; the next invocation starts a new one, as it does after an idle sandbox was
 * reclaimed.
 */
export function startLocalFunction(spec: LocalFunctionSpec): LocalFunction {
  let sandbox: Sandbox | undefined;
  let peak: SandboxMemory | undefined;
  const memorySizeMb = spec.memorySizeMb ?? 128;

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
      resourceLimits: sandboxResourceLimits(memorySizeMb, spec.environment.NODE_OPTIONS),
      workerData: {
        file: spec.file,
        exportName: spec.exportName ?? 'handler',
        typescript: spec.file.endsWith('.ts'),
        functionName: spec.name,
        functionArn: functionArnOf(spec.name),
        memorySizeMb,
        timeoutSeconds: spec.timeoutSeconds,
      },
    });
    const pending = new Map<string, Pending>();
    let markReady = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const current: Sandbox = { worker, pending, ready };
    worker.on('message', (message: SandboxMessage) => {
      if (message.memory) peak = highestMemory(peak, message.memory);
      if (message.ready) markReady();
      if (message.id === undefined) return;
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.error) waiting.reject(new LambdaInvocationError(message.error));
      else waiting.resolve(message.result);
      if (pending.size === 0) reclaimWhenIdle(current);
    });
    worker.on('error', (error) => crash(pending, `${spec.name} crashed: ${error.message}`));
    worker.on('exit', (code) => {
      clearTimeout(current.idleTimer);
      if (sandbox === current) sandbox = undefined;
      crash(pending, `${spec.name} exited with code ${code} before answering`);
    });
    sandbox = current;
    return current;
  };
  const reclaimWhenIdle = (current: Sandbox) => {
    if (spec.reclaimAfterIdleMs === undefined) return;
    current.idleTimer = setTimeout(() => {
      if (current.pending.size > 0) return;
      if (sandbox === current) sandbox = undefined;
      void current.worker.terminate();
    }, spec.reclaimAfterIdleMs);
    current.idleTimer.unref();
  };

  return {
    name: spec.name,
    get warm() {
      return sandbox !== undefined;
    },
    memoryPeak: () => peak,
    invoke(event) {
      const current = sandbox ?? start();
      clearTimeout(current.idleTimer);
      const { worker, pending } = current;
      const id = randomUUID();
      return new Promise((resolve, reject) => {
        const invocation: Pending = { resolve, reject };
        pending.set(id, invocation);
        worker.postMessage({ id, event, requestId: id });
        // The timeout counts from the end of the cold start, as Lambda's counts the handler's
        // time and not the init phase: a cold start slowed by a loaded machine is not a timeout.
        void current.ready.then(() => {
          if (!pending.has(id)) return;
          invocation.timer = setTimeout(() => {
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
        });
      });
    },
    async stop() {
      const current = sandbox;
      sandbox = undefined;
      if (current) await current.worker.terminate();
    },
  };
}
