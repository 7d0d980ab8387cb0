import { describe, expect, it } from 'vitest';
import type { RunInput } from '../../../../lambdas/shared/run/state-payloads.js';
import {
  type ExecutionStatusChangeEvent,
  salvageExecutionName,
  startSalvage,
} from '../../../../lambdas/start-run/start-run.js';
import { BUCKET } from '../run-fixtures.js';

const INPUT: RunInput = {
  runId: '20261103T101530Z-0123456789abcdef',
  bucket: BUCKET,
  key: 'inputs/reviews.jsonl',
  uploadedAt: '2026-11-03T10:15:30.000Z',
};

function statusChange(status: string, input: unknown = INPUT, cause: string | null = null) {
  return {
    version: '0',
    id: 'e0f8d4a8-1f5a-4d0e-9b0e-7c2f3f0b9a11',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2026-11-06T10:15:30Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Pipeline:${INPUT.runId}`,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Pipeline',
      name: INPUT.runId,
      status,
      input: typeof input === 'string' ? input : JSON.stringify(input),
      cause,
    },
  } satisfies ExecutionStatusChangeEvent;
}

function stepFunctions() {
  const started = new Map<string, RunInput>();
  return {
    started,
    deps: {
      startExecution: async (name: string, input: RunInput) => {
        if (started.has(name)) return false;
        started.set(name, input);
        return true;
      },
    },
  };
}

describe('startSalvage', () => {
  it.each(['TIMED_OUT', 'ABORTED'] as const)(
    'starts one salvage run, with the run input and why, for an execution that ended %s',
    async (status) => {
      const { deps, started } = stepFunctions();

      const outcome = await startSalvage(statusChange(status, INPUT, 'stopped by alice'), deps);

      const name = salvageExecutionName(INPUT.runId);
      expect(outcome).toEqual({ runId: name, started: true });
      expect(started.get(name)).toEqual({
        ...INPUT,
        salvage: { status, executionName: INPUT.runId, cause: 'stopped by alice' },
      });
    },
  );

  it('starts nothing new when the same event is delivered twice', async () => {
    const { deps, started } = stepFunctions();
    await startSalvage(statusChange('ABORTED'), deps);

    const again = await startSalvage(statusChange('ABORTED'), deps);

    expect(again).toEqual({ runId: salvageExecutionName(INPUT.runId), started: false });
    expect(started.size).toBe(1);
  });

  it.each(['SUCCEEDED', 'FAILED', 'RUNNING'])(
    'ignores an execution that ended %s: its Finalize ran',
    async (status) => {
      const { deps, started } = stepFunctions();
      expect(await startSalvage(statusChange(status), deps)).toHaveProperty('ignored');
      expect(started.size).toBe(0);
    },
  );

  it('does not salvage a salvage run that itself timed out', async () => {
    const { deps, started } = stepFunctions();
    const salvageInput = { ...INPUT, salvage: { status: 'ABORTED', executionName: INPUT.runId } };

    const outcome = await startSalvage(statusChange('TIMED_OUT', salvageInput), deps);

    expect(outcome).toEqual({ ignored: expect.stringContaining('already a salvage run') });
    expect(started.size).toBe(0);
  });

  it('ignores an execution whose input is not a run', async () => {
    const { deps, started } = stepFunctions();
    expect(await startSalvage(statusChange('ABORTED', 'not json'), deps)).toHaveProperty('ignored');
    expect(await startSalvage(statusChange('ABORTED', { hello: 1 }), deps)).toHaveProperty('ignored');
    expect(started.size).toBe(0);
  });
});
