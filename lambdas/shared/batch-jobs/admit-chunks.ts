/**
 * Many runs, one quota: the order in which chunks of every run in the stack ask Gemini for a job.
 * See "Many runs, one quota" in docs/architecture.md for the design and the bound it gives.
 */
import pLimit from 'p-limit';
import type { AdmissionQueue, AdmissionTicket, QueuedTicket } from '../admission/admission-queue.js';
import { workKeys } from '../run/bucket-layout.js';
import type { RunInput } from '../run/state-payloads.js';
import type { ChunkPlan, JobLedger } from '../run/work-records.js';
import { type ChunkJobDeps, type ChunkOutcome, createChunkJob } from './create-chunk-job.js';

/** The first wait after Gemini refuses a create: a minute, about how often jobs end under a full quota. */
export const DEFAULT_ADMISSION_BACKOFF_SECONDS = 60;
/** The longest the gate stays closed after failed probes: 10 minutes, under the poll loop's 12-minute cap. */
export const DEFAULT_ADMISSION_MAX_BACKOFF_SECONDS = 600;
/**
 * A ticket whose run has not said it still waits for this long is skipped and deleted (its run
 * ended or stopped waiting without taking it out); its run puts it back, in its place, on its next
 * pass. Ten minutes: a waiting run passes at least every `DEFAULT_WAITING_POLL_SECONDS`.
 */
export const DEFAULT_ADMISSION_STALE_SECONDS = 600;
/** How long a run with waiting chunks waits between polls at most, so the queue's head moves on soon. */
export const DEFAULT_WAITING_POLL_SECONDS = 60;
/** A ticket is dropped this long after its run's upload: the default execution timeout, 72 hours. */
export const ADMISSION_TICKET_LIFETIME_SECONDS = 72 * 60 * 60;
/** Tickets read from the queue's head per look: one Query page. */
const HEAD_PAGE = 100;

/** The admission queue and how it backs off. */
export interface AdmissionDeps {
  readonly queue: AdmissionQueue;
  /** @default DEFAULT_ADMISSION_BACKOFF_SECONDS */
  readonly backoffSeconds?: number;
  /** @default DEFAULT_ADMISSION_MAX_BACKOFF_SECONDS */
  readonly maxBackoffSeconds?: number;
  /** @default DEFAULT_ADMISSION_STALE_SECONDS */
  readonly staleSeconds?: number;
}

type RunRef = Pick<RunInput, 'bucket' | 'runId' | 'uploadedAt'>;

/**
 * Gives the run's chunks their jobs in queue order across every run of the stack, first come,
 * first served by upload time, then chunk index. The run's chunks without a job are queued (or
 * their tickets refreshed); then, while the gate is open, the run creates the chunks of its own at
 * the head of the queue (up to `concurrency` at once), and stops at the first "not now" (429 or
 * 5xx), closing the gate for everyone for `backoffSeconds`. Once the gate's time has passed, only
 * the head's run asks again, with one create (a probe): refused, the gate closes for twice as long
 * (at most `maxBackoffSeconds`); accepted, the next head may ask at once, still one create at a
 * time, until a refusal closes the gate again. The gate opens fully once no chunk of any run is
 * left waiting. A chunk its ledger says is done (a job or
 * a refusal) is answered from the ledger, as {@link createChunkJob} does, and leaves the queue.
 *
 * Returns each chunk's outcome; chunks not at the head, or behind a closed gate, are `waiting`.
 */
export async function admitChunks(
  run: RunRef,
  chunks: readonly ChunkPlan[],
  deps: ChunkJobDeps & { readonly concurrency: number; readonly admission: AdmissionDeps },
): Promise<Map<number, ChunkOutcome>> {
  const { queue } = deps.admission;
  const now = () => deps.now?.() ?? new Date();
  const outcomes = new Map<number, ChunkOutcome>();
  const ticket = (chunk: number) => ({ runId: run.runId, uploadedAt: run.uploadedAt, chunk });

  const remaining = new Map<number, ChunkPlan>();
  for (const chunk of chunks) {
    const ledger = await deps.store.getJson<JobLedger>(run.bucket, workKeys(run.runId).ledger(chunk.index));
    if (ledger?.batchName || ledger?.createError) {
      outcomes.set(chunk.index, await createChunkJob(run, chunk, deps));
      await queue.remove(ticket(chunk.index));
    } else remaining.set(chunk.index, chunk);
  }
  const expiresAt = new Date(Date.parse(run.uploadedAt) + ADMISSION_TICKET_LIFETIME_SECONDS * 1000);
  const tickets: AdmissionTicket[] = [...remaining.keys()].map((chunk) => ({ ...ticket(chunk), expiresAt }));
  if (tickets.length > 0) await queue.enqueue(tickets, now());

  while (remaining.size > 0) {
    const gate = await queue.readGate();
    const at = now();
    if (gate.closedUntil && at < gate.closedUntil) break;
    const probing = gate.closedUntil !== undefined;
    const head = await liveHead(queue, at, deps.admission.staleSeconds ?? DEFAULT_ADMISSION_STALE_SECONDS);
    const ours: ChunkPlan[] = [];
    for (const queued of head) {
      const chunk = queued.runId === run.runId ? remaining.get(queued.chunk) : undefined;
      if (!chunk) break;
      ours.push(chunk);
    }
    if (ours.length === 0) break;

    let refusedNow = false;
    const limit = pLimit(deps.concurrency);
    const settled = await Promise.allSettled(
      (probing ? ours.slice(0, 1) : ours).map((chunk) =>
        limit(async () => {
          // After one "not now", the chunks not yet started stay queued: asking would be refused too.
          if (refusedNow) return;
          const outcome = await createChunkJob(run, chunk, deps);
          if (outcome === 'waiting') refusedNow = true;
          else {
            outcomes.set(chunk.index, outcome);
            remaining.delete(chunk.index);
            await queue.remove(ticket(chunk.index));
          }
        }),
      ),
    );
    const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
    if (refusedNow) {
      const first = deps.admission.backoffSeconds ?? DEFAULT_ADMISSION_BACKOFF_SECONDS;
      const max = deps.admission.maxBackoffSeconds ?? DEFAULT_ADMISSION_MAX_BACKOFF_SECONDS;
      const backoffSeconds = probing ? Math.min(max, 2 * (gate.backoffSeconds ?? first)) : first;
      await queue.closeGate(new Date(now().getTime() + backoffSeconds * 1000), backoffSeconds);
      deps.log?.('Gemini refused a create; the admission gate closes for every run', {
        backoffSeconds,
        probing,
      });
      break;
    }
    // Accepted: the next create may go at once, still one at a time (the quota was full a moment
    // ago), and a refusal closes the gate for the first wait again (half of it, doubled).
    if (probing)
      await queue.closeGate(now(), (deps.admission.backoffSeconds ?? DEFAULT_ADMISSION_BACKOFF_SECONDS) / 2);
  }
  // The last waiting chunk of every run has its job: the quota has room again, the gate opens fully.
  if (remaining.size === 0 && tickets.length > 0) {
    const staleSeconds = deps.admission.staleSeconds ?? DEFAULT_ADMISSION_STALE_SECONDS;
    if ((await liveHead(queue, now(), staleSeconds)).length === 0) await queue.openGate();
  }
  for (const index of remaining.keys()) outcomes.set(index, 'waiting');
  return outcomes;
}

/**
 * The queue's head without the tickets whose run stopped waiting: expired, or not refreshed for
 * `staleSeconds`. Those are deleted, so they block nobody; a run still waiting puts its own back.
 */
async function liveHead(queue: AdmissionQueue, at: Date, staleSeconds: number): Promise<QueuedTicket[]> {
  const head = await queue.head(HEAD_PAGE);
  const live: QueuedTicket[] = [];
  for (const queued of head) {
    const stale = at >= queued.expiresAt || at.getTime() - queued.seenAt.getTime() > staleSeconds * 1000;
    if (stale) await queue.remove(queued);
    else live.push(queued);
  }
  return live;
}
