/**
 * The port through which the cores reach S3. The Lambda adapter is `S3ObjectStore`; unit tests use
 * an in-memory fake. Streams in and out, so object size never shows in memory.
 */
export interface ObjectStore {
  /**
   * The object's bytes as a stream, whichever version is current; throws `ObjectNotFoundError` if
   * there is no such object. For objects the pipeline wrote itself: an upload is read with
   * {@link VersionedReads.openVersion}.
   */
  read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>>;
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
   * Appends one line (a newline is added): text, or its UTF-8 bytes when they are at hand (a line
   * read and sent on as it was), which are copied before this returns. Resolves when the writer can
   * take more: writers buffer, so this is `BUFFERED` (already resolved) for most lines and a real
   * wait only when they flush.
   */
  write(line: string | Uint8Array): Promise<void>;
  /** Completes the object; returns its size. */
  close(): Promise<{ readonly bytes: number }>;
  /** Discards what was written. */
  abort(): Promise<void>;
}

/**
 * Which version of an object to read: what S3's "Object Created" event names. A version id names
 * one version for good (a versioned bucket); an ETag names the bytes, and a reader given only an
 * ETag reads the object only while it still holds them.
 */
export interface ObjectVersion {
  readonly versionId?: string;
  /** Quoted (`"…"`, as HTTP sends it) or not (as S3's events carry it). */
  readonly etag?: string;
}

/** One version of an object: its bytes, and the user metadata stored with those bytes. */
export interface ObjectSnapshot {
  readonly body: AsyncIterable<Uint8Array>;
  /** User metadata (`x-amz-meta-*`), names in lower case. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Unquoted. */
  readonly etag?: string;
  readonly versionId?: string;
}

/**
 * Reading one exact version of an object: how a run reads the upload that started it, however
 * soon the file under that key is replaced. A port of its own beside {@link ObjectStore}: only
 * uploads need it, since nothing else writes what the pipeline wrote.
 */
export interface VersionedReads {
  /**
   * Opens the version named, by its `versionId` when there is one, else only while the object's
   * ETag is still `etag` (neither: the current version). Bytes and metadata come from one read,
   * so from one version. Throws `ObjectChangedError` when the object under the key holds other
   * bytes now, `ObjectNotFoundError` when there is no such object or version.
   */
  openVersion(bucket: string, key: string, version: ObjectVersion): Promise<ObjectSnapshot>;
}

export class ObjectNotFoundError extends Error {
  constructor(bucket: string, key: string, versionId?: string) {
    super(`s3://${bucket}/${key}${versionId ? ` (version ${versionId})` : ''} does not exist`);
    this.name = 'ObjectNotFoundError';
  }
}

/** The object under a key is not the version asked for any more: it was overwritten. */
export class ObjectChangedError extends Error {
  constructor(
    bucket: string,
    key: string,
    readonly expectedEtag: string,
    readonly foundEtag?: string,
  ) {
    super(
      `s3://${bucket}/${key} no longer has ETag ${expectedEtag}${foundEtag ? ` (it has ${foundEtag})` : ''}`,
    );
    this.name = 'ObjectChangedError';
  }
}

/** `"abc"` and `abc` are the same ETag: HTTP quotes it, S3's events do not. */
export const unquoteEtag = (etag: string): string => etag.replace(/^"(.*)"$/, '$1');

export const s3Uri = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/** What a buffering writer returns when a line only went to its buffer: awaiting it costs one tick. */
export const BUFFERED: Promise<void> = Promise.resolve();
