/**
 * Nothing paid for is lost when a run ends early: whether it is cancelled (its execution stopped),
 * times out, or fails once jobs exist, the jobs that finished are collected, the ones still running
 * are cancelled on Gemini, every accepted key gets exactly one line, and the manifest says how the
 * run ended. Each run here has two chunks: the first job finishes at once, the second runs for an
 * hour of emulator time, so the run is caught with one job done and one still billing.
 */
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PollState, RunState } from '../../lambdas/shared/run/state-payloads.js';
import type { LocalPipeline, TaskHandler } from '../../local/local-pipeline.js';
import { startTestPipeline } from '../support/test-pipeline.js';

const FIRST = ['a1', 'a2'];
const SECOND = ['b1', 'b2'];
const LINES = [...FIRST, ...SECOND].map((key) =>
  JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text: `about ${key}` }] }] } }),
);
const SLOW_SECOND_JOB = {
  kind: 'job-outcome',
  outcome: 'SLOW',
  displayName: 'chunk-00001',
  runningMs: 60 * 60 * 1000,
} as const;

type Json = Record<string, unknown>;
const parse = (text: string | undefined): Json[] =>
  (text ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Json);

/** When the first job has finished (a poll counted its two requests), do `then` once. */
function afterFirstJobFinished(then: (runId: string) => void) {
  let done = false;
  return (state: string, handler: TaskHandler): TaskHandler =>
    async (input: RunState) => {
      const result = await handler(input);
      if (state === 'Poll Batch Jobs' && !done && ((result as PollState).completedCount ?? 0) >= 2) {
        done = true;
        then(input.runId);
      }
      return result;
    };
}

async function stateOfJobs(pipeline: LocalPipeline): Promise<string[]> {
  const ai = new GoogleGenAI({
    apiKey: pipeline.emulator?.apiKey ?? '',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: pipeline.gemini.url },
  });
  const states: string[] = [];
  for await (const job of await ai.batches.list({ config: { pageSize: 100 } }))
    states.push(String(job.state));
  return states;
}

/** Runs the two-chunk file and checks that every key has one line: answered if its job finished. */
async function runAndCheck(pipeline: LocalPipeline, name: string) {
  const { delivery } = await pipeline.upload(`${pipeline.inputPrefix}${name}.jsonl`, `${LINES.join('\n')}\n`);
  const run = await pipeline.waitForRun(delivery.runId ?? '');
  const results = parse(await pipeline.readObject(`results/${name}/${delivery.runId}/results.jsonl`));

  expect(results.map((line) => line.key)).toEqual([...FIRST, ...SECOND]);
  for (const line of results.filter((each) => FIRST.includes(String(each.key)))) {
    expect(JSON.stringify(line.response)).toContain(`about ${line.key}`);
  }
  for (const line of results.filter((each) => SECOND.includes(String(each.key)))) {
    expect(line.error).toMatchObject({ status: 'JOB_NOT_SUCCEEDED' });
    expect(String((line.error as Json).message)).toContain('BATCH_STATE_CANCELLED');
  }
  // Gemini bills nothing more: the job still running was cancelled, the finished one kept.
  expect((await stateOfJobs(pipeline)).sort()).toEqual(['JOB_STATE_CANCELLED', 'JOB_STATE_SUCCEEDED']);
  expect(run.manifest.counts).toMatchObject({ accepted: 4, succeeded: 2, failed: 2 });
  expect(run.manifest.outputs.results).toBeDefined();
  return run;
}

const options = (onFirstJobDone: (runId: string) => void, extra = {}) => ({
  emulator: { timing: { pendingMs: 0, runningMs: 0 }, faults: [SLOW_SECOND_JOB] },
  pollWaitMs: 20,
  environment: { MAX_CHUNK_REQUESTS: '2' },
  wrapTask: afterFirstJobFinished(onFirstJobDone),
  ...extra,
});

describe('a run cancelled mid-way', () => {
  let pipeline: LocalPipeline;
  beforeAll(async () => {
    pipeline = await startTestPipeline(options((runId) => pipeline.cancel(runId, 'no longer needed')));
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('keeps the finished job, cancels the running one, and ends CANCELLED with an event', async () => {
    const run = await runAndCheck(pipeline, 'cancelled');

    expect(run.execution).toBe('ABORTED');
    expect(run.manifest.status).toBe('CANCELLED');
    expect(run.manifest.reason).toContain('the run was cancelled (no longer needed)');
    expect(pipeline.events.map((event) => (event.detail as { status?: string }).status)).toContain(
      'CANCELLED',
    );
  });
});

describe('a run that times out', () => {
  let pipeline: LocalPipeline;
  beforeAll(async () => {
    // The hour-long job outlives a 10-second execution timeout, long enough on a loaded 2-core
    // machine for the first job to finish and be polled before the timeout (3 s was not).
    pipeline = await startTestPipeline(options(() => undefined, { executionTimeoutSeconds: 10 }));
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('is salvaged from its TIMED_OUT event: finished answers kept, the running job cancelled, FAILED', async () => {
    const run = await runAndCheck(pipeline, 'timed-out');

    expect(run.execution).toBe('TIMED_OUT');
    expect(run.manifest.status).toBe('FAILED');
    expect(run.manifest.reason).toMatch(/timed out; the jobs that had finished were collected \(2 answers\)/);
  });
});

describe('a run whose poll fails for good once jobs exist', () => {
  let pipeline: LocalPipeline;
  let broken = false;
  beforeAll(async () => {
    pipeline = await startTestPipeline({
      ...options(() => {
        broken = true;
      }),
      wrapTask: (state, handler) => {
        const watched = afterFirstJobFinished(() => {
          broken = true;
        })(state, handler);
        return async (input) => {
          // A poll that cannot succeed (its run state is gone), retried by nothing.
          if (state === 'Poll Batch Jobs' && broken) return handler({ ...input, runId: 'no-such-run' });
          return watched(input);
        };
      },
    });
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('stops the jobs, collects what finished and ends FAILED naming the error', async () => {
    const run = await runAndCheck(pipeline, 'poll-failed');

    expect(run.execution).toBe('FAILED');
    expect(run.manifest.status).toBe('FAILED');
    expect(run.manifest.reason).toMatch(
      /^RunStateError: .*; the jobs that had finished were collected \(2 answers\)/,
    );
  });
});
