/**
 * Figure 2: Collect's throughput over the result files of a large run, one CPU, beside a bare
 * JSON.parse loop over the same result files (docs/architecture.md, Targets: at least 50% of it). The run's
 * records come from the real Prepare, Submit and Poll cores; results are "downloaded" by copying.
 */
import { bareJsonParse } from './support/baseline.js';
import { type BenchRow, count, mib, mibPerSecond, percent, seconds } from './support/table.js';
import type { LargeFileWorkspace } from './support/workspace.js';

export async function benchCollect(workspace: LargeFileWorkspace): Promise<BenchRow[]> {
  const { resultsFiles, resultsBytes } = await workspace.submitted();
  const lines = resultsFiles.reduce((sum, file) => sum + file.lines, 0);
  const baseline = await bareJsonParse(resultsFiles.map((file) => file.path));
  const collect = await workspace.collected();
  const files = resultsFiles.length === 1 ? '1 result file' : `${resultsFiles.length} result files`;
  return [
    {
      figure: `Collect throughput, ${mib(resultsBytes)} in ${files} (${count(lines)} lines), 1 CPU`,
      value: `${mibPerSecond(resultsBytes, collect.ms)} (${seconds(collect.ms)}) = ${percent(baseline.ms / collect.ms)} of bare`,
      reference: `bare JSON.parse loop ${mibPerSecond(resultsBytes, baseline.ms)} (${seconds(baseline.ms)})`,
      target: '≥ 50% of bare JSON.parse',
    },
  ];
}
