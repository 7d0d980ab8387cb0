import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { objectStoreFromEnvironment } from '../shared/object-store/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { taskHandler } from '../shared/runtime/lambda-handler.js';
import { logInfo } from '../shared/runtime/logger.js';
import { type StopDeps, stopBatchJobs } from './stop-batch-jobs.js';

const deps: Omit<StopDeps, 'gemini'> = { store: objectStoreFromEnvironment(), log: logInfo };
const gemini = geminiFromEnvironment();

export const handler = taskHandler('stopped the run before its end', async (run: RunState) =>
  stopBatchJobs(run, { ...deps, gemini: await gemini() }),
);
