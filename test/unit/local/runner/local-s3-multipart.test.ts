/**
 * CompleteMultipartUpload on the local S3, checked as S3 checks it (s3rver checked nothing and gave
 * the whole object's MD5 as its ETag): S3's `<md5 of the parts' md5s>-<count>` ETag, parts in
 * ascending order with the ETags they were uploaded with, each but the last at least 5 MiB, and
 * an upload completed once.
 */
import { createHash } from 'node:crypto';
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { useLocalS3 } from '../../../support/local-s3-server.js';

const BUCKET = 'local-s3-multipart';
const MIB = 1024 * 1024;
const local = useLocalS3(BUCKET);

/** Starts an upload of `key` and sends `bodies` as its parts 1, 2, …; the upload id and the parts. */
async function upload(key: string, bodies: readonly Buffer[]) {
  const { UploadId } = await local.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const parts: CompletedPart[] = [];
  for (const [index, Body] of bodies.entries()) {
    const PartNumber = index + 1;
    const { ETag } = await local.s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber, Body }),
    );
    parts.push({ PartNumber, ETag });
  }
  return { UploadId, parts };
}
const complete = (Key: string, UploadId: string | undefined, Parts: CompletedPart[]) =>
  local.s3.send(
    new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts } }),
  );
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest();
/** What a refused request rejects with: the SDK's error name and the HTTP status. */
const refusal = (sending: Promise<unknown>) =>
  sending.then(
    () => ({ name: 'none', status: 200 }),
    (error: { name: string; $metadata: { httpStatusCode?: number } }) => ({
      name: error.name,
      status: error.$metadata.httpStatusCode,
    }),
  );

describe('CompleteMultipartUpload on the local S3', () => {
  it("joins the parts in order under S3's multipart ETag", async () => {
    const bodies = [Buffer.alloc(5 * MIB, 1), Buffer.alloc(5 * MIB, 2), Buffer.from('tail\n')];
    const { UploadId, parts } = await upload('mp/joined', bodies);
    const { ETag } = await complete('mp/joined', UploadId, parts);
    const expected = createHash('md5')
      .update(Buffer.concat(bodies.map(md5)))
      .digest('hex');
    expect(ETag).toBe(`"${expected}-3"`);
    const read = await local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mp/joined' }));
    expect(read.ETag).toBe(ETag);
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(Buffer.concat(bodies))).toBe(
      true,
    );
  });

  it('refuses a part smaller than 5 MiB but for the last: EntityTooSmall', async () => {
    const { UploadId, parts } = await upload('mp/small', [Buffer.from('a'), Buffer.from('b')]);
    expect(await refusal(complete('mp/small', UploadId, parts))).toEqual({
      name: 'EntityTooSmall',
      status: 400,
    });
  });

  it('refuses a part named with another ETag than its own, and parts out of order', async () => {
    const { UploadId, parts } = await upload('mp/named', [Buffer.alloc(5 * MIB, 1), Buffer.from('b')]);
    const [first, second] = parts as [CompletedPart, CompletedPart];
    const wrongEtag = complete('mp/named', UploadId, [first, { ...second, ETag: first.ETag }]);
    expect(await refusal(wrongEtag)).toEqual({ name: 'InvalidPart', status: 400 });
    const missing = complete('mp/named', UploadId, [first, { PartNumber: 7, ETag: second.ETag }]);
    expect(await refusal(missing)).toEqual({ name: 'InvalidPart', status: 400 });
    const reversed = complete('mp/named', UploadId, [second, first]);
    expect(await refusal(reversed)).toEqual({ name: 'InvalidPartOrder', status: 400 });
  });

  it('completes an upload once: NoSuchUpload after', async () => {
    const { UploadId, parts } = await upload('mp/once', [Buffer.from('only\n')]);
    await complete('mp/once', UploadId, parts);
    expect(await refusal(complete('mp/once', UploadId, parts))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
  });
});
