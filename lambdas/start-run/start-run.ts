import { createHash } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { unquoteEtag } from '../shared/object-store/object-store.js';
import type { RunInput, RunSalvage } from '../shared/run/state-payloads.js';

/** `detail` of S3's EventBridge "Object Created" event. Unlike classic S3 notifications, the key is not URL-encoded. */
export interface ObjectCreatedDetail {
  readonly bucket: { readonly name: string };
  readonly object: {
    readonly key: string;
    readonly size?: number;
    readonly etag?: string;
    readonly 'version-id'?: string;
    readonly sequencer?: string;
  };
}

export type ObjectCreatedEvent = EventBridgeEvent<'Object Created', ObjectCreatedDetail>;

/** `detail` of Step Functions' EventBridge "Step Functions Execution Status Change" event. */
export interface ExecutionStatusChangeDetail {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  /** The execution's input, as a JSON string. */
  readonly input: string | null;
  readonly cause?: string | null;
  readonly error?: string | null;
}

export type ExecutionStatusChangeEvent = EventBridgeEvent<
  'Step Functions Execution Status Change',
  ExecutionStatusChangeDetail
>;

/** How an execution can end without any Catch seeing it: what a salvage run answers. */
export const SALVAGED_STATUSES: readonly RunSalvage['status'][] = ['TIMED_OUT', 'ABORTED'];

/** The salvage execution of a run: one per run, so a repeated event starts nothing new. */
export const salvageExecutionName = (runId: string): string => `${runId}-salvage`;

export interface StartRunDeps {
  /** Starts the workflow under `name`; resolves false if an execution of that name already exists. */
  readonly startExecution: (name: string, input: RunInput) => Promise<boolean>;
  readonly inputPrefix: string;
}

export type StartRunOutcome =
  | { readonly runId: string; readonly started: boolean }
  | { readonly ignored: string };

/**
 * The run id: the upload's time (so runs sort by time) and a hash of what identifies this upload —
 * bucket, key, version and S3's sequencer. A duplicated delivery of the same event gets the same id,
 * and Step Functions refuses a second execution with the same name: nothing runs twice. A new
 * upload of the same key has a new sequencer, hence a new run.
 */
export function runIdFor(event: ObjectCreatedEvent): string {
  const { bucket, object } = event.detail;
  const identity = [bucket.name, object.key, object['version-id'] ?? '', object.sequencer ?? event.id].join(
    '\u0000',
  );
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  const stamp = new Date(event.time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${digest}`;
}

/**
 * Starts one workflow execution per uploaded `.jsonl` file under the input prefix, for exactly the
 * version uploaded: the input names its version id and ETag, which Prepare reads by.
 */
export async function startRun(event: ObjectCreatedEvent, deps: StartRunDeps): Promise<StartRunOutcome> {
  const { bucket, object } = event.detail;
  // The rule already filters; checking again means a misconfigured rule cannot make results re-trigger runs.
  if (!object.key.startsWith(deps.inputPrefix) || !object.key.toLowerCase().endsWith('.jsonl')) {
    return { ignored: `s3://${bucket.name}/${object.key} is not a .jsonl file under ${deps.inputPrefix}` };
  }
  const runId = runIdFor(event);
  const input: RunInput = {
    runId,
    bucket: bucket.name,
    key: object.key,
    ...(object['version-id'] ? { versionId: object['version-id'] } : {}),
    // The run reads exactly these bytes: a later upload of the key is a run of its own.
    ...(object.etag ? { etag: unquoteEtag(object.etag) } : {}),
    ...(object.size !== undefined ? { sizeBytes: object.size } : {}),
    uploadedAt: new Date(event.time).toISOString(),
  };
  return { runId, started: await deps.startExecution(runId, input) };
}

/**
 * Starts the salvage run of a run whose execution timed out or was stopped (a cancel): the same
 * state machine, with `salvage` in its input, stops the run's Gemini jobs, collects what finished and
 * writes the manifest. Nothing else can: a timeout or a stop skips every Catch. A salvage run that
 * itself ends this way is not salvaged again.
 */
export async function startSalvage(
  event: ExecutionStatusChangeEvent,
  deps: Pick<StartRunDeps, 'startExecution'>,
): Promise<StartRunOutcome> {
  const { detail } = event;
  const status = SALVAGED_STATUSES.find((salvaged) => salvaged === detail.status);
  if (!status) return { ignored: `execution ${detail.name} ended ${detail.status}: its own Finalize ran` };
  const input = parseRunInput(detail.input);
  if (!input) return { ignored: `execution ${detail.name} has no run input to salvage` };
  if (input.salvage) {
    return {
      ignored: `execution ${detail.name} was already a salvage run (of ${input.salvage.executionName})`,
    };
  }
  const salvage: RunSalvage = {
    status,
    executionName: detail.name,
    ...(detail.cause ? { cause: detail.cause } : {}),
  };
  const name = salvageExecutionName(input.runId);
  return { runId: name, started: await deps.startExecution(name, { ...input, salvage }) };
}

function parseRunInput(text: string | null): RunInput | undefined {
  if (!text) return undefined;
  try {
    const input = JSON.parse(text) as Partial<RunInput>;
    return typeof input.runId === 'string' &&
      typeof input.bucket === 'string' &&
      typeof input.key === 'string'
      ? (input as RunInput)
      : undefined;
  } catch {
    return undefined;
  }
}
