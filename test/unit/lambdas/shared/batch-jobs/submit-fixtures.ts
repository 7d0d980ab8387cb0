/**
 * What the tests of job creation share: `it` with a fresh store and fake Gemini per test (Vitest
 * fixtures), a store that dies at one write, and a submission of the run's plan as Submit and Poll
 * make it.
 */
import { test } from 'vitest';
import {
  type SubmitChunksDeps,
  type SubmitOutcome,
  submitChunks,
} from '../../../../../lambdas/shared/batch-jobs/submit-chunks.js';
import type { LineWriter, ObjectStore } from '../../../../../lambdas/shared/object-store/object-store.js';
import { readPlan } from '../../../../../lambdas/shared/run/read-work-records.js';
import { FakeGemini } from '../../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../../support/memory-object-store.js';
import { fixedNow, runState, writePlan } from '../../run-fixtures.js';

export interface SubmitWorkspace {
  readonly store: MemoryObjectStore;
  readonly fake: FakeGemini;
}

export function freshWorkspace(): SubmitWorkspace {
  return { store: new MemoryObjectStore(), fake: new FakeGemini() };
}

/** File chunks unless a test says otherwise: these tests are about uploads and ledgers. */
export function submitDeps(
  { store, fake }: SubmitWorkspace,
  overrides: Partial<SubmitChunksDeps> = {},
): SubmitChunksDeps {
  return { store, gemini: fake, now: fixedNow, inlineMaxBytes: 0, ...overrides };
}

interface SubmitFixtures extends SubmitWorkspace {
  /** This test's {@link submitDeps}, with `overrides`. */
  readonly deps: (overrides?: Partial<SubmitChunksDeps>) => SubmitChunksDeps;
}

/** `it`, handing each test the fixtures it names: a fresh workspace and the deps over it. */
export const it = test.extend<SubmitFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: Vitest reads a fixture's own fixtures from this pattern.
  store: async ({}, use) => use(new MemoryObjectStore()),
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  fake: async ({}, use) => use(new FakeGemini()),
  deps: async ({ store, fake }, use) => use((overrides = {}) => submitDeps({ store, fake }, overrides)),
});

/** Submits every chunk of the run's plan, as Submit Batch Jobs does. */
export async function submit(deps: SubmitChunksDeps): Promise<SubmitOutcome> {
  return submitChunks(runState(), await readPlan(deps.store, runState()), deps);
}

/** A generate chunk of three keys and an embedding chunk of two. */
export const twoChunks = (store: MemoryObjectStore) =>
  writePlan(store, [
    { kind: 'generate', keys: ['a', 'b', 'c'] },
    { kind: 'embed', keys: ['d', 'e'] },
  ]);

/** A store whose next `putJson` matching `when` throws: a Lambda that dies at that exact write. */
export class CrashingStore implements ObjectStore {
  #armed = true;
  constructor(
    private readonly inner: MemoryObjectStore,
    private readonly when: (key: string, value: unknown) => boolean,
  ) {}

  read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
    return this.inner.read(bucket, key);
  }
  getJson<T>(bucket: string, key: string): Promise<T | undefined> {
    return this.inner.getJson<T>(bucket, key);
  }
  metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>>> {
    return this.inner.metadata(bucket, key);
  }
  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    if (this.#armed && this.when(key, value)) {
      this.#armed = false;
      throw new Error(`simulated crash before writing ${key}`);
    }
    await this.inner.putJson(bucket, key, value);
  }
  openLineWriter(bucket: string, key: string): LineWriter {
    return this.inner.openLineWriter(bucket, key);
  }
  downloadToFile(bucket: string, key: string, path: string): Promise<void> {
    return this.inner.downloadToFile(bucket, key, path);
  }
}
