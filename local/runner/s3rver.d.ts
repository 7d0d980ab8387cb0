/** @20minutes/s3rver 5 ships no types: the calls the local S3 makes (its README and `lib/s3rver.js`). */
declare module '@20minutes/s3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    readonly address?: string;
    readonly port?: number;
    /** Where buckets and objects live, as files. */
    readonly directory?: string;
    readonly silent?: boolean;
    readonly resetOnClose?: boolean;
    readonly allowMismatchedSignatures?: boolean;
    readonly vhostBuckets?: boolean;
    readonly configureBuckets?: readonly { readonly name: string }[];
  }
  export default class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** Koa's middleware list (S3rver extends Koa). */
    readonly middleware: unknown[];
    /** Its filesystem store (`lib/stores/filesystem.js`), whose methods the local S3 replaces. */
    readonly store: S3rverStore;
  }

  /** An object as the store reads it: metadata with the quoted `etag` and `last-modified`. */
  interface StoredObject {
    readonly metadata: { readonly etag: string; readonly 'last-modified': string };
    /** The bytes, open; null for a range outside the object. */
    readonly content: (NodeJS.ReadableStream & { destroy(): void }) | null;
  }

  /** An object to store, as s3rver's controllers hand it over. */
  export interface ObjectToStore {
    readonly bucket: string;
    readonly key: string;
    readonly content: Buffer | NodeJS.ReadableStream;
    readonly metadata: Record<string, string>;
  }

  export interface S3rverStore {
    /** `<bucket>/<key>._S3rver_object`, or a bucket's `._S3rver_uploads` folder (key undefined). */
    getResourcePath(bucket: string, key: string | undefined, resource: 'object' | 'uploads'): string;
    /** Rejects with ENOENT when there is no object. */
    getMetadata(bucket: string, key: string): Promise<StoredObject['metadata']>;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
    getObject(bucket: string, key: string, options?: unknown): Promise<StoredObject | null>;
    /** PutObject, and (called by putObjectMultipart) CompleteMultipartUpload. */
    putObject(object: ObjectToStore): Promise<{ size: number; md5: string }>;
    /** CompleteMultipartUpload: the parts named (ETags unquoted), joined into the upload's object. */
    putObjectMultipart(
      bucket: string,
      uploadId: string,
      parts: readonly { number: number; etag: string }[],
    ): Promise<{ size: number; md5: string }>;
    deleteObject(bucket: string, key: string): Promise<void>;
    /** Writes one part's bytes (and, in s3rver's own putObject, an object's). */
    putContent(path: string, content: Buffer | NodeJS.ReadableStream): Promise<[number, string]>;
  }
}

declare module '@20minutes/s3rver/lib/models/account.js' {
  interface S3rverAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
  const accounts: { readonly DUMMY_ACCOUNT: S3rverAccount };
  export default accounts;
}

declare module '@20minutes/s3rver/lib/models/error.js' {
  /** An S3 error: its code sets the status, and s3rver's error handler writes it as S3's XML. */
  export default class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
  }
}
