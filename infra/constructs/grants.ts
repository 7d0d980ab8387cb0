import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { GEMINI_BATCH_EVENT_SOURCE } from '../../lambdas/finalize-run/run-finished-event.js';
import { RESULTS_PREFIX, WORK_PREFIX } from '../../lambdas/shared/run/bucket-layout.js';
import type { PipelineFunctionName, PipelineFunctions } from './functions.js';
import { acknowledgeWildcards } from './nag.js';
import type { PipelineFunction } from './pipeline-function.js';

/** The bucket's key areas: uploads under the input prefix, then what the pipeline writes. */
type Area = 'inputs' | 'work' | 'results';

/**
 * The S3 actions behind each use the code makes of the bucket (the `ObjectStore` and
 * `VersionedReads` ports, as `lambdas/shared/object-store/s3-object-store.ts` implements them).
 * Nothing deletes an object, tags one, or reads a bucket setting.
 */
const OBJECT_ACTIONS = {
  /** `read`, `getJson`, `downloadToFile`: GetObject. */
  read: ['s3:GetObject'],
  /** `openVersion`: GetObject, by version id when the upload's event names one (a versioned bucket). */
  readVersion: ['s3:GetObject', 's3:GetObjectVersion'],
  /** `putJson`: one PutObject. */
  put: ['s3:PutObject'],
  /**
   * `openLineWriter`: lib-storage's `Upload`, a PutObject or a multipart upload (create, parts and
   * complete are all `s3:PutObject`), aborted when a write fails or the writer is discarded.
   */
  stream: ['s3:PutObject', 's3:AbortMultipartUpload'],
} as const;

type ObjectUse = keyof typeof OBJECT_ACTIONS;

/**
 * What each function's code does with objects, and where: the one table its S3 permissions are
 * built from. Read from the cores and what they call (read-work-records, submit-chunks, retries).
 */
const OBJECT_ACCESS: Readonly<Record<PipelineFunctionName, Partial<Record<ObjectUse, readonly Area[]>>>> = {
  'start-run': {},
  // The upload; chunks and their key lists (streamed), the plan; rejected.jsonl (streamed).
  'prepare-requests': { readVersion: ['inputs'], stream: ['work', 'results'], put: ['work'] },
  // The plan, ledgers and chunks (read or downloaded for upload); ledgers.
  'submit-batch-jobs': { read: ['work'], put: ['work'] },
  // As Submit, plus poll-status.json, the extended plan and retry chunks (streamed).
  'poll-batch-jobs': { read: ['work'], put: ['work'], stream: ['work'] },
  // The plan, ledgers and poll status; ledgers and poll status.
  'stop-batch-jobs': { read: ['work'], put: ['work'] },
  // The run's records and chunk key lists; collected.json; results.jsonl and unmatched.jsonl (streamed).
  'collect-results': { read: ['work'], put: ['work'], stream: ['results'] },
  // The run's records; manifest.json. It reads nothing under results/.
  'finalize-run': { read: ['work'], put: ['results'] },
};

const READS: readonly ObjectUse[] = ['read', 'readVersion'];
const WRITES: readonly ObjectUse[] = ['put', 'stream'];

/** What the pipeline's permissions are granted on. */
export interface PipelineGrantTargets {
  readonly functions: PipelineFunctions;
  readonly bucket: s3.IBucket;
  readonly inputPrefix: string;
  readonly apiKeySecret: secretsmanager.ISecret;
  readonly eventBus: events.IEventBus;
  readonly admissionTable: dynamodb.ITable;
}

/**
 * The DynamoDB actions `DynamoDbAdmissionQueue` calls (enqueue: PutItem; head: Query; remove:
 * DeleteItem; the gate: GetItem, UpdateItem), and the functions that call them: those that create jobs.
 */
export const ADMISSION_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
] as const;
const ADMITTING_FUNCTIONS: readonly PipelineFunctionName[] = ['submit-batch-jobs', 'poll-batch-jobs'];

/**
 * Gives each function exactly what its code calls: its S3 actions on its key prefixes (from
 * {@link OBJECT_ACCESS}), the API key to those that call Gemini, and to Finalize Run, putting
 * events of the pipeline's own source on the run-finished bus. Each wildcard this leaves (a
 * prefix's `*`, X-Ray's `*`) is acknowledged to cdk-nag, one by one, with its reason.
 */
export function grantPipelineAccess(targets: PipelineGrantTargets): void {
  const { functions, bucket } = targets;
  const prefixes: Record<Area, string> = {
    inputs: targets.inputPrefix,
    work: WORK_PREFIX,
    results: RESULTS_PREFIX,
  };
  for (const [name, fn] of Object.entries(functions) as [PipelineFunctionName, PipelineFunction][]) {
    grantObjects(fn, bucket, OBJECT_ACCESS[name], prefixes);
    acknowledgeWildcards(
      fn,
      { resources: ['*'] },
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions',
    );
  }
  // Every function but start-run calls Gemini, so reads the key (never an environment variable).
  for (const [name, fn] of Object.entries(functions)) {
    if (name !== 'start-run') targets.apiKeySecret.grantRead(fn);
  }
  for (const name of ADMITTING_FUNCTIONS) {
    functions[name].grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...ADMISSION_ACTIONS],
        resources: [targets.admissionTable.tableArn],
      }),
    );
  }
  functions['finalize-run'].grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [targets.eventBus.eventBusArn],
      conditions: { StringEquals: { 'events:source': GEMINI_BATCH_EVENT_SOURCE } },
    }),
  );
}

function grantObjects(
  fn: PipelineFunction,
  bucket: s3.IBucket,
  access: Partial<Record<ObjectUse, readonly Area[]>>,
  prefixes: Record<Area, string>,
): void {
  const actionsByArea = new Map<Area, Set<string>>();
  for (const [use, areas] of Object.entries(access) as [ObjectUse, readonly Area[]][]) {
    for (const area of areas) {
      const actions = actionsByArea.get(area) ?? new Set<string>();
      for (const action of OBJECT_ACTIONS[use]) actions.add(action);
      actionsByArea.set(area, actions);
    }
  }
  // One statement per set of actions, on every prefix that takes exactly that set.
  const areasByActions = new Map<string, Area[]>();
  for (const [area, actions] of actionsByArea) {
    const key = [...actions].sort().join(' ');
    areasByActions.set(key, [...(areasByActions.get(key) ?? []), area]);
  }
  for (const [actions, areas] of areasByActions) {
    const resources = areas.map((area) => bucket.arnForObjects(`${prefixes[area]}*`));
    fn.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: actions.split(' '), resources }),
    );
    acknowledgeWildcards(
      fn,
      { resources },
      `the function's objects under ${areas.map((area) => prefixes[area]).join(' and ')} have keys made per run (S3 layout in docs/architecture.md); these actions are all its code calls there`,
    );
  }

  const reads = READS.some((use) => access[use]);
  const writes = WRITES.some((use) => access[use]);
  if (reads) {
    // Without ListBucket S3 answers a missing key with 403, not 404: getJson reads 404 as "no
    // record yet" (a first poll, a chunk without a ledger), and a missing upload fails by name.
    fn.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
  }
  // An existing bucket may be encrypted with a KMS key: reading decrypts, writing encrypts, and a
  // multipart upload under SSE-KMS decrypts too.
  if (reads || access.stream) bucket.encryptionKey?.grantDecrypt(fn);
  if (writes) bucket.encryptionKey?.grantEncrypt(fn);
}
