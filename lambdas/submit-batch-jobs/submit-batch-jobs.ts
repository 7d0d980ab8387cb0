import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import { chunkId, jobDisplayName, workKeys } from '../shared/layout.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { ChunkPlan, JobLedger } from '../shared/run-records.js';
import type { RunState, SubmittedRun } from '../shared/run-state.js';
import { readPlan } from '../shared/run-store.js';

export interface SubmitDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  /** Where chunk files are staged for upload (Lambda's /tmp). */
  readonly tmpDir: string;
  readonly now?: () => Date;
  /** Correlated log lines: which chunk, which job, what happened. */
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * Creates one Gemini job per chunk, at most once, however often it is retried. Before each step it
 * reads the chunk's ledger: an uploaded file is not uploaded again; a job is not created again. A
 * crash between creating a job and recording it leaves a ledger with the upload but no job: then the
 * job is looked up by its display name (`<runId>/<chunk>`) before anything is created.
 */
export async function submitBatchJobs(run: RunState, deps: SubmitDeps): Promise<SubmittedRun> {
  const { store, gemini } = deps;
  const plan = await readPlan(store, run);
  const keys = workKeys(run.runId);
  const now = () => (deps.now?.() ?? new Date()).toISOString();

  for (const chunk of plan.chunks) {
    const displayName = jobDisplayName(run.runId, chunk.index);
    let ledger = await store.getJson<JobLedger>(run.bucket, keys.ledger(chunk.index));
    if (ledger?.batchName) continue;

    if (ledger?.uploadedFile) {
      const found = await gemini.findBatchByDisplayName(displayName);
      if (found) {
        deps.log?.('recovered a job created before a crash', { chunk: chunk.index, batchName: found });
        await store.putJson(run.bucket, keys.ledger(chunk.index), {
          ...ledger,
          batchName: found,
          recovered: true,
          updatedAt: now(),
        } satisfies JobLedger);
        continue;
      }
    } else {
      const uploadedFile = await uploadChunk(run, chunk, displayName, deps);
      ledger = { chunk: chunk.index, displayName, uploadedFile, updatedAt: now() };
      await store.putJson(run.bucket, keys.ledger(chunk.index), ledger);
    }

    const uploadedFile = ledger.uploadedFile ?? '';
    const batchName = await gemini.createBatch({
      kind: chunk.kind,
      model: chunk.model,
      displayName,
      fileName: uploadedFile,
    });
    await store.putJson(run.bucket, keys.ledger(chunk.index), {
      ...ledger,
      batchName,
      updatedAt: now(),
    } satisfies JobLedger);
    deps.log?.('created batch job', { chunk: chunk.index, batchName, requests: chunk.requestCount });
  }
  return { jobCount: plan.chunks.length };
}

/** Stages a chunk on local disk and uploads it: the SDK's upload streams from a path in 8 MiB chunks. */
async function uploadChunk(
  run: RunState,
  chunk: ChunkPlan,
  displayName: string,
  deps: SubmitDeps,
): Promise<string> {
  const path = join(deps.tmpDir, `${run.runId}-${chunkId(chunk.index)}.jsonl`);
  try {
    await deps.store.downloadToFile(run.bucket, chunk.key, path);
    return await deps.gemini.uploadJsonl(path, displayName);
  } finally {
    await rm(path, { force: true });
  }
}
