/**
 * The Files API: uploading a chunk's JSONL as it streams from S3 (with the MIME fallback, and reuse
 * of an earlier attempt's upload), downloading a responses file, deleting a file.
 */
import { ApiError, type GoogleGenAI } from '@google/genai';
import { GeminiUnavailableError } from '../../errors.js';
import type { JsonlSource, UploadOptions } from '../gemini-batch-api.js';
import type { GenaiClients } from './clients.js';
import { isHttpStatus } from './pipeline-errors.js';
import { uploadSource } from './resumable-upload.js';

/**
 * MIME types tried for a JSONL upload, in order. `application/jsonl` first: it names the content,
 * and when Gemini does not take it the failure is an immediate, free `Unsupported MIME type` on the
 * upload's start (python-genai #1547; "works inconsistently", cookbook #1008). `application/json`
 * is the fallback because it is the one type reported to have worked every time (python-genai
 * #1248) — not first, because a file mislabelled as one JSON document could instead fail later, at
 * create time or as a FAILED job, where nothing can fall back.
 */
const UPLOAD_MIME_TYPES = ['application/jsonl', 'application/json'] as const;

/**
 * How many of the newest files to search for an upload's display name before concluding there is
 * none. The search for jobs by display name (`findBatches`) is bounded by time instead.
 */
const RECOVERY_SCAN_LIMIT = 1000;

/** What to upload, and whether an earlier attempt's copy may stand in for it. */
export interface JsonlUpload extends UploadOptions {
  readonly source: JsonlSource;
  readonly displayName: string;
}

/**
 * Starts a resumable upload with {@link UPLOAD_MIME_TYPES} in order, moving on only when Gemini
 * answers `Unsupported MIME type`, then streams the bytes in one request ({@link uploadSource}).
 * Not the SDK's `files.upload`: it reads a path or an in-memory Blob and sends one 8 MiB piece
 * after another, reading the next only once the last is answered (@google/genai 3.1
 * `NodeUploader`), so a chunk had to be staged on disk first and every leg waited for the others. An upload Gemini did not
 * finish — its final answer has no `file` (python-genai #1248, #1590) or no final status — is a
 * GeminiUnavailableError: the caller retries, with `reuseUploaded` so that bytes Gemini kept after
 * all become that file instead of an orphan.
 */
export async function uploadJsonl(
  { ai, rest }: GenaiClients,
  { source, displayName, reuseUploaded }: JsonlUpload,
): Promise<string> {
  if (reuseUploaded) {
    const found = await findUploaded(ai, displayName, source.bytes);
    if (found) return found;
  }
  let session: Response | undefined;
  for (const [index, mimeType] of UPLOAD_MIME_TYPES.entries()) {
    try {
      session = await rest.startUpload({ displayName, mimeType, bytes: source.bytes });
      break;
    } catch (error) {
      const unsupported =
        error instanceof ApiError && error.status === 400 && /unsupported mime type/i.test(error.message);
      if (!unsupported || index === UPLOAD_MIME_TYPES.length - 1) throw error;
    }
  }
  const uploadUrl = session?.headers.get('x-goog-upload-url');
  if (!session || !uploadUrl) {
    throw new GeminiUnavailableError(`Gemini started the upload of ${displayName} without an upload URL`);
  }
  const file = await uploadSource(rest, { uploadUrl, source, displayName });
  if (!file?.name) {
    throw new GeminiUnavailableError(
      `Gemini ended the upload of ${displayName} without naming the file (HTTP 200 with no file); uploading again`,
    );
  }
  return file.name;
}

/** The newest ACTIVE file with this display name and size, if any: an earlier attempt's upload. */
async function findUploaded(
  ai: GoogleGenAI,
  displayName: string,
  sizeBytes: number,
): Promise<string | undefined> {
  let scanned = 0;
  for await (const file of await ai.files.list({ config: { pageSize: 100 } })) {
    if (
      file.displayName === displayName &&
      Number(file.sizeBytes) === sizeBytes &&
      (file.state === undefined || file.state === 'ACTIVE') &&
      file.name
    ) {
      return file.name;
    }
    if (++scanned >= RECOVERY_SCAN_LIMIT) break;
  }
  return undefined;
}

/** Streams a file's bytes to a local path. */
export function downloadFile(ai: GoogleGenAI, fileName: string, path: string): Promise<void> {
  return ai.files.download({ file: fileName, downloadPath: path });
}

/** Deletes a file; one that is already gone (404) is not an error. */
export async function deleteFile(ai: GoogleGenAI, fileName: string): Promise<void> {
  try {
    await ai.files.delete({ name: fileName });
  } catch (error) {
    if (!isHttpStatus(error, 404)) throw error;
  }
}
