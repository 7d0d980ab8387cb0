import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { GeminiRateLimitError } from './errors.js';
import type { GeminiBatchApi, InlineRequest, RequestFormat } from './gemini/gemini-batch-api.js';
import { readJsonlLines } from './jsonl.js';
import { chunkId, jobDisplayName, workKeys } from './layout.js';
import type { ObjectStore } from './object-store.js';
import type { ChunkPlan, JobLedger, RunPlan } from './run-records.js';

/**
 * Gemini refuses inline batches over 20 MB (the whole create request). Chunks up to this size go
 * inline — no upload round trip — leaving room for the request's JSON envelope.
 */
export const DEFAULT_INLINE_MAX_BYTES = 15 * 1024 * 1024;
/** Chunks uploaded and created at once: enough to overlap uploads, few enough for Lambda's network and /tmp. */
export const DEFAULT_SUBMIT_CONCURRENCY = 4;

export interface SubmitChunksDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  /** Where file chunks are staged for upload (Lambda's /tmp). */
  readonly tmpDir: string;
  readonly inlineMaxBytes?: number;
  readonly concurrency?: number;
  readonly now?: () => Date;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface SubmitOutcome {
  /** Chunks that have a Gemini job. */
  readonly submitted: number;
  /** Chunks Gemini refused for now with 429 (active-job or enqueued-token quota). */
  readonly waiting: number;
}

/**
 * Gives every chunk of the plan one Gemini job, at most once however often it runs. Each step is
 * recorded in the chunk's ledger before the next: an uploaded file is not uploaded again; a job is
 * not created again. Just before creating, the ledger says `creating`: if the function dies between
 * creating a job and recording it, the next attempt finds the job by its display name
 * (`<runId>/<chunk>`) instead of creating a second one. A 429 leaves the chunk waiting, not failed.
 */
export async function submitChunks(
  run: { readonly bucket: string; readonly runId: string },
  plan: RunPlan,
  deps: SubmitChunksDeps,
): Promise<SubmitOutcome> {
  const limit = pLimit(deps.concurrency ?? DEFAULT_SUBMIT_CONCURRENCY);
  // allSettled, not all: a failure must not return while other chunks are mid-create, or a retry
  // could race them (and a frozen Lambda could resume them in a later invocation).
  const settled = await Promise.allSettled(
    plan.chunks.map((chunk) => limit(() => submitChunk(run, chunk, deps))),
  );
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  const outcomes = settled.map((result) => (result as PromiseFulfilledResult<'submitted' | 'waiting'>).value);
  const waiting = outcomes.filter((outcome) => outcome === 'waiting').length;
  return { submitted: outcomes.length - waiting, waiting };
}

async function submitChunk(
  run: { readonly bucket: string; readonly runId: string },
  chunk: ChunkPlan,
  deps: SubmitChunksDeps,
): Promise<'submitted' | 'waiting'> {
  const { store, gemini } = deps;
  const ledgerKey = workKeys(run.runId).ledger(chunk.index);
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  const record = (ledger: JobLedger) => store.putJson(run.bucket, ledgerKey, ledger);
  const displayName = jobDisplayName(run.runId, chunk.index);
  let ledger: JobLedger = (await store.getJson<JobLedger>(run.bucket, ledgerKey)) ?? {
    chunk: chunk.index,
    displayName,
    updatedAt: now(),
  };
  if (ledger.batchName) return 'submitted';

  if (ledger.creating) {
    const found = await gemini.findBatchByDisplayName(displayName);
    if (found) {
      deps.log?.('recovered a job created before a crash', { chunk: chunk.index, batchName: found });
      await record({ ...ledger, batchName: found, recovered: true, creating: false, updatedAt: now() });
      return 'submitted';
    }
  }

  // Gemini's OpenAI-compatible layer creates batches from files only.
  const inline =
    chunk.format === 'gemini' && chunk.bytes <= (deps.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES);
  let source:
    | { readonly fileName: string; readonly format: RequestFormat }
    | { readonly inlineRequests: readonly InlineRequest[] };
  if (inline) {
    source = { inlineRequests: await readInlineRequests(store, run.bucket, chunk) };
  } else {
    if (!ledger.uploadedFile) {
      ledger = {
        ...ledger,
        uploadedFile: await uploadChunk(run, chunk, displayName, deps),
        updatedAt: now(),
      };
      await record(ledger);
    }
    source = { fileName: ledger.uploadedFile ?? '', format: chunk.format };
  }

  ledger = { ...ledger, inline, creating: true, updatedAt: now() };
  await record(ledger);
  let batchName: string;
  try {
    batchName = await gemini.createBatch({ kind: chunk.kind, model: chunk.model, displayName, ...source });
  } catch (error) {
    if (!(error instanceof GeminiRateLimitError)) throw error;
    // A 429 created nothing: without this, every later attempt would first search for the job by name.
    await record({ ...ledger, creating: false, updatedAt: now() });
    deps.log?.('Gemini refused the job for now; it will be submitted again', {
      chunk: chunk.index,
      reason: error.message,
    });
    return 'waiting';
  }
  await record({ ...ledger, batchName, creating: false, updatedAt: now() });
  deps.log?.('created batch job', { chunk: chunk.index, batchName, requests: chunk.requestCount, inline });
  return 'submitted';
}

/** A chunk small enough to send inline, read back into `{key, request}` pairs. */
async function readInlineRequests(
  store: ObjectStore,
  bucket: string,
  chunk: ChunkPlan,
): Promise<InlineRequest[]> {
  const requests: InlineRequest[] = [];
  for await (const line of readJsonlLines(await store.read(bucket, chunk.key), {
    maxLineBytes: chunk.bytes + 1,
  })) {
    if ('text' in line) requests.push(JSON.parse(line.text) as InlineRequest);
  }
  return requests;
}

/** Stages a chunk on local disk and uploads it: the SDK's upload streams from a path in 8 MiB chunks. */
async function uploadChunk(
  run: { readonly bucket: string; readonly runId: string },
  chunk: ChunkPlan,
  displayName: string,
  deps: SubmitChunksDeps,
): Promise<string> {
  const path = join(deps.tmpDir, `${run.runId}-${chunkId(chunk.index)}.jsonl`);
  try {
    await deps.store.downloadToFile(run.bucket, chunk.key, path);
    return await deps.gemini.uploadJsonl(path, displayName);
  } finally {
    await rm(path, { force: true });
  }
}

/** Thrown when Gemini accepted none of a run's jobs: the state machine backs off and tries again. */
export function everyJobRefused(runId: string, waiting: number): GeminiRateLimitError {
  return new GeminiRateLimitError(
    `Gemini refused all ${waiting} jobs of run ${runId} for now (429: active-job or enqueued-token quota); retrying with backoff`,
  );
}
