import { inputPrefix, store } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/env.js';
import { logger } from '../shared/logger.js';
import type { RunInput } from '../shared/run-state.js';
import { prepareRequests } from './prepare-requests.js';

const models = { generate: requireEnv(ENV.generateModel), embed: requireEnv(ENV.embedModel) };

export const handler = async (run: RunInput) => {
  logger.appendKeys({ runId: run.runId });
  const prepared = await prepareRequests(run, { store, models, inputPrefix });
  logger.info('prepared requests', { ...prepared });
  return prepared;
};
