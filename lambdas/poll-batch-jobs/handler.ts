import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { store, tmpDir } from '../shared/runtime/aws-clients.js';
import { ENV, inlineChoiceEnv, numberEnv } from '../shared/runtime/env.js';
import { logger } from '../shared/runtime/logger.js';
import { DEFAULT_POLL_SCHEDULE, DEFAULT_SUBMIT_DEADLINE_SECONDS, pollBatchJobs } from './poll-batch-jobs.js';
import {
  DEFAULT_EXPIRED_RESUBMIT_ROUNDS,
  DEFAULT_LINE_RETRY_ROUNDS,
  DEFAULT_PENDING_TIMEOUT_SECONDS,
  DEFAULT_RETRY_CUTOFF_SECONDS,
} from './retries.js';

const schedule = {
  initialSeconds: numberEnv(ENV.pollInitialSeconds, DEFAULT_POLL_SCHEDULE.initialSeconds),
  maxSeconds: numberEnv(ENV.pollMaxSeconds, DEFAULT_POLL_SCHEDULE.maxSeconds),
  backoffRate: numberEnv(ENV.pollBackoffRate, DEFAULT_POLL_SCHEDULE.backoffRate),
};

const inlineChoice = inlineChoiceEnv();
const submitDeadlineSeconds = numberEnv(ENV.submitDeadlineSeconds, DEFAULT_SUBMIT_DEADLINE_SECONDS);
const retries = {
  lineRetryRounds: numberEnv(ENV.lineRetryRounds, DEFAULT_LINE_RETRY_ROUNDS),
  expiredResubmitRounds: numberEnv(ENV.expiredResubmitRounds, DEFAULT_EXPIRED_RESUBMIT_ROUNDS),
  pendingTimeoutSeconds: numberEnv(ENV.pendingTimeoutSeconds, DEFAULT_PENDING_TIMEOUT_SECONDS),
  retryCutoffSeconds: numberEnv(ENV.retryCutoffSeconds, DEFAULT_RETRY_CUTOFF_SECONDS),
};

export const handler = async (run: RunState) => {
  logger.appendKeys({ runId: run.runId });
  const poll = await pollBatchJobs(run, {
    store,
    gemini: await geminiFromEnvironment(),
    schedule,
    submitDeadlineSeconds,
    ...retries,
    tmpDir,
    ...inlineChoice,
    log: (message, fields) => logger.info(message, fields),
  });
  logger.info('polled batch jobs', { ...poll });
  return poll;
};
