/**
 * A run as the CLI sees it: its execution (named after the run id), the records it keeps under
 * `work/<runId>/` and the manifest it writes last. Read through Step Functions and S3 only, so
 * the same code follows a deployed run and a local one.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Manifest } from '../lambdas/finalize-run/manifest.js';
import { isTerminalState } from '../lambdas/shared/gemini/gemini-batch-api.js';
import { resultKeys, workKeys } from '../lambdas/shared/run/bucket-layout.js';
import type { RunInput } from '../lambdas/shared/run/state-payloads.js';
import type { PollStatus, RunPlan } from '../lambdas/shared/run/work-records.js';
import { SALVAGED_STATUSES, salvageExecutionName } from '../lambdas/start-run/start-run.js';
import { CliUsageError, type PipelineStack } from './stack.js';

/** A run's execution, as DescribeExecution gives it. */
export interface RunExecution {
  readonly runId: string;
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: RunInput;
}

/** A run's progress from Gemini's counts, as Poll last recorded them. */
export interface RunProgress {
  readonly phase: 'preparing' | 'submitting' | 'running' | 'collecting' | 'finished';
  /** Accepted requests of the file, once Prepare has planned the run. */
  readonly accepted?: number;
  /** Finished (succeeded or failed) requests over every job Gemini has, retries in their own jobs. */
  readonly done: number;
  readonly total: number;
  readonly jobs: readonly { chunk: number; state: string; done: number; total: number }[];
}

/** Step Functions' name for the execution `name` of `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** Step Functions execution names: 1–80 letters, digits, `-` and `_` (the run ids are such names). */
const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** The execution of run `runId`, or undefined when the state machine has none of that name. */
export async function findExecution(stack: PipelineStack, name: string): Promise<RunExecution | undefined> {
  if (!RUN_ID.test(name)) {
    throw new CliUsageError(`"${name}" is not a run id (like 20260101T120000Z-0123456789abcdef)`);
  }
  try {
    const described = await stack.sfn.send(
      new DescribeExecutionCommand({ executionArn: executionArnOf(stack.stateMachineArn, name) }),
    );
    return {
      runId: (JSON.parse(described.input ?? '{}') as RunInput).runId ?? name,
      status: described.status ?? 'UNKNOWN',
      startDate: described.startDate ?? new Date(),
      stopDate: described.stopDate,
      input: JSON.parse(described.input ?? '{}') as RunInput,
    };
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

/** The execution of run `runId`; a run the stack never started is a usage error. */
export async function describeRun(stack: PipelineStack, runId: string): Promise<RunExecution> {
  const execution = await findExecution(stack, runId);
  if (!execution) throw new CliUsageError(`stack ${stack.name} has no run ${runId}`);
  return execution;
}

/** An S3 object parsed as JSON, or undefined while it does not exist. */
export async function readJson<T>(stack: PipelineStack, key: string): Promise<T | undefined> {
  try {
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    return JSON.parse((await object.Body?.transformToString()) ?? 'null') as T;
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export function runManifestKey(stack: PipelineStack, execution: RunExecution): string {
  return resultKeys(execution.input.key, execution.input.runId, stack.inputPrefix).manifest;
}

/**
 * Whether the run has ended, and its manifest then. A run whose execution timed out or was
 * stopped ends when its salvage run does (that run writes the manifest).
 */
export async function runEnd(
  stack: PipelineStack,
  execution: RunExecution,
): Promise<{ readonly ended: false } | { readonly ended: true; readonly manifest?: Manifest }> {
  if (execution.status === 'RUNNING') return { ended: false };
  if (SALVAGED_STATUSES.some((status) => status === execution.status)) {
    const salvage = await findExecution(stack, salvageExecutionName(execution.runId));
    if (!salvage || salvage.status === 'RUNNING') return { ended: false };
  }
  return { ended: true, manifest: await readJson<Manifest>(stack, runManifestKey(stack, execution)) };
}

/** What Gemini's counts say of the run, from its plan and its last poll status. */
export async function runProgress(stack: PipelineStack, execution: RunExecution): Promise<RunProgress> {
  const keys = workKeys(execution.runId);
  const [plan, poll] = await Promise.all([
    readJson<RunPlan>(stack, keys.plan),
    readJson<PollStatus>(stack, keys.pollStatus),
  ]);
  const records = poll?.jobs ?? [];
  const jobs = records.map((job) => ({
    chunk: job.chunk,
    state: job.state.replace(/^BATCH_STATE_/, ''),
    done: job.successfulCount + job.failedCount,
    total: job.requestCount,
  }));
  const done = jobs.reduce((sum, job) => sum + job.done, 0);
  const total = jobs.reduce((sum, job) => sum + job.total, 0);
  const allEnded = records.length > 0 && records.every((job) => isTerminalState(job.state));
  const phase = !plan ? 'preparing' : !poll ? 'submitting' : allEnded ? 'collecting' : 'running';
  return { phase, accepted: plan?.acceptedCount, done, total, jobs };
}

/** Executions of the state machine, newest first, at most `limit`; salvage runs left out. */
export async function recentRuns(
  stack: PipelineStack,
  limit: number,
): Promise<{ name: string; status: string; startDate?: Date }[]> {
  const found: { name: string; status: string; startDate?: Date }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await stack.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, maxResults: 100, nextToken }),
    );
    for (const execution of page.executions ?? []) {
      if (!execution.name || execution.name.endsWith(salvageExecutionName(''))) continue;
      found.push({
        name: execution.name,
        status: execution.status ?? 'UNKNOWN',
        startDate: execution.startDate,
      });
      if (found.length >= limit) return found;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}
