import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalFunction } from '../../../../local/lambda/local-function.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../../../local/runner/local-aws.js';

describe('startLocalFunction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-function-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the handler Lambda's context, its ARN in the local account and region", async () => {
    const file = join(dir, 'context.mjs');
    writeFileSync(
      file,
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
});
