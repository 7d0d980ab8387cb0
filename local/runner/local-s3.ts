/**
 * The local S3: @20minutes/s3rver (a maintained fork of s3rver for Node 24) keeping every object as
 * a file under `directory`, so an input of any size up to Gemini's 2 GB costs disk, not memory: its
 * filesystem store streams request bodies to files and answers reads from file streams
 * (`lib/stores/filesystem.js`). A multipart upload's parts are files too, joined by streaming.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver, { type S3rverStore } from '@20minutes/s3rver';
// s3rver knows one key pair (S3RVER) unless told of another: its account registry is the only way.
import S3rverAccount from '@20minutes/s3rver/lib/models/account.js';
import { type CurrentObject, checkRead, checkWrite, conditionalRequests } from './conditional-requests.js';
import { listMultipartUploads } from './list-multipart-uploads.js';
import { LOCAL_CREDENTIALS } from './local-aws.js';

export interface LocalS3 {
  /** `http://host:port`, for path-style clients. */
  readonly address: string;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  readonly port: number;
  readonly host: string;
  /** The folder objects are written to; the caller owns and removes it. */
  readonly directory: string;
}

/** Starts the local S3 on `host:port` (0: any free port), storing objects under `directory`. */
export async function startLocalS3({ port, host, directory }: LocalS3Options): Promise<LocalS3> {
  S3rverAccount.DUMMY_ACCOUNT.createKeyPair(LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey);
  const server = new S3rver({
    address: host,
    port,
    directory,
    silent: true,
    // The local credentials are fixed and the server listens on loopback by default; the AWS SDK
    // v3, the minio client and the aws CLI each sign a little differently (checksum trailers,
    // unsigned payloads), and a signature check here would test s3rver, not the pipeline.
    allowMismatchedSignatures: true,
    // Every local client is path-style (`forcePathStyle`): a vhost bucket would need DNS.
    vhostBuckets: false,
  });
  serveConsistently(server.store);
  // Koa composes its middleware when the server starts listening: first in line, before s3rver's router.
  server.middleware.unshift(conditionalRequests(), listMultipartUploads(directory));
  const bound = await server.run();
  const hostInUrl = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { address: `http://${hostInUrl}:${bound.port}`, stop: () => server.close() };
}

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
 * (a key's lock). The lock is also where a read's and a commit's conditions are checked.
 */
function serveConsistently(store: S3rverStore): void {
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
  // PutObject and CompleteMultipartUpload: the bytes first, then the commit under the key's lock.
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const { temporary, size, md5 } = await writeBeside(path, object.content);
    try {
      await locked(idOf(object.bucket, object.key), async () => {
        checkWrite(object.key, await currentObject(object.bucket, object.key));
        await rename(temporary, path);
        await store.putMetadata(object.bucket, object.key, object.metadata, md5);
      });
    } finally {
      await rm(temporary, { force: true });
    }
    return { size, md5 };
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
