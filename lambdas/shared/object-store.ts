/**
 * The port through which the cores reach S3. The Lambda adapter is `S3ObjectStore`; unit tests use
 * an in-memory fake. Streams in and out, so object size never shows in memory.
 */
export interface ObjectStore {
  /** The object's bytes as a stream; throws `ObjectNotFoundError` if there is no such object. */
  read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>>;
  /** The object's user metadata (`x-amz-meta-*`, names in lower case); throws `ObjectNotFoundError` if there is no such object. */
  metadata(bucket: string, key: string): Promise<Readonly<Record<string, string>>>;
  /** The object parsed as JSON, or undefined if there is no such object. */
  getJson<T>(bucket: string, key: string): Promise<T | undefined>;
  putJson(bucket: string, key: string, value: unknown): Promise<void>;
  /** Streams text lines into a new object, replacing any object under that key on `close()`. */
  openLineWriter(bucket: string, key: string): LineWriter;
  /** Copies the object to a local file, for clients that need a path (uploads to Gemini). */
  downloadToFile(bucket: string, key: string, path: string): Promise<void>;
}

export interface LineWriter {
  /**
   * Appends one line (a newline is added). Resolves when the writer can take more: writers buffer,
   * so this is `BUFFERED` (already resolved) for most lines and a real wait only when they flush.
   */
  write(line: string): Promise<void>;
  /** Completes the object; returns its size. */
  close(): Promise<{ readonly bytes: number }>;
  /** Discards what was written. */
  abort(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(bucket: string, key: string) {
    super(`s3://${bucket}/${key} does not exist`);
    this.name = 'ObjectNotFoundError';
  }
}

export const s3Uri = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/** What a buffering writer returns when a line only went to its buffer: awaiting it costs one tick. */
export const BUFFERED: Promise<void> = Promise.resolve();
