import { store, tmpDir } from '../shared/aws-clients.js';
import { inlineChoiceEnv } from '../shared/env.js';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { logger } from '../shared/logger.js';
import type { RunState } from '../shared/run-state.js';
import { submitBatchJobs } from './submit-batch-jobs.js';

const inlineChoice = inlineChoiceEnv();

export const handler = async (run: RunState) => {
  logger.appendKeys({ runId: run.runId });
  const gemini = await geminiFromEnvironment();
  return submitBatchJobs(run, {
    store,
    gemini,
    tmpDir,
    ...inlineChoice,
    log: (message, fields) => logger.info(message, fields),
  });
};
