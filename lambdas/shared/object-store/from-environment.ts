import { S3Client } from '@aws-sdk/client-s3';
import { tracedAwsClient } from '../runtime/tracer.js';
import type { ObjectStore, VersionedReads } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

/**
 * The function's object store, built once per cold start. Offline, `AWS_ENDPOINT_URL_S3` points the
 * client at the local S3 stand-in; the only other difference is path-style addressing, since
 * `bucket.127.0.0.1` does not resolve. In AWS the variable is unset and S3's default
 * virtual-hosted addressing applies.
 */
export function objectStoreFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): ObjectStore & VersionedReads {
  return new S3ObjectStore(
    tracedAwsClient(new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3) })),
  );
}
