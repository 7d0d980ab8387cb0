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
 *
 * For the cost figure (`measureCost`) it also counts the functions' S3 requests and measures,
 * per Task state, the CPU time of the function sandboxes and how far the process's RSS rose.
 */
import { getHeapStatistics } from 'node:v8';
import { DEFAULT_ENQUEUED_TOKEN_LIMITS } from '../../local/gemini-emulator/index.js';
import { type SandboxMemory, startLocalPipeline } from '../../local/local-pipeline.js';
import { reportResult, workerInput } from '../support/child.js';
import { countOtherThreadsS3Requests } from '../support/request-counter.js';
import { type TaskMeasures, TaskMeter } from '../support/task-meter.js';

export interface E2eWorkerInput {
  readonly path: string;
  readonly pollWaitMs: number;
  /** Count the functions' S3 requests and measure each Task's CPU time and memory, for the cost figure. */
  readonly measureCost?: boolean;
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
  /** Each Task's sandbox CPU time and RSS rise (when counted). */
  readonly tasks?: TaskMeasures;
  /** Each function's sandbox at its highest (its isolate: heap and Buffers), by function name. */
  readonly sandboxes: Record<string, SandboxMemory | undefined>;
  /**
   * The stack's own thread (local S3, Gemini emulator, state machine, runner) at its highest:
   * committed heap and Buffers, sampled every 100 ms.
   */
  readonly mainThread: { readonly committedHeapBytes: number; readonly externalBytes: number };
}

const UNLIMITED = 1e15;
const { path, pollWaitMs, measureCost } = workerInput<E2eWorkerInput>();
const startedAt = new Map<string, number>();
const stateMs: Record<string, number> = {};
const stateCalls: Record<string, number> = {};
// Before the stack starts, so that every connection the runner opens is known as the runner's.
const s3Counter = measureCost ? countOtherThreadsS3Requests() : undefined;
// Only when counting: a 20 ms timer and /proc reads are not free, and the timing run stays bare.
const meter = measureCost ? new TaskMeter() : undefined;

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
  onProgress: (event) => {
    if (event.phase === 'started') {
      startedAt.set(event.state, performance.now());
      meter?.started(event.state);
      return;
    }
    meter?.ended(event.state);
    const began = startedAt.get(event.state) ?? performance.now();
    stateMs[event.state] = (stateMs[event.state] ?? 0) + performance.now() - began;
    stateCalls[event.state] = (stateCalls[event.state] ?? 0) + 1;
  },
});
const startupMs = performance.now() - setupStarted;
// The functions call nothing before a run starts, so the server can be named once the stack is up.
s3Counter?.serverAt(pipeline.s3Endpoint);
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
    tasks: meter?.measures(),
    sandboxes: pipeline.sandboxMemory(),
    mainThread,
  };
  reportResult(result);
} finally {
  clearInterval(mainThreadSampler);
  meter?.stop();
  s3Counter?.stop();
  await pipeline.close();
}
