import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { store } from '../shared/runtime/aws-clients.js';
import { logger } from '../shared/runtime/logger.js';
import { stopBatchJobs } from './stop-batch-jobs.js';

export const handler = async (run: RunState) => {
  logger.appendKeys({ runId: run.runId });
  const stopped = await stopBatchJobs(run, {
    store,
    gemini: await geminiFromEnvironment(),
    log: (message, fields) => logger.info(message, fields),
  });
  logger.info('stopped the run before its end', { ...stopped });
  return stopped;
};
