/**
 * ListMultipartUploads (`GET /<bucket>?uploads`) for the local S3, the one call s3rver 5 answers
 * with NotImplemented that a listed client needs: the minio client asks it before every multipart
 * upload, to resume one for the same key (minio-js `findUploadId`). It reads s3rver's own record of
 * in-progress uploads (`<bucket>/._S3rver_uploads/<uploadId>/key`, `lib/stores/filesystem.js`),
 * so what it lists is what s3rver would complete.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

async function uploadsOf(directory: string, bucket: string, prefix: string) {
  const uploadsDir = join(directory, bucket, '._S3rver_uploads');
  const ids = await readdir(uploadsDir).catch(() => [] as string[]);
  const uploads = await Promise.all(
    ids.map(async (uploadId) => {
      const dir = join(uploadsDir, uploadId);
      const key = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined);
      return key === undefined ? undefined : { key, uploadId, initiated: (await stat(dir)).mtime };
    }),
  );
  return uploads
    .filter((upload): upload is NonNullable<typeof upload> => upload?.key.startsWith(prefix) === true)
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** Koa middleware answering `GET /<bucket>?uploads` from s3rver's store under `directory`. */
export function listMultipartUploads(directory: string) {
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    const bucket = ctx.path.split('/')[1] ?? '';
    if (ctx.method !== 'GET' || !('uploads' in ctx.query) || ctx.path !== `/${bucket}`) {
      return next();
    }
    const prefix = String(ctx.query.prefix ?? '');
    const uploads = (await uploadsOf(directory, bucket, prefix)).map(
      (upload) =>
        `<Upload><Key>${escapeXml(upload.key)}</Key><UploadId>${upload.uploadId}</UploadId>` +
        `<Initiated>${upload.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    );
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${escapeXml(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
      `<Prefix>${escapeXml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
      `${uploads.join('')}</ListMultipartUploadsResult>`;
  };
}
