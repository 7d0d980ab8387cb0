import { Duration, Size } from 'aws-cdk-lib';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PipelineFunctionName } from '../../infra/constructs/gemini-batch-pipeline.js';
import { ENV } from '../../lambdas/shared/runtime/env.js';
import { environmentOf, type SynthesizedPipeline, synthPipeline } from './helpers.js';

/**
 * Each function gets exactly the environment its code reads, checked against the code itself:
 * every handler reads its variables once, at module scope (the cold start), so loading it with
 * the environment the template gives it shows what it requires (loading fails without it) and
 * what it reads (recorded as it loads). The Powertools variables and NODE_OPTIONS are read by the
 * logger and by Node, not by the pipeline's code, and are not counted here.
 */
const HANDLERS: Record<PipelineFunctionName, () => Promise<unknown>> = {
  'start-run': () => import('../../lambdas/start-run/handler.js'),
  'prepare-requests': () => import('../../lambdas/prepare-requests/handler.js'),
  'submit-batch-jobs': () => import('../../lambdas/submit-batch-jobs/handler.js'),
  'poll-batch-jobs': () => import('../../lambdas/poll-batch-jobs/handler.js'),
  'stop-batch-jobs': () => import('../../lambdas/stop-batch-jobs/handler.js'),
  'collect-results': () => import('../../lambdas/collect-results/handler.js'),
  'finalize-run': () => import('../../lambdas/finalize-run/handler.js'),
};
const NAMES = Object.keys(HANDLERS) as PipelineFunctionName[];

const PIPELINE_VARIABLES: ReadonlySet<string> = new Set(Object.values(ENV));

/**
 * Set only offline: the Gemini endpoint (read by the Gemini client builder), and the admission
 * gate's waits, which the local runner shortens as it shortens the poll waits.
 */
const OFFLINE_ONLY: ReadonlySet<string> = new Set([
  ENV.baseUrl,
  ENV.admissionBackoffSeconds,
  ENV.admissionMaxBackoffSeconds,
  ENV.admissionStaleSeconds,
]);

/** Every optional setting given, so that every variable the construct can set is set. */
const EVERY_SETTING = {
  jobLimits: {
    maxFileSize: Size.mebibytes(256),
    maxRequests: 5000,
    maxTokens: 1_000_000,
    inlineThreshold: Size.mebibytes(4),
    inlineAnswerThreshold: Size.mebibytes(8),
    inlineEmbeddings: true,
  },
  maxLineSize: Size.mebibytes(1),
  batchPrices: { 'my-tuned-model': { inputPerMillion: 1, outputPerMillion: 2 } },
  submitDeadline: Duration.hours(2),
  maxRunCostUsd: 25,
};

/** A function's pipeline variables in the template, tokens (`Ref`s) standing in as strings. */
function pipelineEnvironment(synth: SynthesizedPipeline, name: PipelineFunctionName): Record<string, string> {
  const variables = Object.entries(environmentOf(synth.json, synth.logicalId(name)));
  return Object.fromEntries(
    variables
      .filter(([variable]) => PIPELINE_VARIABLES.has(variable))
      .map(([variable, value]) => [variable, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
}

/** Loads a handler afresh with `env` as its whole environment; the pipeline variables it read. */
async function load(name: PipelineFunctionName, env: Record<string, string>): Promise<string[]> {
  vi.resetModules();
  const read = new Set<string>();
  const saved = process.env;
  process.env = new Proxy(
    { ...env },
    {
      get(target, variable, receiver) {
        if (typeof variable === 'string' && PIPELINE_VARIABLES.has(variable)) read.add(variable);
        return Reflect.get(target, variable, receiver);
      },
    },
  );
  try {
    await HANDLERS[name]();
  } finally {
    process.env = saved;
  }
  return [...read].sort();
}

afterEach(() => {
  vi.resetModules();
});

describe('the functions environments', () => {
  let defaults: SynthesizedPipeline;
  let everySetting: SynthesizedPipeline;
  beforeAll(() => {
    defaults = synthPipeline();
    everySetting = synthPipeline(EVERY_SETTING);
  });
  const synths = () => [defaults, everySetting];

  it.each(NAMES)('give %s every variable its code requires', async (name) => {
    for (const synth of synths()) {
      await expect(load(name, pipelineEnvironment(synth, name))).resolves.toBeDefined();
    }
  });

  it.each(NAMES)('give %s no variable its code does not read', async (name) => {
    for (const synth of synths()) {
      const env = pipelineEnvironment(synth, name);
      const read = await load(name, env);
      expect(Object.keys(env).filter((variable) => !read.includes(variable))).toEqual([]);
    }
  });

  it.each(NAMES)('can set every variable %s reads, but the offline-only ones', async (name) => {
    const env = pipelineEnvironment(everySetting, name);
    const read = await load(name, env);
    expect(read.filter((variable) => !(variable in env) && !OFFLINE_ONLY.has(variable))).toEqual([]);
  });

  it('would see a missing required variable: loading fails, naming it', async () => {
    const { [ENV.inputPrefix]: _missing, ...env } = pipelineEnvironment(defaults, 'collect-results');
    await expect(load('collect-results', env)).rejects.toThrow(
      `missing required environment variable ${ENV.inputPrefix}`,
    );
  });
});
