/** What every probe works with: the jobs the check tracks, what it created, and where it writes. */
import type { CheckClient } from './client.js';
import type { Findings } from './findings.js';
import { type RawOperation, TERMINAL_STATES } from './judges.js';

/** What each job of the check is for; `leftover` is one found by its display name at clean-up. */
export type JobRole =
  | 'file-generate'
  | 'file-embed'
  | 'inline-generate'
  | 'inline-embed'
  | 'misspelled'
  | 'cancel'
  | 'leftover';

export type BatchKind = 'generate' | 'embed';

/** A job the check created, and everything its GETs showed. */
export interface TrackedJob {
  readonly name: string;
  readonly role: JobRole;
  readonly kind: BatchKind;
  readonly displayName: string;
  /** Keys the answers should echo; empty when none could be sent. */
  readonly keys: readonly string[];
  /** The latest full `GET batches/{id}`. */
  last: RawOperation | undefined;
  /** Set when a GET failed for good: the job is treated as over. */
  lost: string | undefined;
  readonly states: unknown[];
  readonly stats: Readonly<Record<string, unknown>>[];
  readonly displayNames: unknown[];
}

/** Everything the check made on Gemini, so that all of it is deleted however the check ends. */
export class CreatedResources {
  readonly uploads = new Set<string>();
  readonly outputFiles = new Set<string>();
  readonly jobs = new Map<string, TrackedJob>();

  /** @param prefix starts every display name the check gives, so leftovers can be found by name. */
  constructor(readonly prefix: string) {}

  track(job: Omit<TrackedJob, 'last' | 'lost' | 'states' | 'stats' | 'displayNames'>): TrackedJob {
    const tracked: TrackedJob = {
      ...job,
      last: undefined,
      lost: undefined,
      states: [],
      stats: [],
      displayNames: [],
    };
    this.jobs.set(job.name, tracked);
    return tracked;
  }
}

export interface ProbeContext {
  readonly client: CheckClient;
  readonly findings: Findings;
  readonly created: CreatedResources;
  /** A scratch directory for the JSONL files to upload and the results to download. */
  readonly dir: string;
  readonly log: (line: string) => void;
}

export const stateOf = (job: TrackedJob): string => String(job.last?.metadata?.state ?? 'unknown');
export const hasEnded = (job: TrackedJob): boolean =>
  job.lost !== undefined || TERMINAL_STATES.has(stateOf(job));
