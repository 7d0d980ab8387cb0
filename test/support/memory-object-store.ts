import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import {
  type LineWriter,
  ObjectChangedError,
  ObjectNotFoundError,
  type ObjectSnapshot,
  type ObjectStore,
  type ObjectVersion,
  unquoteEtag,
  type VersionedReads,
} from '../../lambdas/shared/object-store/object-store.js';

/** Streams `content` in pieces of `size` bytes, as a network stream would. */
async function* inPieces(content: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < content.length; offset += size) yield content.subarray(offset, offset + size);
}

/** One version of an object, as a versioned bucket keeps it. */
interface StoredVersion {
  readonly content: Buffer;
  readonly metadata: Record<string, string>;
  readonly etag: string;
  readonly versionId: string;
}

/**
 * An in-memory ObjectStore for core unit tests: what was written can be read back and inspected.
 * It keeps every version of an object, as a versioned bucket does, with S3's ETag (the MD5 of the
 * bytes, for an object put in one piece).
 */
export class MemoryObjectStore implements ObjectStore, VersionedReads {
  /** The current version's bytes. */
  readonly objects = new Map<string, Buffer>();

  /** User metadata of the current version, as S3 keeps it beside the bytes. */
  readonly userMetadata = new Map<string, Record<string, string>>();

  // TypeScript-private, not #private: tests wrap this store in proxies, which #fields refuse.
  private readonly versions = new Map<string, StoredVersion[]>();
  private nextVersion = 1;

  /** Streams objects in small pieces, so readers are exercised on lines split across chunks. */
  constructor(private readonly chunkBytes = 7) {}

  /** Stores a new version under the key; returns what S3's event for it would name. */
  put(
    bucket: string,
    key: string,
    content: string | Buffer,
    metadata: Record<string, string> = {},
  ): { readonly etag: string; readonly versionId: string } {
    const bytes = Buffer.from(content);
    const version: StoredVersion = {
      content: bytes,
      metadata,
      etag: createHash('md5').update(bytes).digest('hex'),
      versionId: `v${this.nextVersion++}`,
    };
    this.objects.set(`${bucket}/${key}`, bytes);
    this.userMetadata.set(`${bucket}/${key}`, metadata);
    this.versions.set(`${bucket}/${key}`, [...(this.versions.get(`${bucket}/${key}`) ?? []), version]);
    return { etag: version.etag, versionId: version.versionId };
  }

  /** The current version's user metadata: not part of the ports, for fakes that wrap this one. */
  async metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>>> {
    if (!this.objects.has(`${bucket}/${key}`)) throw new ObjectNotFoundError(bucket, key);
    return this.userMetadata.get(`${bucket}/${key}`) ?? {};
  }

  async openVersion(bucket: string, key: string, version: ObjectVersion): Promise<ObjectSnapshot> {
    const versions = this.versions.get(`${bucket}/${key}`) ?? [];
    const current = versions.at(-1);
    const found = version.versionId
      ? versions.find((stored) => stored.versionId === version.versionId)
      : current;
    if (!found) throw new ObjectNotFoundError(bucket, key, version.versionId);
    if (version.etag !== undefined && unquoteEtag(version.etag) !== found.etag) {
      throw new ObjectChangedError(bucket, key, unquoteEtag(version.etag), found.etag);
    }
    return {
      body: inPieces(found.content, this.chunkBytes),
      metadata: found.metadata,
      etag: found.etag,
      versionId: found.versionId,
    };
  }

  text(bucket: string, key: string): string | undefined {
    return this.objects.get(`${bucket}/${key}`)?.toString('utf8');
  }

  /** The object's non-empty lines, parsed as JSON. */
  jsonLines(bucket: string, key: string): Record<string, unknown>[] {
    return (this.text(bucket, key) ?? '')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
    const content = this.objects.get(`${bucket}/${key}`);
    if (!content) throw new ObjectNotFoundError(bucket, key);
    return inPieces(content, this.chunkBytes);
  }

  async getJson<T>(bucket: string, key: string): Promise<T | undefined> {
    const text = this.text(bucket, key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    this.put(bucket, key, JSON.stringify(value));
  }

  openLineWriter(bucket: string, key: string): LineWriter {
    const lines: string[] = [];
    return {
      write: async (line) => {
        // Bytes may be a view the caller reuses: decoded (copied) now, as the real writers copy them.
        lines.push(typeof line === 'string' ? line : Buffer.from(line).toString('utf8'));
      },
      close: async () => {
        const content = lines.map((line) => `${line}\n`).join('');
        this.put(bucket, key, content);
        return { bytes: Buffer.byteLength(content) };
      },
      abort: async () => {
        lines.length = 0;
      },
    };
  }

  async downloadToFile(bucket: string, key: string, path: string): Promise<void> {
    const content = this.objects.get(`${bucket}/${key}`);
    if (!content) throw new ObjectNotFoundError(bucket, key);
    await writeFile(path, content);
  }
}
