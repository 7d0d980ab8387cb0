import { store, tmpDir } from '../shared/aws-clients.js';
import { ENV, numberEnv, optionalNumberEnv } from '../shared/env.js';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { logger } from '../shared/logger.js';
import type { RunState } from '../shared/run-state.js';
import { pollBatchJobs } from './poll-batch-jobs.js';

const schedule = {
  initialSeconds: numberEnv(ENV.pollInitialSeconds, 30),
  maxSeconds: numberEnv(ENV.pollMaxSeconds, 600),
  backoffRate: numberEnv(ENV.pollBackoffRate, 1.5),
};

const inlineMaxBytes = optionalNumberEnv(ENV.inlineMaxBytes);

export const handler = async (run: RunState) => {
  logger.appendKeys({ runId: run.runId });
  const poll = await pollBatchJobs(run, {
    store,
    gemini: await geminiFromEnvironment(),
    schedule,
    tmpDir,
    ...(inlineMaxBytes !== undefined ? { inlineMaxBytes } : {}),
    log: (message, fields) => logger.info(message, fields),
  });
  logger.info('polled batch jobs', { ...poll });
  return poll;
};
