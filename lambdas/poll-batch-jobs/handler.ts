import { store, tmpDir } from '../shared/aws-clients.js';
import { ENV, inlineChoiceEnv, numberEnv } from '../shared/env.js';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { logger } from '../shared/logger.js';
import type { RunState } from '../shared/run-state.js';
import { DEFAULT_POLL_SCHEDULE, DEFAULT_SUBMIT_DEADLINE_SECONDS, pollBatchJobs } from './poll-batch-jobs.js';

const schedule = {
  initialSeconds: numberEnv(ENV.pollInitialSeconds, DEFAULT_POLL_SCHEDULE.initialSeconds),
  maxSeconds: numberEnv(ENV.pollMaxSeconds, DEFAULT_POLL_SCHEDULE.maxSeconds),
  backoffRate: numberEnv(ENV.pollBackoffRate, DEFAULT_POLL_SCHEDULE.backoffRate),
};

const inlineChoice = inlineChoiceEnv();
const submitDeadlineSeconds = numberEnv(ENV.submitDeadlineSeconds, DEFAULT_SUBMIT_DEADLINE_SECONDS);

export const handler = async (run: RunState) => {
  logger.appendKeys({ runId: run.runId });
  const poll = await pollBatchJobs(run, {
    store,
    gemini: await geminiFromEnvironment(),
    schedule,
    submitDeadlineSeconds,
    tmpDir,
    ...inlineChoice,
    log: (message, fields) => logger.info(message, fields),
  });
  logger.info('polled batch jobs', { ...poll });
  return poll;
};
