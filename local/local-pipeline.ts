/**
 * The whole pipeline on one machine: an S3-compatible server keeping objects on disk (s3rver), the Gemini emulator (or any
 * Gemini-protocol endpoint, when asked), and the state machine synthesized from the CDK stack, run
 * by aws-local-stepfunctions with every Task mapped to its function. Each function runs in a
 * sandbox of its own (`local/lambda/`): the bundle `cdk deploy` uploads, or its source, with the
 * environment the template gives it. Configuration (models, prefix, poll schedule) comes from the
 * template, so a local run is configured exactly as a deployed one; only endpoints and the API key
 * differ. The steps are in `local/runner/`; this module composes them and changes nothing in this
 * process (no global, no `process.env`). Its interface and its composition stay in one file, a little
 * over 300 lines: together they are the whole of what the runner offers.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { GEMINI_API_URL } from '../lambdas/shared/gemini/gemini-api.js';
import type { RunInput } from '../lambdas/shared/run/state-payloads.js';
import type { ObjectCreatedEvent } from '../lambdas/start-run/start-run.js';
import {
  type GeminiEmulator,
  type GeminiEmulatorOptions,
  startGeminiEmulator,
} from './gemini-emulator/index.js';
import { type LocalFunction, type SandboxMemory, startLocalFunction } from './lambda/local-function.js';
import { type PublishedEvent, startAwsStandIns } from './runner/aws-stand-ins.js';
import { objectCreatedEvent, sequencer } from './runner/events.js';
import { executions as executionRecords } from './runner/executions.js';
import {
  functionEnvironment,
  type GeminiEndpoint,
  localAdmissionWaits,
} from './runner/function-environment.js';
import {
  LOCAL_BUCKET,
  LOCAL_CREDENTIALS,
  LOCAL_GEMINI_KEY_SECRET_ARN,
  LOCAL_REGION,
  LOCAL_STATE_MACHINE_ARN,
} from './runner/local-aws.js';
import { startLocalDynamoDb } from './runner/local-dynamodb.js';
import { localObjects } from './runner/local-objects.js';
import { startLocalS3 } from './runner/local-s3.js';
import { localStack } from './runner/local-stack.js';
import { startOperatorStandIns } from './runner/operator-stand-ins.js';
import { type DeliveryOutcome, rules, type StartRunAnswer } from './runner/rules.js';
import { type RunOutcome, type Runs, runs } from './runner/runs.js';
import { type ProgressEvent, type TaskHandler, taskHandlers } from './runner/task-handlers.js';
import { functionCode, pipelineCode, runnerTemplate, START_RUN_FUNCTION } from './runner/template.js';
import type { CfnTemplate } from './template/cfn-template.js';

export type { SandboxMemory } from './lambda/local-function.js';
export type { ExecutionStatus } from './runner/events.js';
export type { GeminiEndpoint } from './runner/function-environment.js';
export type { DeliveryOutcome } from './runner/rules.js';
export type { RunOutcome } from './runner/runs.js';
export type { ProgressEvent, TaskHandler } from './runner/task-handlers.js';
export { LOCAL_BUCKET };

/** See {@link LocalPipelineOptions.sandboxIdleMs}. */
const DEFAULT_SANDBOX_IDLE_MS = 2000;

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
   * Call this endpoint instead of starting the emulator: Google's own (`--live`), a proxy, a
   * replay. Only ever set on request (`--live`, `--gemini-url`): a key in the shell never turns it on.
   * @default - the emulator
   */
  readonly gemini?: GeminiEndpoint;
  /** Options for the emulator when it is used. */
  readonly emulator?: GeminiEmulatorOptions;
  /** Real time between polls offline (Gemini's own backoff would make a local run wait minutes). @default 250 */
  readonly pollWaitMs?: number;
  /** Port for the S3 server. @default 0 (any free port) */
  readonly s3Port?: number;
  /**
   * Address the S3 server listens on. It checks no signature and the credentials are fixed, so it
   * listens on loopback unless asked: `0.0.0.0` opens it to the network.
   * @default '127.0.0.1'
   */
  readonly s3Host?: string;
  /**
   * For `code: 'source'`: the stack's template already synthesized (`synthesizePipelineTemplate`),
   * so a caller that read it first (the CLI checks a file's name against the trigger rule before
   * starting anything) does not synthesize it twice.
   * @default - synthesized
   */
  readonly template?: CfnTemplate;
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
  /**
   * A function's sandbox idle this long after an invocation is reclaimed, and its next invocation
   * starts cold. Lambda reclaims idle sandboxes after minutes; here every sandbox shares the
   * stack's one process, so a finished step's memory is given back within seconds. The poll loop
   * calls Poll far more often, so it stays warm.
   * @default 2000
   */
  readonly sandboxIdleMs?: number;
}

export interface LocalPipeline {
  readonly s3: S3Client;
  readonly s3Endpoint: string;
  readonly bucket: string;
  readonly inputPrefix: string;
  readonly emulator: GeminiEmulator | undefined;
  /** The Gemini endpoint the functions call, and whether it is Google's own. */
  readonly gemini: { readonly url: string; readonly live: boolean };
  /**
   * The environment that points AWS tools (the `gemini-batch` CLI, the AWS CLI) at this stack: the
   * S3, CloudFormation and Step Functions endpoints, the region and the local credentials.
   */
  readonly operatorEnvironment: Readonly<Record<string, string>>;
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
  /** Streams an object to a local file; false when there is no such object. */
  downloadObject(key: string, path: string): Promise<boolean>;
  /** Each function's sandbox memory at its highest (`local/lambda/`), by function name. */
  sandboxMemory(): Record<string, SandboxMemory | undefined>;
  close(): Promise<void>;
}

/** Starts a local pipeline: its S3, its Gemini, its functions and its state machine. */
export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  if (!('withResolvers' in Promise)) {
    // aws-local-stepfunctions needs it; without it every Task fails and a Catch hides why.
    throw new Error(
      `the local pipeline needs Node 24, Lambda's runtime (this is Node ${process.versions.node})`,
    );
  }
  const scratch = await mkdtemp(join(tmpdir(), 'gemini-batch-local-'));
  const { template, assemblyDir } =
    options.template && (options.code ?? 'source') === 'source'
      ? { template: options.template, assemblyDir: undefined }
      : await pipelineCode(options, scratch);
  const workflow = runnerTemplate(template);
  const { inputPrefix } = workflow;

  const localS3 = await startLocalS3({
    port: options.s3Port ?? 0,
    host: options.s3Host ?? '127.0.0.1',
    directory: join(scratch, 's3'),
  });
  const dynamoDb = await startLocalDynamoDb();
  const emulator = options.gemini ? undefined : await startGeminiEmulator(options.emulator);
  const gemini = options.gemini ?? { url: emulator?.url ?? '', apiKey: emulator?.apiKey ?? '' };
  const events: PublishedEvent[] = [];
  // Assigned once the runs exist, which need the functions, which need the stand-ins' address.
  let tracked: Runs | undefined;
  const executions = executionRecords(LOCAL_STATE_MACHINE_ARN);
  const standIns = await startAwsStandIns(LOCAL_STATE_MACHINE_ARN, {
    startExecution: ({ name, input }) => {
      executions.started(name, input);
      tracked?.start(name, JSON.parse(input) as RunInput);
    },
    isRunning: (name) => tracked?.isRunning(name) ?? false,
    putEvent: (event) => events.push(event),
    secretValue: (secretArn) => (secretArn === LOCAL_GEMINI_KEY_SECRET_ARN ? gemini.apiKey : undefined),
  });

  const functions = new Map<string, LocalFunction>();
  for (const fn of workflow.functions.values()) {
    const tmpDir = join(scratch, 'tmp', fn.folder);
    await mkdir(tmpDir, { recursive: true });
    const environment = functionEnvironment({
      fn,
      endpoints: { s3: localS3.address, dynamoDb: dynamoDb.endpoint, awsStandIns: standIns.url, gemini },
      tmpDir,
      path: process.env.PATH ?? '/usr/bin:/bin',
      verbose: options.verbose ?? false,
      overrides: { ...localAdmissionWaits(options.pollWaitMs ?? 250), ...options.environment },
    });
    const code = functionCode(fn, assemblyDir);
    functions.set(
      fn.folder,
      startLocalFunction({
        name: fn.folder,
        ...code,
        timeoutSeconds: fn.timeoutSeconds,
        memorySizeMb: fn.memorySizeMb,
        reclaimAfterIdleMs: options.sandboxIdleMs ?? DEFAULT_SANDBOX_IDLE_MS,
        environment,
      }),
    );
  }
  // runnerTemplate checked that the template has every function the workflow and the rules call.
  const functionIn = (folder: string) => functions.get(folder) as LocalFunction;

  const s3 = new S3Client({
    endpoint: localS3.address,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: LOCAL_BUCKET }));
  const { readObject, downloadObject } = localObjects(s3, LOCAL_BUCKET);

  const startRunFunction = functionIn(START_RUN_FUNCTION);
  const eventRules = rules({
    inputPattern: workflow.inputPattern,
    executionPattern: workflow.executionPattern,
    startRun: async (event) => (await startRunFunction.invoke(event)) as StartRunAnswer,
  });
  const pipelineRuns = runs({
    definition: workflow.definition,
    stateMachineArn: LOCAL_STATE_MACHINE_ARN,
    handlers: taskHandlers({
      tasks: workflow.taskStates.map(({ state, folder }) => ({ state, fn: functionIn(folder) })),
      wrapTask: options.wrapTask,
      onProgress: options.onProgress,
    }),
    pollWaitMs: options.pollWaitMs ?? 250,
    firstExecutionTimeoutSeconds: options.executionTimeoutSeconds,
    announceEnd: (event) => eventRules.deliverExecutionEnd(event),
    inputPrefix,
    readObject,
    onEnded: (name, status) => executions.ended(name, status),
  });
  tracked = pipelineRuns;
  const operatorStandIns = await startOperatorStandIns({
    stack: localStack(inputPrefix),
    executions,
    stop: (name, cause) => pipelineRuns.cancel(name, cause),
  });

  const nextSequencer = sequencer();
  const notify: LocalPipeline['notify'] = async (key) => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: LOCAL_BUCKET, Key: key }));
    const event = objectCreatedEvent(
      { bucket: LOCAL_BUCKET, key, size: head.ContentLength ?? 0, etag: head.ETag ?? '' },
      nextSequencer(),
    );
    return { event, delivery: await eventRules.deliverUpload(event) };
  };

  const upload: LocalPipeline['upload'] = async (key, body, uploadOptions = {}) => {
    // lib-storage splits large bodies into parts, as the AWS CLI does: the local S3 server, like
    // S3 itself, limits single requests, and a stream never sits whole in memory.
    await new Upload({
      client: s3,
      params: { Bucket: LOCAL_BUCKET, Key: key, Body: body, Metadata: uploadOptions.metadata },
    }).done();
    return notify(key);
  };

  return {
    s3,
    s3Endpoint: localS3.address,
    bucket: LOCAL_BUCKET,
    inputPrefix,
    emulator,
    operatorEnvironment: {
      AWS_ENDPOINT_URL_S3: localS3.address,
      AWS_ENDPOINT_URL_CLOUDFORMATION: operatorStandIns.url,
      AWS_ENDPOINT_URL_SFN: operatorStandIns.url,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    },
    gemini: { url: gemini.url, live: gemini.url === GEMINI_API_URL },
    events,
    upload,
    notify,
    deliver: (event) => eventRules.deliverUpload(event),
    waitForRun: (runId) => pipelineRuns.waitFor(runId),
    cancel: (runId, cause = 'cancelled by the user') => pipelineRuns.cancel(runId, cause),
    readObject,
    downloadObject,
    async runFile(path) {
      const key = `${inputPrefix}${basename(path)}`;
      const { delivery } = await upload(key, createReadStream(path));
      if (!delivery.runId) throw new Error(`uploading ${key} started no run: the rule did not match it`);
      return pipelineRuns.waitFor(delivery.runId);
    },
    sandboxMemory: () => Object.fromEntries([...functions.values()].map((fn) => [fn.name, fn.memoryPeak()])),
    async close() {
      await pipelineRuns.settled();
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
      await standIns.stop();
      await operatorStandIns.stop();
      await emulator?.stop();
      await localS3.stop();
      await dynamoDb.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
