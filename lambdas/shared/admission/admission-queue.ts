/**
 * The `AdmissionQueue` port: the state every run shares about Gemini's per-project quota (100
 * active batch jobs, an enqueued-token cap per model). Chunks waiting for a job stand in one queue,
 * ordered by their run's upload time, then run id, then chunk index; a gate says until when nobody
 * should ask Gemini at all. How Submit and Poll use it is in `admit-chunks.ts`.
 */

/** One chunk waiting for Gemini to accept its job. */
export interface AdmissionTicket {
  readonly runId: string;
  /** The run's upload time (ISO 8601): the queue's first order. */
  readonly uploadedAt: string;
  readonly chunk: number;
  /** After this the ticket is ignored and DynamoDB's TTL deletes it: the run has stopped waiting. */
  readonly expiresAt: Date;
}

/** A ticket as the queue holds it: with when its run last said it still waits. */
export interface QueuedTicket extends Omit<AdmissionTicket, 'expiresAt'> {
  readonly seenAt: Date;
  readonly expiresAt: Date;
}

/**
 * The shared gate in front of Gemini's create call. Closed: nobody creates before `closedUntil`;
 * then only the head of the queue probes, with one create. Absent or without `closedUntil`: open.
 */
export interface AdmissionGate {
  /** Nobody creates before this. */
  readonly closedUntil?: Date;
  /** The wait the gate was last closed for: a failed probe closes it for twice this (capped). */
  readonly backoffSeconds?: number;
}

/** The queue and the gate. Every write is idempotent: a retried Lambda may repeat any of them. */
export interface AdmissionQueue {
  /** Adds the tickets, or refreshes them (`seenAt`) if they are queued already. */
  enqueue(tickets: readonly AdmissionTicket[], seenAt: Date): Promise<void>;
  /** The first `limit` tickets in queue order, stale and expired ones included (the caller skips them). */
  head(limit: number): Promise<QueuedTicket[]>;
  /** Takes a ticket out: its chunk has a job, or never will. Removing an absent ticket is no error. */
  remove(ticket: Pick<AdmissionTicket, 'runId' | 'uploadedAt' | 'chunk'>): Promise<void>;
  readGate(): Promise<AdmissionGate>;
  /** Closes the gate until `until`, remembering the wait. */
  closeGate(until: Date, backoffSeconds: number): Promise<void>;
  openGate(): Promise<void>;
}

/** The key that orders a ticket in the queue: upload time, run id, chunk index (zero-padded). */
export function ticketOrderKey(ticket: Pick<AdmissionTicket, 'runId' | 'uploadedAt' | 'chunk'>): string {
  return `${ticket.uploadedAt}#${ticket.runId}#${String(ticket.chunk).padStart(6, '0')}`;
}
