import { describe, expect, it } from 'vitest';
import type { RunInput } from '../../../../lambdas/shared/run/state-payloads.js';
import {
  type ObjectCreatedDetail,
  type ObjectCreatedEvent,
  runIdFor,
  type StartRunDeps,
  startRun,
} from '../../../../lambdas/start-run/start-run.js';
import { BUCKET, INPUT_PREFIX } from '../run-fixtures.js';

function objectCreated(
  object: Partial<ObjectCreatedDetail['object']> = {},
  event: Partial<ObjectCreatedEvent> = {},
) {
  return {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-11-03T10:15:30Z',
    region: 'eu-west-1',
    resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      bucket: { name: BUCKET },
      object: {
        key: 'inputs/team/reviews.jsonl',
        size: 2048,
        etag: 'b1946ac92492d2347c6235b4d2611184',
        'version-id': 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
        sequencer: '00617F08299329D189',
        ...object,
      },
    },
    ...event,
  } satisfies ObjectCreatedEvent;
}

/** Step Functions as far as start-run sees it: execution names are unique. */
function stepFunctions() {
  const started = new Map<string, RunInput>();
  const attempts: string[] = [];
  const deps: StartRunDeps = {
    inputPrefix: INPUT_PREFIX,
    startExecution: async (name, input) => {
      attempts.push(name);
      if (started.has(name)) return false;
      started.set(name, input);
      return true;
    },
  };
  return { deps, started, attempts };
}

describe('runIdFor', () => {
  it('gives the same id to the same event delivered twice', () => {
    expect(runIdFor(objectCreated())).toBe(runIdFor(objectCreated()));
  });

  it('gives a different id to a new upload of the same key (a new sequencer)', () => {
    expect(runIdFor(objectCreated({ sequencer: '00617F0829932A0000' }))).not.toBe(runIdFor(objectCreated()));
  });

  it('gives a different id for another version, key or bucket', () => {
    const base = runIdFor(objectCreated());
    expect(runIdFor(objectCreated({ 'version-id': 'other' }))).not.toBe(base);
    expect(runIdFor(objectCreated({ key: 'inputs/team/other.jsonl' }))).not.toBe(base);
    const otherBucket = objectCreated();
    expect(
      runIdFor({ ...otherBucket, detail: { ...otherBucket.detail, bucket: { name: 'another-bucket' } } }),
    ).not.toBe(base);
  });

  it('falls back to the event id when there is no sequencer', () => {
    const { sequencer: _, ...withoutSequencer } = objectCreated().detail.object;
    const event = (id: string) => ({
      ...objectCreated({}, { id }),
      detail: { bucket: { name: BUCKET }, object: withoutSequencer },
    });
    expect(runIdFor(event('a'))).toBe(runIdFor(event('a')));
    expect(runIdFor(event('a'))).not.toBe(runIdFor(event('b')));
  });

  it('starts with the upload time as YYYYMMDDTHHMMSSZ, then 16 hex digits', () => {
    const runId = runIdFor(objectCreated({}, { time: '2026-01-02T03:04:05Z' }));
    expect(runId).toMatch(/^20260102T030405Z-[0-9a-f]{16}$/);
  });

  it('is a valid Step Functions execution name', () => {
    for (const key of [
      'inputs/a.jsonl',
      `inputs/${'deep/'.repeat(100)}x.jsonl`,
      'inputs/ünïcode spaces+plus.jsonl',
    ]) {
      const runId = runIdFor(objectCreated({ key }));
      expect(runId.length).toBeLessThanOrEqual(80);
      expect(runId).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });
});

describe('startRun', () => {
  it('starts one execution named after the run id, with the upload and its exact version as its input', async () => {
    const sfn = stepFunctions();
    const event = objectCreated();
    const outcome = await startRun(event, sfn.deps);
    const runId = runIdFor(event);
    expect(outcome).toEqual({ runId, started: true });
    expect([...sfn.started.entries()]).toEqual([
      [
        runId,
        {
          runId,
          bucket: BUCKET,
          key: 'inputs/team/reviews.jsonl',
          versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
          etag: 'b1946ac92492d2347c6235b4d2611184',
          sizeBytes: 2048,
          uploadedAt: '2026-11-03T10:15:30.000Z',
        },
      ],
    ]);
  });

  it('leaves versionId, etag and size out of the input when the event has none', async () => {
    const sfn = stepFunctions();
    const { 'version-id': _, size: __, etag: ___, ...object } = objectCreated().detail.object;
    await startRun({ ...objectCreated(), detail: { bucket: { name: BUCKET }, object } }, sfn.deps);
    const [input] = [...sfn.started.values()];
    expect(input).toBeDefined();
    expect(input).not.toHaveProperty('versionId');
    expect(input).not.toHaveProperty('etag');
    expect(input).not.toHaveProperty('sizeBytes');
  });

  it('passes the ETag on unquoted, whichever way the event spells it', async () => {
    const sfn = stepFunctions();
    await startRun(objectCreated({ etag: '"0f343b0931126a20f133d67c2b018a3b-3"' }), sfn.deps);
    expect([...sfn.started.values()][0]?.etag).toBe('0f343b0931126a20f133d67c2b018a3b-3');
  });

  it('gives the overwrite of a file a run of its own, whose input names the new bytes', async () => {
    const sfn = stepFunctions();
    const first = await startRun(objectCreated(), sfn.deps);
    const overwrite = await startRun(
      objectCreated({ etag: '9e107d9d372bb6826bd81d3542a419d6', sequencer: '00617F0829BBBB0000' }),
      sfn.deps,
    );
    expect(overwrite).toMatchObject({ started: true });
    expect('runId' in overwrite && 'runId' in first && overwrite.runId !== first.runId).toBe(true);
    expect([...sfn.started.values()].map((input) => input.etag)).toEqual([
      'b1946ac92492d2347c6235b4d2611184',
      '9e107d9d372bb6826bd81d3542a419d6',
    ]);
  });

  it('reports started: false when the same event arrives again', async () => {
    const sfn = stepFunctions();
    const first = await startRun(objectCreated(), sfn.deps);
    const second = await startRun(objectCreated(), sfn.deps);
    expect(first).toMatchObject({ started: true });
    expect(second).toEqual({ runId: runIdFor(objectCreated()), started: false });
    expect(sfn.started.size).toBe(1);
  });

  it('starts a second run for a second upload of the same file', async () => {
    const sfn = stepFunctions();
    await startRun(objectCreated(), sfn.deps);
    const again = await startRun(objectCreated({ sequencer: '00617F0829AAAA0000' }), sfn.deps);
    expect(again).toMatchObject({ started: true });
    expect(sfn.started.size).toBe(2);
  });

  it('ignores keys outside the input prefix or not ending in .jsonl, starting nothing', async () => {
    const sfn = stepFunctions();
    for (const key of [
      'results/team/reviews/20261103T101530Z-0123456789abcdef/results.jsonl',
      'work/20261103T101530Z-0123456789abcdef/chunks/chunk-00000.jsonl',
      'other/inputs/a.jsonl',
      'inputs-old/a.jsonl',
      'inputs/a.json',
      'inputs/a.jsonl.gz',
      'inputs/notes.txt',
    ]) {
      const outcome = await startRun(objectCreated({ key }), sfn.deps);
      expect(outcome).toEqual({ ignored: expect.stringContaining(key) });
    }
    expect(sfn.attempts).toEqual([]);
  });

  it('accepts a .JSONL extension in any case', async () => {
    const sfn = stepFunctions();
    expect(await startRun(objectCreated({ key: 'inputs/UPPER.JSONL' }), sfn.deps)).toMatchObject({
      started: true,
    });
  });

  it('uses the configured input prefix', async () => {
    const sfn = stepFunctions();
    const deps = { ...sfn.deps, inputPrefix: 'uploads/' };
    expect(await startRun(objectCreated({ key: 'uploads/a.jsonl' }), deps)).toMatchObject({ started: true });
    expect(await startRun(objectCreated({ key: 'inputs/a.jsonl' }), deps)).toHaveProperty('ignored');
  });
});
