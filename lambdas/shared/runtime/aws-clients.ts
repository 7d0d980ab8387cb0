import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../object-store/s3-object-store.js';
import { DEFAULT_INPUT_PREFIX } from '../run/bucket-layout.js';
import { ENV } from './env.js';

/**
 * Module-scope dependencies the run-state functions share, built once per cold start. Offline,
 * `AWS_ENDPOINT_URL_S3` points the client at the local S3 stand-in; the only other difference is
 * path-style addressing, since `bucket.127.0.0.1` does not resolve. In AWS the variable is unset
 * and S3's default virtual-hosted addressing applies.
 */
export const store = new S3ObjectStore(
  new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) }),
);
export const inputPrefix = process.env[ENV.inputPrefix] ?? DEFAULT_INPUT_PREFIX;
/** Lambda's writable scratch space; ephemeral storage is sized for the largest chunk. */
export const tmpDir = process.env.TMPDIR ?? '/tmp';
