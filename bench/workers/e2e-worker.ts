/**
 * One file through the whole local pipeline (synthesized state machine, in-process S3, Gemini
 * emulator at zero job timings and raised enqueued-token caps), in its own process because the
 * local runner configures the handlers through `process.env`. Reports upload → manifest time, the
 * stack's start-up apart, and where the run's time went per state.
 *
 * The upload is multipart, as any client sends 100 MiB, and the "Object Created" event is then
 * delivered to the rule: `runFile` sends one PutObject, which the local S3 (fauxqs, 11 MiB request
 * bodies) refuses with 413 for a file this size.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectCreatedEvent } from '../../lambdas/start-run/start-run.js';
import { DEFAULT_ENQUEUED_TOKEN_LIMITS } from '../../local/gemini-emulator/index.js';
import { startLocalPipeline } from '../../local/local-pipeline.js';
import { reportResult, workerInput } from '../support/child.js';

export interface E2eWorkerInput {
  readonly path: string;
  readonly pollWaitMs: number;
}

export interface E2eWorkerResult {
  readonly startupMs: number;
  readonly runMs: number;
  readonly execution: string;
  readonly status: string;
  /** Time spent inside each Task state, summed over its invocations. */
  readonly stateMs: Record<string, number>;
  readonly stateCalls: Record<string, number>;
}

const UNLIMITED = 1e15;
const { path, pollWaitMs } = workerInput<E2eWorkerInput>();
const startedAt = new Map<string, number>();
const stateMs: Record<string, number> = {};
const stateCalls: Record<string, number> = {};

const setupStarted = performance.now();
const pipeline = await startLocalPipeline({
  emulator: {
    timing: { pendingMs: 0, runningMs: 0 },
    limits: {
      defaultEnqueuedTokens: UNLIMITED,
      enqueuedTokensPerModel: Object.fromEntries(
        Object.keys(DEFAULT_ENQUEUED_TOKEN_LIMITS).map((model) => [model, UNLIMITED]),
      ),
    },
  },
  pollWaitMs,
  onProgress: (event) => {
    if (event.phase === 'started') {
      startedAt.set(event.state, performance.now());
      return;
    }
    const began = startedAt.get(event.state) ?? performance.now();
    stateMs[event.state] = (stateMs[event.state] ?? 0) + performance.now() - began;
    stateCalls[event.state] = (stateCalls[event.state] ?? 0) + 1;
  },
});
const startupMs = performance.now() - setupStarted;
try {
  const runStarted = performance.now();
  const key = `${pipeline.inputPrefix}${basename(path)}`;
  const { ETag } = await new Upload({
    client: pipeline.s3,
    params: { Bucket: pipeline.bucket, Key: key, Body: createReadStream(path) },
    partSize: 8 * 1024 * 1024,
  }).done();
  const event: ObjectCreatedEvent = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${pipeline.bucket}`],
    detail: {
      bucket: { name: pipeline.bucket },
      object: {
        key,
        size: (await stat(path)).size,
        etag: (ETag ?? '').replaceAll('"', ''),
        sequencer: Date.now().toString(16).toUpperCase(),
      },
    },
  };
  const { runId } = await pipeline.deliver(event);
  if (!runId) throw new Error(`uploading ${key} started no run: the rule did not match it`);
  const outcome = await pipeline.waitForRun(runId);
  const result: E2eWorkerResult = {
    startupMs,
    runMs: performance.now() - runStarted,
    execution: outcome.execution,
    status: outcome.manifest.status,
    stateMs,
    stateCalls,
  };
  reportResult(result);
} finally {
  await pipeline.close();
}
