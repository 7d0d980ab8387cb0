/** The local S3 (s3rver behind `startLocalS3`) for a test file, with a bucket and an SDK client for it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/runner/local-aws.js';
import { type LocalS3, startLocalS3 } from '../../local/runner/local-s3.js';

export interface LocalS3ForTests {
  /** `http://127.0.0.1:port`. */
  readonly address: string;
  /** The AWS SDK v3 client the functions use, path-style, with its default checksums. */
  readonly s3: S3Client;
  /** A scratch folder the file's tests may write to; the objects live under its `s3/`. */
  readonly directory: string;
}

/** Starts a local S3 holding `bucket` before the file's tests, and stops and removes it after. */
export function useLocalS3(bucket: string): LocalS3ForTests {
  const started: { -readonly [K in keyof LocalS3ForTests]?: LocalS3ForTests[K] } = {};
  let server: LocalS3 | undefined;
  beforeAll(async () => {
    started.directory = await mkdtemp(join(tmpdir(), 'local-s3-test-'));
    server = await startLocalS3({ port: 0, host: '127.0.0.1', directory: join(started.directory, 's3') });
    started.address = server.address;
    started.s3 = new S3Client({
      endpoint: server.address,
      region: LOCAL_REGION,
      forcePathStyle: true,
      credentials: LOCAL_CREDENTIALS,
    });
    await started.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    started.s3?.destroy();
    await server?.stop();
    if (started.directory) await rm(started.directory, { recursive: true, force: true });
  });
  const get = <K extends keyof LocalS3ForTests>(name: K): LocalS3ForTests[K] => {
    const value = started[name];
    if (value === undefined)
      throw new Error(`the local S3 is not started yet (${name}): use it inside a test`);
    return value as LocalS3ForTests[K];
  };
  return {
    get address() {
      return get('address');
    },
    get s3() {
      return get('s3');
    },
    get directory() {
      return get('directory');
    },
  };
}
