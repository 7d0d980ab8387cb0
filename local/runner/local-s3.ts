/**
 * The local S3: @20minutes/s3rver (a maintained fork of s3rver for Node 24) keeping every object as
 * a file under `directory`, so an input of any size up to Gemini's 2 GB costs disk, not memory: its
 * filesystem store streams request bodies to files and answers reads from file streams
 * (`lib/stores/filesystem.js`). A multipart upload's parts are files too, joined by streaming.
 */
import S3rver from '@20minutes/s3rver';
// s3rver knows one key pair (S3RVER) unless told of another: its account registry is the only way.
import S3rverAccount from '@20minutes/s3rver/lib/models/account.js';
import { conditionalRequests } from './conditional-requests.js';
import { listMultipartUploads } from './list-multipart-uploads.js';
import { LOCAL_CREDENTIALS } from './local-aws.js';
import { serveAsS3 } from './local-s3-store.js';

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
  serveAsS3(server.store);
  // Koa composes its middleware when the server starts listening: first in line, before s3rver's router.
  server.middleware.unshift(conditionalRequests(), listMultipartUploads(directory));
  const bound = await server.run();
  const hostInUrl = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { address: `http://${hostInUrl}:${bound.port}`, stop: () => server.close() };
}
