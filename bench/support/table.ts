/**
 * The one table `npm run bench` prints: every figure beside a reference measured in the same run
 * and the target it is held to (docs/architecture.md, Targets). Figures are reported, never asserted.
 */

export interface BenchRow {
  readonly figure: string;
  /** The measured figure, or the error that stopped it. */
  readonly value: string;
  /** What the figure is compared with, measured in the same run (or a note when nothing is). */
  readonly reference: string;
  /** The target from docs/architecture.md, Targets, or `none`. */
  readonly target: string;
}

export const MIB = 1024 * 1024;

export const mib = (bytes: number): string => `${(bytes / MIB).toFixed(0)} MiB`;
export const mibPerSecond = (bytes: number, ms: number): string =>
  `${(bytes / MIB / (ms / 1000)).toFixed(1)} MiB/s`;
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
export const percent = (ratio: number): string => `${(ratio * 100).toFixed(0)}%`;
export const count = (n: number): string => n.toLocaleString('en');

/** A row for a section that threw: the bench goes on, and the table says what went wrong. */
export function errorRow(figure: string, error: unknown, target = ''): BenchRow {
  const message = error instanceof Error ? error.message : String(error);
  return { figure, value: `error: ${message.split('\n')[0]}`, reference: '', target };
}

/** Markdown-ish, every column padded to its widest cell. */
export function renderTable(rows: readonly BenchRow[]): string {
  const header: BenchRow = { figure: 'figure', value: 'value', reference: 'reference', target: 'target' };
  const cells = (row: BenchRow) => [row.figure, row.value, row.reference, row.target];
  const widths = [0, 1, 2, 3].map((column) =>
    Math.max(...[header, ...rows].map((row) => cells(row)[column]?.length ?? 0)),
  );
  const line = (values: string[]) =>
    `| ${values.map((value, i) => value.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(cells(header)),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map((row) => line(cells(row))),
  ].join('\n');
}
