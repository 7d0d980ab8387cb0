/**
 * Opening the upload a run is for: exactly the version its event named, with that version's
 * metadata, and only when the file is JSONL text at all.
 */
import { InputValidationError } from '../shared/errors.js';
import { ObjectChangedError, s3Uri, type VersionedReads } from '../shared/object-store/object-store.js';
import type { RunInput } from '../shared/run/state-payloads.js';
import { type FileEncoding, SNIFF_BYTES, sniffFileEncoding } from './file-encoding.js';
import { type PeekedStream, peekStream } from './peek-stream.js';

/** An upload ready to be read: its metadata and its bytes, from one version. */
export interface OpenedUpload {
  /** User metadata (`x-amz-meta-*`) of the version read. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Every byte of the file, from the first; `close()` releases it unread. */
  readonly body: PeekedStream;
}

/** What to do about a file that is not UTF-8 text at all, by what it is. */
function encodingAdvice(encoding: FileEncoding): string {
  if (encoding.kind === 'compressed') {
    const how = encoding.format === 'gzip' ? ' (gunzip it, or upload it without Content-Encoding: gzip)' : '';
    return `is ${encoding.format}-compressed, not JSONL text: upload the uncompressed file${how} to start a new run`;
  }
  // LE/BE spelled out: iconv reads a BOM-less `UTF-16` as big-endian, and a BOM it keeps is fine.
  const source = `${encoding.format}${encoding.byteOrder === 'little' ? 'LE' : 'BE'}`;
  return `is ${encoding.format} (${encoding.byteOrder}-endian) text, not UTF-8: save it as UTF-8 (for example \`iconv -f ${source} -t UTF-8 in.jsonl > out.jsonl\`) and upload that to start a new run`;
}

/**
 * Opens the upload as of the event that started this run, its metadata from the same version, and
 * checks what kind of file it is before any line is read: the bytes of a later upload are never
 * read under this run, and a compressed or UTF-16 file fails with one reason, not one per line.
 * Throws `InputValidationError` for a replaced or non-UTF-8 file.
 */
export async function openUpload(run: RunInput, store: VersionedReads): Promise<OpenedUpload> {
  const input = s3Uri(run.bucket, run.key);
  let snapshot: Awaited<ReturnType<VersionedReads['openVersion']>>;
  try {
    snapshot = await store.openVersion(run.bucket, run.key, { versionId: run.versionId, etag: run.etag });
  } catch (error) {
    if (!(error instanceof ObjectChangedError)) throw error;
    // Reading the new bytes under this run would answer for a file nobody asked about here.
    throw new InputValidationError(
      `${input} was replaced after this run started (the run is for ETag ${error.expectedEtag}${error.foundEtag ? `, the object now has ${error.foundEtag}` : ''}): the run reads only the upload that started it, so it processed nothing; the new upload starts its own run (enable versioning on the bucket to have each run read its own version instead)`,
    );
  }
  const body = await peekStream(snapshot.body, SNIFF_BYTES);
  const encoding = sniffFileEncoding(body.head);
  if (encoding) {
    await body.close();
    throw new InputValidationError(`${input} ${encodingAdvice(encoding)}; nothing was sent to Gemini`);
  }
  return { metadata: snapshot.metadata, body };
}
