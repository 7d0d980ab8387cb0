import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CollectDeps } from '../../../../lambdas/collect-results/collect-results.js';
import type { InlineRequest } from '../../../../lambdas/shared/gemini/gemini-batch-api.js';
import { jobDisplayName } from '../../../../lambdas/shared/run/bucket-layout.js';
import type { CollectSummary, RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  type ChunkSpec,
  fixedNow,
  INPUT_PREFIX,
  pollRecord,
  RESULTS_ROOT,
  RUN_ID,
  submitDirectly,
  WORK,
  writeLedger,
  writePlan,
  writePollStatus,
} from '../run-fixtures.js';

export const RESULTS_KEY = `${RESULTS_ROOT}results.jsonl`;
export const UNMATCHED_KEY = `${RESULTS_ROOT}unmatched.jsonl`;

/** A prepared and submitted run: its plan, and the batch job of each chunk on the fake. */
export interface Submitted {
  readonly plan: RunPlan;
  readonly jobs: string[];
}

/** What Collect runs against in a test: an in-memory bucket, a fake Gemini, a temporary directory. */
export class CollectTestbed {
  readonly store = new MemoryObjectStore();
  readonly fake = new FakeGemini();

  private constructor(readonly tmpDir: string) {}

  static async create(): Promise<CollectTestbed> {
    return new CollectTestbed(await mkdtemp(join(tmpdir(), 'collect-results-')));
  }

  async remove(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
  }

  deps(): CollectDeps {
    return {
      store: this.store,
      gemini: this.fake,
      inputPrefix: INPUT_PREFIX,
      tmpDir: this.tmpDir,
      now: fixedNow,
    };
  }

  /** A prepared and submitted run: chunk files, plan, ledgers, and a file job per chunk on the fake. */
  async submitted(chunks: readonly ChunkSpec[]): Promise<Submitted> {
    const plan = await writePlan(this.store, chunks);
    return { plan, jobs: await submitDirectly(this.store, this.fake, plan) };
  }

  /** A prepared run whose chunks went inline: each chunk's requests are an inline job on the fake. */
  async submittedInline(chunks: readonly ChunkSpec[]): Promise<Submitted> {
    const plan = await writePlan(this.store, chunks);
    const jobs: string[] = [];
    for (const chunk of plan.chunks) {
      const inlineRequests = (this.store.text(BUCKET, chunk.key) ?? '')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as InlineRequest);
      const displayName = jobDisplayName(RUN_ID, chunk.index);
      const batch = this.fake.addBatch({
        kind: chunk.kind,
        model: chunk.model,
        displayName,
        fileName: '',
        inlineRequests,
      });
      await writeLedger(this.store, { chunk: chunk.index, displayName, inline: true, batchName: batch.name });
      jobs.push(batch.name);
    }
    return { plan, jobs };
  }

  /** Records what Poll saw last, once the test has ended the jobs. */
  async polled({ jobs }: Submitted): Promise<void> {
    await writePollStatus(
      this.store,
      jobs.map((name, chunk) => pollRecord(this.fake, chunk, name)),
    );
  }

  results(): Record<string, unknown>[] {
    return this.store.jsonLines(BUCKET, RESULTS_KEY);
  }

  unmatched(): Record<string, unknown>[] {
    return this.store.jsonLines(BUCKET, UNMATCHED_KEY);
  }

  resultOf(key: string): Record<string, unknown> | undefined {
    return this.results().find((line) => line.key === key);
  }

  summary(): Promise<CollectSummary | undefined> {
    return this.store.getJson<CollectSummary>(BUCKET, WORK.collected);
  }
}

/** The text a generate answer carries. */
export const textOf = (line: Record<string, unknown> | undefined) =>
  (line?.response as { candidates: { content: { parts: { text: string }[] } }[] } | undefined)?.candidates[0]
    ?.content.parts[0]?.text;

/** The vector an embedding answer carries. */
export const vectorIn = (line: Record<string, unknown> | undefined) =>
  (line?.response as { embedding?: { values: number[] } } | undefined)?.embedding?.values;

export const keysOf = (lines: Record<string, unknown>[]) => lines.map((line) => line.key);
