/**
 * `ls`, `results RUN` and `cancel RUN`: the stack's recent runs with their status, counts and cost;
 * what a run wrote, downloaded; and stopping a run as `aws stepfunctions stop-execution` does, after
 * which its salvage run cancels the Gemini jobs, keeps what finished and writes the manifest.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Manifest } from '../lambdas/finalize-run/manifest.js';
import { inputStem, resultKeys } from '../lambdas/shared/run/bucket-layout.js';
import { salvageExecutionName } from '../lambdas/start-run/start-run.js';
import {
  describeRun,
  executionArnOf,
  findExecution,
  readJson,
  recentRuns,
  runManifestKey,
  runProgress,
} from './runs.js';
import { CliUsageError, type PipelineStack } from './stack.js';

/** One row of `ls`. */
export interface RunListing {
  readonly runId: string;
  readonly file: string;
  /** The manifest's status once written, else the execution's (RUNNING, or how it ended). */
  readonly status: string;
  readonly startDate?: string;
  readonly done: number;
  readonly total: number;
  readonly costUsd?: number;
  readonly cost?: Manifest['cost'];
}

export async function listRuns(stack: PipelineStack, limit: number): Promise<RunListing[]> {
  const recent = await recentRuns(stack, limit);
  return Promise.all(
    recent.map(async ({ name, status, startDate }) => {
      const execution = await describeRun(stack, name);
      const manifest = await readJson<Manifest>(stack, runManifestKey(stack, execution));
      const counts = manifest
        ? { done: manifest.counts.succeeded + manifest.counts.failed, total: manifest.counts.accepted }
        : await runProgress(stack, execution);
      return {
        runId: name,
        file: execution.input.key,
        status: manifest?.status ?? status,
        startDate: startDate?.toISOString(),
        done: counts.done,
        total: counts.total,
        cost: manifest?.cost,
        costUsd: manifest?.cost.total,
      };
    }),
  );
}

/** Downloads every object under the run's results folder into `outDir`; resolves to the paths. */
export async function downloadResults(
  stack: PipelineStack,
  runId: string,
  outDir: string | undefined,
): Promise<string[]> {
  const execution = await describeRun(stack, runId);
  const { root } = resultKeys(execution.input.key, execution.input.runId, stack.inputPrefix);
  const dir = outDir ?? join('out', inputStem(execution.input.key, stack.inputPrefix), runId);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: root, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])));
    token = page.NextContinuationToken;
  } while (token);
  if (keys.length === 0) {
    throw new CliUsageError(`run ${runId} has written nothing under s3://${stack.bucket}/${root} yet`);
  }
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const key of keys) {
    const path = join(dir, key.slice(root.length));
    await mkdir(join(path, '..'), { recursive: true });
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    // Streamed to disk: a results file can be gigabytes.
    await pipeline(object.Body as Readable, createWriteStream(path));
    written.push(relative(process.cwd(), path) || path);
  }
  return written;
}

/** Stops the run's execution with `cause`; resolves to the salvage run's name. */
export async function cancelRun(stack: PipelineStack, runId: string, cause: string): Promise<string> {
  const execution = await describeRun(stack, runId);
  if (execution.status !== 'RUNNING') {
    const salvage = await findExecution(stack, salvageExecutionName(execution.runId));
    throw new CliUsageError(
      `run ${runId} is not running: its execution ended ${execution.status}${salvage ? ` (salvage run ${salvage.status})` : ''}`,
    );
  }
  await stack.sfn.send(
    new StopExecutionCommand({ executionArn: executionArnOf(stack.stateMachineArn, runId), cause }),
  );
  return salvageExecutionName(execution.runId);
}
