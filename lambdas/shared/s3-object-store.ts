import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BUFFERED, type LineWriter, ObjectNotFoundError, type ObjectStore } from './object-store.js';

/** Lines are gathered into blocks of this size before they go to the upload stream. */
const WRITE_BLOCK_BYTES = 256 * 1024;

/** The ObjectStore port over S3, with `@aws-sdk/lib-storage` multipart uploads for streamed writes. */
export class S3ObjectStore implements ObjectStore {
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

  async metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>>> {
    try {
      const { Metadata } = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return Metadata ?? {};
    } catch (error) {
      if (error instanceof NotFound || error instanceof NoSuchKey) throw new ObjectNotFoundError(bucket, key);
      throw error;
    }
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
    let block = '';
    let bytes = 0;
    const flush = async () => {
      if (block === '') return;
      const data = block;
      block = '';
      if (!body.write(data)) await Promise.race([once(body, 'drain'), done]);
    };
    return {
      // Not async: most lines only join the block, and a fresh promise per line is measurable at a million lines.
      write(line) {
        block += `${line}\n`;
        bytes += Buffer.byteLength(line) + 1;
        return block.length >= WRITE_BLOCK_BYTES ? flush() : BUFFERED;
      },
      async close() {
        await flush();
        body.end();
        await done;
        return { bytes };
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
