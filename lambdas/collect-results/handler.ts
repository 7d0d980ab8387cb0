import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { inputPrefix, store, tmpDir } from '../shared/runtime/aws-clients.js';
import { logger } from '../shared/runtime/logger.js';
import { collectResults } from './collect-results.js';

export const handler = async (run: RunState) => {
  logger.appendKeys({ runId: run.runId });
  const collected = await collectResults(run, {
    store,
    gemini: await geminiFromEnvironment(),
    inputPrefix,
    tmpDir,
  });
  logger.info('collected results', { ...collected });
  return collected;
};
