import { refusalOf } from './client.js';
import { describeRefusal, judgeRefusal } from './judges.js';
import { type Pacing, readJob } from './poll-probes.js';
import { hasEnded, type ProbeContext, type TrackedJob } from './probe-context.js';

export interface CleanupReport {
  /** Everything deleted: `batches/…` and `files/…` names. */
  readonly deleted: readonly string[];
  /** What is still on Gemini, with why: the user has to delete these. */
  readonly left: readonly { readonly name: string; readonly reason: string }[];
}

/** Polls after a cancel before deleting anyway: a cancel usually takes effect within seconds. */
const CANCEL_WAIT_ROUNDS = 8;

/**
 * Deletes everything the check made: jobs it tracked and any that carry its display-name prefix
 * (a create whose answer was lost still made a job), its uploads, and the result files Gemini wrote.
 * Jobs still running are cancelled first. Never throws: what cannot be deleted is reported.
 */
export async function cleanUp(
  ctx: ProbeContext,
  pacing: Pacing,
  sleep: (ms: number) => Promise<void>,
): Promise<CleanupReport> {
  const deleted: string[] = [];
  const left: { name: string; reason: string }[] = [];
  const { created, findings } = ctx;
  await adoptLeftovers(ctx).catch((error: unknown) =>
    ctx.log(`could not list leftovers by display name: ${(error as Error).message}`),
  );

  const jobs = [...created.jobs.values()];
  const running = jobs.filter((job) => !hasEnded(job));
  if (running.length > 0) {
    ctx.log(`cancelling ${running.length} unfinished job(s)`);
    for (const job of running) await cancel(ctx, job);
    for (let round = 0; round < CANCEL_WAIT_ROUNDS; round++) {
      // A failed read is one more round to wait: the delete below is tried whatever happens.
      for (const job of running.filter((j) => !hasEnded(j))) await readJob(ctx, job).catch(() => undefined);
      if (running.every(hasEnded)) break;
      await sleep(pacing.firstPollMs);
    }
  }

  const remove = async (name: string, del: () => Promise<unknown>, judged: boolean) => {
    try {
      await del();
      deleted.push(name);
      return true;
    } catch (error) {
      const refusal = refusalOf(error);
      const reason = refusal ? describeRefusal(refusal) : (error as Error).message;
      // A result file may go with its job, or be Google's to keep: only our own deletes are judged.
      if (!judged && refusal && (refusal.status === 404 || refusal.status === 403)) return true;
      left.push({ name, reason });
      if (judged) {
        findings.record(
          'delete',
          refusal
            ? judgeRefusal(refusal, `DELETE ${name}`)
            : { verdict: 'not seen', evidence: `DELETE ${name}: ${reason}` },
        );
      }
      return false;
    }
  };

  let jobsDeleted = 0;
  for (const job of jobs) {
    if (job.lost?.includes('404')) continue;
    const ok = await remove(
      job.name,
      () => ctx.client.sdk('batches.delete', true, (ai) => ai.batches.delete({ name: job.name })),
      true,
    );
    if (ok) jobsDeleted += 1;
  }
  let filesDeleted = 0;
  for (const name of created.uploads) {
    const ok = await remove(
      name,
      () => ctx.client.sdk('files.delete', true, (ai) => ai.files.delete({ name })),
      true,
    );
    if (ok) filesDeleted += 1;
  }
  for (const name of created.outputFiles) {
    await remove(name, () => ctx.client.sdk('files.delete', true, (ai) => ai.files.delete({ name })), false);
  }
  if (jobsDeleted + filesDeleted > 0 && left.length === 0) {
    findings.confirm('delete', `${jobsDeleted} batch(es) and ${filesDeleted} upload(s) deleted`);
  }
  return { deleted, left };
}

async function cancel(ctx: ProbeContext, job: TrackedJob): Promise<void> {
  try {
    await ctx.client.sdk('batches.cancel', true, (ai) => ai.batches.cancel({ name: job.name }));
  } catch (error) {
    // 400: it ended meanwhile. Anything else shows up when the delete is refused.
    if (!refusalOf(error)) ctx.log(`could not cancel ${job.name}: ${(error as Error).message}`);
  }
}

/** Jobs and uploads that carry the check's prefix but were never tracked (their answer was lost). */
async function adoptLeftovers(ctx: ProbeContext): Promise<void> {
  const { created } = ctx;
  await ctx.client.sdk('batches.list', true, async (ai) => {
    let scanned = 0;
    for await (const job of await ai.batches.list({ config: { pageSize: 100 } })) {
      if (job.name && job.displayName?.startsWith(created.prefix) && !created.jobs.has(job.name)) {
        ctx.log(`found ${job.name} (${job.displayName}) by its display name`);
        created.track({
          name: job.name,
          role: 'leftover',
          kind: 'generate',
          displayName: job.displayName,
          keys: [],
        });
      }
      if (++scanned >= 1000) break;
    }
  });
  await ctx.client.sdk('files.list', true, async (ai) => {
    let scanned = 0;
    for await (const file of await ai.files.list({ config: { pageSize: 100 } })) {
      if (file.name && file.displayName?.startsWith(created.prefix)) created.uploads.add(file.name);
      if (++scanned >= 1000) break;
    }
  });
}
