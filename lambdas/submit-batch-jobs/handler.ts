import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { store, tmpDir } from '../shared/runtime/aws-clients.js';
import { inlineChoiceEnv } from '../shared/runtime/env.js';
import { logger } from '../shared/runtime/logger.js';
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
