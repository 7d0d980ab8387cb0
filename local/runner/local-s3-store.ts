/**
 * s3rver's filesystem store, made to keep and serve objects as S3 does (see `serveAsS3`): the
 * local S3's storage, under its HTTP front (local-s3.ts) and its conditional requests
 * (conditional-requests.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectToStore, S3rverStore } from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error.js';
import { type CurrentObject, checkRead, checkWrite } from './conditional-requests.js';

/** Streams `content` to a new file beside `path`, to be renamed over it. */
async function writeBeside(path: string, content: Buffer | NodeJS.ReadableStream) {
  const temporary = `${path}.${randomUUID()}.partial`;
  const md5 = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
  try {
    await pipeline(source, count, createWriteStream(temporary));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { temporary, size, md5: md5.digest('hex') };
}

/** S3's smallest part, but for the last one. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

interface StoredPart {
  readonly path: string;
  /** Hexadecimal, as s3rver keeps it beside the part. */
  readonly md5: string;
  readonly size: number;
}

/** The key and metadata CreateMultipartUpload recorded; NoSuchUpload once completed or aborted. */
async function multipartUpload(upload: string) {
  try {
    const [key, metadata] = await Promise.all([
      readFile(join(upload, 'key'), 'utf8'),
      readFile(join(upload, 'metadata'), 'utf8'),
    ]);
    return { key, metadata: JSON.parse(metadata) as Record<string, string> };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    );
  }
}

/**
 * The parts a CompleteMultipartUpload names, checked as S3 checks them (s3rver checks none): in
 * ascending order, each uploaded with the ETag named, each but the last at least 5 MiB.
 */
async function partsToJoin(upload: string, parts: readonly { number: number; etag: string }[]) {
  if (parts.some((part, index) => index > 0 && part.number <= (parts[index - 1]?.number ?? 0))) {
    throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
  }
  const stored = await Promise.all(
    parts.map(async ({ number, etag }): Promise<StoredPart> => {
      const path = join(upload, String(number));
      const [md5, size] = await Promise.all([
        readFile(`${path}.md5`, 'utf8').catch(() => undefined),
        stat(path).then(
          ({ size }) => size,
          () => 0,
        ),
      ]);
      if (md5 === undefined || md5 !== etag) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { PartNumber: String(number), ETag: etag },
        );
      }
      return { path, md5, size };
    }),
  );
  if (stored.slice(0, -1).some(({ size }) => size < MIN_PART_BYTES)) {
    throw new S3Error(
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed object size.',
    );
  }
  return stored;
}

/** A multipart object's ETag as S3 makes it: the MD5 of the parts' MD5s, then `-` and their count. */
const multipartEtag = (parts: readonly StoredPart[]) =>
  `${createHash('md5')
    .update(Buffer.concat(parts.map(({ md5 }) => Buffer.from(md5, 'hex'))))
    .digest('hex')}-${parts.length}`;

/** The parts' bytes, one after another, one file open at a time. */
const joined = (parts: readonly StoredPart[]) =>
  Readable.from(
    (async function* () {
      for (const { path } of parts) yield* createReadStream(path);
    })(),
  );

/** Runs one piece of work at a time per key, in the order asked; work for other keys meanwhile. */
export function oneAtATimePerKey() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(work);
    const tail = result.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return result;
  };
}

/**
 * Makes s3rver's filesystem store answer as S3 does, object by object. S3 replaces an object
 * atomically; s3rver writes in place (truncate, then stream), answers a Buffer body before it is on
 * disk, and keeps an object in three files (bytes, MD5, metadata) written one after another, so a
 * reader could see an empty or half object, or new bytes under the old ETag. Here the bytes are
 * written beside and renamed over, and a reader opens the three files only between two commits
 * (a key's lock). The lock is also where a read's and a commit's conditions are checked. And a
 * multipart upload completes as S3 completes one: its parts checked, its ETag S3's (`<md5>-<n>`).
 */
export function serveAsS3(store: S3rverStore): void {
  const locked = oneAtATimePerKey();
  const idOf = (bucket: string, key: string) => `${bucket}/${key}`;
  const currentObject = (bucket: string, key: string): Promise<CurrentObject | undefined> =>
    store.getMetadata(bucket, key).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });

  // A multipart upload's parts: no reader sees them, but a part sent again replaces it whole.
  store.putContent = async (path, content) => {
    const { temporary, size, md5 } = await writeBeside(path, content);
    await rename(temporary, path);
    return [size, md5];
  };
  // The bytes first, then the commit under the key's lock; `etag` for a multipart object's.
  const storeObject = async (object: ObjectToStore, etag?: string) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const written = await writeBeside(path, object.content);
    const md5 = etag ?? written.md5;
    try {
      await locked(idOf(object.bucket, object.key), async () => {
        checkWrite(object.key, await currentObject(object.bucket, object.key));
        await rename(written.temporary, path);
        await store.putMetadata(object.bucket, object.key, object.metadata, md5);
      });
    } finally {
      await rm(written.temporary, { force: true });
    }
    return { size: written.size, md5 };
  };
  store.putObject = (object) => storeObject(object);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const upload = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const { key, metadata } = await multipartUpload(upload);
    const stored = await partsToJoin(upload, parts);
    const result = await storeObject(
      { bucket, key, metadata, content: joined(stored) },
      multipartEtag(stored),
    );
    await rm(upload, { recursive: true, force: true });
    return result;
  };
  const getObject = store.getObject.bind(store);
  // Resolves once the bytes are open: a commit after that does not change what this read sends.
  store.getObject = (bucket, key, options) =>
    locked(idOf(bucket, key), async () => {
      const object = await getObject(bucket, key, options);
      try {
        if (object) checkRead(object.metadata);
      } catch (error) {
        object?.content?.destroy();
        throw error;
      }
      return object;
    });
  const deleteObject = store.deleteObject.bind(store);
  store.deleteObject = (bucket, key) => locked(idOf(bucket, key), () => deleteObject(bucket, key));
}
