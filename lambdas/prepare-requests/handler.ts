import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import type { RunInput } from '../shared/run/state-payloads.js';
import { inputPrefix, store } from '../shared/runtime/aws-clients.js';
import { ENV, optionalNumberEnv, requireEnv } from '../shared/runtime/env.js';
import { logger } from '../shared/runtime/logger.js';
import { prepareRequests } from './prepare-requests.js';

const models = { generate: requireEnv(ENV.generateModel), embed: requireEnv(ENV.embedModel) };
const limitOverrides = {
  maxBytes: optionalNumberEnv(ENV.maxChunkBytes),
  maxRequests: optionalNumberEnv(ENV.maxChunkRequests),
  maxTokens: optionalNumberEnv(ENV.maxTokensPerJob),
};
/** Only the limits the stack sets override the per-model defaults. */
const maxLineBytes = optionalNumberEnv(ENV.maxLineBytes);
const chunkLimits = Object.fromEntries(
  Object.entries(limitOverrides).filter(([, value]) => value !== undefined),
);

export const handler = async (run: RunInput) => {
  logger.appendKeys({ runId: run.runId });
  const prepared = await prepareRequests(run, {
    store,
    // Per invocation: the key is cached for minutes by the secrets provider, so a rotated key is
    // picked up, and the models are looked up afresh for every run.
    gemini: await geminiFromEnvironment(),
    models,
    inputPrefix,
    chunkLimits,
    ...(maxLineBytes !== undefined ? { maxLineBytes } : {}),
  });
  logger.info('prepared requests', { ...prepared });
  return prepared;
};
