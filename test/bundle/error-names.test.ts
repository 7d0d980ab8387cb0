/**
 * The errors the deployed bundles throw reach Step Functions under their own names, and the
 * workflow's retriers match them: every scenario runs the bundles of a cloud assembly synthesized
 * with bundling (minified, as `cdk deploy` uploads them) in the synthesized state machine, and counts
 * how often the failing state ran. A name lost to minification would match no retrier: the state
 * would run once and the manifest's reason would name a mangled class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_NAMES, type PipelineErrorName } from '../../lambdas/shared/errors.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { stateMachineDefinition } from '../../local/template/state-machine-definition.js';
import { synthesizePipelineTemplate } from '../../local/template/synthesize.js';
import { oneShotTaskHooks, startTestPipeline } from '../support/test-pipeline.js';

const definition = stateMachineDefinition(synthesizePipelineTemplate());

/** How often Step Functions runs a state that keeps failing with `error`: once, plus its retrier's attempts. */
function expectedAttempts(state: string, error: string): number {
  const retrier = definition.States[state]?.Retry?.find((entry) => entry.ErrorEquals.includes(error));
  return 1 + (retrier ? (retrier.MaxAttempts ?? 3) : 0);
}

let pipeline: LocalPipeline;
const failures: { state: string; name: string }[] = [];
/** A change to one Task's input or surroundings, applied on its next invocation only. */
const { hooks, wrapTask } = oneShotTaskHooks();

beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 0, runningMs: 0 } },
    pollWaitMs: 10,
    // Every chunk as a file, so Collect downloads results: the call the faults below break.
    environment: { INLINE_MAX_BYTES: '0' },
    onProgress: (event) => {
      if (event.phase === 'failed') failures.push({ state: event.state, name: event.error.name });
    },
    wrapTask,
  });
});

afterAll(async () => {
  await pipeline?.close();
});

const GENERATE_LINE = JSON.stringify({ key: 'a', request: { contents: [{ parts: [{ text: 'hi' }] }] } });

let uploads = 0;
async function run(body: string, metadata?: Record<string, string>) {
  failures.length = 0;
  const { delivery } = await pipeline.upload(
    `${pipeline.inputPrefix}errors-${++uploads}.jsonl`,
    body,
    metadata ? { metadata } : {},
  );
  return pipeline.waitForRun(delivery.runId ?? '');
}

const covered = new Set<string>();

function expectFailedAs(state: string, name: PipelineErrorName, manifest: { reason?: string }) {
  covered.add(name);
  const seen = failures.filter((failure) => failure.state === state);
  expect(seen.map((failure) => failure.name)).toEqual(
    Array.from({ length: expectedAttempts(state, name) }, () => name),
  );
  expect(manifest.reason).toContain(name);
}

/** Before Collect runs, Gemini answers every download with `status`. */
function breakDownloads(status: number) {
  hooks.set('Collect Results', (input, invoke) => {
    pipeline.emulator?.faults.add({ kind: 'http-error', endpoint: 'files.download', status, times: 1000 });
    return invoke(input);
  });
}

describe('error names in the bundles', () => {
  it.each([
    [429, ERROR_NAMES.geminiRateLimit],
    [503, ERROR_NAMES.geminiUnavailable],
  ] as const)(
    'retries a Gemini %i in Collect by the bundle-thrown %s, as the workflow says',
    async (status, name) => {
      breakDownloads(status);
      const outcome = await run(`${GENERATE_LINE}\n`);
      pipeline.emulator?.faults.clear();
      expect(expectedAttempts('Collect Results', name)).toBeGreaterThan(1);
      expectFailedAs('Collect Results', name, outcome.manifest);
    },
  );

  it('does not retry a Gemini refusal (4xx), and names it GeminiRequestError in the manifest', async () => {
    breakDownloads(404);
    const outcome = await run(`${GENERATE_LINE}\n`);
    pipeline.emulator?.faults.clear();
    expectFailedAs('Collect Results', ERROR_NAMES.geminiRequest, outcome.manifest);
  });

  it('names an input with nothing to send EmptyInputError', async () => {
    const outcome = await run('\n\n');
    expectFailedAs('Prepare Requests', ERROR_NAMES.emptyInput, outcome.manifest);
  });

  it('names unusable object metadata InputValidationError', async () => {
    const outcome = await run(`${GENERATE_LINE}\n`, { 'gemini-model': 'not a model' });
    expectFailedAs('Prepare Requests', ERROR_NAMES.inputValidation, outcome.manifest);
  });

  it('names a run over its budget RunBudgetError, and does not retry it', async () => {
    const outcome = await run(`${GENERATE_LINE}\n`, { 'gemini-max-cost-usd': '0.0000001' });
    expectFailedAs('Prepare Requests', ERROR_NAMES.runBudget, outcome.manifest);
  });

  it('names run state that is not in S3 RunStateError', async () => {
    hooks.set('Poll Batch Jobs', (input, invoke) => invoke({ ...input, runId: 'no-such-run' }));
    const outcome = await run(`${GENERATE_LINE}\n`);
    expectFailedAs('Poll Batch Jobs', ERROR_NAMES.runState, outcome.manifest);
  });

  it('has a scenario above for every error name the functions share with the workflow', () => {
    expect([...covered].sort()).toEqual(Object.values(ERROR_NAMES).sort());
  });
});
