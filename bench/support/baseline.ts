/** The bare `JSON.parse` loop (see `workers/json-parse-worker.ts`), run in a worker on one CPU like the cores. */
import type { JsonParseWorkerInput } from '../workers/json-parse-worker.js';
import { resultOf, runWorker } from './child.js';
import { HEAP_NODE_ARGS } from './workspace.js';

export interface BaselineRun {
  readonly ms: number;
  readonly bytes: number;
  readonly lines: number;
  readonly peakRssBytes: number;
}

export async function bareJsonParse(paths: readonly string[]): Promise<BaselineRun> {
  const input: JsonParseWorkerInput = { paths };
  // The same heap flags as the cores: the ratio compares the code, not V8's settings.
  const outcome = await runWorker<{ ms: number; bytes: number; lines: number }>('json-parse-worker', input, {
    nodeArgs: HEAP_NODE_ARGS,
  });
  const { ms, bytes, lines } = resultOf(outcome, 'JSON.parse baseline');
  return { ms, bytes, lines, peakRssBytes: outcome.peakRssBytes };
}
