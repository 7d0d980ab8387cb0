/**
 * A local HTTP stub for the Gemini adapter's tests, answering as rough as Gemini has been reported
 * to (docs/gemini-protocol.md): the real SDK and the adapter's raw REST calls both go through it.
 * Each test pushes the routes it needs; the stub records every request it saw.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { GenaiBatchApi } from '../../../../../lambdas/shared/gemini/genai-batch-api.js';
import { GEMINI_QUOTA_429 } from '../../../../fixtures/gemini-quota-429.js';

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface Reply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Sent as it is when a string, as JSON otherwise. */
  readonly body?: unknown;
}

/** Answers a request it is for; undefined lets the next route try. */
export type Route = (request: Seen) => Reply | undefined;

/** Google's generic quota answer. */
export const QUOTA: Reply = { status: 429, body: GEMINI_QUOTA_429 };

/** A route for one method and path. */
export const on =
  (method: string, path: RegExp, reply: Reply | ((request: Seen) => Reply)): Route =>
  (request) =>
    request.method === method && path.test(request.path)
      ? typeof reply === 'function'
        ? reply(request)
        : reply
      : undefined;

export interface HttpStub {
  /** The routes of the running test, tried in order; unmatched requests get a 404. */
  routes: Route[];
  /** Every request of the running test, in order. */
  readonly seen: Seen[];
  readonly baseUrl: string;
  /** A fresh temporary directory per test. */
  readonly dir: string;
  /** A new adapter pointed at the stub. */
  api(): GenaiBatchApi;
}

/** Starts the stub for the test file that calls this (at its top level) and resets it before each test. */
export function useHttpStub(): HttpStub {
  let server: Server;
  let baseUrl = '';
  let dir = '';
  const seen: Seen[] = [];
  const stub: HttpStub = {
    routes: [],
    seen,
    get baseUrl() {
      return baseUrl;
    },
    get dir() {
      return dir;
    },
    api: () => new GenaiBatchApi({ apiKey: 'stub-key', baseUrl }),
  };

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? '/', 'http://stub');
      const request: Seen = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      const reply = stub.routes.map((route) => route(request)).find((answer) => answer !== undefined) ?? {
        status: 404,
        body: { error: { code: 404, message: `stub: no route for ${request.method} ${request.path}` } },
      };
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(async () => {
    stub.routes = [];
    seen.length = 0;
    dir = await mkdtemp(join(tmpdir(), 'genai-http-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  return stub;
}
