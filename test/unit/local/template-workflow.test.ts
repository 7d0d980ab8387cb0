import { beforeAll, describe, expect, it } from 'vitest';
import { resultKeys, workKeys } from '../../../lambdas/shared/run/bucket-layout.js';
import {
  type CfnTemplate,
  type EventPattern,
  inputRuleEventPattern,
  kebabCase,
  matchesEventPattern,
  stateMachineDefinition,
  synthesizePipelineTemplate,
} from '../../../local/template/template-workflow.js';

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

describe('synthesizePipelineTemplate', () => {
  it('synthesizes the deployable stack without bundling', () => {
    const template = synthesizePipelineTemplate();
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(7);
    for (const fn of functions) expect(fn.Properties?.Code).toHaveProperty('ZipFile');
    expect(Object.keys(template.Outputs ?? {})).toContain('UploadCommand');
  });

  it('applies the options it is given', () => {
    const template = synthesizePipelineTemplate({ inputPrefix: 'drop/', generateModel: 'gemini-2.5-pro' });
    expect(inputRuleEventPattern(template, { bucketName: BUCKET })).toMatchObject({
      detail: { object: { key: [{ wildcard: 'drop/*.jsonl' }] } },
    });
    const prepare = Object.entries(template.Resources).find(([id]) =>
      /^PipelinePrepareRequests[0-9A-F]{8}$/.test(id),
    );
    expect(prepare?.[1].Properties?.Environment).toMatchObject({
      Variables: { GENERATE_MODEL: 'gemini-2.5-pro' },
    });
  });
});

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

describe('matchesEventPattern', () => {
  it.each([
    [{ a: ['x'] }, { a: 'x' }, true],
    [{ a: ['x'] }, { a: 'y' }, false],
    [{ a: ['x'] }, {}, false],
    [{ a: ['x', 'y'] }, { a: 'y' }, true],
    [{ a: ['x'] }, { a: ['z', 'x'] }, true],
    [{ a: [5] }, { a: 5 }, true],
    [{ a: { b: ['x'] } }, { a: { b: 'x' } }, true],
    [{ a: { b: ['x'] } }, { a: 'x' }, false],
    [{ a: [{ prefix: 'in/' }] }, { a: 'in/x' }, true],
    [{ a: [{ prefix: 'in/' }] }, { a: 'out/in/x' }, false],
    [{ a: [{ prefix: { 'equals-ignore-case': 'IN/' } }] }, { a: 'in/x' }, true],
    [{ a: [{ suffix: '.jsonl' }] }, { a: 'x.jsonl' }, true],
    [{ a: [{ suffix: { 'equals-ignore-case': '.JSONL' } }] }, { a: 'x.jsonl' }, true],
    [{ a: [{ 'equals-ignore-case': 'AbC' }] }, { a: 'aBc' }, true],
    [{ a: [{ wildcard: 'in/*.jsonl' }] }, { a: 'in/a/b.jsonl' }, true],
    [{ a: [{ wildcard: 'in/*.jsonl' }] }, { a: 'x/in/a.jsonl' }, false],
    [{ a: [{ wildcard: 'in/\\*.jsonl' }] }, { a: 'in/*.jsonl' }, true],
    [{ a: [{ wildcard: 'in/\\*.jsonl' }] }, { a: 'in/a.jsonl' }, false],
    [{ a: [{ wildcard: 'a.b' }] }, { a: 'aXb' }, false],
    [{ a: [{ 'anything-but': ['x'] }] }, { a: 'y' }, true],
    [{ a: [{ 'anything-but': ['x'] }] }, { a: 'x' }, false],
    [{ a: [{ 'anything-but': { prefix: 'work/' } }] }, { a: 'work/x' }, false],
    [{ a: [{ exists: true }] }, { a: 'x' }, true],
    [{ a: [{ exists: false }] }, {}, true],
    [{ a: [{ exists: false }] }, { a: 'x' }, false],
  ] as [EventPattern, unknown, boolean][])('matches %j against %j: %s', (pattern, event, expected) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });

  it('throws on operators it does not implement instead of guessing', () => {
    expect(() => matchesEventPattern({ a: [{ numeric: ['>', 1] }] }, { a: 'x' })).toThrow(
      "unsupported event pattern operator 'numeric'",
    );
  });
});

describe('stateMachineDefinition', () => {
  it('rejects tokens it cannot stand in for', () => {
    const template: CfnTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString: { 'Fn::Join': ['', ['{"StartAt":"', { Ref: 'SomeParameter' }, '"}']] },
          },
        },
      },
    };
    expect(() => stateMachineDefinition(template)).toThrow(
      'unsupported token in the state machine definition: {"Ref":"SomeParameter"}',
    );
  });
});

describe('kebabCase', () => {
  it.each([
    ['Prepare Requests', 'prepare-requests'],
    ['Submit Batch Jobs', 'submit-batch-jobs'],
    ['All Jobs Done?', 'all-jobs-done'],
  ])('turns %s into %s', (name, kebab) => {
    expect(kebabCase(name)).toBe(kebab);
  });
});
