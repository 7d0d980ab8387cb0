import { writeFile } from 'node:fs/promises';
import { type LineWriter, ObjectNotFoundError, type ObjectStore } from '../../lambdas/shared/object-store.js';

/** An in-memory ObjectStore for core unit tests: what was written can be read back and inspected. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();

  /** User metadata by object, as S3 keeps it beside the bytes. */
  readonly userMetadata = new Map<string, Record<string, string>>();

  /** Streams objects in small pieces, so readers are exercised on lines split across chunks. */
  constructor(private readonly chunkBytes = 7) {}

  put(bucket: string, key: string, content: string | Buffer, metadata: Record<string, string> = {}): void {
    this.objects.set(`${bucket}/${key}`, Buffer.from(content));
    this.userMetadata.set(`${bucket}/${key}`, metadata);
  }

  async metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>>> {
    if (!this.objects.has(`${bucket}/${key}`)) throw new ObjectNotFoundError(bucket, key);
    return this.userMetadata.get(`${bucket}/${key}`) ?? {};
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
    const size = this.chunkBytes;
    return (async function* () {
      for (let offset = 0; offset < content.length; offset += size)
        yield content.subarray(offset, offset + size);
    })();
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
        lines.push(line);
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
