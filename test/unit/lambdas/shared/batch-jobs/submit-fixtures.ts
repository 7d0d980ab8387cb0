/**
 * What the tests of job creation share: a fresh store, fake Gemini and staging folder per test, a
 * store that dies at one write, and a submission of the run's plan as Submit and Poll make it.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** A fresh folder: tests check that staged chunk files are removed from it. */
  readonly tmpDir: string;
}

export async function freshWorkspace(): Promise<SubmitWorkspace> {
  return {
    store: new MemoryObjectStore(),
    fake: new FakeGemini(),
    tmpDir: await mkdtemp(join(tmpdir(), 'submit-chunks-')),
  };
}

/** File chunks unless a test says otherwise: these tests are about uploads and ledgers. */
export function submitDeps(
  { store, fake }: SubmitWorkspace,
  overrides: Partial<SubmitChunksDeps> = {},
): SubmitChunksDeps {
  return { store, gemini: fake, now: fixedNow, inlineMaxBytes: 0, ...overrides };
}

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
