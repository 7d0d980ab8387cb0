/**
 * A POST whose body is written to the socket as it is read, through `node:http(s)`, not fetch:
 * fetch turns a streamed body into a web ReadableStream that copies every part it passes on
 * (`cloneAsUint8Array`), and on a 128 MiB upload that copy and its garbage cost more than the rest
 * of the client (docs/benchmarks.md, Submit's upload). Here each part S3 handed over is the buffer
 * the socket writes.
 */
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * How long the connection may move no bytes either way before the request is given up: undici's
 * `headersTimeout` and `bodyTimeout`, which fetch gave this upload before it went through
 * `node:http` (whose requests wait forever). A stalled upload fails as a cut-off, and is resumed,
 * instead of holding the function until its own timeout.
 */
export const STALLED_AFTER_MS = 300_000;

/**
 * POSTs `parts` (exactly `headers['content-length']` bytes, which Node holds the body to) and
 * resolves with the answer as a fetch Response. A failure to send or to hear back rejects with a
 * TypeError, as fetch does: callers tell a network failure from an answer the same way for both.
 */
export function postStreamed(
  target: URL,
  headers: OutgoingHttpHeaders,
  parts?: AsyncIterable<Uint8Array>,
  stalledAfterMs = STALLED_AFTER_MS,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const failed = (error: unknown) =>
      reject(
        new TypeError(`request to ${target.host} failed: ${(error as Error).message}`, { cause: error }),
      );
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      { method: 'POST', headers },
      (answer) => answered(answer).then(resolve, failed),
    );
    request.on('error', failed);
    request.setTimeout(stalledAfterMs, () =>
      request.destroy(new Error(`no bytes moved for ${stalledAfterMs / 1000} s`)),
    );
    void (async () => {
      try {
        for await (const part of parts ?? []) {
          // A request that died stops the reading too: leaving the loop closes the source.
          if (request.destroyed) return;
          if (!request.write(part)) await drainedOrClosed(request);
        }
        request.end();
      } catch (error) {
        request.destroy(error as Error);
      }
    })();
  });
}

/** Resolves once the request can take more, or has closed (then it never will). */
function drainedOrClosed(request: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      request.off('drain', done);
      request.off('close', done);
      resolve();
    };
    request.on('drain', done);
    request.on('close', done);
  });
}

/** The whole (small) answer as a fetch Response. */
async function answered(answer: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const each of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, each);
  }
  const status = answer.statusCode ?? 0;
  const empty = chunks.length === 0 || [204, 205, 304].includes(status);
  return new Response(empty ? null : Buffer.concat(chunks), { status, headers });
}
