import { tmpdir } from 'node:os';
import { admissionQueueFromEnvironment } from '../shared/admission/from-environment.js';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { objectStoreFromEnvironment } from '../shared/object-store/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { admissionSettingsEnv, ENV, inlineChoiceEnv, requireNumberEnv } from '../shared/runtime/env.js';
import { taskHandler } from '../shared/runtime/lambda-handler.js';
import { logInfo } from '../shared/runtime/logger.js';
import { runMetrics } from '../shared/runtime/metrics.js';
import { type PollDeps, pollBatchJobs } from './poll-batch-jobs.js';

const deps: Omit<PollDeps, 'gemini'> = {
  store: objectStoreFromEnvironment(),
  schedule: {
    initialSeconds: requireNumberEnv(ENV.pollInitialSeconds),
    maxSeconds: requireNumberEnv(ENV.pollMaxSeconds),
    backoffRate: requireNumberEnv(ENV.pollBackoffRate),
  },
  submitDeadlineSeconds: requireNumberEnv(ENV.submitDeadlineSeconds),
  lineRetryRounds: requireNumberEnv(ENV.lineRetryRounds),
  expiredResubmitRounds: requireNumberEnv(ENV.expiredResubmitRounds),
  pendingTimeoutSeconds: requireNumberEnv(ENV.pendingTimeoutSeconds),
  retryCutoffSeconds: requireNumberEnv(ENV.retryCutoffSeconds),
  tmpDir: tmpdir(),
  ...inlineChoiceEnv(),
  admission: { queue: admissionQueueFromEnvironment(), ...admissionSettingsEnv() },
  log: logInfo,
  metrics: runMetrics,
};
const gemini = geminiFromEnvironment();

export const handler = taskHandler('polled batch jobs', async (run: RunState) =>
  pollBatchJobs(run, { ...deps, gemini: await gemini() }),
);
