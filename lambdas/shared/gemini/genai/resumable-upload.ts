/**
 * The byte-moving half of Gemini's resumable upload: the whole source in ONE `upload, finalize`
 * request, streamed as it is read, and resumed from what Gemini says it holds when that request
 * dies part-way.
 *
 * One request, not the SDK's 8 MiB pieces (a client's choice: @google/genai 3.1 `MAX_CHUNK_SIZE`):
 * each piece is answered before the next may go (its offset follows the bytes received), so pieces
 * leave the sender idle a round trip and the receiver's write per piece. Google's guide to this
 * protocol calls the single request "usually best, since it requires fewer requests and thus has
 * better performance", and says to resume an interrupted one, or one answered 5xx, by asking
 * (`query`) for `X-Goog-Upload-Size-Received` (developers.google.com/photos/library/guides/
 * resumable-uploads); Google's own Ruby client uploads exactly so (google-api-ruby-client,
 * google-apis-core `ResumableUploadCommand`: query, then `upload, finalize` of the rest). The
 * granularity Gemini states binds only pieces that do not finalize, so none is sent.
 */
import { ApiError } from '@google/genai';
import { GeminiUnavailableError } from '../../errors.js';
import type { JsonlSource } from '../gemini-batch-api.js';
import type { GeminiRest } from './clients.js';

/**
 * How many times one upload is resumed after its request died, before the failure goes to the
 * caller (whose retry looks for the file first, then starts a new upload).
 */
export const MAX_RESUMES = 3;

export interface SourceUpload {
  readonly uploadUrl: string;
  readonly source: JsonlSource;
  readonly displayName: string;
}

type UploadedFile = { readonly name?: string } | undefined;

/**
 * Sends the source's bytes in one `upload, finalize` request; Gemini's final answer's `file`. A
 * request cut off (a network failure, or a 5xx answer) is resumed up to {@link MAX_RESUMES} times:
 * `query` says how many bytes Gemini holds, and the source, opened again, sends the rest from
 * there. A source longer or shorter than it said fails before its last byte goes, so Gemini can
 * never finalize a wrong file; that, a final answer that is not `final`, and an upload Gemini no
 * longer holds as `active` are a GeminiUnavailableError, retried by the caller.
 */
export async function uploadSource(
  rest: GeminiRest,
  { uploadUrl, source, displayName }: SourceUpload,
): Promise<UploadedFile> {
  const unfinished = (why: string, cause?: unknown) =>
    new GeminiUnavailableError(`Gemini did not finish the upload of ${displayName}: ${why}`, { cause });
  let offset = 0;
  for (let resumes = 0; ; resumes += 1) {
    const body = exactBytes(await source.open(), offset, source.bytes);
    let response: Response;
    try {
      response = await rest.toUpload(uploadUrl, {
        headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': String(offset) },
        body: { bytes: source.bytes - offset, parts: body.parts },
      });
    } catch (error) {
      if (body.mismatch) throw unfinished(body.mismatch);
      if (!isCutOff(error) || resumes >= MAX_RESUMES) throw error;
      const held = await heldBy(rest, uploadUrl).catch((queryError: unknown) => {
        // A session Gemini no longer knows may have finished: the caller's retry looks for the file.
        if (queryError instanceof ApiError && queryError.status < 500) {
          throw unfinished(
            `after a cut-off request it no longer knows the upload (HTTP ${queryError.status})`,
            queryError,
          );
        }
        throw queryError;
      });
      if (held.status === 'final') return held.file;
      if (held.status !== 'active' || !(held.received >= 0 && held.received <= source.bytes)) {
        throw unfinished(
          `after a cut-off request Gemini holds ${held.received} bytes, status ${held.status}`,
        );
      }
      offset = held.received;
      continue;
    }
    const status = response.headers.get('x-goog-upload-status');
    const answer = (await response.json().catch(() => ({}))) as { file?: { name?: string } };
    if (status !== 'final') throw unfinished(`its last request was answered with status ${status ?? 'none'}`);
    return answer.file;
  }
}

/** A failed request worth resuming: the connection died (a TypeError) or Gemini answered 5xx. */
function isCutOff(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof ApiError && error.status >= 500);
}

/** What Gemini holds of an upload, by the protocol's `query` command. */
async function heldBy(
  rest: GeminiRest,
  uploadUrl: string,
): Promise<{ status: string; received: number; file: UploadedFile }> {
  const response = await rest.toUpload(uploadUrl, { headers: { 'x-goog-upload-command': 'query' } });
  const answer = (await response.json().catch(() => ({}))) as { file?: { name?: string } };
  return {
    status: response.headers.get('x-goog-upload-status') ?? 'none',
    received: Number(response.headers.get('x-goog-upload-size-received')),
    file: answer.file,
  };
}

/**
 * The bytes of `parts` from `from` to `declared`, passed on as they come (no copy, no buffering:
 * memory is the source's and the socket's buffers). Bytes before `from` are read and dropped: Gemini
 * holds them. The part holding the last declared byte is held back until the source has ended, so
 * a source longer than declared fails before the request is complete; one shorter fails at its end.
 * Either failure is kept in `mismatch`: the request reports it only as a network TypeError.
 */
function exactBytes(
  parts: AsyncIterable<Uint8Array>,
  from: number,
  declared: number,
): { readonly parts: AsyncIterable<Uint8Array>; readonly mismatch: string | undefined } {
  const body = { parts: read(), mismatch: undefined as string | undefined };
  const fail = (why: string) => {
    body.mismatch = why;
    return new Error(why);
  };
  async function* read(): AsyncGenerator<Uint8Array> {
    let at = 0;
    let last: Uint8Array | undefined;
    for await (const part of parts) {
      if (last || at + part.length > declared) {
        throw fail(`the source holds more than the ${declared} bytes declared`);
      }
      const kept = at >= from ? part : part.subarray(Math.min(part.length, from - at));
      at += part.length;
      if (kept.length === 0) continue;
      if (at === declared) last = kept;
      else yield kept;
    }
    if (at < declared) throw fail(`the source ended after ${at} of ${declared} bytes`);
    if (last) yield last;
  }
  return body;
}
