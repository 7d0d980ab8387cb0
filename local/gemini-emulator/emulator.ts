import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GoogleApiError,
  invalidApiKey,
  invalidArgument,
  missingApiKey,
  notFound,
  quotaExceeded,
} from './api-error.js';
import { BatchStore, type CreateAttempt } from './batch-store.js';
import { EmulatorClock } from './clock.js';
import { FaultInjector } from './fault-injector.js';
import { FileStore } from './file-store.js';
import { type Route, selectResponseFields, sendError } from './http.js';
import { GEMINI_MODELS, ModelCatalogue } from './model-catalogue.js';
import { bearerKey, invalidBearerKey, missingBearerKey, sendOpenAiError } from './openai/errors.js';
import {
  DEFAULT_EMULATOR_API_KEY,
  type GeminiEmulatorOptions,
  resolveLimits,
  resolveRoughness,
  resolveTiming,
} from './options.js';
import { parseFieldSelection } from './partial-response.js';
import { batchRoutes } from './routes/batches.js';
import { controlRoutes } from './routes/control.js';
import { fileRoutes } from './routes/files.js';
import { modelRoutes } from './routes/models.js';
import { OPENAI_PATH, openAiRoutes } from './routes/openai.js';

export interface GeminiEmulator {
  /** Base URL to give the SDK as `httpOptions.baseUrl`, e.g. `http://127.0.0.1:8089`. */
  readonly url: string;
  readonly port: number;
  /**
   * A key the emulator accepts: the configured `apiKey`, or else `DEFAULT_EMULATOR_API_KEY` (any
   * non-empty key works when none is configured, as any key of a real project does on Gemini).
   */
  readonly apiKey: string;
  /** The emulator's clock: `clock.advance(ms)` moves every job and file forward in time. */
  readonly clock: EmulatorClock;
  /** Faults to inject: `faults.add({...})`, `faults.clear()`. */
  readonly faults: FaultInjector;
  /**
   * Every batch create that reached the quota check (native and OpenAI-compatible), in arrival
   * order, admitted or refused with 429: how tests count create attempts per admitted job.
   */
  createAttempts(): readonly CreateAttempt[];
  /** Closes the server and every open connection; removes the data directory if the emulator made it. */
  stop(): Promise<void>;
}

/** Starts a local server that speaks Gemini's Files and Batch REST protocol. */
export async function startGeminiEmulator(options: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
  const timing = resolveTiming(options.timing);
  const models = options.models ?? GEMINI_MODELS;
  const limits = resolveLimits(options.limits, models);
  const roughness = resolveRoughness(options.roughness);
  const seed = options.seed ?? 1;
  const catalogue = new ModelCatalogue(models, roughness.retiredModels);
  // Without an explicit key every non-empty key passes: a stand-in that insists on its own key
  // would make callers pass it, and so hide a pipeline that sends none or the wrong secret's.
  const requiredKey = options.apiKey;
  const apiKey = requiredKey ?? DEFAULT_EMULATOR_API_KEY;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gemini-emulator-')));
  const ownsDataDir = options.dataDir === undefined;
  const clock = new EmulatorClock();
  const faults = new FaultInjector(seed, options.faults);
  const files = new FileStore(dataDir, clock, limits);
  const batches = new BatchStore({
    dir: dataDir,
    clock,
    timing,
    limits,
    files,
    faults,
    roughness,
    seed,
  });
  const routes: Route[] = [
    ...controlRoutes({ clock, faults }),
    ...fileRoutes({
      files,
      faults,
      clock,
      maxRequestBytes: limits.maxRequestBytes,
      refusedMimeTypes: roughness.refusedMimeTypes,
    }),
    ...batchRoutes({
      batches,
      clock,
      maxRequestBytes: limits.maxRequestBytes,
      catalogue,
      staleListStats: roughness.staleListStats,
      refuseUnknownFields: roughness.refuseUnknownFields,
      faults,
    }),
    ...modelRoutes({ catalogue }),
    ...openAiRoutes({
      batches,
      clock,
      maxRequestBytes: limits.maxRequestBytes,
      cancellingMs: timing.cancellingMs,
      jobTtlMs: limits.jobTtlMs,
    }),
  ];
  const openAiErrorShape = options.openai?.errorShape ?? 'array';
  const log = options.log;

  /** Native routes take `x-goog-api-key` (or `?key=`); the OpenAI-compatible layer a Bearer token. */
  const authenticate = (req: IncomingMessage, url: URL, openAi: boolean) => {
    if (openAi) {
      const key = bearerKey(req.headers.authorization);
      if (key === undefined) throw missingBearerKey();
      if (requiredKey !== undefined && key !== requiredKey) throw invalidBearerKey();
      return;
    }
    const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    if (key === undefined || key === null || key === '') throw missingApiKey();
    if (requiredKey !== undefined && key !== requiredKey) throw invalidApiKey();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://emulator');
    let path = url.pathname;
    const openAi = OPENAI_PATH.test(path);
    try {
      // Decoded before matching, so an id's slash may arrive raw or as %2F (see routes/openai.ts).
      try {
        path = decodeURIComponent(url.pathname);
      } catch {
        throw invalidArgument(`Malformed percent-encoding in the path ${url.pathname}.`);
      }
      const route = routes.find(
        (candidate) =>
          candidate.method === req.method && candidate.pattern.test(path) && (candidate.when?.(url) ?? true),
      );
      if (!route) throw notFound(`Method ${req.method} ${path} is not part of the emulated API.`);
      if (!route.public) authenticate(req, url, openAi);
      await batches.settle();
      const fault = route.endpoint ? faults.takeHttpFault(route.endpoint) : undefined;
      if (fault?.kind === 'drop-connection') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'http-error') {
        // Gemini has one 429, the generic quota body, whatever the endpoint (langchain4j PR #3942).
        if (fault.status === 429) throw quotaExceeded(fault.message);
        throw new GoogleApiError(
          fault.status,
          fault.message ?? `Emulated ${fault.status} injected by an http-error fault.`,
        );
      }
      // The `fields` system parameter (or its `$fields` spelling): a partial response.
      const fields = url.searchParams.get('fields') ?? url.searchParams.get('$fields');
      if (fields !== null && !openAi) selectResponseFields(res, parseFieldSelection(fields));
      const params = (route.pattern.exec(path) ?? []).slice(1);
      await route.handle({ req, res, url, params, baseUrl: `http://${req.headers.host}` });
    } catch (error) {
      if (res.headersSent) {
        res.destroy(error as Error);
      } else {
        if (!(error instanceof GoogleApiError)) {
          log?.(`internal error on ${req.method} ${path}: ${(error as Error).stack}`);
        }
        const apiError =
          error instanceof GoogleApiError ? error : new GoogleApiError(500, 'Internal error encountered.');
        if (openAi) sendOpenAiError(res, apiError, openAiErrorShape);
        else sendError(res, apiError);
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
    createAttempts: () => batches.createAttempts(),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
