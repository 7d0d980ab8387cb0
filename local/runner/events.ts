/**
 * The two AWS events that start runs, as the local runner delivers them to the rules: S3's
 * "Object Created" for an upload, and Step Functions' "Execution Status Change" when an execution
 * ends (the rule on TIMED_OUT and ABORTED starts the salvage run).
 */
import { randomUUID } from 'node:crypto';
import { unquoteEtag } from '../../lambdas/shared/object-store/object-store.js';
import type { RunInput } from '../../lambdas/shared/run/state-payloads.js';
import type { ExecutionStatusChangeEvent, ObjectCreatedEvent } from '../../lambdas/start-run/start-run.js';
import { executionArnOf, LOCAL_ACCOUNT, LOCAL_REGION } from './local-aws.js';

/** How Step Functions says an execution ended. */
export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** The uploaded object an "Object Created" event names. */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** As S3 returns it, quoted or not: the event carries it unquoted. */
  readonly etag: string;
}

/**
 * S3's sequencers for uploads seen by one runner: hexadecimal, upper case, and increasing with
 * every upload, so two uploads of the same key get different run ids.
 */
export function sequencer(): () => string {
  let count = 0;
  return () => {
    count += 1;
    return `${Date.now().toString(16)}${count.toString(16).padStart(8, '0')}`.toUpperCase();
  };
}

/** The event S3 puts on the default bus for a new object, as EventBridge delivers it to a rule. */
export function objectCreatedEvent(object: CreatedObject, sequence: string): ObjectCreatedEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString(),
    region: LOCAL_REGION,
    resources: [`arn:aws:s3:::${object.bucket}`],
    detail: {
      bucket: { name: object.bucket },
      object: { key: object.key, size: object.size, etag: unquoteEtag(object.etag), sequencer: sequence },
    },
  };
}

/** The execution whose end an "Execution Status Change" event reports. */
export interface EndedExecution {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: RunInput;
  readonly status: ExecutionStatus;
  /** The cause given to `StopExecution`, for a stopped execution. */
  readonly cause?: string;
}

/** The event Step Functions puts on the default bus when an execution ends. */
export function executionStatusChangeEvent(execution: EndedExecution): ExecutionStatusChangeEvent {
  const executionArn = executionArnOf(execution.stateMachineArn, execution.name);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString(),
    region: LOCAL_REGION,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      input: JSON.stringify(execution.input),
      cause: execution.cause ?? null,
      error: null,
    },
  };
}
