/**
 * The event Finalize puts on the bus when a run ends: its names, and its detail, enough to act on
 * without reading the manifest.
 */
import { s3Uri } from '../shared/object-store/object-store.js';
import type { RunState } from '../shared/run/state-payloads.js';
import type { Manifest } from './manifest.js';
import type { RunStatus } from './run-status.js';

/** The event's `detail-type`. */
export const RUN_FINISHED_DETAIL_TYPE = 'Gemini Batch Run Finished';
/** The event's `source`: the stack lets Finalize put events of this source only. */
export const GEMINI_BATCH_EVENT_SOURCE = 'gemini-batch-pipeline';

/** The event's `detail`. */
export interface RunFinishedDetail {
  readonly runId: string;
  readonly status: RunStatus;
  readonly reason?: string;
  readonly input: string;
  readonly manifest: string;
  /** Absent when the run ended before results were collected. */
  readonly results?: string;
  readonly counts: Manifest['counts'];
}

/** The run-finished event's detail, from the manifest written for the run. */
export function runFinishedDetail(run: RunState, manifest: Manifest): RunFinishedDetail {
  return {
    runId: run.runId,
    status: manifest.status,
    reason: manifest.reason,
    input: s3Uri(run.bucket, run.key),
    manifest: manifest.outputs.manifest,
    results: manifest.outputs.results,
    counts: manifest.counts,
  };
}
