import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatchJob, GoogleGenAI } from '@google/genai';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  type GeminiEmulator,
  type GeminiEmulatorOptions,
  startGeminiEmulator,
} from '../../local/gemini-emulator/index.js';

/** Jobs that pend a second and run a second on the emulator clock. */
export const FAST_JOBS = { pendingMs: 1000, runningMs: 1000 };
export const HOUR_MS = 60 * 60 * 1000;
export const FLASH = 'gemini-2.5-flash';

export const TERMINAL_STATES = new Set([
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_EXPIRED',
]);

export interface Harness {
  emulator: GeminiEmulator;
  /** A scratch directory for files to upload and download, emptied after the suite. */
  dir: string;
  /** The real SDK pointed at the emulator; `apiVersion` undefined means the SDK's own default (v1 in 3.x). */
  sdk(apiVersion?: string, apiKey?: string): GoogleGenAI;
  /** Raw REST call with the emulator's key, for what the SDK drops (batchStats, error). */
  rest(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Starts one emulator for the enclosing `describe`, stops it after, and clears its faults after
 * each test so tests do not leak faults into each other.
 */
export function useEmulator(options: GeminiEmulatorOptions = {}): Harness {
  const harness = {} as Harness;
  beforeAll(async () => {
    harness.emulator = await startGeminiEmulator(options);
    harness.dir = await mkdtemp(join(tmpdir(), 'gemini-contract-'));
    harness.sdk = (apiVersion, apiKey) =>
      new GoogleGenAI({
        apiKey: apiKey ?? harness.emulator.apiKey,
        ...(apiVersion ? { apiVersion } : {}),
        httpOptions: { baseUrl: harness.emulator.url },
      });
    harness.rest = (path, init = {}) =>
      fetch(`${harness.emulator.url}${path}`, {
        ...init,
        headers: { 'x-goog-api-key': harness.emulator.apiKey, ...(init.headers ?? {}) },
      });
  });
  afterEach(() => harness.emulator.faults.clear());
  afterAll(async () => {
    await harness.emulator?.stop();
    if (harness.dir) await rm(harness.dir, { recursive: true, force: true });
  });
  return harness;
}

/** A generate input line as users write them. */
export function generateLine(key: string, text: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text }] }], ...extra } });
}

/** An embedding input line as users write them. */
export function embedLine(key: string, text: string, outputDimensionality = 8): string {
  return JSON.stringify({ key, request: { content: { parts: [{ text }] }, outputDimensionality } });
}

export async function writeJsonl(dir: string, name: string, lines: readonly string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * Polls with the SDK until the job is terminal, moving the emulator clock forward between polls
 * so no test waits for emulated time to pass.
 */
export async function waitForJob(
  ai: GoogleGenAI,
  emulator: GeminiEmulator,
  name: string,
  stepMs = 1000,
): Promise<BatchJob> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const job = await ai.batches.get({ name });
    if (TERMINAL_STATES.has(job.state ?? '')) return job;
    emulator.clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`batch ${name} did not finish after 500 polls`);
}

/** The JSON lines of a downloaded file. */
export function parseJsonl(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The first candidate's text in a generate output line, or '' when the line has none. */
export function firstCandidateText(line: Record<string, unknown> | undefined): string {
  const response = line?.response as
    | { candidates?: { content?: { parts?: { text?: string }[] } }[] }
    | undefined;
  return response?.candidates?.[0]?.content?.parts?.[0]?.text ?? '';
}

/** Uploads `lines` as a JSONL file named `name` and returns the file's resource name. */
export async function uploadJsonl(
  h: Harness,
  ai: GoogleGenAI,
  name: string,
  lines: readonly string[],
): Promise<string> {
  const path = await writeJsonl(h.dir, name, lines);
  const file = await ai.files.upload({
    file: path,
    config: { mimeType: 'application/jsonl', displayName: name },
  });
  return file.name ?? '';
}

let downloads = 0;

/** Downloads a file with the SDK and parses its lines. */
export async function downloadJsonl(h: Harness, ai: GoogleGenAI, fileName: string) {
  const downloadPath = join(h.dir, `download-${++downloads}.jsonl`);
  await ai.files.download({ file: fileName, downloadPath });
  return parseJsonl(await readFile(downloadPath, 'utf8'));
}

/** The raw `google.longrunning.Operation`, with what the SDK drops (`done`, `error`, `batchStats`). */
export interface RawOperation {
  name: string;
  done?: boolean;
  error?: { code: number; message: string };
  metadata: {
    state: string;
    batchStats: Record<string, string>;
    output?: Record<string, unknown>;
    [field: string]: unknown;
  };
  response?: Record<string, unknown>;
}

/** Reads a batch over raw REST, as a client must for progress counts and a failure's reason. */
export async function rawBatch(h: Harness, name: string): Promise<RawOperation> {
  const response = await h.rest(`/v1beta/${name}`);
  expect(response.status).toBe(200);
  return (await response.json()) as RawOperation;
}

/** `value`, or a failed test naming `what` when it is missing. */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what} to be set`);
  return value;
}

/** JSONL text of `count` generate requests, keyed `<prefix>-<i>`. */
export function jsonlOf(
  prefix: string,
  count: number,
  text = (i: number) => `Say something about ${i}`,
): string {
  return `${Array.from({ length: count }, (_, i) => generateLine(`${prefix}-${i}`, text(i))).join('\n')}\n`;
}

/** ASCII text of exactly `bytes` bytes. */
export function textOfSize(bytes: number): string {
  return 'abcdefghij'.repeat(Math.ceil(bytes / 10)).slice(0, bytes);
}

/** Uploads `text` through the SDK as a JSONL file. */
export function uploadText(ai: GoogleGenAI, text: string, displayName?: string) {
  return ai.files.upload({
    file: new Blob([text], { type: 'application/jsonl' }),
    config: { mimeType: 'application/jsonl', displayName },
  });
}

/** An inline generate batch of one request per text, keyed by position in `metadata.key`. */
export function createInline(
  ai: GoogleGenAI,
  displayName: string,
  texts: readonly string[] = ['hello'],
  model = FLASH,
) {
  return ai.batches.create({
    model,
    src: texts.map((text, i) => ({
      contents: [{ role: 'user', parts: [{ text }] }],
      metadata: { key: `${displayName}-${i}` },
    })),
    config: { displayName },
  });
}

/** Uploads `lines` as a JSONL file and starts a generate batch on it. */
export async function createFromLines(
  h: Harness,
  ai: GoogleGenAI,
  displayName: string,
  lines: readonly string[],
) {
  const path = await writeJsonl(h.dir, `${displayName}.jsonl`, lines);
  const file = await ai.files.upload({ file: path, config: { mimeType: 'application/jsonl', displayName } });
  return ai.batches.create({ model: FLASH, src: defined(file.name, 'file.name'), config: { displayName } });
}

export interface InlineAnswer {
  metadata?: { key?: string };
  response?: Record<string, unknown>;
  error?: unknown;
}

/** An inline batch over raw REST, as the pipeline sends it: `{request, metadata: {key}}` per item. */
export async function createInlineRest(
  h: Harness,
  kind: 'generate' | 'embed',
  model: string,
  items: readonly { key: string; text: string }[],
  displayName = `inline-${kind}`,
): Promise<RawOperation> {
  const method = kind === 'generate' ? 'batchGenerateContent' : 'asyncBatchEmbedContent';
  const requests = items.map(({ key, text }) => ({
    request:
      kind === 'generate'
        ? { contents: [{ role: 'user', parts: [{ text }] }] }
        : { content: { parts: [{ text }] }, outputDimensionality: 8 },
    metadata: { key },
  }));
  const response = await h.rest(`/v1beta/models/${model}:${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ batch: { displayName, inputConfig: { requests: { requests } } } }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as RawOperation;
}

/** The inline answers of a finished job, read over raw REST. */
export async function inlineAnswers(h: Harness, ai: GoogleGenAI, name: string): Promise<InlineAnswer[]> {
  expect((await waitForJob(ai, h.emulator, name)).state).toBe('JOB_STATE_SUCCEEDED');
  const operation = await rawBatch(h, name);
  const output = operation.metadata.output as { inlinedResponses: { inlinedResponses: InlineAnswer[] } };
  return output.inlinedResponses.inlinedResponses;
}

/** `count` keyed texts for an inline batch, keyed `<prefix>-<i>`. */
export const items = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-${i}`,
    text: `question ${prefix} number ${i}`,
  }));

/** The keys the answers echo, in the order they came back. */
export const keysOf = (answers: readonly InlineAnswer[]) => answers.map((answer) => answer.metadata?.key);
