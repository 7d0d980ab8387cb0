/**
 * Submit's upload leg, alone: one chunk of `mib` MiB put in the local S3 (fauxqs), then moved to the
 * Gemini emulator as Submit moves it ({@link uploadChunk}: `S3ObjectStore` → `GenaiBatchApi`),
 * beside its legs measured apart: the same bytes read from the same local S3 and written once to a
 * local socket that discards them, and written once to a local file (what the emulator, like
 * Gemini, must do with them). Both servers run in this process's main thread and the client in a
 * worker thread, as in `npm start`; each measurement is repeated and the best kept (the machine is
 * shared).
 */

import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { GoogleGenAI } from '@google/genai';
import { buildApp } from 'fauxqs';
import { uploadChunk } from '../../lambdas/shared/batch-jobs/upload-chunk.js';
import { GenaiBatchApi } from '../../lambdas/shared/gemini/genai-batch-api.js';
import { S3ObjectStore } from '../../lambdas/shared/object-store/s3-object-store.js';
import { startGeminiEmulator } from '../../local/gemini-emulator/index.js';
import { reportResult, workerInput } from '../support/child.js';

export interface SubmitWorkerInput {
  readonly mib: number;
  readonly repeats: number;
}

export interface SubmitWorkerResult {
  readonly bytes: number;
  /** Best of the repeats: S3 → Gemini emulator, as Submit does it. */
  readonly uploadMs: number;
  /** The most RSS rose above its level before an upload, while it ran. */
  readonly uploadRssRiseBytes: number;
  /** Best of the repeats: the SDK's own upload after staging the chunk on disk (how Submit did it before). */
  readonly stagedSdkMs: number;
  /** Best of the repeats: S3 → a socket that discards. */
  readonly socketMs: number;
  /** Best of the repeats: S3 → a local file. */
  readonly diskMs: number;
}

const BUCKET = 'bench';
const KEY = 'work/run/chunks/00000.jsonl';
const { mib, repeats } = workerInput<SubmitWorkerInput>();

/** A line-shaped body of `bytes` bytes: the bytes' content does not matter to an upload. */
function chunkBody(bytes: number): Buffer {
  const line = Buffer.from(
    `${JSON.stringify({ key: 'k', request: { contents: [{ parts: [{ text: 'x'.repeat(200) }] }] } })}\n`,
  );
  const body = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += line.length) line.copy(body, at);
  body[bytes - 1] = 10;
  return body;
}

/** A local socket that reads and discards: the fastest a loopback write can go. */
async function discardingServer(): Promise<{ readonly port: number; readonly server: Server }> {
  const server = createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { port: address.port, server };
}

async function readIntoSocket(store: S3ObjectStore, port: number): Promise<void> {
  const socket = new Socket();
  await new Promise<void>((resolve, reject) =>
    socket.connect(port, '127.0.0.1', resolve).once('error', reject),
  );
  for await (const part of await store.read(BUCKET, KEY)) {
    if (!socket.write(part)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

async function best(times: number, run: () => Promise<void>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i += 1) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

/** Where the client thread finds the servers. */
interface Servers {
  readonly s3Url: string;
  readonly geminiUrl: string;
  readonly apiKey: string;
  readonly sinkPort: number;
  readonly tmp: string;
}

/**
 * The client's side, in a thread of its own as a function runs in `npm start` (and, in Lambda, on
 * another machine than S3 and Gemini): the servers' work is not added to the upload's.
 */
async function measure({ s3Url, geminiUrl, apiKey, sinkPort, tmp }: Servers): Promise<SubmitWorkerResult> {
  const s3 = new S3Client({
    endpoint: s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const bytes = mib * 1024 * 1024;
    await new Upload({ client: s3, params: { Bucket: BUCKET, Key: KEY, Body: chunkBody(bytes) } }).done();
    const store = new S3ObjectStore(s3);
    const gemini = new GenaiBatchApi({ apiKey, baseUrl: geminiUrl });
    let n = 0;
    let uploadRssRiseBytes = 0;
    const uploadMs = await best(repeats, async () => {
      n += 1;
      const before = process.memoryUsage.rss();
      const sampler = setInterval(() => {
        uploadRssRiseBytes = Math.max(uploadRssRiseBytes, process.memoryUsage.rss() - before);
      }, 10);
      await uploadChunk(
        { store, gemini },
        { bucket: BUCKET, chunk: { key: KEY, bytes }, displayName: `bench/${n}`, reuseUploaded: false },
      );
      clearInterval(sampler);
    });
    const sdk = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: geminiUrl } });
    const stagedSdkMs = await best(repeats, async () => {
      const path = join(tmp, 'staged.jsonl');
      await store.downloadToFile(BUCKET, KEY, path);
      await sdk.files.upload({
        file: path,
        config: { mimeType: 'application/jsonl', displayName: 'bench/staged' },
      });
      await rm(path);
    });
    const socketMs = await best(repeats, () => readIntoSocket(store, sinkPort));
    const diskMs = await best(repeats, () => store.downloadToFile(BUCKET, KEY, join(tmp, 'leg.jsonl')));
    return { bytes, uploadMs, uploadRssRiseBytes, stagedSdkMs, socketMs, diskMs };
  } finally {
    s3.destroy();
  }
}

if (isMainThread) {
  const s3App = buildApp({ logger: false });
  const s3Url = await s3App.listen({ port: 0, host: '127.0.0.1' });
  const emulator = await startGeminiEmulator({});
  const sink = await discardingServer();
  const tmp = await mkdtemp(join(tmpdir(), 'submit-bench-'));
  try {
    const servers: Servers = {
      s3Url,
      geminiUrl: emulator.url,
      apiKey: emulator.apiKey,
      sinkPort: sink.port,
      tmp,
    };
    const client = new Worker(fileURLToPath(import.meta.url), {
      workerData: servers,
      argv: process.argv.slice(2),
    });
    const [result] = (await once(client, 'message')) as [SubmitWorkerResult];
    reportResult(result);
  } finally {
    sink.server.close();
    await emulator.stop();
    await s3App.close();
    await rm(tmp, { recursive: true, force: true });
  }
} else {
  parentPort?.postMessage(await measure(workerData as Servers));
}
