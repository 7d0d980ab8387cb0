/**
 * Runs the real `collectResults` core once, over run records that the real Prepare, Submit and Poll
 * cores wrote, with results "downloaded" from the FileGemini fake; reports the core's time and the
 * process's peak RSS.
 */
import { collectResults } from '../../lambdas/collect-results/collect-results.js';
import type { RunState } from '../../lambdas/shared/run/state-payloads.js';
import { BENCH_INPUT_PREFIX } from '../support/bench-run.js';
import { reportResult, workerInput } from '../support/child.js';
import { FileGemini } from '../support/file-gemini.js';
import { FsObjectStore } from '../support/fs-object-store.js';

export interface CollectWorkerInput {
  readonly storeRoot: string;
  readonly geminiDir: string;
  readonly tmpDir: string;
  readonly run: RunState;
}

const { storeRoot, geminiDir, tmpDir, run } = workerInput<CollectWorkerInput>();
const store = new FsObjectStore(storeRoot);
const gemini = await FileGemini.open(geminiDir);
const started = performance.now();
const collected = await collectResults(run, { store, gemini, inputPrefix: BENCH_INPUT_PREFIX, tmpDir });
reportResult({ ms: performance.now() - started, collected });
