/**
 * Figure 3: peak RSS (VmHWM) of the Prepare and Collect cores, each in its own process, on a large
 * input (docs/architecture.md, Targets: at most 256 MB for any input up to 2 GB). The reference is the same
 * worker doing nothing: what Node and the tsx loader cost before any data.
 */
import { bareJsonParse } from './support/baseline.js';
import { type BenchRow, errorRow, mib } from './support/table.js';
import type { LargeFileWorkspace } from './support/workspace.js';

let idlePeak: Promise<number> | undefined;
/** A worker that parses nothing: the floor every peak stands on. */
function idleWorkerPeak(): Promise<number> {
  idlePeak ??= bareJsonParse([]).then((run) => run.peakRssBytes);
  return idlePeak;
}

export async function benchMemory(workspace: LargeFileWorkspace): Promise<BenchRow[]> {
  const idle = `idle worker (Node + tsx) ${mib(await idleWorkerPeak())}`;
  const input = await workspace.input();
  const prepare = await workspace.prepared();
  const rows: BenchRow[] = [
    {
      figure: `Prepare peak RSS, ${mib(input.bytes)} input`,
      value: mib(prepare.peakRssBytes),
      reference: idle,
      target: '≤ 256 MB',
    },
  ];
  try {
    const { resultsBytes } = await workspace.submitted();
    const collect = await workspace.collected();
    rows.push({
      figure: `Collect peak RSS, ${mib(resultsBytes)} of results (${mib(input.bytes)} input)`,
      value: mib(collect.peakRssBytes),
      reference: idle,
      target: '≤ 256 MB',
    });
  } catch (error) {
    rows.push(errorRow(`Collect peak RSS, ${mib(input.bytes)} input`, error, '≤ 256 MB'));
  }
  return rows;
}
