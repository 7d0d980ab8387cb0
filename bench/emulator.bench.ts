/**
 * Gemini emulator figures: how fast a 100k-request file goes from create to SUCCEEDED at the
 * fastest timings, and the emulator's peak memory while it works through a 1 GB input file.
 * The emulator runs as a child process, so its peak RSS (VmHWM) is its own, not the benchmark's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { GoogleGenAI } from '@google/genai';
import { type BenchRow, MIB } from './support/table.js';

const CLI = new URL('../local/gemini-emulator/cli.ts', import.meta.url).pathname;

interface ChildEmulator {
  readonly url: string;
  readonly child: ChildProcess;
  peakRssMib(): Promise<number>;
  stop(): Promise<void>;
}

async function startChildEmulator(): Promise<ChildEmulator> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      '--port',
      '0',
      '--pending-ms',
      '0',
      '--running-ms',
      '0',
      '--max-enqueued-tokens',
      '1e12',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${output}`)));
  });
  return {
    url,
    child,
    async peakRssMib() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Writes generate requests up to `limit` (count and bytes); each prompt is about `promptChars` long. */
async function writeInput(
  path: string,
  limit: { requests: number; bytes: number },
  promptChars: number,
): Promise<number> {
  const out = createWriteStream(path);
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(promptChars / 27)).slice(0, promptChars);
  let written = 0;
  let count = 0;
  while (count < limit.requests && written < limit.bytes) {
    const line = `${JSON.stringify({ key: `req-${count}`, request: { contents: [{ parts: [{ text: `${count} ${filler}` }] }] } })}\n`;
    count += 1;
    written += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  return count;
}

async function runBatch(url: string, path: string): Promise<{ createToDoneMs: number; uploadMs: number }> {
  const ai = new GoogleGenAI({
    apiKey: 'gemini-emulator-key',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: url },
  });
  const uploadStart = performance.now();
  const file = await ai.files.upload({ file: path, config: { mimeType: 'application/jsonl' } });
  const uploadMs = performance.now() - uploadStart;
  const createStart = performance.now();
  let job = await ai.batches.create({ model: 'gemini-2.5-flash', src: file.name ?? '' });
  while (job.state !== 'JOB_STATE_SUCCEEDED') {
    if (job.state === 'JOB_STATE_FAILED') throw new Error(`batch failed: ${job.name}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    job = await ai.batches.get({ name: job.name ?? '' });
  }
  return { createToDoneMs: performance.now() - createStart, uploadMs };
}

export async function benchEmulator(options: {
  largeInputBytes: number;
  /** Where its files go: the orchestrator's temporary directory, removed on exit and on Ctrl-C. */
  parentDir?: string;
}): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'bench-emulator-'));
  const rows: BenchRow[] = [];
  try {
    const small = join(dir, '100k.jsonl');
    const requests = await writeInput(small, { requests: 100_000, bytes: Number.POSITIVE_INFINITY }, 60);
    const emulator = await startChildEmulator();
    try {
      const { createToDoneMs } = await runBatch(emulator.url, small);
      rows.push({
        figure: `emulator: ${requests.toLocaleString('en')} requests, create → SUCCEEDED (timings 0)`,
        value: `${(createToDoneMs / 1000).toFixed(1)} s`,
        reference: 'the local end-to-end budget is 60 s for 100k',
        target: 'none',
      });
    } finally {
      await emulator.stop();
    }

    const large = join(dir, 'large.jsonl');
    const largeRequests = await writeInput(
      large,
      { requests: Number.POSITIVE_INFINITY, bytes: options.largeInputBytes },
      900,
    );
    const { size } = await stat(large);
    const second = await startChildEmulator();
    try {
      const baseline = await second.peakRssMib();
      const { createToDoneMs, uploadMs } = await runBatch(second.url, large);
      rows.push({
        figure: `emulator: ${(size / MIB).toFixed(0)} MiB input (${largeRequests.toLocaleString('en')} requests), peak RSS`,
        value: `${(await second.peakRssMib()).toFixed(0)} MiB`,
        reference: `${baseline.toFixed(0)} MiB idle; upload ${(uploadMs / 1000).toFixed(1)} s, create → SUCCEEDED ${(createToDoneMs / 1000).toFixed(1)} s`,
        target: 'none',
      });
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
