import { beforeAll, describe, expect, it } from 'vitest';
import type { RunInput } from '../../../../lambdas/shared/run/state-payloads.js';
import { runIdFor, startRun, startSalvage } from '../../../../lambdas/start-run/start-run.js';
import {
  executionStatusChangeEvent,
  objectCreatedEvent,
  sequencer,
} from '../../../../local/runner/events.js';
import { LOCAL_BUCKET, LOCAL_STATE_MACHINE_ARN } from '../../../../local/runner/local-aws.js';
import { type EventPattern, matchesEventPattern } from '../../../../local/template/event-pattern.js';
import {
  executionRuleEventPattern,
  inputRuleEventPattern,
} from '../../../../local/template/rule-event-pattern.js';
import { synthesizePipelineTemplate } from '../../../../local/template/synthesize.js';

const UPLOAD = { bucket: LOCAL_BUCKET, key: 'inputs/team/reviews.jsonl', size: 2048, etag: '"b1946ac9"' };

const RUN_INPUT: RunInput = {
  runId: '20261121T100000Z-0123456789abcdef',
  bucket: LOCAL_BUCKET,
  key: UPLOAD.key,
  uploadedAt: '2026-11-21T10:00:00.000Z',
};

/** What start-run would start for `event`: the execution's name and input. */
async function startedBy(run: (deps: Parameters<typeof startRun>[1]) => Promise<unknown>) {
  const started: { name: string; input: RunInput }[] = [];
  await run({
    inputPrefix: 'inputs/',
    startExecution: async (name, input) => {
      started.push({ name, input });
      return true;
    },
  });
  return started;
}

let inputPattern: EventPattern;
let executionPattern: EventPattern;
beforeAll(() => {
  const template = synthesizePipelineTemplate();
  inputPattern = inputRuleEventPattern(template, { bucketName: LOCAL_BUCKET });
  executionPattern = executionRuleEventPattern(template, {
    bucketName: LOCAL_BUCKET,
    stateMachineArn: LOCAL_STATE_MACHINE_ARN,
  });
});

describe('objectCreatedEvent', () => {
  it("matches the template's trigger rule", () => {
    expect(matchesEventPattern(inputPattern, objectCreatedEvent(UPLOAD, '1'))).toBe(true);
  });

  it('starts a run of exactly the uploaded object: bucket, key, unquoted ETag, size and time', async () => {
    const event = objectCreatedEvent(UPLOAD, '1');
    const started = await startedBy((deps) => startRun(event, deps));

    expect(started).toEqual([
      {
        name: runIdFor(event),
        input: {
          runId: runIdFor(event),
          bucket: LOCAL_BUCKET,
          key: UPLOAD.key,
          etag: 'b1946ac9',
          sizeBytes: 2048,
          uploadedAt: event.time,
        },
      },
    ]);
    expect(event.resources).toEqual([`arn:aws:s3:::${LOCAL_BUCKET}`]);
  });

  it('gives two uploads of the same key different run ids through their sequencers', () => {
    const next = sequencer();
    const first = objectCreatedEvent(UPLOAD, next());
    const second = { ...objectCreatedEvent(UPLOAD, next()), time: first.time };

    expect(runIdFor(second)).not.toBe(runIdFor(first));
  });
});

describe('sequencer', () => {
  it('counts up in upper-case hexadecimal', () => {
    const next = sequencer();
    const [a, b] = [next(), next()];

    expect(a).toMatch(/^[0-9A-F]+$/);
    expect(b > a).toBe(true);
  });
});

describe('executionStatusChangeEvent', () => {
  const ended = (status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT') =>
    executionStatusChangeEvent({
      stateMachineArn: LOCAL_STATE_MACHINE_ARN,
      name: RUN_INPUT.runId,
      input: RUN_INPUT,
      status,
      cause: 'cancelled with Ctrl-C',
    });

  it.each(['ABORTED', 'TIMED_OUT'] as const)(
    'matches the salvage rule when the execution ended %s',
    (status) => {
      expect(matchesEventPattern(executionPattern, ended(status))).toBe(true);
    },
  );

  it.each(['SUCCEEDED', 'FAILED'] as const)('does not match the salvage rule when it ended %s', (status) => {
    expect(matchesEventPattern(executionPattern, ended(status))).toBe(false);
  });

  it("starts the run's salvage run with the stopped execution's name and cause", async () => {
    const started = await startedBy((deps) => startSalvage(ended('ABORTED'), deps));

    expect(started).toEqual([
      {
        name: `${RUN_INPUT.runId}-salvage`,
        input: {
          ...RUN_INPUT,
          salvage: { status: 'ABORTED', executionName: RUN_INPUT.runId, cause: 'cancelled with Ctrl-C' },
        },
      },
    ]);
  });

  it('names the execution as Step Functions does', () => {
    expect(ended('ABORTED').detail.executionArn).toBe(
      `arn:aws:states:us-east-1:000000000000:execution:GeminiBatchPipeline:${RUN_INPUT.runId}`,
    );
  });
});
