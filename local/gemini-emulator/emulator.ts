import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleApiError, invalidApiKey, missingApiKey, notFound } from './api-error.js';
import { BatchStore } from './batch-store.js';
import { EmulatorClock } from './clock.js';
import { FaultInjector } from './faults.js';
import { FileStore } from './file-store.js';
import { type Route, sendError } from './http.js';
import {
  DEFAULT_EMULATOR_API_KEY,
  type GeminiEmulatorOptions,
  resolveLimits,
  resolveTiming,
} from './options.js';
import { batchRoutes } from './routes/batches.js';
import { controlRoutes } from './routes/control.js';
import { fileRoutes } from './routes/files.js';

export interface GeminiEmulator {
  /** Base URL to give the SDK as `httpOptions.baseUrl`, e.g. `http://127.0.0.1:8089`. */
  readonly url: string;
  readonly port: number;
  /** The key the emulator accepts. */
  readonly apiKey: string;
  /** The emulator's clock: `clock.advance(ms)` moves every job and file forward in time. */
  readonly clock: EmulatorClock;
  /** Faults to inject: `faults.add({...})`, `faults.clear()`. */
  readonly faults: FaultInjector;
  /** Closes the server and every open connection; removes the data directory if the emulator made it. */
  stop(): Promise<void>;
}

/** Starts a local server that speaks Gemini's Files and Batch REST protocol. */
export async function startGeminiEmulator(options: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
  const timing = resolveTiming(options.timing);
  const limits = resolveLimits(options.limits);
  const apiKey = options.apiKey ?? DEFAULT_EMULATOR_API_KEY;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gemini-emulator-')));
  const ownsDataDir = options.dataDir === undefined;
  const clock = new EmulatorClock();
  const faults = new FaultInjector(options.seed ?? 1, options.faults);
  const files = new FileStore(dataDir, clock, limits);
  const batches = new BatchStore(dataDir, clock, timing, limits, files, faults);
  const routes: Route[] = [
    ...controlRoutes({ clock, faults }),
    ...fileRoutes({ files, faults, clock, maxRequestBytes: limits.maxRequestBytes }),
    ...batchRoutes({ batches, clock, maxRequestBytes: limits.maxRequestBytes }),
  ];
  const log = options.log;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = decodeURIComponent(url.pathname);
    try {
      const route = routes.find(
        (candidate) =>
          candidate.method === req.method && candidate.pattern.test(path) && (candidate.when?.(url) ?? true),
      );
      if (!route) throw notFound(`Method ${req.method} ${path} is not part of the emulated API.`);
      if (!route.public) {
        const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
        if (key === undefined || key === null || key === '') throw missingApiKey();
        if (key !== apiKey) throw invalidApiKey();
      }
      await batches.settle();
      const fault = route.endpoint ? faults.takeHttpFault(route.endpoint) : undefined;
      if (fault?.kind === 'drop-connection') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'http-error') {
        throw new GoogleApiError(
          fault.status,
          fault.message ?? `Emulated ${fault.status} injected by an http-error fault.`,
        );
      }
      const params = (route.pattern.exec(path) ?? []).slice(1);
      await route.handle({ req, res, url, params, baseUrl: `http://${req.headers.host}` });
    } catch (error) {
      if (res.headersSent) {
        res.destroy(error as Error);
      } else if (error instanceof GoogleApiError) {
        sendError(res, error);
      } else {
        log?.(`internal error on ${req.method} ${path}: ${(error as Error).stack}`);
        sendError(res, new GoogleApiError(500, 'Internal error encountered.'));
      }
    } finally {
      // Answered before the body was read (an error, a cancel's "{}"): drain it so the socket stays usable.
      if (!req.complete && !req.destroyed) req.resume();
      const outcome = res.headersSent ? String(res.statusCode) : 'dropped';
      log?.(`${req.method} ${path} ${outcome} ${(performance.now() - started).toFixed(1)}ms`);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    apiKey,
    clock,
    faults,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
