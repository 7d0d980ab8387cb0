/**
 * The local S3 with the clients people point at it: the AWS SDK v3 (what the functions use, default
 * CRC32 checksums on), the minio client (its multipart path over 64 MiB asks ListMultipartUploads
 * first) and the aws CLI when it is on this machine. s3cmd installs from no npm package: not here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../../local/runner/local-aws.js';
import { type LocalS3, startLocalS3 } from '../../../../local/runner/local-s3.js';

const BUCKET = 'local-s3-clients';
const MIB = 1024 * 1024;

/** `mib` MiB in 1 MiB pieces, each piece's bytes telling its index, so a misordered part shows. */
const pieces = (mib: number) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < mib; i++) yield Buffer.alloc(MIB, i % 251);
    })(),
  );

let s3Server: LocalS3;
let directory: string;
let s3: S3Client;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'local-s3-test-'));
  s3Server = await startLocalS3({ port: 0, host: '127.0.0.1', directory: join(directory, 's3') });
  s3 = new S3Client({
    endpoint: s3Server.address,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await s3Server.stop();
  await rm(directory, { recursive: true, force: true });
});

describe('the local S3 with the AWS SDK v3', () => {
  it('stores and returns a 0-byte object', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/empty', Body: '' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/empty' }));
    expect(head.ContentLength).toBe(0);
  });

  it('joins a streamed multipart upload in part order, without the chunk framing', async () => {
    await new Upload({ client: s3, params: { Bucket: BUCKET, Key: 'sdk/big', Body: pieces(12) } }).done();
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/big' }));
    const bytes = Buffer.from(
      await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(bytes.length).toBe(12 * MIB);
    expect([bytes[0], bytes[5 * MIB], bytes[12 * MIB - 1]]).toEqual([0, 5, 11]);
  });

  it('lists objects with ListObjectsV2 under a prefix', async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }));
    expect(listed.Contents?.map(({ Key, Size }) => [Key, Size])).toEqual([
      ['sdk/big', 12 * MIB],
      ['sdk/empty', 0],
    ]);
  });
});

describe('the local S3 with the minio client', () => {
  const minio = () => {
    const url = new URL(s3Server.address);
    return new Minio.Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: LOCAL_CREDENTIALS.accessKeyId,
      secretKey: LOCAL_CREDENTIALS.secretAccessKey,
      region: LOCAL_REGION,
      pathStyle: true,
    });
  };

  it('stores a 0-byte object', async () => {
    await minio().putObject(BUCKET, 'minio/empty', Buffer.alloc(0));
    expect((await minio().statObject(BUCKET, 'minio/empty')).size).toBe(0);
  });

  it('uploads a 70 MiB stream in parts and reads it back whole', async () => {
    await minio().putObject(BUCKET, 'minio/big', pieces(70));
    expect((await minio().statObject(BUCKET, 'minio/big')).size).toBe(70 * MIB);
    let size = 0;
    let last = -1;
    for await (const chunk of await minio().getObject(BUCKET, 'minio/big')) {
      size += (chunk as Buffer).length;
      last = (chunk as Buffer).at(-1) ?? last;
    }
    expect([size, last]).toEqual([70 * MIB, 69]);
  });
});

describe('the local S3 with the aws CLI (on this machine)', () => {
  // Asynchronously: the server runs in this process, and a blocking call would starve it.
  const aws = async (...args: string[]) =>
    (
      await promisify(execFile)('aws', ['--endpoint-url', s3Server.address, ...args], {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          AWS_DEFAULT_REGION: LOCAL_REGION,
        },
      })
    ).stdout;

  it('copies a 0-byte file and a 20 MiB file (multipart) up and back down', async () => {
    const empty = join(directory, 'empty');
    const big = join(directory, 'big');
    await writeFile(empty, '');
    await writeFile(big, Buffer.alloc(20 * MIB, 7));
    await aws('s3', 'cp', empty, `s3://${BUCKET}/cli/empty`);
    await aws('s3', 'cp', big, `s3://${BUCKET}/cli/big`);
    await aws('s3', 'cp', `s3://${BUCKET}/cli/big`, `${big}.back`);
    expect((await readFile(`${big}.back`)).equals(await readFile(big))).toBe(true);
    expect(await aws('s3', 'ls', `s3://${BUCKET}/cli/`)).toMatch(
      / 0 empty[\s\S]* 20971520 big|20971520 big[\s\S]* 0 empty/,
    );
  });
});
