/**
 * The whole pipeline on one machine: an S3-compatible server (fauxqs), the Gemini emulator (or any
 * Gemini-protocol endpoint, when asked), and the state machine synthesized from the CDK stack, run
 * by aws-local-stepfunctions with every Task mapped to its function. Each function runs in a
 * sandbox of its own (`local/lambda/`): the bundle `cdk deploy` uploads, or its source, with the
 * environment the template gives it. Configuration (models, prefix, poll schedule) comes from the
 * template, so a local run is configured exactly as a deployed one; only endpoints and the API key
 * differ.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  ExecutionAbortedError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { startFauxqs } from 'fauxqs';
import type { Manifest } from '../lambdas/finalize-run/finalize-run.js';
import { resultKeys } from '../lambdas/shared/run/bucket-layout.js';
import type { RunInput, RunState } from '../lambdas/shared/run/state-payloads.js';
import { ENV } from '../lambdas/shared/runtime/env.js';
import type { ExecutionStatusChangeEvent, ObjectCreatedEvent } from '../lambdas/start-run/start-run.js';
import { type AwsStandIns, type PublishedEvent, startAwsStandIns } from './aws-stand-ins.js';
import {
  type GeminiEmulator,
  type GeminiEmulatorOptions,
  startGeminiEmulator,
} from './gemini-emulator/index.js';
import { type LocalFunction, startLocalFunction } from './lambda/local-function.js';
import { matchesEventPattern } from './template/event-pattern.js';
import {
  type CfnTemplate,
  executionRuleEventPattern,
  inputRuleEventPattern,
  kebabCase,
  stateMachineDefinition,
  synthesizeCloudAssembly,
  synthesizePipelineTemplate,
  type TemplateFunction,
  templateFunctions,
} from './template/template-workflow.js';

const REGION = 'us-east-1';
/** The local S3 checks no signature, but the SDK signs every request. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const ACCOUNT = '000000000000';
export const LOCAL_BUCKET = 'gemini-batch-local';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:GeminiBatchPipeline`;
const POLL_WAIT_STATE = 'Wait For Jobs';
/** The stack's name, and so the template's file name in a cloud assembly. */
const STACK_NAME = 'GeminiBatchPipeline';
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Google's Gemini API, for `--live`. */
export const GEMINI_API_URL = 'https://generativelanguage.googleapis.com';

/** aws-local-stepfunctions types inputs as JSON values but does not export that type. */
type ExecutionInput = Parameters<StateMachine['run']>[0];

/** What one Task did, for live progress. */
export type ProgressEvent =
  | { readonly runId: string; readonly state: string; readonly phase: 'started' }
  | { readonly runId: string; readonly state: string; readonly phase: 'succeeded'; readonly result: unknown }
  | { readonly runId: string; readonly state: string; readonly phase: 'failed'; readonly error: Error };

export type TaskHandler = (input: RunState) => Promise<unknown>;

/** A Gemini-protocol endpoint other than the emulator: Google's own (`--live`), a proxy, a replay. */
export interface GeminiEndpoint {
  readonly url: string;
  readonly apiKey: string;
}

export interface LocalPipelineOptions {
  /**
   * Which code the functions run: their source (`lambdas/<name>/handler.ts`, for a fast edit-test
   * loop), or the bundles of a cloud assembly synthesized with bundling: the files `cdk deploy`
   * uploads.
   * @default 'source'
   */
  readonly code?: 'source' | 'bundled';
  /**
   * For `code: 'bundled'`: a cloud assembly already synthesized with bundling
   * (`synthesizeCloudAssembly`), so several pipelines share one synth.
   * @default - synthesized into a temporary directory
   */
  readonly assemblyDir?: string;
  /**
   * Call this endpoint instead of starting the emulator. Only ever set on request (`--live`,
   * `--gemini-url`): a key in the shell never turns it on.
   * @default - the emulator
   */
  readonly gemini?: GeminiEndpoint;
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
  /**
   * Times out a run's first execution after this many seconds instead of the template's timeout,
   * to see a timeout offline; the salvage run it starts keeps the template's.
   * @default - the template's TimeoutSeconds
   */
  readonly executionTimeoutSeconds?: number;
  /** Settings to give the functions over the synthesized stack's, e.g. small chunk limits in tests. */
  readonly environment?: Readonly<Record<string, string>>;
}

/** How Step Functions says an execution ended. */
export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface RunOutcome {
  readonly runId: string;
  /** How the run's (first) execution ended; the run's own status is in the manifest. */
  readonly execution: ExecutionStatus;
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
  /** The Gemini endpoint the functions call, and whether it is Google's own. */
  readonly gemini: { readonly url: string; readonly live: boolean };
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
  /**
   * Resolves when the run's execution has ended, and its salvage run too when the execution timed
   * out or was stopped (the manifest is then the salvage run's).
   */
  waitForRun(runId: string): Promise<RunOutcome>;
  /**
   * Cancels a running run the way a deployed one is cancelled, by stopping its execution: the
   * salvage run cancels its Gemini jobs, collects what finished, and the manifest says CANCELLED.
   */
  cancel(runId: string, cause?: string): void;
  /** Uploads a local file under the input prefix and waits for its run. */
  runFile(path: string): Promise<RunOutcome>;
  /** Bytes of an object, or undefined. */
  readObject(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * What the template fills in at deploy time, filled in with this machine's values: the function
 * reads the Gemini key from `GEMINI_API_KEY` offline instead of the secret, and starts the local
 * state machine. Any other deploy-time value would be a variable the local runner cannot honour.
 */
function localValuesFor(
  fn: TemplateFunction,
  local: { readonly geminiUrl: string; readonly geminiApiKey: string },
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of fn.deployTimeVariables) {
    if (name === ENV.apiKeySecretArn) {
      values[ENV.apiKey] = local.geminiApiKey;
      if (local.geminiUrl !== GEMINI_API_URL) values[ENV.baseUrl] = local.geminiUrl;
    } else if (name === ENV.stateMachineArn) {
      values[ENV.stateMachineArn] = STATE_MACHINE_ARN;
    } else {
      throw new Error(
        `function ${fn.folder} gets ${name} from the stack at deploy time; the local runner has no value for it`,
      );
    }
  }
  return values;
}

/** Where a function's code is: its bundle in the assembly, or its source file. */
function codeOf(fn: TemplateFunction, assemblyDir: string | undefined): { file: string; exportName: string } {
  const [module = 'index', exportName = 'handler'] = fn.handler.split('.');
  if (assemblyDir === undefined) {
    return { file: join(REPO_ROOT, 'lambdas', fn.folder, 'handler.ts'), exportName: 'handler' };
  }
  if (!fn.assetPath) throw new Error(`the cloud assembly has no bundle for function ${fn.folder}`);
  return { file: join(assemblyDir, fn.assetPath, `${module}.mjs`), exportName };
}

/** The template and, for bundled code, the cloud assembly holding the bundles. */
async function pipelineCode(
  options: LocalPipelineOptions,
  scratch: string,
): Promise<{ template: CfnTemplate; assemblyDir?: string }> {
  if ((options.code ?? 'source') === 'source') return { template: synthesizePipelineTemplate() };
  if (options.assemblyDir) {
    const file = join(options.assemblyDir, `${STACK_NAME}.template.json`);
    return {
      template: JSON.parse(await readFile(file, 'utf8')) as CfnTemplate,
      assemblyDir: options.assemblyDir,
    };
  }
  const assemblyDir = join(scratch, 'cdk.out');
  return { template: synthesizeCloudAssembly(assemblyDir), assemblyDir };
}

export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  if (!('withResolvers' in Promise)) {
    // aws-local-stepfunctions needs it; without it every Task fails and a Catch hides why.
    throw new Error(
      `the local pipeline needs Node 24, Lambda's runtime (this is Node ${process.versions.node})`,
    );
  }
  const scratch = await mkdtemp(join(tmpdir(), 'gemini-batch-local-'));
  const { template, assemblyDir } = await pipelineCode(options, scratch);
  const definition = stateMachineDefinition(template);
  const pattern = inputRuleEventPattern(template, { bucketName: LOCAL_BUCKET });
  const functionsInTemplate = templateFunctions(template);
  const inputPrefix = functionsInTemplate.get('start-run')?.environment[ENV.inputPrefix] ?? 'inputs/';

  const fauxqs = await startFauxqs({ port: options.s3Port ?? 0, logger: false });
  const emulator = options.gemini ? undefined : await startGeminiEmulator(options.emulator);
  const gemini = options.gemini ?? {
    url: emulator?.url ?? '',
    apiKey: emulator?.apiKey ?? '',
  };
  const events: PublishedEvent[] = [];
  const runs = new Map<string, Promise<RunOutcome>>();
  const running = new Set<string>();

  let startExecution: (name: string, input: RunInput) => void = () => undefined;
  const standIns: AwsStandIns = await startAwsStandIns(STATE_MACHINE_ARN, {
    startExecution: ({ name, input }) => startExecution(name, JSON.parse(input) as RunInput),
    isRunning: (name) => running.has(name),
    putEvent: (event) => events.push(event),
  });

  // Each function sees what Lambda would give it and nothing of this process's environment (a
  // GEMINI_API_KEY in the developer's shell never reaches a function): the template's variables,
  // the runtime's own, and local endpoints in place of AWS's.
  const functions = new Map<string, LocalFunction>();
  for (const fn of functionsInTemplate.values()) {
    const tmp = join(scratch, 'tmp', fn.folder);
    await mkdir(tmp, { recursive: true });
    functions.set(
      fn.folder,
      startLocalFunction({
        name: fn.folder,
        ...codeOf(fn, assemblyDir),
        timeoutSeconds: fn.timeoutSeconds,
        memorySizeMb: fn.memorySizeMb,
        environment: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          TZ: 'UTC',
          TMPDIR: tmp,
          AWS_REGION: REGION,
          AWS_DEFAULT_REGION: REGION,
          AWS_LAMBDA_FUNCTION_NAME: fn.folder,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySizeMb),
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_S3: fauxqs.address,
          AWS_ENDPOINT_URL_SFN: standIns.url,
          AWS_ENDPOINT_URL_EVENTBRIDGE: standIns.url,
          ...fn.environment,
          ...localValuesFor(fn, { geminiUrl: gemini.url, geminiApiKey: gemini.apiKey }),
          POWERTOOLS_LOG_LEVEL: options.verbose ? 'INFO' : 'ERROR',
          ...options.environment,
        },
      }),
    );
  }
  const functionFor = (folder: string): LocalFunction => {
    const fn = functions.get(folder);
    if (!fn) throw new Error(`the state machine invokes ${folder}, but the template has no such function`);
    return fn;
  };

  const s3 = new S3Client({
    endpoint: fauxqs.address,
    region: REGION,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: LOCAL_BUCKET }));

  const taskStates = Object.entries(definition.States as Record<string, { Type: string }>)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name]) => name);
  const handlers: Record<string, (input: ExecutionInput) => Promise<ExecutionInput>> = {};
  for (const state of taskStates) {
    const fn = functionFor(kebabCase(state));
    const invoke: TaskHandler = (input) => fn.invoke(input);
    const handler = options.wrapTask ? options.wrapTask(state, invoke) : invoke;
    handlers[state] = async (input) => {
      const runId = (input as unknown as RunState).runId;
      options.onProgress?.({ runId, state, phase: 'started' });
      try {
        const result = await handler(input as unknown as RunState);
        options.onProgress?.({ runId, state, phase: 'succeeded', result });
        return result as ExecutionInput;
      } catch (error) {
        options.onProgress?.({ runId, state, phase: 'failed', error: error as Error });
        throw error;
      }
    };
  }
  const startRunFunction = functionFor('start-run');
  const startRun = async (event: ObjectCreatedEvent | ExecutionStatusChangeEvent) =>
    (await startRunFunction.invoke(event)) as { runId?: string; started?: boolean };

  const stateMachine = new StateMachine(definition as StateMachineDefinition);
  // A run's first execution may be given a short timeout, to see what a timeout does; its salvage
  // run keeps the template's, as the one state machine would give both in AWS.
  const firstRunMachine =
    options.executionTimeoutSeconds === undefined
      ? stateMachine
      : new StateMachine({
          ...definition,
          TimeoutSeconds: options.executionTimeoutSeconds,
        } as StateMachineDefinition);
  const executionPattern = executionRuleEventPattern(template, {
    bucketName: LOCAL_BUCKET,
    stateMachineArn: STATE_MACHINE_ARN,
  });
  const executions = new Map<string, { abort: () => void }>();
  const stopCauses = new Map<string, string>();
  const retryPauses = Object.fromEntries(taskStates.map((state) => [state, 50]));

  const readObject = async (key: string): Promise<string | undefined> => {
    try {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key: key }));
      return await Body?.transformToString();
    } catch {
      return undefined;
    }
  };

  /**
   * What Step Functions puts on the bus when an execution ends, delivered to the rules that match
   * it: the rule on TIMED_OUT and ABORTED starts the salvage run. Returns its name if it started one.
   */
  const announceEnd = async (
    name: string,
    input: RunInput,
    status: ExecutionStatus,
    cause: string | undefined,
  ): Promise<string | undefined> => {
    const executionArn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    const event: ExecutionStatusChangeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: REGION,
      resources: [executionArn],
      detail: {
        executionArn,
        stateMachineArn: STATE_MACHINE_ARN,
        name,
        status,
        input: JSON.stringify(input),
        cause: cause ?? null,
        error: null,
      },
    };
    if (!matchesEventPattern(executionPattern, event)) return undefined;
    const outcome = await startRun(event);
    return outcome.started ? outcome.runId : undefined;
  };

  startExecution = (name, input) => {
    running.add(name);
    const machine = input.salvage ? stateMachine : firstRunMachine;
    const execution = machine.run(input as unknown as ExecutionInput, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides: { [POLL_WAIT_STATE]: options.pollWaitMs ?? 250 },
        retryIntervalOverrides: retryPauses,
      },
    });
    executions.set(name, execution);
    const outcome = (async (): Promise<RunOutcome> => {
      let status: ExecutionStatus = 'SUCCEEDED';
      try {
        await execution.result;
      } catch (error) {
        status =
          error instanceof ExecutionAbortedError
            ? 'ABORTED'
            : error instanceof ExecutionTimeoutError
              ? 'TIMED_OUT'
              : 'FAILED';
      } finally {
        running.delete(name);
        executions.delete(name);
      }
      const salvage = await announceEnd(name, input, status, stopCauses.get(name));
      // The run's manifest comes from its salvage run, when one was started.
      const salvaged = salvage ? await runs.get(salvage) : undefined;
      if (salvaged) return { runId: name, execution: status, manifest: salvaged.manifest };
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

  const cancel: LocalPipeline['cancel'] = (runId, cause = 'cancelled by the user') => {
    const execution = executions.get(runId);
    if (!execution) throw new Error(`run ${runId} is not running`);
    // As `aws stepfunctions stop-execution --cause`: the stop skips every Catch, and the execution's
    // ABORTED event starts the salvage run that cancels the jobs and writes the manifest.
    stopCauses.set(runId, cause);
    execution.abort();
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
    gemini: { url: gemini.url, live: gemini.url === GEMINI_API_URL },
    events,
    upload,
    notify,
    deliver,
    waitForRun,
    cancel,
    readObject,
    async runFile(path) {
      const key = `${inputPrefix}${basename(path)}`;
      const { delivery } = await upload(key, createReadStream(path));
      if (!delivery.runId) throw new Error(`uploading ${key} started no run: the rule did not match it`);
      return waitForRun(delivery.runId);
    },
    async close() {
      await Promise.allSettled([...runs.values()]);
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
      await standIns.stop();
      await emulator?.stop();
      await fauxqs.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
