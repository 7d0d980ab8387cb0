/**
 * The whole pipeline on one machine: an S3-compatible server (fauxqs), the Gemini emulator (or real
 * Gemini), and the state machine synthesized from the CDK stack, run by aws-local-stepfunctions with
 * every Task mapped to the same handler module Lambda runs. Configuration (models, prefix, poll
 * schedule) comes from the synthesized functions' environment, so a local run is configured exactly
 * as a deployed one; only endpoints and the API key differ.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { startFauxqs } from 'fauxqs';
import { matchesEventPattern } from '../infra/event-pattern.js';
import {
  inputRuleEventPattern,
  kebabCase,
  stateMachineDefinition,
  synthesizePipelineTemplate,
} from '../infra/template-workflow.js';
import type { Manifest } from '../lambdas/finalize-run/finalize-run.js';
import { resultKeys } from '../lambdas/shared/layout.js';
import type { RunInput, RunState } from '../lambdas/shared/run-state.js';
import type { ObjectCreatedEvent } from '../lambdas/start-run/start-run.js';
import { type AwsStandIns, type PublishedEvent, startAwsStandIns } from './aws-stand-ins.js';
import {
  type GeminiEmulator,
  type GeminiEmulatorOptions,
  startGeminiEmulator,
} from './gemini-emulator/index.js';

// aws-local-stepfunctions 3 needs Promise.withResolvers (Node 22); without it every Task fails and a Catch hides it.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
export const LOCAL_BUCKET = 'gemini-batch-local';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:GeminiBatchPipeline`;
const POLL_WAIT_STATE = 'Wait For Jobs';

/** aws-local-stepfunctions types inputs as JSON values but does not export that type. */
type ExecutionInput = Parameters<StateMachine['run']>[0];

/** What one Task did, for live progress. */
export type ProgressEvent =
  | { readonly runId: string; readonly state: string; readonly phase: 'started' }
  | { readonly runId: string; readonly state: string; readonly phase: 'succeeded'; readonly result: unknown }
  | { readonly runId: string; readonly state: string; readonly phase: 'failed'; readonly error: Error };

export type TaskHandler = (input: RunState) => Promise<unknown>;

export interface LocalPipelineOptions {
  /** Real Gemini instead of the emulator: pass the key (GEMINI_API_KEY). @default - the emulator */
  readonly geminiApiKey?: string;
  /** Options for the emulator when it is used. */
  readonly emulator?: GeminiEmulatorOptions;
  /** Real time between polls offline (Gemini's own backoff would make a local run wait minutes). @default 250 */
  readonly pollWaitMs?: number;
  /** Port for the S3 server. @default 0 (any free port) */
  readonly s3Port?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Wraps a Task's handler: how tests inject crashes between steps. */
  readonly wrapTask?: (state: string, handler: TaskHandler) => TaskHandler;
  /** Show the functions' structured logs. @default false */
  readonly verbose?: boolean;
  /** Settings to give the functions over the synthesized stack's, e.g. small chunk limits in tests. */
  readonly environment?: Readonly<Record<string, string>>;
}

export interface RunOutcome {
  readonly runId: string;
  /** How the execution ended; the run's own status is in the manifest. */
  readonly execution: 'SUCCEEDED' | 'FAILED';
  readonly manifest: Manifest;
}

export interface DeliveryOutcome {
  readonly matched: boolean;
  readonly runId?: string;
  readonly started?: boolean;
}

export interface LocalPipeline {
  readonly s3: S3Client;
  readonly s3Endpoint: string;
  readonly bucket: string;
  readonly inputPrefix: string;
  readonly emulator: GeminiEmulator | undefined;
  /** Events the run put on the bus. */
  readonly events: readonly PublishedEvent[];
  /** Uploads content under `key` as a user would, then delivers S3's "Object Created" event. */
  upload(
    key: string,
    body: string | Uint8Array | Readable,
    options?: { readonly metadata?: Readonly<Record<string, string>> },
  ): Promise<{ event: ObjectCreatedEvent; delivery: DeliveryOutcome }>;
  /** Delivers S3's "Object Created" event for an object already uploaded by any S3 client. */
  notify(key: string): Promise<{ event: ObjectCreatedEvent; delivery: DeliveryOutcome }>;
  /** Delivers an event to the rule, as EventBridge does (also twice, to test duplicates). */
  deliver(event: ObjectCreatedEvent): Promise<DeliveryOutcome>;
  /** Resolves when the run's execution has ended. */
  waitForRun(runId: string): Promise<RunOutcome>;
  /** Uploads a local file under the input prefix and waits for its run. */
  runFile(path: string): Promise<RunOutcome>;
  /** Bytes of an object, or undefined. */
  readObject(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

type HandlerModule = { readonly handler: (event: never) => Promise<unknown> };

/**
 * Every function's handler module, by folder (`Prepare Requests` → `prepare-requests`). Imported
 * only after the environment is set, because handlers read their configuration at module scope.
 */
const HANDLER_MODULES: Readonly<Record<string, () => Promise<HandlerModule>>> = {
  'start-run': () => import('../lambdas/start-run/handler.js'),
  'prepare-requests': () => import('../lambdas/prepare-requests/handler.js'),
  'submit-batch-jobs': () => import('../lambdas/submit-batch-jobs/handler.js'),
  'poll-batch-jobs': () => import('../lambdas/poll-batch-jobs/handler.js'),
  'collect-results': () => import('../lambdas/collect-results/handler.js'),
  'finalize-run': () => import('../lambdas/finalize-run/handler.js'),
};

async function loadHandler<T>(folder: string): Promise<T> {
  const load = HANDLER_MODULES[folder];
  if (!load)
    throw new Error(`the state machine invokes ${folder}, but there is no lambdas/${folder}/handler.ts`);
  return (await load()).handler as T;
}

/** Mirrors what Lambda reports for a thrown error: Error is its name, Cause a JSON document. */
function asLambdaError(error: unknown): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const reported = new Error(
    JSON.stringify({
      errorType: original.name,
      errorMessage: original.message,
      trace: original.stack?.split('\n') ?? [],
    }),
  );
  reported.name = original.name;
  return reported;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: { readonly Environment?: { readonly Variables?: Record<string, unknown> } };
}

/** The plain (non-token) environment variables the stack gives its functions: the run's configuration. */
function configurationFrom(template: {
  Resources?: Record<string, TemplateResource>;
}): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    for (const [name, value] of Object.entries(resource.Properties?.Environment?.Variables ?? {})) {
      if (typeof value === 'string') variables[name] = value;
    }
  }
  return variables;
}

export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const template = synthesizePipelineTemplate();
  const definition = stateMachineDefinition(template);
  const pattern = inputRuleEventPattern(template, { bucketName: LOCAL_BUCKET });
  const configuration = configurationFrom(template);
  const inputPrefix = configuration.INPUT_PREFIX ?? 'inputs/';

  const fauxqs = await startFauxqs({ port: options.s3Port ?? 0, logger: false });
  const emulator = options.geminiApiKey ? undefined : await startGeminiEmulator(options.emulator);
  const scratch = await mkdtemp(join(tmpdir(), 'gemini-batch-local-'));
  const events: PublishedEvent[] = [];
  const runs = new Map<string, Promise<RunOutcome>>();
  const running = new Set<string>();

  let startExecution: (name: string, input: RunInput) => void = () => undefined;
  const standIns: AwsStandIns = await startAwsStandIns(STATE_MACHINE_ARN, {
    startExecution: ({ name, input }) => startExecution(name, JSON.parse(input) as RunInput),
    isRunning: (name) => running.has(name),
    putEvent: (event) => events.push(event),
  });

  // The functions read their configuration at module scope: set it before they are imported.
  Object.assign(process.env, {
    ...configuration,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_S3: fauxqs.address,
    AWS_ENDPOINT_URL_SFN: standIns.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: standIns.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    STATE_MACHINE_ARN,
    GEMINI_API_KEY: options.geminiApiKey ?? emulator?.apiKey ?? '',
    GEMINI_BASE_URL: emulator?.url ?? '',
    POWERTOOLS_LOG_LEVEL: options.verbose ? 'INFO' : 'ERROR',
    TMPDIR: scratch,
    ...options.environment,
  });
  // Offline the key comes from GEMINI_API_KEY, never from a secret.
  delete process.env.GEMINI_API_KEY_SECRET_ARN;

  const s3 = new S3Client({ endpoint: fauxqs.address, region: REGION, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: LOCAL_BUCKET }));

  const taskStates = Object.entries(definition.States as Record<string, { Type: string }>)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name]) => name);
  const handlers: Record<string, (input: ExecutionInput) => Promise<ExecutionInput>> = {};
  for (const state of taskStates) {
    const loaded = await loadHandler<TaskHandler>(kebabCase(state));
    const handler = options.wrapTask ? options.wrapTask(state, loaded) : loaded;
    handlers[state] = async (input) => {
      const runId = (input as unknown as RunState).runId;
      options.onProgress?.({ runId, state, phase: 'started' });
      try {
        const result = await handler(input as unknown as RunState);
        options.onProgress?.({ runId, state, phase: 'succeeded', result });
        return result as ExecutionInput;
      } catch (error) {
        options.onProgress?.({ runId, state, phase: 'failed', error: error as Error });
        throw asLambdaError(error);
      }
    };
  }
  const startRun =
    await loadHandler<(event: ObjectCreatedEvent) => Promise<{ runId?: string; started?: boolean }>>(
      'start-run',
    );

  const stateMachine = new StateMachine(definition as StateMachineDefinition);
  const retryPauses = Object.fromEntries(taskStates.map((state) => [state, 50]));

  const readObject = async (key: string): Promise<string | undefined> => {
    try {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key: key }));
      return await Body?.transformToString();
    } catch {
      return undefined;
    }
  };

  startExecution = (name, input) => {
    running.add(name);
    const execution = stateMachine.run(input as unknown as ExecutionInput, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides: { [POLL_WAIT_STATE]: options.pollWaitMs ?? 250 },
        retryIntervalOverrides: retryPauses,
      },
    });
    const outcome = (async (): Promise<RunOutcome> => {
      let status: RunOutcome['execution'] = 'SUCCEEDED';
      try {
        await execution.result;
      } catch {
        status = 'FAILED';
      } finally {
        running.delete(name);
      }
      const manifestText = await readObject(resultKeys(input.key, input.runId, inputPrefix).manifest);
      if (!manifestText) throw new Error(`run ${name} ended (${status}) without writing manifest.json`);
      return { runId: name, execution: status, manifest: JSON.parse(manifestText) as Manifest };
    })();
    outcome.catch(() => undefined);
    runs.set(name, outcome);
  };

  let sequencer = 0;
  const deliver = async (event: ObjectCreatedEvent): Promise<DeliveryOutcome> => {
    if (!matchesEventPattern(pattern, event)) return { matched: false };
    const outcome = await startRun(event);
    return {
      matched: true,
      ...(outcome.runId ? { runId: outcome.runId } : {}),
      ...(outcome.started !== undefined ? { started: outcome.started } : {}),
    };
  };

  /** Delivers the "Object Created" event S3 would send for an object already in the bucket. */
  const notify: LocalPipeline['notify'] = async (key) => {
    const { ContentLength: size, ETag } = await s3.send(
      new HeadObjectCommand({ Bucket: LOCAL_BUCKET, Key: key }),
    );
    sequencer += 1;
    const event: ObjectCreatedEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: REGION,
      resources: [`arn:aws:s3:::${LOCAL_BUCKET}`],
      detail: {
        bucket: { name: LOCAL_BUCKET },
        object: {
          key,
          size: size ?? 0,
          etag: (ETag ?? '').replaceAll('"', ''),
          sequencer: `${Date.now().toString(16)}${sequencer.toString(16).padStart(8, '0')}`.toUpperCase(),
        },
      },
    };
    return { event, delivery: await deliver(event) };
  };

  const upload: LocalPipeline['upload'] = async (key, body, options = {}) => {
    // lib-storage splits large bodies into parts, as the AWS CLI does: the local S3 server, like
    // S3 itself, limits single requests, and a stream never sits whole in memory.
    await new Upload({
      client: s3,
      params: {
        Bucket: LOCAL_BUCKET,
        Key: key,
        Body: body,
        ...(options.metadata ? { Metadata: { ...options.metadata } } : {}),
      },
    }).done();
    return notify(key);
  };

  const waitForRun = async (runId: string): Promise<RunOutcome> => {
    const run = runs.get(runId);
    if (!run) throw new Error(`no run ${runId} was started`);
    return run;
  };

  return {
    s3,
    s3Endpoint: fauxqs.address,
    bucket: LOCAL_BUCKET,
    inputPrefix,
    emulator,
    events,
    upload,
    notify,
    deliver,
    waitForRun,
    readObject,
    async runFile(path) {
      const key = `${inputPrefix}${basename(path)}`;
      const { delivery } = await upload(key, createReadStream(path));
      if (!delivery.runId) throw new Error(`uploading ${key} started no run: the rule did not match it`);
      return waitForRun(delivery.runId);
    },
    async close() {
      await Promise.allSettled([...runs.values()]);
      await standIns.stop();
      await emulator?.stop();
      await fauxqs.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
