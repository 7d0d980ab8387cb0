/**
 * `npm run bench [-- --large-mib N]`: generates its own data, measures, prints a table.
 * Figures are reported, never asserted: targets live in DESIGN.md section 8.
 */
import { parseArgs } from 'node:util';
import { type BenchRow, benchEmulator } from './emulator.bench.js';

const { values } = parseArgs({ options: { 'large-mib': { type: 'string', default: '1024' } } });
const largeInputBytes = Number(values['large-mib']) * 1024 * 1024;

const rows: BenchRow[] = [...(await benchEmulator({ largeInputBytes }))];

const widths = [0, 1, 2].map((column) =>
  Math.max(...rows.map((row) => [row.figure, row.value, row.reference][column]?.length ?? 0), 9),
);
const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
console.log(line(['figure', 'value', 'reference']));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const row of rows) console.log(line([row.figure, row.value, row.reference]));
