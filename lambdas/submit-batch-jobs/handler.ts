import { admissionQueueFromEnvironment } from '../shared/admission/from-environment.js';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { objectStoreFromEnvironment } from '../shared/object-store/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { admissionSettingsEnv, inlineChoiceEnv } from '../shared/runtime/env.js';
import { taskHandler } from '../shared/runtime/lambda-handler.js';
import { logInfo } from '../shared/runtime/logger.js';
import { runMetrics } from '../shared/runtime/metrics.js';
import { type SubmitDeps, submitBatchJobs } from './submit-batch-jobs.js';

const deps: Omit<SubmitDeps, 'gemini'> = {
  store: objectStoreFromEnvironment(),
  ...inlineChoiceEnv(),
  admission: { queue: admissionQueueFromEnvironment(), ...admissionSettingsEnv() },
  log: logInfo,
  metrics: runMetrics,
};
const gemini = geminiFromEnvironment();

export const handler = taskHandler('submitted batch jobs', async (run: RunState) =>
  submitBatchJobs(run, { ...deps, gemini: await gemini() }),
);
