import { once } from 'node:events';
import { Agent, createServer, request, type Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countOtherThreadsS3Requests,
  type RequestCounter,
  s3RequestClass,
} from '../../../bench/support/request-counter.js';
import { type LoopbackServer, listenOnLoopback } from '../../../local/runner/loopback-server.js';

/** Sends `calls` from a worker thread, as a local function does: its own connections, keep-alive. */
async function fromWorkerThread(url: string, calls: readonly (readonly [string, string])[]): Promise<void> {
  const worker = new Worker(
    `
    const { request, Agent } = require('node:http');
    const { workerData, parentPort } = require('node:worker_threads');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    (async () => {
      for (const [method, path] of workerData.calls) {
        await new Promise((resolve, reject) => {
          request(workerData.url + path, { method, agent }, (answer) => answer.resume().on('end', resolve))
            .on('error', reject)
            .end(method === 'PUT' ? 'body' : undefined);
        });
      }
      agent.destroy();
      parentPort.postMessage('done');
    })();
    `,
    { eval: true, workerData: { url, calls } },
  );
  const [message] = await once(worker, 'message');
  expect(message).toBe('done');
  await worker.terminate();
}

/** Sends one request from this thread through `agent`. */
function fromThisThread(url: string, method: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    request(url, { method, agent }, (answer) => answer.resume().on('end', () => resolve()))
      .on('error', reject)
      .end();
  });
}

function answeringServer(): Server {
  return createServer((incoming, outgoing) => {
    incoming.resume().on('end', () => outgoing.end('ok'));
  });
}

describe('countOtherThreadsS3Requests', () => {
  let counter: RequestCounter;
  let s3: LoopbackServer;
  let other: LoopbackServer;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeEach(async () => {
    // Started before the servers, as the bench starts it before the stack.
    counter = countOtherThreadsS3Requests();
    s3 = await listenOnLoopback(answeringServer());
    other = await listenOnLoopback(answeringServer());
  });

  afterEach(async () => {
    counter.stop();
    agent.destroy();
    await s3.stop();
    await other.stop();
  });

  it("counts other threads' requests to the named server by billing class", async () => {
    counter.serverAt(s3.url);
    await fromWorkerThread(s3.url, [
      ['PUT', '/bucket/work/chunk-0.jsonl'],
      ['POST', '/bucket/work/results.jsonl?uploads'],
      ['GET', '/bucket?list-type=2&prefix=work/'],
      ['GET', '/bucket/work/chunk-0.jsonl'],
      ['HEAD', '/bucket/work/chunk-0.jsonl'],
      ['DELETE', '/bucket/work/chunk-0.jsonl'],
    ]);
    expect(counter.counts()).toEqual({ put: 3, get: 2, free: 1 });
  });

  it("leaves out this thread's requests, also on a keep-alive connection opened before the server was named", async () => {
    await fromThisThread(`${s3.url}/bucket/inputs/a.jsonl`, 'PUT', agent);
    counter.serverAt(s3.url);
    await fromThisThread(`${s3.url}/bucket/results/a/manifest.json`, 'GET', agent);
    await fromWorkerThread(s3.url, [['GET', '/bucket/work/chunk-0.jsonl']]);
    expect(counter.counts()).toEqual({ get: 1 });
  });

  it("leaves out other servers' requests, and everything once stopped", async () => {
    counter.serverAt(s3.url);
    await fromWorkerThread(other.url, [['PUT', '/bucket/key']]);
    counter.stop();
    await fromWorkerThread(s3.url, [['PUT', '/bucket/key']]);
    expect(counter.counts()).toEqual({});
  });
});

describe('s3RequestClass', () => {
  it.each([
    ['PUT', '/b/key', 'put'],
    ['POST', '/b/key?uploadId=1', 'put'],
    ['GET', '/b', 'put'],
    ['GET', '/b/', 'put'],
    ['GET', '/b?uploads', 'put'],
    ['GET', '/b/key', 'get'],
    ['HEAD', '/b/key', 'get'],
    ['DELETE', '/b/key', 'free'],
  ])('%s %s is billed as %s', (method, url, expected) => {
    expect(s3RequestClass(method, url)).toBe(expected);
  });
});
