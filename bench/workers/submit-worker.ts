/**
 * Submit's upload leg, alone: one chunk of `mib` MiB put in the local S3 (the runner's, on disk), then moved as
 * Submit moves it ({@link uploadChunk}: `S3ObjectStore` → `GenaiBatchApi`) to two receivers: the
 * Gemini emulator, and a Gemini-protocol receiver that discards (what Submit's own path costs when
 * the receiver is free, as Google's machines are to Lambda). Beside it, its real legs measured
 * apart: the same bytes read from the same local S3 and written once to a local socket that
 * discards them (the read from S3 and the write to the network, Submit's two real legs), and once to
 * a local file; and the emulator's receiving alone (bytes from memory to the emulator: the
 * stand-in's SHA-256 and disk write, Google's cost in production). S3 and the sinks run in this
 * process's main thread, the emulator and the client in threads of their own (in Lambda, S3, the
 * function and Gemini are three machines); each measurement is repeated and the best kept (the
 * machine is shared).
 */

import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { GoogleGenAI } from '@google/genai';
import { uploadChunk } from '../../lambdas/shared/batch-jobs/upload-chunk.js';
import { GenaiBatchApi } from '../../lambdas/shared/gemini/genai-batch-api.js';
import { S3ObjectStore } from '../../lambdas/shared/object-store/s3-object-store.js';
import { startGeminiEmulator } from '../../local/gemini-emulator/index.js';
import { startLocalS3 } from '../../local/runner/local-s3.js';
import { reportResult, workerInput } from '../support/child.js';
import { interleaved } from '../support/interleaved.js';

export interface SubmitWorkerInput {
  readonly mib: number;
  readonly repeats: number;
}

export interface SubmitWorkerResult {
  readonly bytes: number;
  /** Best of the repeats: S3 → Gemini emulator, as Submit does it. */
  readonly uploadMs: number;
  /** The most RSS rose above its level before an upload to the emulator, while it ran. */
  readonly uploadRssRiseBytes: number;
  /** Best of the repeats: S3 → a Gemini-protocol receiver that discards, as Submit does it. */
  readonly sinkUploadMs: number;
  /** The most RSS rose above its level before an upload to the discarding receiver, while it ran. */
  readonly sinkUploadRssRiseBytes: number;
  /** The most the client thread's heap and buffers rose during an upload to the emulator, and to the discarding receiver. */
  readonly uploadClientRiseBytes: number;
  readonly sinkUploadClientRiseBytes: number;
  /** The same for the S3 → socket leg. */
  readonly socketClientRiseBytes: number;
  /** Best of the repeats: the SDK's own upload after staging the chunk on disk (how Submit did it before). */
  readonly stagedSdkMs: number;
  /** Best of the repeats: S3 → a socket that discards. */
  readonly socketMs: number;
  /** The most RSS rose above its level before the S3 → socket leg, while it ran. */
  readonly socketRssRiseBytes: number;
  /** Best of the repeats: S3 → a local file. */
  readonly diskMs: number;
  /** The client thread's CPU time, least of the repeats: the upload to the discarding receiver, and the S3 → socket leg. */
  readonly sinkUploadCpuMs: number;
  readonly socketCpuMs: number;
  /** The whole process's CPU time, least of the repeats, for the same two. */
  readonly sinkUploadProcessCpuMs: number;
  readonly socketProcessCpuMs: number;
  /** Best of the repeats: the chunk from memory to the emulator (its receiving alone). */
  readonly emulatorReceiveMs: number;
  /** The most RSS rose above its level before the emulator's receiving alone, while it ran. */
  readonly emulatorReceiveRssRiseBytes: number;
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

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

/** A local socket that reads and discards: the fastest a loopback write can go. */
async function discardingServer(): Promise<{ readonly port: number; readonly server: Server }> {
  const server = createServer((socket) => socket.resume());
  return { port: await listening(server), server };
}

/**
 * The least a Gemini-protocol receiver does: a start answered with an upload URL, an upload read to
 * its end and discarded, then answered `final` with a file. Only for measuring the client: every
 * behaviour is the emulator's to test.
 */
async function discardingGemini(): Promise<{ readonly url: string; readonly server: Server }> {
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    req.resume();
    req.on('end', () => {
      if (!url.searchParams.has('upload_id')) {
        res.writeHead(200, {
          'x-goog-upload-url': `http://${req.headers.host}${url.pathname}?upload_id=sink`,
        });
        res.end('{}');
        return;
      }
      res.writeHead(200, { 'x-goog-upload-status': 'final', 'content-type': 'application/json' });
      res.end(JSON.stringify({ file: { name: 'files/sink' } }));
    });
  });
  const port = await listening(server);
  return { url: `http://127.0.0.1:${port}`, server };
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

/** Where the client thread finds the servers. */
interface Servers {
  readonly role: 'client';
  readonly s3Url: string;
  readonly geminiUrl: string;
  readonly apiKey: string;
  readonly sinkPort: number;
  readonly sinkGeminiUrl: string;
  readonly tmp: string;
}

/**
 * The client's side, in a thread of its own as a function runs in `npm start` (and, in Lambda, on
 * another machine than S3 and Gemini): the servers' work is not added to the upload's.
 */
async function measure(servers: Servers): Promise<SubmitWorkerResult> {
  const { s3Url, geminiUrl, apiKey, sinkPort, sinkGeminiUrl, tmp } = servers;
  const s3 = new S3Client({
    endpoint: s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const bytes = mib * 1024 * 1024;
    const body = chunkBody(bytes);
    await new Upload({ client: s3, params: { Bucket: BUCKET, Key: KEY, Body: body } }).done();
    const store = new S3ObjectStore(s3);
    const submitTo = (gemini: GenaiBatchApi, name: string) =>
      uploadChunk(
        { store, gemini },
        { bucket: BUCKET, chunk: { key: KEY, bytes }, displayName: name, reuseUploaded: false },
      );
    const emulator = new GenaiBatchApi({ apiKey, baseUrl: geminiUrl });
    const sink = new GenaiBatchApi({ apiKey, baseUrl: sinkGeminiUrl });
    const fromMemory = async function* () {
      for (let at = 0; at < bytes; at += 64 * 1024) yield body.subarray(at, at + 64 * 1024);
    };
    const sdk = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: geminiUrl } });
    const { upload, sinkUpload, emulatorReceive, stagedSdk, socket, disk } = await interleaved(repeats, {
      upload: (n) => submitTo(emulator, `bench/${n}`),
      sinkUpload: (n) => submitTo(sink, `bench/sink-${n}`),
      socket: () => readIntoSocket(store, sinkPort),
      disk: () => store.downloadToFile(BUCKET, KEY, join(tmp, 'leg.jsonl')),
      emulatorReceive: (n) =>
        emulator.uploadJsonl({ bytes, open: async () => fromMemory() }, `bench/memory-${n}`),
      stagedSdk: async () => {
        const path = join(tmp, 'staged.jsonl');
        await store.downloadToFile(BUCKET, KEY, path);
        await sdk.files.upload({
          file: path,
          config: { mimeType: 'application/jsonl', displayName: 'bench/staged' },
        });
        await rm(path);
      },
    });
    return {
      bytes,
      uploadMs: upload.ms,
      uploadRssRiseBytes: upload.rssRise,
      sinkUploadMs: sinkUpload.ms,
      sinkUploadRssRiseBytes: sinkUpload.rssRise,
      uploadClientRiseBytes: upload.clientRise,
      sinkUploadClientRiseBytes: sinkUpload.clientRise,
      socketClientRiseBytes: socket.clientRise,
      stagedSdkMs: stagedSdk.ms,
      socketMs: socket.ms,
      socketRssRiseBytes: socket.rssRise,
      diskMs: disk.ms,
      sinkUploadCpuMs: sinkUpload.cpuMs,
      socketCpuMs: socket.cpuMs,
      sinkUploadProcessCpuMs: sinkUpload.processCpuMs,
      socketProcessCpuMs: socket.processCpuMs,
      emulatorReceiveMs: emulatorReceive.ms,
      emulatorReceiveRssRiseBytes: emulatorReceive.rssRise,
    };
  } finally {
    s3.destroy();
  }
}

/** The emulator's thread: it serves until told to stop. */
async function serveEmulator(): Promise<void> {
  const emulator = await startGeminiEmulator({});
  parentPort?.postMessage({ url: emulator.url, apiKey: emulator.apiKey });
  await once(parentPort as NonNullable<typeof parentPort>, 'message');
  await emulator.stop();
}

const thread = (data: object) =>
  new Worker(fileURLToPath(import.meta.url), { workerData: data, argv: process.argv.slice(2) });

if (isMainThread) {
  const tmp = await mkdtemp(join(tmpdir(), 'submit-bench-'));
  const localS3 = await startLocalS3({ port: 0, host: '127.0.0.1', directory: join(tmp, 's3') });
  const s3Url = localS3.address;
  const emulatorThread = thread({ role: 'emulator' });
  const [emulator] = (await once(emulatorThread, 'message')) as [{ url: string; apiKey: string }];
  const sink = await discardingServer();
  const sinkGemini = await discardingGemini();
  try {
    const servers: Servers = {
      role: 'client',
      s3Url,
      geminiUrl: emulator.url,
      apiKey: emulator.apiKey,
      sinkPort: sink.port,
      sinkGeminiUrl: sinkGemini.url,
      tmp,
    };
    const [result] = (await once(thread(servers), 'message')) as [SubmitWorkerResult];
    reportResult(result);
  } finally {
    sink.server.close();
    sinkGemini.server.close();
    emulatorThread.postMessage('stop');
    await once(emulatorThread, 'exit');
    await localS3.stop();
    await rm(tmp, { recursive: true, force: true });
  }
} else if ((workerData as { role: string }).role === 'emulator') {
  await serveEmulator();
} else {
  parentPort?.postMessage(await measure(workerData as Servers));
}
