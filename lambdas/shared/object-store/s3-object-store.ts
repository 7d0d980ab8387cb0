import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LineBlocks } from './line-blocks.js';
import {
  BUFFERED,
  type LineWriter,
  ObjectChangedError,
  ObjectNotFoundError,
  type ObjectSnapshot,
  type ObjectStore,
  type ObjectVersion,
  unquoteEtag,
  type VersionedReads,
} from './object-store.js';

/** Lines are gathered into blocks of this size before they go to the upload stream. */
const WRITE_BLOCK_BYTES = 256 * 1024;

/** S3's answer to a condition that does not hold (`IfMatch` on another ETag): 412 PreconditionFailed. */
const preconditionFailed = (error: unknown): boolean =>
  (error as { name?: string }).name === 'PreconditionFailed' ||
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;

/**
 * The ObjectStore and VersionedReads ports over S3, with `@aws-sdk/lib-storage` multipart uploads
 * for streamed writes.
 */
export class S3ObjectStore implements ObjectStore, VersionedReads {
  constructor(private readonly s3: S3Client) {}

  async read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!Body) throw new ObjectNotFoundError(bucket, key);
      return Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey) throw new ObjectNotFoundError(bucket, key);
      throw error;
    }
  }

  async openVersion(bucket: string, key: string, version: ObjectVersion): Promise<ObjectSnapshot> {
    const expected = version.etag === undefined ? undefined : unquoteEtag(version.etag);
    // A version id pins the bytes by itself; without one, S3 answers 412 if the ETag moved on.
    const condition = version.versionId
      ? { VersionId: version.versionId }
      : expected !== undefined
        ? { IfMatch: `"${expected}"` }
        : {};
    let response: GetObjectCommandOutput;
    try {
      response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...condition }));
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchVersion') {
        throw new ObjectNotFoundError(bucket, key, version.versionId);
      }
      if (expected !== undefined && preconditionFailed(error))
        throw new ObjectChangedError(bucket, key, expected);
      throw error;
    }
    const body = response.Body as Readable | undefined;
    if (!body) throw new ObjectNotFoundError(bucket, key, version.versionId);
    const found = response.ETag === undefined ? undefined : unquoteEtag(response.ETag);
    // Checked again on the answer, before a byte is used: a store that ignores IfMatch (or a
    // version id whose ETag is not the event's) still says which bytes it sent.
    if (expected !== undefined && found !== expected) {
      body.destroy();
      throw new ObjectChangedError(bucket, key, expected, found);
    }
    return {
      body,
      metadata: response.Metadata ?? {},
      etag: found,
      versionId: response.VersionId,
    };
  }

  async getJson<T>(bucket: string, key: string): Promise<T | undefined> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Body ? (JSON.parse(await Body.transformToString()) as T) : undefined;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(value, null, 2),
        ContentType: 'application/json',
      }),
    );
  }

  openLineWriter(bucket: string, key: string): LineWriter {
    const body = new PassThrough();
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/jsonl' },
    });
    const done = upload.done();
    // Surface upload failures through write/close rather than as an unhandled rejection.
    done.catch(() => undefined);
    const blocks = new LineBlocks(WRITE_BLOCK_BYTES);
    const flush = async (block: Buffer | undefined) => {
      if (block === undefined) return;
      if (!body.write(block)) await Promise.race([once(body, 'drain'), done]);
    };
    return {
      // Not async: most lines only join the block, and a fresh promise per line is measurable at a million lines.
      write(line) {
        const full = blocks.add(line);
        return full ? flush(full) : BUFFERED;
      },
      async close() {
        await flush(blocks.take());
        body.end();
        await done;
        return { bytes: blocks.bytes };
      },
      async abort() {
        body.destroy();
        await upload.abort();
      },
    };
  }

  async downloadToFile(bucket: string, key: string, path: string): Promise<void> {
    const source = await this.read(bucket, key);
    await pipeline(source, createWriteStream(path));
  }
}
