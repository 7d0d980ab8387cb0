/**
 * Reading a run's records from `work/<runId>/` (their shapes are in `work-records.ts`): the one
 * place that knows which key holds which record.
 */
import { RunStateError } from '../errors.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { workKeys } from './bucket-layout.js';
import type { RunRef } from './state-payloads.js';
import type { CollectSummary, JobLedger, PollStatus, RunPlan } from './work-records.js';

/** `plan.json`; throws `RunStateError` when Prepare Requests did not finish. */
export async function readPlan(store: ObjectStore, run: RunRef): Promise<RunPlan> {
  const plan = await store.getJson<RunPlan>(run.bucket, workKeys(run.runId).plan);
  if (!plan) throw new RunStateError(`run ${run.runId} has no plan: Prepare Requests did not finish`);
  return plan;
}

/** The ledger of every chunk that has one, in chunk order. */
export async function readLedgers(store: ObjectStore, run: RunRef, plan: RunPlan): Promise<JobLedger[]> {
  const keys = workKeys(run.runId);
  const ledgers = await Promise.all(
    plan.chunks.map((chunk) => store.getJson<JobLedger>(run.bucket, keys.ledger(chunk.index))),
  );
  return ledgers.filter((ledger): ledger is JobLedger => ledger !== undefined);
}

/** `poll-status.json`, or undefined before Poll's first pass. */
export function readPollStatus(store: ObjectStore, run: RunRef): Promise<PollStatus | undefined> {
  return store.getJson<PollStatus>(run.bucket, workKeys(run.runId).pollStatus);
}

/** `collected.json`, or undefined before Collect Results ran. */
export function readCollectSummary(store: ObjectStore, run: RunRef): Promise<CollectSummary | undefined> {
  return store.getJson<CollectSummary>(run.bucket, workKeys(run.runId).collected);
}
