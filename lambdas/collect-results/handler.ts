import { tmpdir } from 'node:os';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { objectStoreFromEnvironment } from '../shared/object-store/from-environment.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { ENV, requireEnv } from '../shared/runtime/env.js';
import { taskHandler } from '../shared/runtime/lambda-handler.js';
import { type CollectDeps, collectResults } from './collect-results.js';

const deps: Omit<CollectDeps, 'gemini'> = {
  store: objectStoreFromEnvironment(),
  inputPrefix: requireEnv(ENV.inputPrefix),
  tmpDir: tmpdir(),
};
const gemini = geminiFromEnvironment();

export const handler = taskHandler('collected results', async (run: RunState) =>
  collectResults(run, { ...deps, gemini: await gemini() }),
);
