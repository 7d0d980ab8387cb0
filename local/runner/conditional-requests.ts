/**
 * Conditional requests for the local S3, answered as S3 answers them. s3rver 5 ignores `If-Match`
 * and `If-Unmodified-Since`, compares `If-None-Match` as a raw string, takes no conditional write,
 * and serves the current object for any `versionId`: a reader pinning an upload by its ETag
 * (`S3ObjectStore.openVersion`) got a replaced object's bytes where S3 refuses with 412.
 *
 * The middleware reads the request's conditions; the store (local-s3.ts) checks them against the
 * object it is about to serve or replace, under that key's lock: a read against the object it
 * returns, a write when it commits, as S3 does ("the first to finish wins"; an upload in progress
 * is no object). S3's rules, from its API reference and user guide:
 * - GetObject/HeadObject (RFC 7232 section 6): `If-Match` false → 412, and it overrides
 *   `If-Unmodified-Since`; `If-None-Match` true → 304, and it overrides `If-Modified-Since`.
 * - PutObject, CompleteMultipartUpload (conditional writes, 2024): `If-None-Match: *` on an
 *   existing key → 412; `If-Match` on another ETag → 412, on no object → 404 NoSuchKey.
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 * - The local S3 is an unversioned bucket (the stack's own bucket is `versioned: false`): it holds
 *   one version per key, whose id is `null`, so a read of any other version is 404 NoSuchVersion,
 *   never the current object.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import S3Error from '@20minutes/s3rver/lib/models/error.js';

/** The object a condition is checked against, as s3rver keeps its metadata. */
export interface CurrentObject {
  /** Quoted, as s3rver stores it. */
  readonly etag: string;
  /** An HTTP date: S3 compares dates to the second. */
  readonly 'last-modified': string;
}

interface Conditions {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly ifUnmodifiedSince?: string;
}

interface ConditionalRequest {
  readonly conditions: Conditions;
  readonly kind: 'read' | 'write';
  /** The request's headers, which s3rver reads again after the store answers. */
  readonly headers: Record<string, string | string[] | undefined>;
}

interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[] | undefined>;
  readonly headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

const requests = new AsyncLocalStorage<ConditionalRequest>();

/** Thrown by a read whose `If-None-Match`/`If-Modified-Since` holds; the middleware answers 304. */
class NotModified extends Error {
  constructor(readonly object: CurrentObject) {
    super('Not Modified');
  }
}

const preconditionFailed = (condition: string) =>
  new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
    Condition: condition,
  });

/** Whether an `If-Match`/`If-None-Match` list names the ETag; S3 ignores the quotes. */
function names(header: string, etag: string): boolean {
  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, '').replaceAll('"', ''));
  return tags.includes('*') || tags.includes(etag.replaceAll('"', ''));
}

/** Milliseconds of an HTTP date; undefined for none or an invalid one, which RFC 7232 ignores. */
function timeOf(header: string | undefined): number | undefined {
  const time = header === undefined ? Number.NaN : Date.parse(header);
  return Number.isNaN(time) ? undefined : time;
}

/** Refuses (412) or answers 304 to a GetObject/HeadObject of `object`, as the request's conditions say. */
export function checkRead(object: CurrentObject): void {
  const request = requests.getStore();
  if (request?.kind !== 'read') return;
  const { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince } = request.conditions;
  const modified = Date.parse(object['last-modified']);
  if (ifMatch !== undefined) {
    if (!names(ifMatch, object.etag)) throw preconditionFailed('If-Match');
  } else if (modified > (timeOf(ifUnmodifiedSince) ?? Number.POSITIVE_INFINITY)) {
    throw preconditionFailed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (names(ifNoneMatch, object.etag)) throw new NotModified(object);
  } else if (modified <= (timeOf(ifModifiedSince) ?? Number.NEGATIVE_INFINITY)) {
    throw new NotModified(object);
  }
  // Decided here; s3rver's own checks after the store (an exact-string If-None-Match, and
  // If-Modified-Since even when If-None-Match overrides it) would answer differently.
  delete request.headers['if-none-match'];
  delete request.headers['if-modified-since'];
}

/** Refuses a PutObject/CompleteMultipartUpload of `key` over `current` (undefined: no object). */
export function checkWrite(key: string, current: CurrentObject | undefined): void {
  const request = requests.getStore();
  if (request?.kind !== 'write') return;
  const { ifMatch, ifNoneMatch } = request.conditions;
  if (ifNoneMatch !== undefined && current !== undefined) throw preconditionFailed('If-None-Match');
  if (ifMatch === undefined) return;
  if (current === undefined)
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  if (!names(ifMatch, current.etag)) throw preconditionFailed('If-Match');
}

const header = (ctx: KoaContext, name: string) => {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const decoded = (path: string) => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

/** The sub-resources (`?acl`, `?tagging`, `?uploadId`…) that make a PUT something other than PutObject. */
const SUBRESOURCES = ['acl', 'legal-hold', 'retention', 'tagging', 'uploadId', 'uploads', 'partNumber'];

/**
 * The condition of a write the local S3 cannot honour, refused rather than ignored: S3 expects
 * `If-None-Match: *` only, and checks a copy's destination, which s3rver's copy would not.
 */
function unsupportedWriteCondition(conditions: Conditions, copying: boolean): string | undefined {
  if (conditions.ifNoneMatch !== undefined && (copying || conditions.ifNoneMatch.trim() !== '*')) {
    return 'If-None-Match';
  }
  return copying && conditions.ifMatch !== undefined ? 'If-Match' : undefined;
}

/** Koa middleware: reads a GET/HEAD/PUT/POST's conditions for the store to check, and answers 304. */
export function conditionalRequests() {
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    const [, , ...keyPath] = ctx.path.split('/');
    const key = decoded(keyPath.join('/'));
    if (key === '') return next();
    const reading = ctx.method === 'GET' || ctx.method === 'HEAD';
    const versionId = ctx.query.versionId;
    if (reading && versionId !== undefined && versionId !== 'null') {
      throw new S3Error('NoSuchVersion', 'The specified version does not exist.', {
        Key: key,
        VersionId: String(versionId),
      });
    }
    const conditions: Conditions = {
      ifMatch: header(ctx, 'if-match'),
      ifNoneMatch: header(ctx, 'if-none-match'),
      ifModifiedSince: header(ctx, 'if-modified-since'),
      ifUnmodifiedSince: header(ctx, 'if-unmodified-since'),
    };
    const writing =
      (ctx.method === 'PUT' && !SUBRESOURCES.some((name) => name in ctx.query)) ||
      (ctx.method === 'POST' && 'uploadId' in ctx.query);
    const unsupported = writing
      ? unsupportedWriteCondition(conditions, 'x-amz-copy-source' in ctx.headers)
      : undefined;
    if (unsupported !== undefined) {
      throw new S3Error(
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
        {
          Header: unsupported,
        },
      );
    }
    if (!reading && !writing) return next();
    try {
      await requests.run({ conditions, kind: reading ? 'read' : 'write', headers: ctx.headers }, next);
    } catch (error) {
      if (!(error instanceof NotModified)) throw error;
      ctx.status = 304;
      ctx.set('ETag', error.object.etag);
      ctx.set('Last-Modified', error.object['last-modified']);
      ctx.body = null;
    }
  };
}
