/**
 * Figure 5: the local end-to-end run, 100k requests from upload to manifest, through the same
 * synthesized state machine and handlers as AWS, against the Gemini emulator at zero job timings
 * (docs/architecture.md, Targets: within 60 s on a 2-core machine, so the worker is not pinned to one CPU).
 */
import { join } from 'node:path';
import { resultOf, runWorker } from './support/child.js';
import { writeGenerateRequests } from './support/generate.js';
import { type BenchRow, count, mib, seconds } from './support/table.js';
import type { E2eWorkerInput, E2eWorkerResult } from './workers/e2e-worker.js';

/** Real time between polls: short, so the figure is the pipeline's work, not the wait. */
const POLL_WAIT_MS = 100;

export async function benchEndToEnd(dir: string, requests: number): Promise<BenchRow[]> {
  const file = await writeGenerateRequests(join(dir, `e2e-${requests}.jsonl`), { requests });
  const input: E2eWorkerInput = { path: file.path, pollWaitMs: POLL_WAIT_MS };
  const outcome = await runWorker<E2eWorkerResult>('e2e-worker', input, { pinCpu: false });
  const result = resultOf(outcome, 'end-to-end');
  const states = Object.entries(result.stateMs)
    .map(([state, ms]) => {
      const calls = result.stateCalls[state] ?? 1;
      return `${state} ${seconds(ms)}${calls > 1 ? ` ×${calls}` : ''}`;
    })
    .join(', ');
  return [
    {
      figure: `Local end-to-end, ${count(file.lines)} requests (${mib(file.bytes)}), multipart upload → manifest`,
      value: `${seconds(result.runMs)} (${result.status}); whole local stack peak RSS ${mib(outcome.peakRssBytes)}`,
      reference: `in states: ${states}; stack start-up ${seconds(result.startupMs)} apart`,
      target: '≤ 60 s, 2 cores',
    },
  ];
}
