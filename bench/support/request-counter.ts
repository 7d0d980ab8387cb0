/**
 * Counts the S3 requests the functions send, for the cost figure, as the local S3 receives them:
 * Node's built-in diagnostics channels report every request an HTTP server in this thread is
 * handed (`http.server.request.start`) and every TCP connection this thread opens
 * (`net.client.socket`). The functions run in worker threads and open their own connections, so a
 * request to the S3 server on a connection this thread did not open is a function's; the runner's
 * upload and its reads of the manifest, on its own connections, are left out.
 *
 * Why not a counting proxy (as before): a proxy has to get every part of HTTP right to stay out of
 * the way, and `answer.pipe(response)` did not: when Submit stops reading a chunk halfway (it gives
 * up on going inline once the answers would be too big, as any S3 client may), the proxy's side to
 * the local S3 was left paused, mid-body, forever, and the local S3's `close()` waited on it. Here
 * nothing sits between the functions and the server, and the run's timings carry no extra hop.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
  /** Counts the requests the server of this thread listening on `endpoint`'s port receives from now on. */
  serverAt(endpoint: string): void;
  /** Requests seen so far, by billing class. */
  counts(): Record<string, number>;
  /** Stops counting (the channels are this thread's, shared by everything in it). */
  stop(): void;
}

interface ServerRequestStart {
  readonly request: IncomingMessage;
  readonly socket: Socket;
  readonly server: Server;
}

/**
 * Starts tracking this thread's connections at once (started before the stack, it knows the
 * keep-alive sockets the runner opens while starting up), and counts by S3 billing class the
 * requests the server named by {@link RequestCounter.serverAt} receives over other threads' connections.
 */
export function countOtherThreadsS3Requests(): RequestCounter {
  let port: number | undefined;
  const tally: Record<string, number> = {};
  // Local ports of this thread's open client connections: on loopback the server sees them as the
  // remote port, and no two open connections share one.
  const ownPorts = new Set<number>();
  const onClientSocket = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    socket.once('connect', () => {
      const local = socket.localPort;
      if (local === undefined) return;
      ownPorts.add(local);
      socket.once('close', () => ownPorts.delete(local));
    });
  };
  const onServerRequest = (message: unknown) => {
    const { request, socket, server } = message as ServerRequestStart;
    if (port === undefined || (server.address() as AddressInfo | null)?.port !== port) return;
    if (socket.remotePort !== undefined && ownPorts.has(socket.remotePort)) return;
    const key = s3RequestClass(request.method ?? 'GET', request.url ?? '/');
    tally[key] = (tally[key] ?? 0) + 1;
  };
  subscribe('net.client.socket', onClientSocket);
  subscribe('http.server.request.start', onServerRequest);
  return {
    serverAt(endpoint) {
      port = Number(new URL(endpoint).port);
    },
    counts: () => ({ ...tally }),
    stop() {
      unsubscribe('net.client.socket', onClientSocket);
      unsubscribe('http.server.request.start', onServerRequest);
    },
  };
}
