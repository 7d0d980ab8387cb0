import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV, requireEnv } from '../runtime/env.js';
import type { AdmissionQueue } from './admission-queue.js';
import { DynamoDbAdmissionQueue } from './dynamodb-admission-queue.js';

/**
 * The function's admission queue, built once per cold start, on the table the construct names in
 * `ADMISSION_TABLE_NAME`. Offline, the SDK's `AWS_ENDPOINT_URL_DYNAMODB` points the client at the
 * local stand-in (dynalite), as `AWS_ENDPOINT_URL_S3` does for S3
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
export function admissionQueueFromEnvironment(env: NodeJS.ProcessEnv = process.env): AdmissionQueue {
  return new DynamoDbAdmissionQueue(new DynamoDBClient({}), requireEnv(ENV.admissionTableName, env));
}
