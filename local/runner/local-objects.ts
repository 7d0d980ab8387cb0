/**
 * Reading the local bucket back: what tests and `npm start` use to see a run's outputs. A missing
 * object is `undefined`/`false`; any other failure is thrown, never mistaken for a missing object
 * (a results file too large for one string once went missing that way).
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface LocalObjects {
  /** The object's text, or undefined if there is none. */
  readObject(key: string): Promise<string | undefined>;
  /** Streams the object to `path`; false if there is none. */
  downloadObject(key: string, path: string): Promise<boolean>;
}

export function localObjects(s3: S3Client, bucket: string): LocalObjects {
  const body = async (key: string) => {
    try {
      return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body;
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  };
  return {
    async readObject(key) {
      return (await body(key))?.transformToString();
    },
    async downloadObject(key, path) {
      const found = await body(key);
      if (found === undefined) return false;
      await pipeline(found as Readable, createWriteStream(path));
      return true;
    },
  };
}
