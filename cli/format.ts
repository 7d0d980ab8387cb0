/**
 * What the CLI prints for people: the progress bar, durations, the honest estimate, tables and the
 * run summary. Pure functions of their input, so the unit tests pin them; `--json` prints data
 * instead and none of this.
 */
import type { Manifest } from '../lambdas/finalize-run/manifest.js';

/** Exit codes, the same as `npm start -- FILE`: what a script branches on. */
export const RUN_EXIT_CODES: Readonly<Record<Manifest['status'], number>> = {
  SUCCEEDED: 0,
  COMPLETED_WITH_ERRORS: 2,
  FAILED: 1,
  CANCELLED: 3,
};

/** A bad command line, an unknown run or stack: the code `npm start` gives a file it cannot run. */
export const USAGE_EXIT_CODE = 1;

const BAR_WIDTH = 24;

/** `[#########---------------]  37%`: `done` of `total`, clamped; an unknown total shows no fill. */
export function progressBar(done: number, total: number | undefined): string {
  if (!total || total <= 0) return `[${'-'.repeat(BAR_WIDTH)}]    ?`;
  const share = Math.min(1, Math.max(0, done / total));
  const filled = Math.round(share * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/** `1.5 MiB`: bytes in binary units, as the AWS CLI shows transfers. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `45s`, `3m05s`, `2h07m`: whole seconds, the two largest units. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * The time left, said as honestly as Gemini's counts allow: extrapolated from the rate so far,
 * and nothing while no request has finished (Gemini often reports a job's counts only as it ends,
 * so an early rate would be invented).
 */
export function estimateLeft(done: number, total: number, elapsedMs: number): string {
  if (total > 0 && done >= total) return 'all requests done';
  if (done <= 0 || elapsedMs <= 0) return 'no estimate until Gemini reports finished requests';
  const leftMs = ((total - done) * elapsedMs) / done;
  return `about ${formatDuration(leftMs)} left at the rate so far (Gemini reports counts unevenly)`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `$0.0123`; `<$0.0001` rather than a $0 that was not free; `-` without an estimate. */
export function formatCost(cost: Manifest['cost'] | undefined): string {
  if (!cost) return '-';
  const unpriced = cost.unpricedModels.length > 0 ? ` (no price for ${cost.unpricedModels.join(', ')})` : '';
  const total = cost.total > 0 && cost.total < 0.00005 ? '<$0.0001' : `$${cost.total.toFixed(4)}`;
  return `${total}${unpriced}`;
}

/** The lines a finished run ends with: status, reason, counts, tokens per model, cost. */
export function runSummary(manifest: Manifest): string {
  const { counts, cost } = manifest;
  const lines = [
    `${manifest.status}  run ${manifest.runId}`,
    ...(manifest.reason ? [`  reason:   ${manifest.reason}`] : []),
    `  lines ${counts.lines} · accepted ${counts.accepted} · rejected ${counts.rejected} · succeeded ${counts.succeeded} · failed ${counts.failed}`,
  ];
  for (const [model, usage] of Object.entries(manifest.usage.byModel)) {
    lines.push(
      `  ${model}: ${usage.requestCount} requests, ${usage.promptTokens} prompt + ${usage.outputTokens} output tokens`,
    );
  }
  lines.push(`  estimated cost at batch prices: ${formatCost(cost)}`);
  return lines.join('\n');
}
