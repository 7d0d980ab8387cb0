import { createHash, type Hash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat, truncate } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { GoogleApiError, invalidArgument, notFound, quotaExceeded } from './api-error.js';
import type { EmulatorClock } from './clock.js';
import type { ResolvedLimits } from './options.js';

export type FileSource = 'UPLOADED' | 'GENERATED';

export interface StoredFile {
  readonly name: string;
  readonly displayName: string | undefined;
  readonly mimeType: string;
  readonly sizeBytes: number;
  readonly sha256Base64: string;
  readonly createTimeMs: number;
  readonly expirationTimeMs: number;
  readonly source: FileSource;
  /** Where the bytes are on disk. */
  readonly path: string;
}

export interface UploadStart {
  readonly name?: string;
  readonly displayName?: string;
  readonly mimeType: string;
  readonly sizeBytes: number;
}

interface UploadSession {
  readonly id: string;
  /** An upload not finished by then is abandoned: its bytes go and it stops counting against quota. */
  readonly expirationTimeMs: number;
  readonly start: UploadStart & { readonly name: string };
  readonly path: string;
  received: number;
  /** SHA-256 of the bytes accepted so far; copied before each chunk so a refused chunk leaves no trace. */
  hash: Hash;
}

export type ChunkOutcome =
  | { readonly status: 'active'; readonly received: number }
  | { readonly status: 'final'; readonly file: StoredFile }
  /** The chunk's connection died or was cut (fault injection): answer nothing; whole granules stay. */
  | { readonly status: 'interrupted' };

/**
 * `X-Goog-Upload-Chunk-Granularity`, the 8 MiB the SDK's pieces are (`MAX_CHUNK_SIZE`): every
 * chunk but the last must be a multiple of it (developers.google.com/photos/library/guides/
 * resumable-uploads: "all uploads, except the last upload, must be done in multiples of this
 * value"). Gemini's own value is not public.
 */
export const UPLOAD_GRANULARITY_BYTES = 8 * 1024 * 1024;

/** Real file ids are lowercase alphanumeric; 12 characters, as Google's are. */
export function newResourceId(length = 12): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * The Files API's storage: file bytes on disk under `dir`, metadata in memory. Bytes are streamed
 * to and from disk, so file size never shows in the emulator's memory.
 */
export class FileStore {
  readonly #files = new Map<string, StoredFile>();
  readonly #uploads = new Map<string, UploadSession>();

  constructor(
    private readonly dir: string,
    private readonly clock: EmulatorClock,
    private readonly limits: ResolvedLimits,
  ) {}

  /** Opens a resumable upload after checking size limits; returns the session id. */
  startUpload(start: UploadStart): string {
    const { maxFileBytes, maxStorageBytes } = this.limits;
    if (!Number.isSafeInteger(start.sizeBytes) || start.sizeBytes <= 0) {
      throw invalidArgument(`File size must be a positive number of bytes, got ${start.sizeBytes}.`);
    }
    if (start.sizeBytes > maxFileBytes) {
      throw invalidArgument(
        `File size ${start.sizeBytes} bytes exceeds the maximum allowed file size of ${maxFileBytes} bytes.`,
      );
    }
    const stored = this.#uploadedBytes() + start.sizeBytes;
    // Google's generic quota answer: it does not say the storage quota is the one that ran out.
    if (stored > maxStorageBytes) throw quotaExceeded();
    const name = start.name ?? `files/${newResourceId()}`;
    if (!/^files\/[a-z0-9-]{1,40}$/.test(name)) {
      throw invalidArgument(
        `Invalid file name '${name}': use files/ followed by lowercase letters, digits or '-'.`,
      );
    }
    if (this.#files.has(name) || [...this.#uploads.values()].some((u) => u.start.name === name)) {
      throw new GoogleApiError(409, `File ${name} already exists.`);
    }
    const id = newResourceId(32);
    this.#uploads.set(id, {
      id,
      expirationTimeMs: this.clock.now() + this.limits.fileTtlMs,
      start: { ...start, name },
      path: join(this.dir, `upload-${id}`),
      received: 0,
      hash: createHash('sha256'),
    });
    return id;
  }

  /**
   * Appends one chunk, streamed from the request, at `offset`. `finalize` ends the upload, which
   * must then hold exactly the declared size; a chunk that does not finalize must be a whole number
   * of granules ({@link UPLOAD_GRANULARITY_BYTES}), as Google states for every piece but the last.
   * A chunk whose connection dies part-way (the client's, or `interruptAfter` bytes in: fault
   * injection) keeps only the whole granules that arrived: a client must resume from what `query`
   * reports, never from what it believes it sent.
   */
  async appendChunk(
    uploadId: string,
    offset: number,
    finalize: boolean,
    body: IncomingMessage,
    interruptAfter?: number,
  ): Promise<ChunkOutcome> {
    this.#expire();
    const session = this.#uploads.get(uploadId);
    if (!session)
      throw notFound(`Unknown upload_id ${uploadId}: the upload was never started or already ended.`);
    if (offset !== session.received) {
      throw invalidArgument(
        `Upload offset ${offset} does not match the ${session.received} bytes received so far.`,
      );
    }
    const hash = session.hash.copy();
    // The last granule boundary reached, with the hash of every byte up to it: what a cut chunk keeps.
    let granule = { received: session.received, hash: session.hash };
    const out = createWriteStream(session.path, { flags: 'a' });
    let chunkBytes = 0;
    let failure: GoogleApiError | 'interrupted' | undefined;
    try {
      for await (const data of body as AsyncIterable<Buffer>) {
        if (failure) continue; // read the rest of an oversized chunk so the error answer can be sent
        if (interruptAfter !== undefined && chunkBytes + data.length >= interruptAfter) {
          failure = 'interrupted';
          break;
        }
        if (session.received + chunkBytes + data.length > session.start.sizeBytes) {
          failure = invalidArgument(
            `Upload exceeds its declared size of ${session.start.sizeBytes} bytes at offset ${offset + chunkBytes}.`,
          );
          continue;
        }
        for (let from = 0; from < data.length; ) {
          const at = session.received + chunkBytes;
          const taken = Math.min(
            data.length - from,
            UPLOAD_GRANULARITY_BYTES - (at % UPLOAD_GRANULARITY_BYTES),
          );
          hash.update(data.subarray(from, from + taken));
          chunkBytes += taken;
          from += taken;
          if ((at + taken) % UPLOAD_GRANULARITY_BYTES === 0)
            granule = { received: at + taken, hash: hash.copy() };
        }
        if (!out.write(data)) await new Promise<void>((resolve) => out.once('drain', resolve));
      }
    } catch {
      // The client's connection died mid-chunk (a reset, an aborted request).
      failure = 'interrupted';
    } finally {
      out.end();
      await finished(out);
    }
    if (!failure && !finalize && chunkBytes % UPLOAD_GRANULARITY_BYTES !== 0) {
      failure = invalidArgument(
        `Upload chunk of ${chunkBytes} bytes is not a multiple of the upload's chunk granularity of ${UPLOAD_GRANULARITY_BYTES} bytes; only the last chunk (upload, finalize) may be shorter.`,
      );
    }
    if (failure === 'interrupted') {
      await truncate(session.path, granule.received);
      session.received = granule.received;
      session.hash = granule.hash;
      return { status: 'interrupted' };
    }
    if (failure) {
      // A refused chunk leaves no bytes behind: the client resends from `received`.
      await truncate(session.path, session.received);
      throw failure;
    }
    session.received += chunkBytes;
    session.hash = hash;
    if (!finalize) return { status: 'active', received: session.received };
    if (session.received !== session.start.sizeBytes) {
      throw invalidArgument(
        `Upload finalized with ${session.received} bytes, but ${session.start.sizeBytes} were declared.`,
      );
    }
    this.#uploads.delete(uploadId);
    const file = this.#register({
      name: session.start.name,
      displayName: session.start.displayName,
      mimeType: session.start.mimeType,
      sizeBytes: session.received,
      sha256Base64: hash.digest('base64'),
      source: 'UPLOADED',
      path: session.path,
    });
    return { status: 'final', file };
  }

  /** Bytes accepted so far for an upload, for the resumable protocol's `query` command. */
  uploadProgress(uploadId: string): number {
    this.#expire();
    const session = this.#uploads.get(uploadId);
    if (!session) throw notFound(`Unknown upload_id ${uploadId}.`);
    return session.received;
  }

  /** Registers a file the emulator wrote itself (a batch's output) as `GENERATED`. */
  async addGenerated(
    name: string,
    path: string,
    mimeType: string,
    sha256Base64: string,
  ): Promise<StoredFile> {
    const { size } = await stat(path);
    return this.#register({
      name,
      displayName: undefined,
      mimeType,
      sizeBytes: size,
      sha256Base64,
      source: 'GENERATED',
      path,
    });
  }

  get(name: string): StoredFile {
    this.#expire();
    const file = this.#files.get(name);
    if (!file) throw notFound(`File ${name} does not exist or has expired.`);
    return file;
  }

  /** Files newest first, as Google lists them. */
  list(): StoredFile[] {
    this.#expire();
    return [...this.#files.values()].reverse();
  }

  async delete(name: string): Promise<void> {
    const file = this.get(name);
    this.#files.delete(name);
    await rm(file.path, { force: true });
  }

  #register(file: Omit<StoredFile, 'createTimeMs' | 'expirationTimeMs'>): StoredFile {
    const now = this.clock.now();
    const stored: StoredFile = { ...file, createTimeMs: now, expirationTimeMs: now + this.limits.fileTtlMs };
    this.#files.set(stored.name, stored);
    return stored;
  }

  #uploadedBytes(): number {
    this.#expire();
    let total = 0;
    for (const file of this.#files.values()) if (file.source === 'UPLOADED') total += file.sizeBytes;
    for (const session of this.#uploads.values()) total += session.start.sizeBytes;
    return total;
  }

  /** Files live 48 hours of emulator time, then vanish with their bytes, as on Gemini; so do unfinished uploads. */
  #expire(): void {
    const now = this.clock.now();
    for (const session of this.#uploads.values()) {
      if (session.expirationTimeMs <= now) {
        this.#uploads.delete(session.id);
        void rm(session.path, { force: true });
      }
    }
    for (const file of this.#files.values()) {
      if (file.expirationTimeMs <= now) {
        this.#files.delete(file.name);
        void rm(file.path, { force: true });
      }
    }
  }
}

/** The File resource as Google's REST API renders it (int64 as string). */
export function fileResource(file: StoredFile, baseUrl: string, apiVersion: string, clock: EmulatorClock) {
  const id = file.name.slice('files/'.length);
  return {
    name: file.name,
    ...(file.displayName !== undefined ? { displayName: file.displayName } : {}),
    mimeType: file.mimeType,
    sizeBytes: String(file.sizeBytes),
    createTime: clock.iso(file.createTimeMs),
    updateTime: clock.iso(file.createTimeMs),
    expirationTime: clock.iso(file.expirationTimeMs),
    sha256Hash: file.sha256Base64,
    uri: `${baseUrl}/${apiVersion}/${file.name}`,
    downloadUri: `${baseUrl}/download/${apiVersion}/files/${id}:download?alt=media`,
    state: 'ACTIVE',
    source: file.source,
  };
}
