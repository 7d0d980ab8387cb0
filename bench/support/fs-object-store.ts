/**
 * The ObjectStore port over a local directory (`<root>/<bucket>/<key>`), so the benchmarks measure
 * the cores, not an S3 emulation. It keeps what the S3 adapter does on the hot path (lines gathered
 * into 256 KiB blocks before they reach the stream, back-pressure honoured) and drops what belongs
 * to S3 alone (HTTP, multipart parts, per-line byte counting: the size comes from the file).
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { LineBlocks } from '../../lambdas/shared/object-store/line-blocks.js';
import {
  BUFFERED,
  type LineWriter,
  ObjectNotFoundError,
  type ObjectSnapshot,
  type ObjectStore,
  type ObjectVersion,
  type VersionedReads,
} from '../../lambdas/shared/object-store/object-store.js';

/** Same block size as `S3ObjectStore`: fewer, larger stream writes. */
const WRITE_BLOCK_BYTES = 256 * 1024;

export class FsObjectStore implements ObjectStore, VersionedReads {
  constructor(readonly root: string) {}

  /** Where an object lives on disk. */
  pathOf(bucket: string, key: string): string {
    return join(this.root, bucket, key);
  }

  async read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
    const path = this.pathOf(bucket, key);
    try {
      await access(path);
    } catch {
      throw new ObjectNotFoundError(bucket, key);
    }
    return createReadStream(path);
  }

  /**
   * Files carry no versions, ETags or user metadata: the benchmarks' runs name no version, and the
   * stack's default models apply.
   */
  async openVersion(bucket: string, key: string, version: ObjectVersion): Promise<ObjectSnapshot> {
    if (version.versionId !== undefined || version.etag !== undefined) {
      throw new Error(`the filesystem store keeps no versions or ETags: cannot read ${key} as of one`);
    }
    return { body: await this.read(bucket, key), metadata: {} };
  }

  async getJson<T>(bucket: string, key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.pathOf(bucket, key), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    const path = this.pathOf(bucket, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(value, null, 2));
  }

  /** Writes to `<key>.partial` and renames on close: like S3, the object appears whole or not at all. */
  openLineWriter(bucket: string, key: string): LineWriter {
    const path = this.pathOf(bucket, key);
    const partial = `${path}.partial`;
    let out: ReturnType<typeof createWriteStream> | undefined;
    const blocks = new LineBlocks(WRITE_BLOCK_BYTES);
    const stream = async () => {
      if (!out) {
        await mkdir(dirname(path), { recursive: true });
        out = createWriteStream(partial);
      }
      return out;
    };
    const flush = async (block: Buffer | undefined) => {
      if (block === undefined) return;
      const target = await stream();
      if (!target.write(block)) await once(target, 'drain');
    };
    return {
      write(line) {
        const full = blocks.add(line);
        return full ? flush(full) : BUFFERED;
      },
      async close() {
        await flush(blocks.take());
        const target = await stream();
        target.end();
        await finished(target);
        await rename(partial, path);
        return { bytes: target.bytesWritten };
      },
      async abort() {
        out?.destroy();
        await rm(partial, { force: true });
      },
    };
  }

  async downloadToFile(bucket: string, key: string, path: string): Promise<void> {
    try {
      await copyFile(this.pathOf(bucket, key), path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(bucket, key);
      throw error;
    }
  }
}
