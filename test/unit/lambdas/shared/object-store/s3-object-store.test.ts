/**
 * The S3 adapter against the local S3 the workflow runs on (s3rver behind `startLocalS3`), with the
 * real `@aws-sdk/client-s3` client: every method of `S3ObjectStore`, and what it makes of S3's
 * answers (404, 412 to `If-Match`, a multipart upload). A mocked client covers what the local S3,
 * an unversioned bucket, cannot show: reads by version id, and a store that ignores `If-Match`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ObjectChangedError,
  ObjectNotFoundError,
} from '../../../../../lambdas/shared/object-store/object-store.js';
import { S3ObjectStore } from '../../../../../lambdas/shared/object-store/s3-object-store.js';
import { useLocalS3 } from '../../../../support/local-s3-server.js';

const BUCKET = 'adapter-bucket';

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const pieces: Uint8Array[] = [];
  for await (const piece of body) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8');
}

describe('S3ObjectStore on the local S3', () => {
  const local = useLocalS3(BUCKET);
  let s3: S3Client;
  let store: S3ObjectStore;
  let scratch: string;

  beforeAll(() => {
    s3 = local.s3;
    store = new S3ObjectStore(s3);
    scratch = local.directory;
  });

  /** Puts an object and returns its ETag as S3's event carries it: unquoted. */
  async function put(key: string, body: string, metadata: Record<string, string> = {}) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
    return etagOf(key);
  }
  async function etagOf(key: string): Promise<string> {
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return (ETag ?? '').replaceAll('"', '');
  }
  /** The object as S3 holds it, read past the adapter. */
  async function raw(key: string) {
    const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return { contentType: response.ContentType, body: (await response.Body?.transformToString()) ?? '' };
  }

  describe('read', () => {
    it("streams the object's bytes", async () => {
      await put('work/read/a.jsonl', '{"a":1}\n{"b":"é"}\n');
      expect(await text(await store.read(BUCKET, 'work/read/a.jsonl'))).toBe('{"a":1}\n{"b":"é"}\n');
    });

    it('says there is no such object', async () => {
      await expect(store.read(BUCKET, 'work/read/missing.jsonl')).rejects.toMatchObject({
        name: 'ObjectNotFoundError',
        message: `s3://${BUCKET}/work/read/missing.jsonl does not exist`,
      });
    });
  });

  describe('getJson and putJson', () => {
    it('writes JSON that reads back as the same value, typed as JSON', async () => {
      const value = {
        runId: 'r1',
        chunks: [{ index: 0, key: 'work/r1/chunks/chunk-00000.jsonl' }],
        note: 'ü',
      };
      await store.putJson(BUCKET, 'work/json/plan.json', value);

      expect(await store.getJson(BUCKET, 'work/json/plan.json')).toEqual(value);
      expect(await raw('work/json/plan.json')).toEqual({
        contentType: 'application/json',
        body: JSON.stringify(value, null, 2),
      });
    });

    it('replaces the object under the key', async () => {
      await store.putJson(BUCKET, 'work/json/twice.json', { n: 1 });
      await store.putJson(BUCKET, 'work/json/twice.json', { n: 2 });
      expect(await store.getJson(BUCKET, 'work/json/twice.json')).toEqual({ n: 2 });
    });

    it('reads a missing object as undefined', async () => {
      expect(await store.getJson(BUCKET, 'work/json/missing.json')).toBeUndefined();
    });

    it('fails on an object that is not JSON', async () => {
      await put('work/json/broken.json', '{"open":');
      await expect(store.getJson(BUCKET, 'work/json/broken.json')).rejects.toThrow(SyntaxError);
    });
  });

  describe('openLineWriter', () => {
    it('writes one line per write, each ended by a newline, and returns the size in bytes', async () => {
      const writer = store.openLineWriter(BUCKET, 'results/lines/results.jsonl');
      await writer.write('{"key":"a"}');
      await writer.write('{"key":"é"}');

      expect(await writer.close()).toEqual({ bytes: Buffer.byteLength('{"key":"a"}\n{"key":"é"}\n') });
      expect(await raw('results/lines/results.jsonl')).toEqual({
        contentType: 'application/jsonl',
        body: '{"key":"a"}\n{"key":"é"}\n',
      });
    });

    it('writes an empty object when closed without a line', async () => {
      const writer = store.openLineWriter(BUCKET, 'results/lines/empty.jsonl');
      expect(await writer.close()).toEqual({ bytes: 0 });
      expect((await raw('results/lines/empty.jsonl')).body).toBe('');
    });

    it('streams a file larger than one part as a multipart upload, every line in order', async () => {
      const line = (n: number) => JSON.stringify({ key: `k${n}`, text: 'x'.repeat(1000) });
      const count = 12_000; // about 12 MiB: more than the 5 MiB part lib-storage sends at a time
      const writer = store.openLineWriter(BUCKET, 'results/lines/large.jsonl');
      for (let n = 0; n < count; n += 1) await writer.write(line(n));
      const { bytes } = await writer.close();

      const expected = Array.from({ length: count }, (_, n) => `${line(n)}\n`).join('');
      expect(bytes).toBe(Buffer.byteLength(expected));
      expect(await text(await store.read(BUCKET, 'results/lines/large.jsonl'))).toBe(expected);
      // A multipart object's ETag is the MD5 of its parts' MD5s, then the number of parts.
      expect(await etagOf('results/lines/large.jsonl')).toMatch(/^[0-9a-f]{32}-3$/);
    });

    it('leaves no object when aborted', async () => {
      const writer = store.openLineWriter(BUCKET, 'results/lines/aborted.jsonl');
      await writer.write('{"key":"a"}');
      await writer.abort();
      await expect(store.read(BUCKET, 'results/lines/aborted.jsonl')).rejects.toThrow(ObjectNotFoundError);
    });

    it('fails on close when S3 refuses the upload', async () => {
      const writer = new S3ObjectStore(s3).openLineWriter('no-such-bucket', 'results/lines/refused.jsonl');
      await writer.write('{"key":"a"}');
      await expect(writer.close()).rejects.toMatchObject({ name: 'NoSuchBucket' });
    });
  });

  describe('downloadToFile', () => {
    it('copies the object to a local file', async () => {
      const content = `${'{"key":"k","request":{}}\n'.repeat(2000)}`;
      await put('work/download/chunk.jsonl', content);
      const path = join(scratch, 'chunk.jsonl');

      await store.downloadToFile(BUCKET, 'work/download/chunk.jsonl', path);

      expect(await readFile(path, 'utf8')).toBe(content);
    });

    it('says there is no such object', async () => {
      await expect(
        store.downloadToFile(BUCKET, 'work/download/missing.jsonl', join(scratch, 'missing.jsonl')),
      ).rejects.toThrow(ObjectNotFoundError);
    });
  });

  describe('openVersion', () => {
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
      expect(now).not.toBe(etag);

      const opening = store.openVersion(BUCKET, 'inputs/replaced.jsonl', { etag: `"${etag}"` });

      await expect(opening).rejects.toThrow(ObjectChangedError);
      // No ETag of an answer: the server refused before sending a byte (the local S3 answers If-Match).
      await expect(opening).rejects.toMatchObject({
        message: `s3://${BUCKET}/inputs/replaced.jsonl no longer has ETag ${etag}`,
        expectedEtag: etag,
        foundEtag: undefined,
      });
    });

    it('says a version the bucket does not hold does not exist (NoSuchVersion), never reading the current one', async () => {
      await put('inputs/versioned.jsonl', 'current\n');
      await expect(
        store.openVersion(BUCKET, 'inputs/versioned.jsonl', { versionId: 'v-gone' }),
      ).rejects.toThrow(`s3://${BUCKET}/inputs/versioned.jsonl (version v-gone) does not exist`);
    });

    it('reads whatever is current when it is given no version', async () => {
      await put('inputs/any.jsonl', 'first\n');
      await put('inputs/any.jsonl', 'second\n');
      expect(await text((await store.openVersion(BUCKET, 'inputs/any.jsonl', {})).body)).toBe('second\n');
    });

    it('says there is no such object', async () => {
      await expect(store.openVersion(BUCKET, 'inputs/missing.jsonl', { etag: 'abc' })).rejects.toThrow(
        ObjectNotFoundError,
      );
    });
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

    const opening = new S3ObjectStore(s3 as unknown as S3Client).openVersion(BUCKET, 'inputs/e.jsonl', {
      etag: 'older',
    });

    await expect(opening).rejects.toThrow(ObjectChangedError);
    await expect(opening).rejects.toThrow(
      `s3://${BUCKET}/inputs/e.jsonl no longer has ETag older (it has newer)`,
    );
    expect(stream.destroyed).toBe(true);
  });

  it('says a version that was deleted does not exist', async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: 'NoSuchVersion', $fault: 'client', $metadata: { httpStatusCode: 404 } }),
    );

    const opening = new S3ObjectStore(s3 as unknown as S3Client).openVersion(BUCKET, 'inputs/v.jsonl', {
      versionId: 'gone',
    });

    await expect(opening).rejects.toThrow(ObjectNotFoundError);
    await expect(opening).rejects.toThrow(`s3://${BUCKET}/inputs/v.jsonl (version gone) does not exist`);
  });
});
