import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startLocalFunction } from '../../../../local/lambda/local-function.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../../../local/runner/local-aws.js';

const MIB = 1024 * 1024;

describe('startLocalFunction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-function-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const handlerFile = (name: string, code: string) => {
    const file = join(dir, name);
    writeFileSync(file, code);
    return file;
  };

  it("gives the handler Lambda's context, its ARN in the local account and region", async () => {
    const file = handlerFile(
      'context.mjs',
      'export const handler = async (_event, { functionName, invokedFunctionArn }) => ({ functionName, invokedFunctionArn });\n',
    );
    const fn = startLocalFunction({ name: 'collect-results', file, environment: {}, timeoutSeconds: 5 });
    try {
      expect(await fn.invoke({})).toMatchObject({
        functionName: 'collect-results',
        invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:collect-results`,
      });
    } finally {
      await fn.stop();
    }
  });

  it("limits the sandbox's heap to the function's memory size", async () => {
    const file = handlerFile(
      'heap-limit.mjs',
      "import { getHeapStatistics } from 'node:v8';\nexport const handler = async () => getHeapStatistics().heap_size_limit;\n",
    );
    const environment = { NODE_OPTIONS: '--max-semi-space-size=4' };
    const fn = startLocalFunction({
      name: 'finalize-run',
      file,
      environment,
      timeoutSeconds: 5,
      memorySizeMb: 192,
    });
    try {
      const limit = (await fn.invoke({})) as number;
      // Without limits a worker's heap may grow to V8's default for the machine (gigabytes).
      expect(limit).toBeLessThanOrEqual(192 * MIB);
      expect(limit).toBeGreaterThan(150 * MIB);
    } finally {
      await fn.stop();
    }
  });

  it('fails an invocation that outgrows the memory size as Lambda reports it, and starts afresh', async () => {
    const file = handlerFile(
      'hungry.mjs',
      'const kept = [];\nexport const handler = async ({ grow }) => {\n  while (grow) kept.push(new Array(100_000).fill(kept.length));\n  return kept.length;\n};\n',
    );
    const fn = startLocalFunction({
      name: 'prepare-requests',
      file,
      environment: {},
      timeoutSeconds: 30,
      memorySizeMb: 64,
    });
    try {
      await expect(fn.invoke({ grow: true })).rejects.toMatchObject({ name: 'Lambda.Unknown' });
      expect(await fn.invoke({ grow: false })).toBe(0);
    } finally {
      await fn.stop();
    }
  });

  it('counts the timeout from the end of the cold start, as Lambda counts only the handler', async () => {
    const file = handlerFile(
      'slow-init.mjs',
      'await new Promise((resolve) => setTimeout(resolve, 1500));\nexport const handler = async () => "answered";\n',
    );
    const fn = startLocalFunction({ name: 'start-run', file, environment: {}, timeoutSeconds: 1 });
    try {
      expect(await fn.invoke({})).toBe('answered');
    } finally {
      await fn.stop();
    }
  });

  it('times out a handler that runs longer than the timeout', async () => {
    const file = handlerFile(
      'slow-handler.mjs',
      'export const handler = () => new Promise((resolve) => setTimeout(resolve, 5000));\n',
    );
    const fn = startLocalFunction({ name: 'poll-batch-jobs', file, environment: {}, timeoutSeconds: 1 });
    try {
      await expect(fn.invoke({})).rejects.toMatchObject({
        name: 'Lambda.Unknown',
        message: expect.stringContaining('Task timed out after 1 seconds'),
      });
    } finally {
      await fn.stop();
    }
  });

  it('starts no sandbox before the first invocation, as Lambda starts none', async () => {
    const file = handlerFile('idle.mjs', 'export const handler = async () => 1;\n');
    const fn = startLocalFunction({ name: 'stop-batch-jobs', file, environment: {}, timeoutSeconds: 5 });
    try {
      expect(fn.warm).toBe(false);
      expect(fn.memoryPeak()).toBeUndefined();
      await fn.invoke({});
      expect(fn.warm).toBe(true);
    } finally {
      await fn.stop();
    }
  });

  it('reclaims a sandbox left idle, so the next invocation starts cold', async () => {
    const file = handlerFile('count.mjs', 'let calls = 0;\nexport const handler = async () => ++calls;\n');
    const fn = startLocalFunction({
      name: 'poll-batch-jobs',
      file,
      environment: {},
      timeoutSeconds: 5,
      reclaimAfterIdleMs: 50,
    });
    try {
      expect(await fn.invoke({})).toBe(1);
      await vi.waitFor(() => expect(fn.warm).toBe(false), { timeout: 10_000, interval: 20 });
      expect(await fn.invoke({})).toBe(1);
    } finally {
      await fn.stop();
    }
  });

  it('keeps a sandbox warm while invocations follow each other', async () => {
    const file = handlerFile(
      'count-warm.mjs',
      'let calls = 0;\nexport const handler = async () => ++calls;\n',
    );
    const fn = startLocalFunction({
      name: 'poll-batch-jobs',
      file,
      environment: {},
      timeoutSeconds: 5,
      reclaimAfterIdleMs: 60_000,
    });
    try {
      expect([await fn.invoke({}), await fn.invoke({}), await fn.invoke({})]).toEqual([1, 2, 3]);
      expect(fn.warm).toBe(true);
    } finally {
      await fn.stop();
    }
  });

  it("reports its sandbox's memory after each invocation", async () => {
    const file = handlerFile(
      'buffer.mjs',
      'let held;\nexport const handler = async () => { held = Buffer.alloc(32 * 1024 * 1024, 1); return held.length; };\n',
    );
    const fn = startLocalFunction({ name: 'submit-batch-jobs', file, environment: {}, timeoutSeconds: 5 });
    try {
      await fn.invoke({});
      expect(fn.memoryPeak()?.externalBytes).toBeGreaterThanOrEqual(32 * MIB);
      expect(fn.memoryPeak()?.usedHeapBytes).toBeGreaterThan(0);
    } finally {
      await fn.stop();
    }
  });
});
