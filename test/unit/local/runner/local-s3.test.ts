/**
 * The local S3 with the clients that install from the npm registry: the AWS SDK v3 (what the
 * functions use, default CRC32 checksums on) and the minio client (its multipart path over 64 MiB
 * asks ListMultipartUploads first). The aws CLI and s3cmd: test/s3-clients/system-clients.test.ts.
 */
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as Minio from 'minio';
import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../../local/runner/local-aws.js';
import { useLocalS3 } from '../../../support/local-s3-server.js';

const BUCKET = 'local-s3-clients';
const MIB = 1024 * 1024;

/** `mib` MiB in 1 MiB pieces, each piece's bytes telling its index, so a misordered part shows. */
const pieces = (mib: number) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < mib; i++) yield Buffer.alloc(MIB, i % 251);
    })(),
  );

const local = useLocalS3(BUCKET);

describe('the local S3 with the AWS SDK v3', () => {
  it('stores and returns a 0-byte object', async () => {
    await local.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/empty', Body: '' }));
    const head = await local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/empty' }));
    expect(head.ContentLength).toBe(0);
  });

  it('joins a streamed multipart upload in part order, without the chunk framing', async () => {
    await new Upload({
      client: local.s3,
      params: { Bucket: BUCKET, Key: 'sdk/big', Body: pieces(12) },
    }).done();
    const { Body } = await local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/big' }));
    const bytes = Buffer.from(
      await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(bytes.length).toBe(12 * MIB);
    expect([bytes[0], bytes[5 * MIB], bytes[12 * MIB - 1]]).toEqual([0, 5, 11]);
  });

  it('lists objects with ListObjectsV2 under a prefix', async () => {
    const listed = await local.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }));
    expect(listed.Contents?.map(({ Key, Size }) => [Key, Size])).toEqual([
      ['sdk/big', 12 * MIB],
      ['sdk/empty', 0],
    ]);
  });
});

describe('the local S3 with the minio client', () => {
  const minio = () => {
    const url = new URL(local.address);
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
