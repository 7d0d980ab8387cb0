/**
 * How every local stand-in serves: an HTTP server on loopback, on a free port, stopped with its open
 * connections (keep-alive sockets of the SDK clients would otherwise hold `close` open).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1 at a free port; rejects if the server cannot listen. */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
