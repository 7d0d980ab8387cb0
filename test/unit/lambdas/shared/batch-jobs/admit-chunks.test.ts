/**
 * The admission queue's rules, against the real DynamoDB client and a local DynamoDB (dynalite),
 * with fake Gemini: first come, first served across runs, one shared gate, only the head probes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAdmissionQueue } from '../../../../../lambdas/shared/admission/dynamodb-admission-queue.js';
import { type AdmissionDeps, admitChunks } from '../../../../../lambdas/shared/batch-jobs/admit-chunks.js';
import type { ChunkOutcome } from '../../../../../lambdas/shared/batch-jobs/create-chunk-job.js';
import type { ChunkPlan } from '../../../../../lambdas/shared/run/work-records.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../../../local/runner/local-aws.js';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../../../../local/runner/local-dynamodb.js';
import { BUCKET, runState, writePlan } from '../../run-fixtures.js';
import { freshWorkspace, type SubmitWorkspace, submitDeps } from './submit-fixtures.js';

let dynamo: LocalDynamoDb;
let client: DynamoDBClient;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

let workspace: SubmitWorkspace;
let queue: DynamoDbAdmissionQueue;
let clock: Date;
let chunks: ChunkPlan[];
beforeEach(async () => {
  workspace = freshWorkspace();
  // Each test its own table's worth of state: empty the queue and open the gate.
  queue = new DynamoDbAdmissionQueue(client, dynamo.tableName);
  for (const ticket of await queue.head(100)) await queue.remove(ticket);
  await queue.openGate();
  clock = new Date('2026-11-03T12:00:00.000Z');
  chunks = (
    await writePlan(workspace.store, [
      { kind: 'generate', keys: ['a'] },
      { kind: 'generate', keys: ['b'] },
    ])
  ).chunks as ChunkPlan[];
});

/** Two runs over the same chunk files, the first uploaded a minute before the second. */
const EARLY = runState({ runId: '20261103T101530Z-early0000000000', uploadedAt: '2026-11-03T10:15:30.000Z' });
const LATE = runState({ runId: '20261103T101630Z-late00000000000', uploadedAt: '2026-11-03T10:16:30.000Z' });

const admit = (run: typeof EARLY, admission: Partial<AdmissionDeps> = {}, only = chunks) =>
  admitChunks(run, only, {
    ...submitDeps(workspace, { now: () => clock }),
    concurrency: 4,
    admission: { queue, ...admission },
  });
const advance = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};
const outcomes = (map: Map<number, ChunkOutcome>) => [...map.entries()].sort(([a], [b]) => a - b);

describe('admitChunks', () => {
  it("lets a later run create nothing while an earlier run's chunks wait ahead of it", async () => {
    workspace.fake.rateLimit('createBatch', 2);
    await admit(EARLY); // both its creates are refused: its chunks stay queued, the gate closes
    advance(61); // the gate's wait has passed; the early run's tickets are still fresh
    const creates = workspace.fake.calls.createBatch;

    expect(outcomes(await admit(LATE))).toEqual([
      [0, 'waiting'],
      [1, 'waiting'],
    ]);
    expect(workspace.fake.calls.createBatch).toBe(creates);
    expect(
      (await queue.head(10)).map(
        (ticket) => `${ticket.runId === EARLY.runId ? 'early' : 'late'}-${ticket.chunk}`,
      ),
    ).toEqual(['early-0', 'early-1', 'late-0', 'late-1']);
  });

  it("creates the head run's chunks at an open gate and takes them out of the queue", async () => {
    expect(outcomes(await admit(EARLY))).toEqual([
      [0, 'submitted'],
      [1, 'submitted'],
    ]);
    expect(await queue.head(10)).toEqual([]);
    expect(await queue.readGate()).toEqual({});
  });

  it('closes the gate for every run at the first refusal, for the first backoff', async () => {
    workspace.fake.rateLimit('createBatch', 1);
    await admit(EARLY, { backoffSeconds: 60 }, chunks.slice(0, 1));

    expect(await queue.readGate()).toEqual({
      closedUntil: new Date(clock.getTime() + 60_000),
      backoffSeconds: 60,
    });
    const creates = workspace.fake.calls.createBatch;
    advance(59);
    expect(outcomes(await admit(EARLY, { backoffSeconds: 60 }, chunks.slice(0, 1)))).toEqual([
      [0, 'waiting'],
    ]);
    expect(workspace.fake.calls.createBatch).toBe(creates);
  });

  it('probes a closed gate with one create, doubling the wait on each refusal up to the longest', async () => {
    const admission = { backoffSeconds: 60, maxBackoffSeconds: 150 };
    workspace.fake.rateLimit('createBatch', 10);
    await admit(EARLY, admission); // both chunks start at once at the open gate, both refused: closed 60 s
    expect(workspace.fake.calls.createBatch).toBe(2);
    const waits: number[] = [];
    for (let probe = 0; probe < 3; probe++) {
      const gate = await queue.readGate();
      clock = gate.closedUntil ?? clock;
      const before = workspace.fake.calls.createBatch;
      await admit(EARLY, admission);
      expect(workspace.fake.calls.createBatch - before).toBe(1);
      waits.push((await queue.readGate()).backoffSeconds ?? 0);
    }

    expect(waits).toEqual([120, 150, 150]);
  });

  it('opens the gate when a probe is accepted, and goes on with the chunks behind it', async () => {
    workspace.fake.rateLimit('createBatch', 1);
    await admit(EARLY);
    advance(60);

    expect(outcomes(await admit(EARLY))).toEqual([
      [0, 'submitted'],
      [1, 'submitted'],
    ]);
    expect(await queue.readGate()).toEqual({});
  });

  it('skips and deletes a ticket its run stopped refreshing, so the next run is the head', async () => {
    workspace.fake.rateLimit('createBatch', 1);
    await admit(EARLY); // queued, then never heard of again
    advance(601);
    expect(outcomes(await admit(LATE))).toEqual([
      [0, 'submitted'],
      [1, 'submitted'],
    ]);
    expect((await queue.head(10)).map((ticket) => ticket.runId)).toEqual([]);
  });

  it('answers a chunk its ledger says is created from the ledger, without Gemini and without queueing it', async () => {
    await admit(EARLY, {}, chunks.slice(0, 1));
    const creates = workspace.fake.calls.createBatch;

    expect(outcomes(await admit(EARLY, {}, chunks.slice(0, 1)))).toEqual([[0, 'submitted']]);
    expect(workspace.fake.calls.createBatch).toBe(creates);
    expect(await queue.head(10)).toEqual([]);
    expect(workspace.store.text(BUCKET, `work/${EARLY.runId}/jobs/chunk-00000.json`)).toContain('batchName');
  });
});
