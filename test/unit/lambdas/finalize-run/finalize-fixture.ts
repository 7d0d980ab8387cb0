/**
 * The world of Finalize Run's tests: an in-memory store and fake Gemini holding a run's records as
 * the earlier states write them, Finalize's deps over them, and what it published.
 */
import type {
  FinalizeDeps,
  Manifest,
  RunFinishedDetail,
} from '../../../../lambdas/finalize-run/finalize-run.js';
import type { RunFailure } from '../../../../lambdas/shared/run/state-payloads.js';
import type { RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  type ChunkSpec,
  fixedNow,
  INPUT_PREFIX,
  MODELS,
  pollRecord,
  RESULTS_ROOT,
  submitDirectly,
  usage,
  writeCollected,
  writePlan,
  writePollStatus,
} from '../run-fixtures.js';

export const MANIFEST_KEY = `${RESULTS_ROOT}manifest.json`;
export const uri = (key: string) => `s3://${BUCKET}/${key}`;

/** A Lambda error as a Catch stores it: Cause is the function's error JSON. */
export const lambdaFailure = (errorType: string, errorMessage: string): RunFailure => ({
  Error: errorType,
  Cause: JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at handler'],
  }),
});

// Live bindings: each test file calls `resetWorld` before each test, and sees the new values.
export let store: MemoryObjectStore;
export let fake: FakeGemini;
/** Each run-finished event, and whether manifest.json was there when it was published. */
export let published: { detail: RunFinishedDetail; manifestWritten: boolean }[];
/** How many times Finalize created its Gemini client. */
export let geminiCreated: number;

/** A fresh store and fake Gemini, nothing published. */
export function resetWorld(): void {
  store = new MemoryObjectStore();
  fake = new FakeGemini();
  published = [];
  geminiCreated = 0;
}

/** Finalize's deps over the world, with `overrides`. */
export function deps(overrides: Partial<FinalizeDeps> = {}): FinalizeDeps {
  return {
    store,
    inputPrefix: INPUT_PREFIX,
    now: fixedNow,
    gemini: async () => {
      geminiCreated += 1;
      return fake;
    },
    publish: async (detail) => {
      published.push({ detail, manifestWritten: store.text(BUCKET, MANIFEST_KEY) !== undefined });
    },
    ...overrides,
  };
}

/** The manifest.json Finalize wrote; fails the test when there is none. */
export const manifest = async () => {
  const value = await store.getJson<Manifest>(BUCKET, MANIFEST_KEY);
  if (!value) throw new Error('no manifest.json was written');
  return value;
};

export interface Scenario {
  readonly plan: RunPlan;
  readonly jobs: string[];
}

/** A run submitted to the fake, with its jobs in the given end states and recorded by Poll. */
export async function scenario(chunks: readonly ChunkSpec[], rejectedCount = 0): Promise<Scenario> {
  const plan = await writePlan(store, chunks, { rejectedCount });
  const jobs = await submitDirectly(store, fake, plan);
  return { plan, jobs };
}

/** Poll's record of every job of the scenario, as the fake has them now. */
export async function recordPoll({ jobs }: Scenario): Promise<void> {
  await writePollStatus(
    store,
    jobs.map((name, chunk) => pollRecord(fake, chunk, name)),
  );
}

/** Two chunks whose jobs both succeeded and whose results were all collected. */
export async function succeededRun(
  options: { rejectedCount?: number; failedCount?: number } = {},
): Promise<Scenario> {
  const run = await scenario(
    [
      { kind: 'generate', keys: ['a', 'b', 'c'] },
      { kind: 'embed', keys: ['d', 'e'] },
    ],
    options.rejectedCount,
  );
  for (const job of run.jobs) fake.answer(job);
  await recordPoll(run);
  const failed = options.failedCount ?? 0;
  await writeCollected(store, {
    succeededCount: 5 - failed,
    failedCount: failed,
    usageByModel: {
      [MODELS.generate]: usage({
        requestCount: 3,
        promptTokens: 21,
        outputTokens: 15,
        thoughtsTokens: 9,
        totalTokens: 45,
      }),
      [MODELS.embed]: usage({ requestCount: 2, promptTokens: 6, totalTokens: 6 }),
    },
  });
  return run;
}
