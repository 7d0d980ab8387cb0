/**
 * The S3 adapter's exact-version reads: against the local S3 server the workflow runs on (fauxqs),
 * for what it does with a real `If-Match`, and against a mocked client for what fauxqs cannot
 * show (versioned buckets, a store that ignores `If-Match`).
 */
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ObjectChangedError,
  ObjectNotFoundError,
} from '../../../../../lambdas/shared/object-store/object-store.js';
import { S3ObjectStore } from '../../../../../lambdas/shared/object-store/s3-object-store.js';
import { rejection } from '../../run-fixtures.js';

const BUCKET = 'adapter-bucket';

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const pieces: Uint8Array[] = [];
  for await (const piece of body) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8');
}

describe('S3ObjectStore.openVersion on a local S3 server', () => {
  let server: FauxqsServer;
  let s3: S3Client;
  let store: S3ObjectStore;

  beforeAll(async () => {
    server = await startFauxqs({ port: 0, logger: false });
    s3 = new S3Client({
      endpoint: server.address,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    store = new S3ObjectStore(s3);
  });

  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });

  /** Puts an object and returns its ETag as S3's event carries it: unquoted. */
  async function put(key: string, body: string, metadata: Record<string, string> = {}) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return (ETag ?? '').replaceAll('"', '');
  }

  it('reads the bytes and the metadata of the version whose ETag it is given', async () => {
    const etag = await put('inputs/same.jsonl', '{"a":1}\n', { 'gemini-model': 'gemini-2.5-pro' });

    const snapshot = await store.openVersion(BUCKET, 'inputs/same.jsonl', { etag });

    expect(await text(snapshot.body)).toBe('{"a":1}\n');
    expect(snapshot.metadata).toEqual({ 'gemini-model': 'gemini-2.5-pro' });
    expect(snapshot.etag).toBe(etag);
  });

  it('refuses, by S3 answering 412 to If-Match, an object replaced since the ETag was taken', async () => {
    const etag = await put('inputs/replaced.jsonl', '{"old":1}\n');
    const now = await put('inputs/replaced.jsonl', '{"new":2}\n', { 'gemini-model': 'other' });

    const error = await rejection(store.openVersion(BUCKET, 'inputs/replaced.jsonl', { etag: `"${etag}"` }));

    expect(error).toBeInstanceOf(ObjectChangedError);
    expect(error.message).toBe(`s3://${BUCKET}/inputs/replaced.jsonl no longer has ETag ${etag}`);
    // No ETag of an answer: the server refused before sending a byte (fauxqs honours If-Match).
    expect((error as ObjectChangedError).foundEtag).toBeUndefined();
    expect(now).not.toBe(etag);
  });

  it('reads whatever is current when it is given no version', async () => {
    await put('inputs/any.jsonl', 'first\n');
    await put('inputs/any.jsonl', 'second\n');
    expect(await text((await store.openVersion(BUCKET, 'inputs/any.jsonl', {})).body)).toBe('second\n');
  });

  it('says there is no such object', async () => {
    const error = await rejection(store.openVersion(BUCKET, 'inputs/missing.jsonl', { etag: 'abc' }));
    expect(error).toBeInstanceOf(ObjectNotFoundError);
  });
});

describe('S3ObjectStore.openVersion on a mocked client', () => {
  let s3: AwsClientStub<S3Client>;
  beforeEach(() => {
    s3 = mockClient(S3Client);
  });
  afterEach(() => {
    s3.restore();
  });
  /** What the SDK's Body is in Node: a Readable (the adapter needs no more of it). */
  const body = (content: string) => Readable.from([Buffer.from(content)]);
  const output = (fields: Omit<GetObjectCommandOutput, '$metadata' | 'Body'>, stream: Readable) =>
    ({ ...fields, Body: stream }) as unknown as GetObjectCommandOutput;

  it('reads by version id in a versioned bucket, with no If-Match', async () => {
    s3.on(GetObjectCommand).resolves(
      output({ ETag: '"e1"', VersionId: 'v1', Metadata: {} }, body('{"v":1}\n')),
    );
    const store = new S3ObjectStore(s3 as unknown as S3Client);

    const snapshot = await store.openVersion(BUCKET, 'inputs/v.jsonl', { versionId: 'v1', etag: 'e1' });

    expect(await text(snapshot.body)).toBe('{"v":1}\n');
    expect(snapshot).toMatchObject({ etag: 'e1', versionId: 'v1' });
    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: 'inputs/v.jsonl', VersionId: 'v1' },
    ]);
  });

  it('sends If-Match with the quoted ETag when there is no version id', async () => {
    s3.on(GetObjectCommand).resolves(output({ ETag: '"e2"' }, body('x\n')));
    await new S3ObjectStore(s3 as unknown as S3Client).openVersion(BUCKET, 'inputs/e.jsonl', { etag: 'e2' });

    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: 'inputs/e.jsonl',
      IfMatch: '"e2"',
    });
  });

  it('refuses the bytes of a store that ignores If-Match, by the ETag of its answer', async () => {
    const stream = body('{"new":2}\n');
    s3.on(GetObjectCommand).resolves(output({ ETag: '"newer"' }, stream));

    const error = await rejection(
      new S3ObjectStore(s3 as unknown as S3Client).openVersion(BUCKET, 'inputs/e.jsonl', { etag: 'older' }),
    );

    expect(error).toBeInstanceOf(ObjectChangedError);
    expect(error.message).toBe(`s3://${BUCKET}/inputs/e.jsonl no longer has ETag older (it has newer)`);
    expect(stream.destroyed).toBe(true);
  });

  it('says a version that was deleted does not exist', async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: 'NoSuchVersion', $fault: 'client', $metadata: { httpStatusCode: 404 } }),
    );

    const error = await rejection(
      new S3ObjectStore(s3 as unknown as S3Client).openVersion(BUCKET, 'inputs/v.jsonl', {
        versionId: 'gone',
      }),
    );

    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect(error.message).toBe(`s3://${BUCKET}/inputs/v.jsonl (version gone) does not exist`);
  });
});
