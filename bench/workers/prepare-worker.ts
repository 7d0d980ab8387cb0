/**
 * Runs the real `prepareRequests` core once over a file in a filesystem-backed store and reports
 * how long the core took (module loading excluded) and the process's peak RSS.
 */
import { prepareRequests } from '../../lambdas/prepare-requests/prepare-requests.js';
import { BATCH_METHODS } from '../../lambdas/shared/gemini/gemini-batch-api.js';
import type { RunInput } from '../../lambdas/shared/run/state-payloads.js';
import { BENCH_INPUT_PREFIX, BENCH_MODELS } from '../support/bench-run.js';
import { reportResult, workerInput } from '../support/child.js';
import { FsObjectStore } from '../support/fs-object-store.js';

export interface PrepareWorkerInput {
  readonly storeRoot: string;
  readonly run: RunInput;
}

const { storeRoot, run } = workerInput<PrepareWorkerInput>();
const store = new FsObjectStore(storeRoot);
const started = performance.now();
// Every model exists and can batch: the benchmark measures Prepare, not Models API lookups.
const gemini = {
  getModel: async (model: string) => ({
    name: `models/${model}`,
    supportedGenerationMethods: Object.values(BATCH_METHODS),
  }),
};
const prepared = await prepareRequests(run, {
  store,
  gemini,
  models: BENCH_MODELS,
  inputPrefix: BENCH_INPUT_PREFIX,
});
reportResult({ ms: performance.now() - started, prepared });
