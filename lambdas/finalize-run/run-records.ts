/**
 * What Finalize reads of a run: every record the earlier states left under `work/<runId>/`, each
 * absent when the run ended before the state that writes it.
 */
import type { ObjectStore } from '../shared/object-store/object-store.js';
import {
  readCollectSummary,
  readLedgers,
  readPlan,
  readPollStatus,
} from '../shared/run/read-work-records.js';
import type { RunState } from '../shared/run/state-payloads.js';
import type { CollectSummary, JobLedger, PollStatus, RunPlan } from '../shared/run/work-records.js';

export interface RunRecords {
  readonly plan?: RunPlan;
  /** Empty without a plan, or before Submit wrote any. */
  readonly ledgers: readonly JobLedger[];
  readonly poll?: PollStatus;
  readonly collected?: CollectSummary;
}

/** Reads the run's records; a run without a plan (Prepare failed) has none of the others either. */
export async function readRunRecords(store: ObjectStore, run: RunState): Promise<RunRecords> {
  const plan = await readPlan(store, run).catch(() => undefined);
  const ledgers = plan ? await readLedgers(store, run, plan) : [];
  const poll = await readPollStatus(store, run);
  const collected = await readCollectSummary(store, run);
  return { plan, ledgers, poll, collected };
}
