import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { objectStoreFromEnvironment } from '../shared/object-store/from-environment.js';
import { priceTableWith } from '../shared/pricing/pricing.js';
import type { RunInput } from '../shared/run/state-payloads.js';
import { ENV, optionalNumberEnv, requireEnv } from '../shared/runtime/env.js';
import { taskHandler } from '../shared/runtime/lambda-handler.js';
import { type PrepareDeps, prepareRequests } from './prepare-requests.js';

const limitOverrides = {
  maxBytes: optionalNumberEnv(ENV.maxChunkBytes),
  maxRequests: optionalNumberEnv(ENV.maxChunkRequests),
  maxTokens: optionalNumberEnv(ENV.maxTokensPerJob),
};
const deps: Omit<PrepareDeps, 'gemini'> = {
  store: objectStoreFromEnvironment(),
  models: { generate: requireEnv(ENV.generateModel), embed: requireEnv(ENV.embedModel) },
  inputPrefix: requireEnv(ENV.inputPrefix),
  // The construct sets only the limits the stack overrides; an unset one must not reach the
  // per-model defaults as `undefined`, which would replace them.
  chunkLimits: Object.fromEntries(Object.entries(limitOverrides).filter(([, value]) => value !== undefined)),
  maxLineBytes: optionalNumberEnv(ENV.maxLineBytes),
  prices: priceTableWith(process.env[ENV.batchPricesJson]),
  maxRunCostUsd: optionalNumberEnv(ENV.maxRunCostUsd),
};
const gemini = geminiFromEnvironment();

export const handler = taskHandler('prepared requests', async (run: RunInput) =>
  prepareRequests(run, { ...deps, gemini: await gemini() }),
);
