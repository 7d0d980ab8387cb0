/**
 * The local S3's conditional requests and versions, with the AWS SDK v3 and on the wire, against
 * what S3 answers (local/runner/conditional-requests.ts cites the rules): 412 PreconditionFailed,
 * 304 Not Modified, conditional writes checked when they commit, and an unversioned bucket's
 * NoSuchVersion. s3rver itself ignored If-Match and answered every version id with the current object.
 */
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { oneAtATimePerKey } from '../../../../local/runner/local-s3-store.js';
import { useLocalS3 } from '../../../support/local-s3-server.js';

const BUCKET = 'local-s3-conditions';
const local = useLocalS3(BUCKET);

/** Puts `body` under `key`; its ETag, quoted as S3 returns it. */
async function put(key: string, body: string): Promise<string> {
  return (await local.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).ETag ?? '';
}
async function text(key: string): Promise<string> {
  const { Body } = await local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await Body?.transformToString()) ?? '';
}
/** What a refused request rejects with: the SDK's error name and the HTTP status. */
async function refusal(sending: Promise<unknown>) {
  const error = (await sending.then(
    () => ({ name: 'none', $metadata: { httpStatusCode: 200 } }),
    (reason: unknown) => reason,
  )) as { name: string; $metadata: { httpStatusCode?: number } };
  return { name: error.name, status: error.$metadata.httpStatusCode };
}
const HOUR = 3_600_000;
const httpDate = (offset: number) => new Date(Date.now() + offset);

describe('GetObject and HeadObject with conditions', () => {
  it('sends the object when If-Match names its ETag, quoted or not', async () => {
    const etag = await put('read/same', 'same\n');
    for (const IfMatch of [etag, etag.replaceAll('"', ''), `"other", ${etag}`]) {
      const { Body } = await local.s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'read/same', IfMatch }),
      );
      expect(await Body?.transformToString()).toBe('same\n');
    }
  });

  it('refuses with 412 PreconditionFailed, before a byte, an object replaced since its ETag was taken', async () => {
    const old = await put('read/replaced', 'old\n');
    await put('read/replaced', 'new\n');
    const get = local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'read/replaced', IfMatch: old }));
    expect(await refusal(get)).toEqual({ name: 'PreconditionFailed', status: 412 });
    const head = local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'read/replaced', IfMatch: old }));
    expect((await refusal(head)).status).toBe(412);
  });

  it("answers 412 in S3's XML, naming the condition", async () => {
    await put('read/xml', 'x\n');
    const response = await fetch(`${local.address}/${BUCKET}/read/xml`, {
      headers: { 'If-Match': '"nope"' },
    });
    expect(response.status).toBe(412);
    const body = await response.text();
    expect(body).toContain('<Code>PreconditionFailed</Code>');
    expect(body).toContain('<Condition>If-Match</Condition>');
  });

  it('answers 304 with the ETag when If-None-Match names it, and the object when it does not', async () => {
    const etag = await put('read/cached', 'cached\n');
    const response = await fetch(`${local.address}/${BUCKET}/read/cached`, {
      headers: { 'If-None-Match': etag },
    });
    expect([response.status, response.headers.get('etag'), await response.text()]).toEqual([304, etag, '']);
    const head = local.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'read/cached', IfNoneMatch: '*' }),
    );
    expect((await refusal(head)).status).toBe(304);
    const other = await local.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'read/cached', IfNoneMatch: '"other"' }),
    );
    expect(await other.Body?.transformToString()).toBe('cached\n');
  });

  it('lets If-Match override If-Unmodified-Since, and If-None-Match override If-Modified-Since', async () => {
    const etag = await put('read/dates', 'dates\n');
    const past = httpDate(-HOUR);
    const future = httpDate(HOUR);
    const both = await local.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'read/dates', IfMatch: etag, IfUnmodifiedSince: past }),
    );
    expect(await both.Body?.transformToString()).toBe('dates\n');
    const fresh = await local.s3.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'read/dates',
        IfNoneMatch: '"other"',
        IfModifiedSince: future,
      }),
    );
    expect(await fresh.Body?.transformToString()).toBe('dates\n');
    const unmodified = local.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'read/dates', IfUnmodifiedSince: past }),
    );
    expect(await refusal(unmodified)).toEqual({ name: 'PreconditionFailed', status: 412 });
    const modified = local.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'read/dates', IfModifiedSince: future }),
    );
    expect((await refusal(modified)).status).toBe(304);
  });

  it('says NoSuchKey to a condition on a key with no object', async () => {
    const get = local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'read/none', IfMatch: '"abc"' }));
    expect(await refusal(get)).toEqual({ name: 'NoSuchKey', status: 404 });
  });

  it('never sends bytes under another ETag while the object is being replaced', async () => {
    const bodies = Array.from({ length: 8 }, (_, n) => `${'x'.repeat(64 * 1024)}${n}\n`);
    await put('read/racing', bodies[0] ?? '');
    const reads = Array.from({ length: 120 }, async () => {
      const { Body, ETag } = await local.s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'read/racing' }),
      );
      const bytes = Buffer.from((await Body?.transformToByteArray()) ?? []);
      return `"${createHash('md5').update(bytes).digest('hex')}"` === ETag;
    });
    const writes = Array.from({ length: 120 }, (_, n) => put('read/racing', bodies[n % bodies.length] ?? ''));
    const [consistent] = await Promise.all([Promise.all(reads), Promise.all(writes)]);
    expect(consistent.every(Boolean)).toBe(true);
  });
});

describe('conditional writes', () => {
  it('creates with If-None-Match: * only when the key has no object', async () => {
    await local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'write/once', Body: 'first\n', IfNoneMatch: '*' }),
    );
    const again = local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'write/once', Body: 'second\n', IfNoneMatch: '*' }),
    );
    expect(await refusal(again)).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await text('write/once')).toBe('first\n');
  });

  it('lets exactly one of many simultaneous If-None-Match: * writes win', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        refusal(
          local.s3.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: 'write/race', Body: `${n}\n`, IfNoneMatch: '*' }),
          ),
        ),
      ),
    );
    expect(outcomes.filter(({ status }) => status === 200)).toHaveLength(1);
    expect(outcomes.filter(({ status }) => status === 412)).toHaveLength(11);
  });

  it('replaces with If-Match only the object of that ETag, and says NoSuchKey when there is none', async () => {
    const first = await put('write/swap', 'one\n');
    await local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'write/swap', Body: 'two\n', IfMatch: first }),
    );
    const stale = local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'write/swap', Body: 'three\n', IfMatch: first }),
    );
    expect(await refusal(stale)).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await text('write/swap')).toBe('two\n');
    const none = local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'write/none', Body: 'x', IfMatch: first }),
    );
    expect(await refusal(none)).toEqual({ name: 'NoSuchKey', status: 404 });
  });

  it('checks a multipart upload when it completes: a PutObject that finished first wins', async () => {
    const { UploadId } = await local.s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'write/multipart' }),
    );
    const { ETag } = await local.s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'write/multipart',
        UploadId,
        PartNumber: 1,
        Body: 'part\n',
      }),
    );
    await put('write/multipart', 'put first\n');
    const complete = local.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'write/multipart',
        UploadId,
        IfNoneMatch: '*',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
      }),
    );
    expect(await refusal(complete)).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await text('write/multipart')).toBe('put first\n');
  });

  it('refuses, never ignores, what it cannot check: If-None-Match other than *, a conditional copy', async () => {
    const etag = await put('write/source', 'source\n');
    const byEtag = local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'write/e', Body: 'x', IfNoneMatch: etag }),
    );
    expect((await refusal(byEtag)).status).toBe(501);
    const copy = local.s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'write/copy',
        CopySource: `${BUCKET}/write/source`,
        IfNoneMatch: '*',
      }),
    );
    expect((await refusal(copy)).status).toBe(501);
  });
});

describe('versions (the local S3 is an unversioned bucket)', () => {
  it('names no version on a write, and reads the one version by the id null', async () => {
    const written = await local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'version/a', Body: 'a\n' }),
    );
    expect(written.VersionId).toBeUndefined();
    const { Body } = await local.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'version/a', VersionId: 'null' }),
    );
    expect(await Body?.transformToString()).toBe('a\n');
  });

  it('says NoSuchVersion to any other version id, never sending the current object', async () => {
    await put('version/b', 'b\n');
    const get = local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'version/b', VersionId: 'v1' }));
    expect(await refusal(get)).toEqual({ name: 'NoSuchVersion', status: 404 });
    const head = local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'version/b', VersionId: 'v1' }));
    expect((await refusal(head)).status).toBe(404);
  });
});

describe('the per-key lock a read and a commit take', () => {
  it('runs work for one key one at a time, in order, and other keys meanwhile, past a failure', async () => {
    const locked = oneAtATimePerKey();
    const events: string[] = [];
    const step =
      (name: string, fail = false) =>
      async () => {
        events.push(`${name} start`);
        await new Promise((resolve) => setImmediate(resolve));
        events.push(`${name} end`);
        if (fail) throw new Error(name);
      };
    await Promise.allSettled([
      locked('k', step('a1', true)),
      locked('k', step('a2')),
      locked('j', step('b')),
    ]);
    const at = (event: string) => events.indexOf(event);
    expect(at('a2 start')).toBeGreaterThan(at('a1 end'));
    expect(at('b start')).toBeLessThan(at('a1 end'));
    expect(events).toHaveLength(6);
  });
});
