/**
 * One Prepare Requests run against an in-memory store, for the core's tests: the upload put under
 * the run's key, and everything Prepare wrote read back.
 */
import { type PrepareDeps, prepareRequests } from '../../../../lambdas/prepare-requests/prepare-requests.js';
import type { PreparedRun } from '../../../../lambdas/shared/run/state-payloads.js';
import type { RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  INPUT_KEY,
  INPUT_PREFIX,
  MODELS,
  RESULTS_ROOT,
  runState,
  WORK,
} from '../run-fixtures.js';

export const REJECTED_KEY = `${RESULTS_ROOT}rejected.jsonl`;

export interface RejectedLine {
  line: number;
  reason: string;
  excerpt: string;
}

/** What Prepare left in the store. */
export interface PrepareOutputs {
  readonly plan: RunPlan | undefined;
  readonly rejected: RejectedLine[];
  /** Each chunk's `{"key","request"}` lines, parsed, by chunk index. */
  readonly chunkLines: { key: string; request: Record<string, unknown> }[][];
}

export interface Preparation {
  readonly store: MemoryObjectStore;
  /** Runs Prepare on the upload. */
  run(): Promise<PreparedRun>;
  outputs(): Promise<PrepareOutputs>;
}

/** An upload of `content` (with object `metadata`), ready for Prepare to run on. */
export function preparation(
  content: string | Buffer,
  options: Partial<PrepareDeps> = {},
  metadata: Record<string, string> = {},
): Preparation {
  const store = new MemoryObjectStore();
  store.put(BUCKET, INPUT_KEY, content, metadata);
  const deps: PrepareDeps = {
    store,
    gemini: new FakeGemini(),
    models: MODELS,
    inputPrefix: INPUT_PREFIX,
    now: fixedNow,
    ...options,
  };
  return {
    store,
    run: () => prepareRequests(runState(), deps),
    outputs: async () => {
      const plan = await store.getJson<RunPlan>(BUCKET, WORK.plan);
      return {
        plan,
        rejected: store.jsonLines(BUCKET, REJECTED_KEY) as unknown as RejectedLine[],
        chunkLines: (plan?.chunks ?? []).map(
          (chunk) => store.jsonLines(BUCKET, chunk.key) as PrepareOutputs['chunkLines'][number],
        ),
      };
    },
  };
}

/** Runs Prepare on an upload of `content`; what it returned and wrote. */
export async function prepare(
  content: string | Buffer,
  options: Partial<PrepareDeps> = {},
): Promise<PrepareOutputs & { readonly store: MemoryObjectStore; readonly outcome: PreparedRun }> {
  const prepared = preparation(content, options);
  const outcome = await prepared.run();
  return { store: prepared.store, outcome, ...(await prepared.outputs()) };
}

export const jsonl = (values: readonly unknown[]): string =>
  values.map((value) => `${JSON.stringify(value)}\n`).join('');
export const generate = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });
export const embed = (text: string) => ({ content: { parts: [{ text }] } });
