/**
 * The byte-moving half of Gemini's resumable upload: pieces read from a stream and sent while the
 * next one is read, so reading (S3) and sending (Gemini) overlap and memory holds two pieces.
 */
import { GeminiUnavailableError } from '../../errors.js';
import type { JsonlSource } from '../gemini-batch-api.js';
import type { GeminiRest } from './clients.js';

/** The SDK's piece size (@google/genai 3.1 `MAX_CHUNK_SIZE`), also Gemini's stated granularity. */
export const UPLOAD_PIECE_BYTES = 8 * 1024 * 1024;

export interface PieceUpload {
  readonly uploadUrl: string;
  /** `x-goog-upload-chunk-granularity`: every piece but the last is a multiple of it. */
  readonly granularity: number | undefined;
  readonly source: JsonlSource;
  readonly displayName: string;
}

/** A piece size of at least {@link UPLOAD_PIECE_BYTES} that is a multiple of the granularity. */
export function pieceBytesFor(granularity: number | undefined): number {
  if (!granularity || granularity <= 0) return UPLOAD_PIECE_BYTES;
  return Math.ceil(UPLOAD_PIECE_BYTES / granularity) * granularity;
}

/** The stream cut into `size`-byte pieces (the last one shorter), each a buffer of its own. */
export async function* pieces(body: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let piece = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const data of body) {
    let from = 0;
    while (from < data.length) {
      const taken = Math.min(size - filled, data.length - from);
      piece.set(data.subarray(from, from + taken), filled);
      filled += taken;
      from += taken;
      if (filled === size) {
        yield piece;
        // A new buffer, not the same one refilled: the last is still being sent.
        piece = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield piece.subarray(0, filled);
}

/**
 * Sends the source's bytes in pieces, the next one read while the current one is sent; the last
 * says `finalize`. Gemini's final answer's `file`. Each piece but the last must be answered
 * `active` with every byte so far received, and the last `final`: anything else (a lost piece, an
 * upload Gemini cancelled or left unanswered) is a GeminiUnavailableError, retried by the caller,
 * which looks for the file first. A source longer or shorter than it said fails the same way, before
 * Gemini could finalize a wrong file.
 */
export async function uploadPieces(
  rest: GeminiRest,
  { uploadUrl, granularity, source, displayName }: PieceUpload,
): Promise<{ readonly name?: string } | undefined> {
  const unfinished = (why: string) =>
    new GeminiUnavailableError(`Gemini did not finish the upload of ${displayName}: ${why}`);
  const pieceBytes = pieceBytesFor(granularity);
  const reader = pieces(await source.open(), pieceBytes);
  try {
    let next = reader.next();
    let offset = 0;
    while (true) {
      const current = await next;
      const bytes = current.done ? undefined : current.value;
      const finalize = offset + (bytes?.length ?? 0) >= source.bytes;
      // Only the last piece may be short: a short one before it means the source ended early.
      if (!bytes || (!finalize && bytes.length < pieceBytes)) {
        throw unfinished(`the source ended after ${offset + (bytes?.length ?? 0)} of ${source.bytes} bytes`);
      }
      if (offset + bytes.length > source.bytes) {
        throw unfinished(`the source holds more than the ${source.bytes} bytes declared`);
      }
      // The last piece goes only once the source has ended: Gemini would finalize a truncated file.
      if (finalize && !(await reader.next()).done) {
        throw unfinished(`the source holds more than the ${source.bytes} bytes declared`);
      }
      // Read ahead while this piece is sent; a failure of the read is seen when it is awaited.
      next = finalize ? Promise.resolve({ done: true, value: undefined }) : reader.next();
      next.catch(() => undefined);
      const response = await rest.uploadPiece(uploadUrl, { offset, bytes, finalize });
      const status = response.headers.get('x-goog-upload-status');
      const answer = (await response.json().catch(() => ({}))) as { file?: { name?: string } };
      offset += bytes.length;
      if (finalize) {
        if (status !== 'final')
          throw unfinished(`its last piece was answered with status ${status ?? 'none'}`);
        return answer.file;
      }
      const received = Number(response.headers.get('x-goog-upload-size-received'));
      if (status !== 'active' || received !== offset) {
        throw unfinished(
          `a piece was answered with status ${status ?? 'none'}, ${received} bytes received of ${offset} sent`,
        );
      }
    }
  } finally {
    await reader.return(undefined);
  }
}
