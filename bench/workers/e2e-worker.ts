/**
 * One file through the whole local pipeline (synthesized state machine, in-process S3, Gemini
 * emulator at zero job timings and raised enqueued-token caps), in its own process so that its
 * peak RSS is the whole local stack's (the functions run in worker threads of this process) and
 * nothing else's. Reports upload → manifest time, the stack's start-up apart, where the run's
 * time went per state, and what each sandbox and the stack's own thread held at their highest. The
 * stack is synthesized in a child process before it starts (`local/runner/synthesize-apart.ts`),
 * as `cdk synth` runs apart from what it builds, so the synth's memory is not the stack's.
 *
 * `runFile` uploads as any client sends 100 MiB, in parts (the local S3 server, like S3, limits
 * single requests), then delivers S3's "Object Created" event to the rule.
 */
import { getHeapStatistics } from 'node:v8';
import { DEFAULT_ENQUEUED_TOKEN_LIMITS } from '../../local/gemini-emulator/index.js';
import { type SandboxMemory, startLocalPipeline } from '../../local/local-pipeline.js';
import { reportResult, workerInput } from '../support/child.js';
import { classifyS3, startRequestCounter } from '../support/request-counter.js';

export interface E2eWorkerInput {
  readonly path: string;
  readonly pollWaitMs: number;
  /**
   * Route the functions' S3 requests through a counting proxy (for the cost figure).
   * Off for the timing figure: the extra hop would slow every byte Submit and Collect move.
   */
  readonly countRequests?: boolean;
}

export interface E2eWorkerResult {
  readonly startupMs: number;
  readonly runMs: number;
  readonly execution: string;
  readonly status: string;
  /** Time spent inside each Task state, summed over its invocations. */
  readonly stateMs: Record<string, number>;
  readonly stateCalls: Record<string, number>;
  /** The functions' S3 requests by billing class (when counted); the user's upload is not among them. */
  readonly s3Requests?: Record<string, number>;
  /** Each function's sandbox at its highest (its isolate: heap and Buffers), by function name. */
  readonly sandboxes: Record<string, SandboxMemory | undefined>;
  /**
   * The stack's own thread (local S3, Gemini emulator, state machine, runner) at its highest:
   * committed heap and Buffers, sampled every 100 ms.
   */
  readonly mainThread: { readonly committedHeapBytes: number; readonly externalBytes: number };
}

const UNLIMITED = 1e15;
const { path, pollWaitMs, countRequests } = workerInput<E2eWorkerInput>();
const startedAt = new Map<string, number>();
const stateMs: Record<string, number> = {};
const stateCalls: Record<string, number> = {};

const s3Counter = countRequests ? await startRequestCounter(classifyS3) : undefined;
const counted: Record<string, string> = s3Counter ? { AWS_ENDPOINT_URL_S3: s3Counter.url } : {};

const mainThread = { committedHeapBytes: 0, externalBytes: 0 };
const sampleMainThread = () => {
  const heap = getHeapStatistics();
  mainThread.committedHeapBytes = Math.max(mainThread.committedHeapBytes, heap.total_heap_size);
  mainThread.externalBytes = Math.max(mainThread.externalBytes, heap.external_memory);
};
const mainThreadSampler = setInterval(sampleMainThread, 100);

const setupStarted = performance.now();
const pipeline = await startLocalPipeline({
  emulator: {
    timing: { pendingMs: 0, runningMs: 0 },
    limits: {
      defaultEnqueuedTokens: UNLIMITED,
      enqueuedTokensPerModel: Object.fromEntries(
        Object.keys(DEFAULT_ENQUEUED_TOKEN_LIMITS).map((model) => [model, UNLIMITED]),
      ),
    },
  },
  pollWaitMs,
  environment: counted,
  onProgress: (event) => {
    if (event.phase === 'started') {
      startedAt.set(event.state, performance.now());
      return;
    }
    const began = startedAt.get(event.state) ?? performance.now();
    stateMs[event.state] = (stateMs[event.state] ?? 0) + performance.now() - began;
    stateCalls[event.state] = (stateCalls[event.state] ?? 0) + 1;
  },
});
const startupMs = performance.now() - setupStarted;
// The functions call nothing before a run starts, so the targets can be set once the stack is up.
s3Counter?.target(pipeline.s3Endpoint);
try {
  const runStarted = performance.now();
  const outcome = await pipeline.runFile(path);
  const result: E2eWorkerResult = {
    startupMs,
    runMs: performance.now() - runStarted,
    execution: outcome.execution,
    status: outcome.manifest.status,
    stateMs,
    stateCalls,
    s3Requests: s3Counter?.counts(),
    sandboxes: pipeline.sandboxMemory(),
    mainThread,
  };
  reportResult(result);
} finally {
  clearInterval(mainThreadSampler);
  await pipeline.close();
  await s3Counter?.stop();
}
