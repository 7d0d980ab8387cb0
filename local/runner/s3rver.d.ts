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
    /** Its filesystem store; `putContent` writes one object's or part's bytes. */
    readonly store: {
      putContent(path: string, content: Buffer | NodeJS.ReadableStream): Promise<[number, string]>;
    };
  }
}

declare module '@20minutes/s3rver/lib/models/account.js' {
  interface S3rverAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
  const accounts: { readonly DUMMY_ACCOUNT: S3rverAccount };
  export default accounts;
}
