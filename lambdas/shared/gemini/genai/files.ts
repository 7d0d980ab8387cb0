/**
 * The Files API through the SDK: uploading a chunk's JSONL (with the MIME fallback, and reuse of an
 * earlier attempt's upload), downloading a responses file, deleting a file.
 */
import { stat } from 'node:fs/promises';
import { ApiError, type GoogleGenAI } from '@google/genai';
import { GeminiUnavailableError } from '../../errors.js';
import type { UploadOptions } from '../gemini-batch-api.js';
import { isHttpStatus } from './pipeline-errors.js';

/**
 * MIME types tried for a JSONL upload, in order. `application/jsonl` first: it names the content,
 * and when Gemini does not take it the failure is an immediate, free `Unsupported MIME type` on the
 * upload (python-genai #1547; "works inconsistently", cookbook #1008). `application/json` is the
 * fallback because it is the one type reported to have worked every time (python-genai #1248) —
 * not first, because a file mislabelled as one JSON document could instead fail later, at create
 * time or as a FAILED job, where nothing can fall back.
 */
const UPLOAD_MIME_TYPES = ['application/jsonl', 'application/json'] as const;

/**
 * How many of the newest files to search for an upload's display name before concluding there is
 * none. The search for jobs by display name (`findBatches`) is bounded by time instead.
 */
const RECOVERY_SCAN_LIMIT = 1000;

/** What to upload, and whether an earlier attempt's copy may stand in for it. */
export interface JsonlUpload extends UploadOptions {
  /** The local JSONL file. */
  readonly path: string;
  readonly displayName: string;
}

/**
 * Uploads with {@link UPLOAD_MIME_TYPES} in order, moving on only when Gemini answers
 * `Unsupported MIME type`. An upload Gemini did not finish — its final answer has no `file`
 * (python-genai #1248, #1590), or the SDK's "Upload status is not finalized" — is a
 * GeminiUnavailableError: the caller retries, with `reuseUploaded` so that bytes Gemini kept
 * after all become that file instead of an orphan.
 */
export async function uploadJsonl(
  ai: GoogleGenAI,
  { path, displayName, reuseUploaded }: JsonlUpload,
): Promise<string> {
  if (reuseUploaded) {
    const found = await findUploaded(ai, displayName, (await stat(path)).size);
    if (found) return found;
  }
  let file: { readonly name?: string } | undefined;
  for (const [index, mimeType] of UPLOAD_MIME_TYPES.entries()) {
    try {
      // `.jsonl` is not in the SDK's MIME table: without an explicit type the upload throws.
      file = await ai.files.upload({ file: path, config: { mimeType, displayName } });
      break;
    } catch (error) {
      const unsupported =
        error instanceof ApiError && error.status === 400 && /unsupported mime type/i.test(error.message);
      if (!unsupported || index === UPLOAD_MIME_TYPES.length - 1) throw error;
    }
  }
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
