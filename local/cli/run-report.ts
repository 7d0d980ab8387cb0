/**
 * What `npm start` prints about a run: one line per step that changed something, and the summary
 * when the run has ended. Numbers are written for people: counts with separators, a cost always
 * shown, however small.
 */
import { STATE_NAMES } from '../../infra/names.js';
import type { Manifest } from '../../lambdas/finalize-run/finalize-run.js';
import type { PollState, PreparedRun } from '../../lambdas/shared/run/state-payloads.js';
import type { ProgressEvent, RunOutcome } from '../local-pipeline.js';

const COUNT = new Intl.NumberFormat('en-US');
/** Dollars with cents, and up to the manifest's own precision (4 decimals) for small sums. */
const USD = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});
/** The manifest rounds each cost to 4 decimals: a non-zero cost below that reads 0. */
const SMALLEST_USD = 0.0001;

/** A count as people read it: `1,234,567`. */
export function formatCount(count: number): string {
  return COUNT.format(count);
}

/**
 * A cost from the manifest, never a bare `$0.00` for a run that used tokens: the manifest rounds
 * to $0.0001, so a smaller cost reads `< $0.0001`.
 */
export function formatCost(usd: number, tokens: number): string {
  if (usd === 0 && tokens > 0) return `< ${USD.format(SMALLEST_USD)}`;
  return USD.format(usd);
}

/** Prints each run's progress lines, skipping a poll that changed nothing. */
export function progressPrinter(): (event: ProgressEvent) => string | undefined {
  const lastProgress = new Map<string, string>();
  return (event) => {
    const line = progressLine(event);
    if (line === undefined || lastProgress.get(event.runId) === line) return undefined;
    lastProgress.set(event.runId, line);
    return `${new Date().toISOString().slice(11, 19)}  ${line}`;
  };
}

function progressLine(event: ProgressEvent): string | undefined {
  if (event.phase === 'failed') return `${event.state}: ${event.error.name}: ${event.error.message}`;
  if (event.phase !== 'succeeded') return undefined;
  if (event.state === STATE_NAMES.prepareRequests) {
    const prepared = event.result as PreparedRun;
    return `${STATE_NAMES.prepareRequests}: ${formatCount(prepared.acceptedCount)} accepted, ${formatCount(prepared.rejectedCount)} rejected, ${formatCount(prepared.chunkCount)} chunk(s)`;
  }
  if (event.state === STATE_NAMES.pollBatchJobs) {
    const poll = event.result as PollState;
    const total = poll.requestCount === undefined ? '?' : formatCount(poll.requestCount);
    return `${STATE_NAMES.pollBatchJobs}: ${formatCount(poll.completedCount ?? 0)} of ${total} requests done${poll.allDone ? ', all jobs finished' : ''}`;
  }
  return `${event.state}: done`;
}

/** The summary of an ended run: status, counts, usage, cost, and where its files went. */
export function summarize(outcome: RunOutcome, copied: readonly string[]): string {
  const manifest: Manifest = outcome.manifest;
  const { counts, cost } = manifest;
  const lines = [
    '',
    `${manifest.status}  run ${outcome.runId}`,
    ...(manifest.reason ? [`  reason:   ${manifest.reason}`] : []),
    `  lines ${formatCount(counts.lines)} · accepted ${formatCount(counts.accepted)} · rejected ${formatCount(counts.rejected)} · succeeded ${formatCount(counts.succeeded)} · failed ${formatCount(counts.failed)}`,
  ];
  // Tokens the price table priced: a run on unpriced models alone costs an unknown sum, not < $0.0001.
  let pricedTokens = 0;
  for (const [model, usage] of Object.entries(manifest.usage.byModel)) {
    if (!cost.unpricedModels.includes(model)) pricedTokens += usage.promptTokens + usage.outputTokens;
    lines.push(
      `  ${model}: ${formatCount(usage.requestCount)} requests, ${formatCount(usage.promptTokens)} prompt + ${formatCount(usage.outputTokens)} output tokens`,
    );
  }
  const unpriced = cost.unpricedModels.length > 0 ? ` (no price for ${cost.unpricedModels.join(', ')})` : '';
  lines.push(`  estimated cost at batch prices: ${formatCost(cost.total, pricedTokens)}${unpriced}`);
  for (const path of copied) lines.push(`  → ${path}`);
  return lines.join('\n');
}
