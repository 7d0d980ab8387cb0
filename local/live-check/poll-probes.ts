/** Polling the check's jobs until they end, and the reads of a job that Poll depends on. */
import {
  describeRefusal,
  judgeFields,
  judgeStatesAndStats,
  type RawOperation,
  restRefusal,
} from './judges.js';
import { hasEnded, type ProbeContext, stateOf, type TrackedJob } from './probe-context.js';

/** One full `GET batches/{id}` over raw REST (the SDK drops `batchStats`, `done` and `error`). */
export async function readJob(ctx: ProbeContext, job: TrackedJob): Promise<void> {
  const answer = await ctx.client.rest('batches.get', job.name);
  if (answer.status !== 200) {
    if (answer.status === 404 || (answer.status >= 400 && answer.status < 500 && answer.status !== 429)) {
      job.lost = describeRefusal(restRefusal(answer));
    }
    return;
  }
  const operation = answer.body as RawOperation;
  job.last = operation;
  job.states.push(operation.metadata?.state);
  if (operation.metadata?.batchStats) job.stats.push(operation.metadata.batchStats);
  job.displayNames.push(operation.metadata?.displayName);
}

export interface Pacing {
  /** First wait between polls. */
  readonly firstPollMs: number;
  /** Longest wait between polls. */
  readonly maxPollMs: number;
  /** Each wait is this many times the one before, up to `maxPollMs`. */
  readonly factor: number;
  /** First wait after a 429 or a transient failure. */
  readonly retryBaseMs: number;
}

/**
 * GETs every job that has not ended, waiting longer each round, until all have ended or the
 * deadline passes. Returns whether the deadline cut it short.
 */
export async function pollJobs(
  ctx: ProbeContext,
  jobs: readonly TrackedJob[],
  deadline: number,
  pacing: Pacing,
  sleep: (ms: number) => Promise<void>,
): Promise<{ timedOut: boolean }> {
  let wait = pacing.firstPollMs;
  for (;;) {
    for (const job of jobs.filter((j) => !hasEnded(j))) await readJob(ctx, job);
    const open = jobs.filter((j) => !hasEnded(j));
    if (open.length === 0) return { timedOut: false };
    const left = deadline - Date.now();
    if (left <= 0) return { timedOut: true };
    const states = open.map((j) => `${j.role} ${stateOf(j).replace('BATCH_STATE_', '')}`).join(', ');
    ctx.log(`waiting ${(Math.min(wait, left) / 1000).toFixed(1)} s for ${states}`);
    await sleep(Math.min(wait, left));
    wait = Math.min(wait * pacing.factor, pacing.maxPollMs);
  }
}

/** Every state and count the GETs showed, judged once for the row. */
export function judgePolls(ctx: ProbeContext, jobs: readonly TrackedJob[]): void {
  ctx.findings.record(
    'get-state-stats',
    judgeStatesAndStats(
      jobs.flatMap((j) => j.states),
      jobs.flatMap((j) => j.stats),
    ),
  );
}

/**
 * What Poll needs of an inline job, not its answers: in Google's partial-response syntax (`/` and
 * `(…)` select sub-fields), and as the dotted paths the judge compares.
 */
export const FIELDS_MASK = {
  param: 'name,done,metadata(state,batchStats)',
  paths: ['name', 'done', 'metadata.state', 'metadata.batchStats'],
} as const;

/** `GET batches/{id}?fields=…` against the job's full answer. */
export async function probeFields(ctx: ProbeContext, job: TrackedJob): Promise<void> {
  if (!job.last) {
    ctx.findings.notSeen('get-fields', 'no full GET to compare with');
    return;
  }
  const partial = await ctx.client.rest('batches.get (fields)', job.name, {
    query: { fields: FIELDS_MASK.param },
  });
  ctx.findings.record(
    'get-fields',
    judgeFields(FIELDS_MASK.param, FIELDS_MASK.paths, job.last as Record<string, unknown>, partial),
  );
}
