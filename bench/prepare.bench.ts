/**
 * Figure 1: Prepare's throughput on a large generate file, one CPU, beside a bare JSON.parse loop
 * over the same file's lines in the same run (docs/architecture.md, Targets: at least 70% of it). The real
 * core runs against a filesystem store, so S3 emulation costs nothing here.
 */
import { bareJsonParse } from './support/baseline.js';
import { type BenchRow, count, mib, mibPerSecond, percent, seconds } from './support/table.js';
import type { LargeFileWorkspace } from './support/workspace.js';

export async function benchPrepare(workspace: LargeFileWorkspace): Promise<BenchRow[]> {
  const input = await workspace.input();
  const baseline = await bareJsonParse([input.path]);
  const prepare = await workspace.prepared();
  return [
    {
      figure: `Prepare throughput, ${mib(input.bytes)} generate file (${count(input.lines)} lines), 1 CPU`,
      value: `${mibPerSecond(input.bytes, prepare.ms)} (${seconds(prepare.ms)}) = ${percent(baseline.ms / prepare.ms)} of bare`,
      reference: `bare JSON.parse loop ${mibPerSecond(input.bytes, baseline.ms)} (${seconds(baseline.ms)})`,
      target: '≥ 70% of bare JSON.parse',
    },
  ];
}
