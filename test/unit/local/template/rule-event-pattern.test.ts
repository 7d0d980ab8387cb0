import { beforeAll, describe, expect, it } from 'vitest';
import { resultKeys, workKeys } from '../../../../lambdas/shared/run/bucket-layout.js';
import { type EventPattern, matchesEventPattern } from '../../../../local/template/event-pattern.js';
import {
  executionRuleEventPattern,
  inputRuleEventPattern,
} from '../../../../local/template/rule-event-pattern.js';
import { synthesizePipelineTemplate } from '../../../../local/template/synthesize.js';

const BUCKET = 'my-pipeline-bucket';

/** An EventBridge "Object Created" event from S3, as the rule sees it. */
function objectCreated(
  key: string,
  overrides: { bucket?: string; source?: string; detailType?: string } = {},
) {
  return {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    source: overrides.source ?? 'aws.s3',
    'detail-type': overrides.detailType ?? 'Object Created',
    account: '000000000000',
    region: 'us-east-1',
    time: '2026-11-21T10:00:00Z',
    resources: [`arn:aws:s3:::${overrides.bucket ?? BUCKET}`],
    detail: {
      version: '0',
      bucket: { name: overrides.bucket ?? BUCKET },
      object: { key, size: 1024, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '00617F08299329D189' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '000000000000',
      reason: 'PutObject',
    },
  };
}

describe('the input rule pattern from the template', () => {
  let pattern: EventPattern;
  beforeAll(() => {
    pattern = inputRuleEventPattern(synthesizePipelineTemplate(), { bucketName: BUCKET });
  });

  it('names the bucket it is given in place of the template reference', () => {
    expect(pattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [BUCKET] }, object: { key: [{ wildcard: 'inputs/*.jsonl' }] } },
    });
  });

  it.each([
    'inputs/requests.jsonl',
    'inputs/team/2026/11/reviews.jsonl',
    'inputs/.jsonl',
    'inputs/a b+c.jsonl',
  ])('starts a run for %s', (key) => {
    expect(matchesEventPattern(pattern, objectCreated(key))).toBe(true);
  });

  it.each([
    resultKeys('inputs/team/reviews.jsonl', 'run-1').results,
    resultKeys('inputs/team/reviews.jsonl', 'run-1').rejected,
    resultKeys('inputs/team/reviews.jsonl', 'run-1').manifest,
    workKeys('run-1').chunk(0),
    workKeys('run-1').plan,
    'results/inputs/a.jsonl',
    'work/inputs/a.jsonl',
    'results/x.jsonl',
    'work/x.jsonl',
  ])('never starts a run for a pipeline-written key: %s', (key) => {
    expect(matchesEventPattern(pattern, objectCreated(key))).toBe(false);
  });

  it.each([
    'inputs/requests.json',
    'inputs/requests.jsonl.tmp',
    'inputs/',
    'inputsx/a.jsonl',
    'Inputs/a.jsonl',
    'a.jsonl',
  ])('ignores %s', (key) => {
    expect(matchesEventPattern(pattern, objectCreated(key))).toBe(false);
  });

  it('ignores other buckets, sources and event types', () => {
    expect(matchesEventPattern(pattern, objectCreated('inputs/a.jsonl', { bucket: 'other-bucket' }))).toBe(
      false,
    );
    expect(matchesEventPattern(pattern, objectCreated('inputs/a.jsonl', { source: 'custom.s3' }))).toBe(
      false,
    );
    expect(
      matchesEventPattern(pattern, objectCreated('inputs/a.jsonl', { detailType: 'Object Deleted' })),
    ).toBe(false);
  });

  it('follows a custom input prefix', () => {
    const custom = inputRuleEventPattern(synthesizePipelineTemplate({ inputPrefix: 'uploads/' }), {
      bucketName: BUCKET,
    });
    expect(matchesEventPattern(custom, objectCreated('uploads/a.jsonl'))).toBe(true);
    expect(matchesEventPattern(custom, objectCreated('inputs/a.jsonl'))).toBe(false);
    expect(
      matchesEventPattern(custom, objectCreated(resultKeys('uploads/a.jsonl', 'run-1', 'uploads/').results)),
    ).toBe(false);
  });

  it('throws when the template has no rule on S3 events', () => {
    expect(() => inputRuleEventPattern({ Resources: {} }, { bucketName: BUCKET })).toThrow(
      'expected one rule on aws.s3 events in the template, found 0',
    );
  });
});

describe('the salvage rule pattern from the template', () => {
  it('names the state machine it is given, for executions that timed out or were stopped', () => {
    const pattern = executionRuleEventPattern(synthesizePipelineTemplate(), {
      bucketName: BUCKET,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Here',
    });

    expect(pattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        stateMachineArn: ['arn:aws:states:us-east-1:000000000000:stateMachine:Here'],
        status: ['TIMED_OUT', 'ABORTED'],
      },
    });
  });
});
