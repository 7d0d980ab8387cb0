/**
 * `watch RUN` and `status RUN`: the run's progress from Gemini's counts (done of total, per job),
 * elapsed time and an estimate, then the summary from its manifest. `watch` follows the run until
 * it has ended (its salvage run too, after a cancel or a timeout); `status` says where it is now.
 */
import type { Manifest } from '../lambdas/finalize-run/manifest.js';
import { estimateLeft, formatDuration, progressBar, runSummary } from './format.js';
import { describeRun, type RunExecution, type RunProgress, runEnd, runProgress } from './runs.js';
import type { PipelineStack } from './stack.js';

/** Where the run is: its execution, progress, and manifest once it has ended. */
export interface RunStatus {
  readonly runId: string;
  readonly file: string;
  readonly execution: { readonly status: string; readonly startDate: string; readonly stopDate?: string };
  readonly ended: boolean;
  readonly progress: RunProgress;
  readonly elapsedMs: number;
  readonly manifest?: Manifest;
}

/** How often `watch` reads the run: Poll itself writes the counts at most every 30 s deployed. */
const WATCH_EVERY_MS = 1000;

export async function runStatus(stack: PipelineStack, runId: string): Promise<RunStatus> {
  const execution: RunExecution = await describeRun(stack, runId);
  const [end, progress] = await Promise.all([runEnd(stack, execution), runProgress(stack, execution)]);
  const until = end.ended ? (execution.stopDate ?? new Date()) : new Date();
  return {
    runId: execution.runId,
    file: `s3://${stack.bucket}/${execution.input.key}`,
    execution: {
      status: execution.status,
      startDate: execution.startDate.toISOString(),
      ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
    },
    ended: end.ended,
    progress: end.ended ? { ...progress, phase: 'finished' } : progress,
    elapsedMs: until.getTime() - execution.startDate.getTime(),
    manifest: end.ended ? end.manifest : undefined,
  };
}

/** One line of progress: phase, bar, done of total, elapsed, estimate. */
export function progressLine(status: RunStatus): string {
  const { progress } = status;
  const elapsed = `elapsed ${formatDuration(status.elapsedMs)}`;
  if (progress.phase === 'preparing') return `preparing: reading and checking the file · ${elapsed}`;
  if (progress.phase === 'submitting') {
    return `submitting: ${progress.accepted ?? '?'} accepted requests going to Gemini · ${elapsed}`;
  }
  const counts = `${progress.done} of ${progress.total} requests done in ${progress.jobs.length} job(s)`;
  const left =
    progress.phase === 'running' ? ` · ${estimateLeft(progress.done, progress.total, status.elapsedMs)}` : '';
  return `${progress.phase}: ${progressBar(progress.done, progress.total)} ${counts} · ${elapsed}${left}`;
}

/** One line per job: chunk, Gemini's state, its counts. */
export function jobLines(progress: RunProgress): string[] {
  return progress.jobs.map(
    (job) => `  chunk ${job.chunk}: ${job.state.padEnd(9)} ${job.done} of ${job.total}`,
  );
}

/** What `status` prints for people. */
export function describeStatus(status: RunStatus): string {
  const lines = [
    `run ${status.runId}  ${status.file}`,
    `  execution ${status.execution.status} since ${status.execution.startDate}`,
  ];
  if (!status.ended) lines.push(`  ${progressLine(status)}`, ...jobLines(status.progress));
  else if (status.manifest) lines.push(runSummary(status.manifest));
  else
    lines.push(
      `  ended ${status.execution.status} without a manifest: see the execution's history in the Step Functions console`,
    );
  return lines.join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Follows the run until it has ended, printing each change; resolves to its final status. */
export async function watch(
  stack: PipelineStack,
  runId: string,
  print: (line: string) => void,
): Promise<RunStatus> {
  let last = '';
  for (;;) {
    const status = await runStatus(stack, runId);
    if (status.ended) return status;
    // Elapsed time alone changes every second: print when the counts or the phase move, or each 30 s.
    const shown = [
      status.progress.phase,
      status.progress.done,
      status.progress.total,
      ...jobLines(status.progress),
    ].join('|');
    if (shown !== last || status.elapsedMs % 30_000 < WATCH_EVERY_MS) {
      print([progressLine(status), ...jobLines(status.progress)].join('\n'));
      last = shown;
    }
    await sleep(WATCH_EVERY_MS);
  }
}
