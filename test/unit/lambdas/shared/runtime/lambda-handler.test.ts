import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GeminiRateLimitError } from '../../../../../lambdas/shared/errors.js';
import { lambdaHandler, taskHandler } from '../../../../../lambdas/shared/runtime/lambda-handler.js';
import { logger } from '../../../../../lambdas/shared/runtime/logger.js';

/** What Lambda passes a handler; `remainingMs` is what it says is left of the timeout. */
function contextFor(requestId: string, remainingMs = 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'collect-results',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:collect-results',
    memoryLimitInMB: '128',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/collect-results',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

let lines: Record<string, unknown>[];

beforeEach(() => {
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('taskHandler', () => {
  it("puts the runId and the request id on the core's lines and on the one outcome line", async () => {
    const handler = taskHandler('collected results', async (run: { runId: string }) => {
      logger.info('downloading', { chunk: 0 });
      return { succeededCount: 2, failedCount: 1, of: run.runId };
    });

    await expect(handler({ runId: 'run-1' }, contextFor('request-1'))).resolves.toEqual({
      succeededCount: 2,
      failedCount: 1,
      of: 'run-1',
    });

    expect(lines).toMatchObject([
      { message: 'downloading', runId: 'run-1', function_request_id: 'request-1', chunk: 0 },
      { message: 'collected results', runId: 'run-1', function_request_id: 'request-1', succeededCount: 2 },
    ]);
  });

  it('logs none of the keys of one invocation on the next, in a warm container', async () => {
    const handler = taskHandler('polled batch jobs', async (run: { runId: string; fail?: boolean }) => {
      if (run.runId === 'run-1') logger.appendKeys({ batchName: 'batches/1' });
      if (run.fail) throw new Error('Gemini went away');
      return { allDone: true };
    });

    await handler({ runId: 'run-1' }, contextFor('request-1'));
    await handler({ runId: 'run-2' }, contextFor('request-2'));
    await expect(handler({ runId: 'run-1', fail: true }, contextFor('request-3'))).rejects.toThrow();
    await handler({ runId: 'run-3' }, contextFor('request-4'));

    expect(lines.map(({ runId, batchName }) => ({ runId, batchName }))).toEqual([
      { runId: 'run-1', batchName: 'batches/1' },
      { runId: 'run-2', batchName: undefined },
      { runId: 'run-3', batchName: undefined },
    ]);
  });

  it("rejects with the core's own error, so Step Functions matches its name", async () => {
    const error = new GeminiRateLimitError('429: too many enqueued tokens');
    const handler = taskHandler('submitted batch jobs', async () => {
      throw error;
    });

    await expect(handler({ runId: 'run-1' }, contextFor('request-1'))).rejects.toBe(error);
    expect(lines).toEqual([]);
  });

  it('leaves the timeout to Lambda: a core still running near the deadline is not cut short', async () => {
    const handler = taskHandler('stopped the run before its end', async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { stopped: 1 };
    });

    await expect(handler({ runId: 'run-1' }, contextFor('request-1', 10))).resolves.toEqual({ stopped: 1 });
  });
});

describe('lambdaHandler', () => {
  it('puts the keys it takes from any event on every line', async () => {
    const handler = lambdaHandler({
      outcome: 'start-run',
      keys: (event: { detail: { key: string } }) => ({ key: event.detail.key }),
      run: async () => ({ runId: 'run-1', started: true }),
    });

    await handler({ detail: { key: 'inputs/a.jsonl' } }, contextFor('request-1'));

    expect(lines).toMatchObject([
      { message: 'start-run', key: 'inputs/a.jsonl', runId: 'run-1', started: true },
    ]);
  });
});
