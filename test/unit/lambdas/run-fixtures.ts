/**
 * Builders for the unit tests of the run-state functions: one run, its plan and chunk files, its
 * ledgers, poll status and collect summary, written into a MemoryObjectStore as the earlier
 * functions would have written them. Every value is generated here, in code.
 */
import { toJobStatusRecord } from '../../../lambdas/shared/batch-jobs/job-status.js';
import type { BatchKind } from '../../../lambdas/shared/gemini/gemini-batch-api.js';
import { jobDisplayName, workKeys } from '../../../lambdas/shared/run/bucket-layout.js';
import type { RunState } from '../../../lambdas/shared/run/state-payloads.js';
import {
  type ChunkPlan,
  type CollectSummary,
  emptyModelUsage,
  type JobLedger,
  type JobStatusRecord,
  type ModelUsage,
  type RunPlan,
} from '../../../lambdas/shared/run/work-records.js';
import type { FakeGemini } from '../../support/fake-gemini.js';
import type { MemoryObjectStore } from '../../support/memory-object-store.js';

export const BUCKET = 'pipeline-bucket';
export const INPUT_PREFIX = 'inputs/';
export const INPUT_KEY = 'inputs/team/reviews.jsonl';
export const RUN_ID = '20261103T101530Z-0123456789abcdef';
export const MODELS = { generate: 'gemini-2.5-flash', embed: 'gemini-embedding-001' } as const;
/** Where this run's outputs go: `results/<input stem>/<runId>/`. */
export const RESULTS_ROOT = `results/team/reviews/${RUN_ID}/`;
export const WORK = workKeys(RUN_ID);

export const fixedNow = (): Date => new Date('2026-11-03T12:00:00.000Z');

export function runState(overrides: Partial<RunState> = {}): RunState {
  return {
    runId: RUN_ID,
    bucket: BUCKET,
    key: INPUT_KEY,
    uploadedAt: '2026-11-03T10:15:30.000Z',
    ...overrides,
  };
}

export interface ChunkSpec {
  readonly kind: BatchKind;
  readonly keys: readonly string[];
  /** @default the kind's default model */
  readonly model?: string;
}

/** A chunk line as Prepare Requests writes it: `{"key","request"}`, the request naming its key. */
export function chunkLine(kind: BatchKind, key: string): string {
  const request =
    kind === 'generate'
      ? { contents: [{ role: 'user', parts: [{ text: `prompt for ${key}` }] }] }
      : { content: { parts: [{ text: `text for ${key}` }] }, outputDimensionality: 3 };
  return JSON.stringify({ key, request });
}

/** Writes the chunk files and `plan.json` of a prepared run; returns the plan. */
export async function writePlan(
  store: MemoryObjectStore,
  chunks: readonly ChunkSpec[],
  counts: { readonly rejectedCount?: number } = {},
): Promise<RunPlan> {
  let nextLine = 1;
  const chunkPlans: ChunkPlan[] = chunks.map((spec, index) => {
    const content = spec.keys.map((key) => `${chunkLine(spec.kind, key)}\n`).join('');
    const firstLine = nextLine;
    // Chunks follow each other in the input: chunk 0 holds lines 1..n, chunk 1 the next ones.
    const keys = spec.keys.map((key) => `${JSON.stringify([nextLine++, key])}\n`).join('');
    store.put(BUCKET, WORK.chunk(index), content);
    store.put(BUCKET, WORK.chunkKeys(index), keys);
    return {
      index,
      format: 'gemini' as const,
      kind: spec.kind,
      model: spec.model ?? MODELS[spec.kind],
      key: WORK.chunk(index),
      keysKey: WORK.chunkKeys(index),
      requestCount: spec.keys.length,
      bytes: Buffer.byteLength(content),
      estimatedTokens: spec.keys.length * 10,
      firstLine,
    };
  });
  const acceptedCount = chunks.reduce((sum, spec) => sum + spec.keys.length, 0);
  const rejectedCount = counts.rejectedCount ?? 0;
  const plan: RunPlan = {
    runId: RUN_ID,
    bucket: BUCKET,
    inputKey: INPUT_KEY,
    lineCount: acceptedCount + rejectedCount,
    acceptedCount,
    rejectedCount,
    chunks: chunkPlans,
    preparedAt: '2026-11-03T10:16:00.000Z',
  };
  await store.putJson(BUCKET, WORK.plan, plan);
  return plan;
}

/**
 * Does what Submit would have done for every chunk of the plan, straight on the fake: uploads the
 * chunk file, creates the job, writes the ledger. Returns the job names in chunk order.
 */
export async function submitDirectly(
  store: MemoryObjectStore,
  fake: FakeGemini,
  plan: RunPlan,
): Promise<string[]> {
  const names: string[] = [];
  for (const chunk of plan.chunks) {
    const displayName = jobDisplayName(RUN_ID, chunk.index);
    const uploadedFile = fake.addFile(store.text(BUCKET, chunk.key) ?? '', `files/up-${chunk.index + 1}`);
    const batch = fake.addBatch({
      kind: chunk.kind,
      model: chunk.model,
      displayName,
      fileName: uploadedFile,
    });
    await writeLedger(store, { chunk: chunk.index, displayName, uploadedFile, batchName: batch.name });
    names.push(batch.name);
  }
  return names;
}

export async function writeLedger(
  store: MemoryObjectStore,
  ledger: Omit<JobLedger, 'updatedAt'>,
): Promise<void> {
  await store.putJson(BUCKET, WORK.ledger(ledger.chunk), {
    ...ledger,
    updatedAt: '2026-11-03T10:17:00.000Z',
  });
}

export async function readLedger(store: MemoryObjectStore, chunk: number): Promise<JobLedger | undefined> {
  return store.getJson<JobLedger>(BUCKET, WORK.ledger(chunk));
}

/** What Poll would record for a job the fake holds. */
export function pollRecord(fake: FakeGemini, chunk: number, batchName: string): JobStatusRecord {
  return toJobStatusRecord(chunk, fake.statusOf(batchName));
}

export async function writePollStatus(
  store: MemoryObjectStore,
  jobs: readonly JobStatusRecord[],
): Promise<void> {
  await store.putJson(BUCKET, WORK.pollStatus, { polledAt: '2026-11-03T11:00:00.000Z', jobs });
}

export function usage(fields: Partial<ModelUsage>): ModelUsage {
  return { ...emptyModelUsage(), ...fields };
}

export async function writeCollected(
  store: MemoryObjectStore,
  summary: Partial<CollectSummary>,
): Promise<CollectSummary> {
  const full: CollectSummary = {
    succeededCount: 0,
    failedCount: 0,
    missingCount: 0,
    duplicateResultCount: 0,
    unknownResultCount: 0,
    usageByModel: {},
    collectedAt: '2026-11-03T11:30:00.000Z',
    ...summary,
  };
  await store.putJson(BUCKET, WORK.collected, full);
  return full;
}
