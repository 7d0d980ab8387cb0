/**
 * The environment each function gets offline: what Lambda would give it and nothing of this
 * process's (a GEMINI_API_KEY in the developer's shell never reaches a function): the runtime's
 * own variables, the template's, and local endpoints in place of AWS's and Google's.
 */
import { GEMINI_API_URL } from '../../lambdas/shared/gemini/gemini-api.js';
import { ENV } from '../../lambdas/shared/runtime/env.js';
import type { TemplateFunction } from '../template/template-functions.js';
import {
  LOCAL_ADMISSION_TABLE,
  LOCAL_CREDENTIALS,
  LOCAL_GEMINI_KEY_SECRET_ARN,
  LOCAL_REGION,
  LOCAL_STATE_MACHINE_ARN,
} from './local-aws.js';

/** A Gemini-protocol endpoint and the key it takes (served to the functions as the local secret). */
export interface GeminiEndpoint {
  readonly url: string;
  readonly apiKey: string;
}

/** Where the functions find the services they call, on this machine. */
export interface LocalEndpoints {
  readonly s3: string;
  /** The local DynamoDB (dynalite), holding the admission table. */
  readonly dynamoDb: string;
  /** The stand-ins for Step Functions and EventBridge. */
  readonly awsStandIns: string;
  readonly gemini: GeminiEndpoint;
}

/** What one function's environment is made of. */
export interface FunctionEnvironmentInput {
  readonly fn: TemplateFunction;
  readonly endpoints: LocalEndpoints;
  /** The function's own temporary directory, as Lambda gives each sandbox its `/tmp`. */
  readonly tmpDir: string;
  /** Where the runtime finds executables: the host's, the one thing taken from this process. */
  readonly path: string;
  /** Show the function's structured logs. */
  readonly verbose: boolean;
  /** Settings over the template's, e.g. small chunk limits in tests. */
  readonly overrides?: Readonly<Record<string, string>>;
}

/** The whole environment a function sees: its worker thread gets exactly this. */
export function functionEnvironment(input: FunctionEnvironmentInput): Record<string, string> {
  const { fn, endpoints } = input;
  return {
    PATH: input.path,
    TZ: 'UTC',
    TMPDIR: input.tmpDir,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_LAMBDA_FUNCTION_NAME: fn.folder,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySizeMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamoDb,
    AWS_ENDPOINT_URL_SFN: endpoints.awsStandIns,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.awsStandIns,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.awsStandIns,
    ...fn.environment,
    ...deployTimeValues(fn, endpoints.gemini),
    POWERTOOLS_LOG_LEVEL: input.verbose ? 'INFO' : 'ERROR',
    // The metrics' EMF lines are log lines too: shown with the logs, or not written at all.
    POWERTOOLS_METRICS_DISABLED: input.verbose ? 'false' : 'true',
    ...input.overrides,
  };
}

/**
 * What the template fills in at deploy time, filled in with this machine's values: the function
 * reads the Gemini key from the local secret (the stand-in serves it), starts the local state
 * machine and queues chunks in the local admission table. Any other deploy-time value would be a variable the local runner cannot honour.
 */
function deployTimeValues(fn: TemplateFunction, gemini: GeminiEndpoint): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of fn.deployTimeVariables) {
    if (name === ENV.apiKeySecretArn) {
      values[ENV.apiKeySecretArn] = LOCAL_GEMINI_KEY_SECRET_ARN;
      if (gemini.url !== GEMINI_API_URL) values[ENV.baseUrl] = gemini.url;
    } else if (name === ENV.stateMachineArn) {
      values[ENV.stateMachineArn] = LOCAL_STATE_MACHINE_ARN;
    } else if (name === ENV.admissionTableName) {
      values[ENV.admissionTableName] = LOCAL_ADMISSION_TABLE;
    } else {
      throw new Error(
        `function ${fn.folder} gets ${name} from the stack at deploy time; the local runner has no value for it`,
      );
    }
  }
  return values;
}

/**
 * The admission gate's waits offline, shrunk as the poll loop's waits are (`pollWaitMs` in place of
 * 30 s to 12 min): the first wait one poll wait, the longest eight, so a 429 in a local run costs
 * milliseconds, not the deployed minute. A test's own settings (`overrides`) still win.
 */
export function localAdmissionWaits(pollWaitMs: number): Record<string, string> {
  return {
    [ENV.admissionBackoffSeconds]: String(pollWaitMs / 1000),
    [ENV.admissionMaxBackoffSeconds]: String((8 * pollWaitMs) / 1000),
  };
}
