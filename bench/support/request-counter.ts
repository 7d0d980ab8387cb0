/**
 * A counting reverse proxy for the cost figure: the functions are pointed at it (their
 * `AWS_ENDPOINT_URL_*`), it forwards every request unchanged to the local service and tallies it by
 * the class AWS bills it under. Counting on the wire, not in the SDK, sees every request the
 * bundles send (retries, multipart parts, HEADs) whichever S3 server runs behind it.
 */
import { createServer, request as forward, type IncomingMessage } from 'node:http';
import { listenOnLoopback } from '../../local/runner/loopback-server.js';

/** S3 request classes as the S3 price list groups them (S3 Standard). */
export type S3RequestClass = 'put' | 'get' | 'free';

/** PUT, COPY, POST and LIST bill at the higher rate; GET and HEAD at the lower; DELETE is free. */
export function s3RequestClass(method: string, url: string): S3RequestClass {
  const { pathname, searchParams } = new URL(url, 'http://local');
  // Path-style: /bucket or /bucket/ is a bucket request (a LIST when it is a GET).
  const isBucket = pathname.split('/').filter(Boolean).length <= 1;
  if (method === 'DELETE') return 'free';
  if (method === 'PUT' || method === 'POST') return 'put';
  if (method === 'GET' && (isBucket || searchParams.has('uploads') || searchParams.has('list-type')))
    return 'put';
  return 'get';
}

export interface RequestCounter {
  readonly url: string;
  /** Where requests go from now on (the service may start after the proxy). */
  target(url: string): void;
  /** Requests seen so far, by the key `classify` gave them. */
  counts(): Record<string, number>;
  stop(): Promise<void>;
}

/** Starts the proxy on a free loopback port; `classify` names each request's billing class. */
export async function startRequestCounter(
  classify: (request: IncomingMessage) => string,
): Promise<RequestCounter> {
  let upstream: URL | undefined;
  const tally: Record<string, number> = {};
  const server = createServer((incoming, outgoing) => {
    if (!upstream) {
      outgoing.writeHead(503).end('the counted service has not started');
      return;
    }
    const key = classify(incoming);
    tally[key] = (tally[key] ?? 0) + 1;
    const proxied = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        // Host is kept: S3 signatures cover it, and a path-style request names no other host. The
        // proxy has already answered `Expect: 100-continue` (Node's server does); passed on, it would
        // make the upstream wait for a second go-ahead that never comes, and large uploads hang.
        headers: withoutExpect(incoming.headers),
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    proxied.on('error', (error) => outgoing.destroy(error));
    incoming.pipe(proxied);
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    target(url) {
      upstream = new URL(url);
    },
    counts: () => ({ ...tally }),
    stop: () => listening.stop(),
  };
}

function withoutExpect(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const { expect: _answered, ...rest } = headers;
  return rest;
}

/** S3: the method and query decide the class. */
export const classifyS3 = (request: IncomingMessage): string =>
  s3RequestClass(request.method ?? 'GET', request.url ?? '/');
