/**
 * Figure 5: the local end-to-end run, 100k requests from upload to manifest, through the same
 * synthesized state machine and handlers as AWS, against the Gemini emulator at zero job timings
 * (docs/architecture.md, Targets: within 60 s on a 2-core machine, so the worker is not pinned to one CPU).
 * In a full run also a 1 GiB input, for the whole stack's peak RSS (target: under 1 GiB), with
 * what each sandbox and the stack's own thread held at their highest.
 */
import { join } from 'node:path';
import { resultOf, runWorker } from './support/child.js';
import { writeGenerateRequests } from './support/generate.js';
import { type BenchRow, count, MIB, mib, seconds } from './support/table.js';
import { LOCAL_STACK_NODE_ARGS } from './support/workspace.js';
import type { E2eWorkerInput, E2eWorkerResult } from './workers/e2e-worker.js';

/** Real time between polls: short, so the figure is the pipeline's work, not the wait. */
const POLL_WAIT_MS = 100;

async function runEndToEnd(path: string) {
  const input: E2eWorkerInput = { path, pollWaitMs: POLL_WAIT_MS };
  const outcome = await runWorker<E2eWorkerResult>('e2e-worker', input, {
    pinCpu: false,
    nodeArgs: LOCAL_STACK_NODE_ARGS,
  });
  return { outcome, result: resultOf(outcome, 'end-to-end') };
}

/** Each sandbox's heap and Buffers at their highest, and the stack's own thread's, largest first. */
function memoryBreakdown(result: E2eWorkerResult): string {
  const sandboxes = Object.entries(result.sandboxes)
    .flatMap(([name, memory]) =>
      memory ? [{ name, bytes: memory.committedHeapBytes + memory.externalBytes }] : [],
    )
    .sort((a, b) => b.bytes - a.bytes)
    .map(({ name, bytes }) => `${name} ${(bytes / MIB).toFixed(0)}`);
  const { committedHeapBytes, externalBytes } = result.mainThread;
  const idle = Object.entries(result.sandboxes)
    .filter(([, memory]) => memory === undefined)
    .map(([name]) => name);
  return (
    `heap + Buffers at their highest (MiB): stack thread ${((committedHeapBytes + externalBytes) / MIB).toFixed(0)}; ` +
    `sandboxes ${sandboxes.join(', ')}${idle.length > 0 ? `; never started: ${idle.join(', ')}` : ''}`
  );
}

export async function benchEndToEnd(dir: string, requests: number, largeBytes?: number): Promise<BenchRow[]> {
  const file = await writeGenerateRequests(join(dir, `e2e-${requests}.jsonl`), { requests });
  const { outcome, result } = await runEndToEnd(file.path);
  const states = Object.entries(result.stateMs)
    .map(([state, ms]) => {
      const calls = result.stateCalls[state] ?? 1;
      return `${state} ${seconds(ms)}${calls > 1 ? ` ×${calls}` : ''}`;
    })
    .join(', ');
  const rows: BenchRow[] = [
    {
      figure: `Local end-to-end, ${count(file.lines)} requests (${mib(file.bytes)}), multipart upload → manifest`,
      value: `${seconds(result.runMs)} (${result.status}); whole local stack peak RSS ${mib(outcome.peakRssBytes)}`,
      reference: `in states: ${states}; stack start-up ${seconds(result.startupMs)} apart`,
      target: '≤ 60 s, 2 cores',
    },
  ];
  if (largeBytes === undefined) return rows;
  const large = await writeGenerateRequests(join(dir, `e2e-${largeBytes}-bytes.jsonl`), {
    bytes: largeBytes,
  });
  const big = await runEndToEnd(large.path);
  rows.push({
    figure: `Local end-to-end, ${mib(large.bytes)} input (${count(large.lines)} requests), whole local stack peak RSS`,
    value: `${mib(big.outcome.peakRssBytes)} (${big.result.status} in ${seconds(big.result.runMs)})`,
    reference: memoryBreakdown(big.result),
    target: '< 1 GiB',
  });
  return rows;
}
