import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { embedContent, generateContent, InvalidRequestError, promptTokens } from './model/index.js';

export type BatchKind = 'generate' | 'embed';

export interface RequestStatus {
  readonly code: number;
  readonly message: string;
}

/** Decides, per request, whether a fault replaces its answer with an error. */
export type LineFault = (index: number, requestJson: string) => RequestStatus | undefined;

export type Answer = { readonly response: unknown } | { readonly error: RequestStatus };

export interface ProcessCounts {
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
}

export interface InputScan {
  readonly requests: number;
  /** Estimated input tokens, the unit of Gemini's enqueued-token quota. */
  readonly promptTokens: number;
}

/** gRPC INVALID_ARGUMENT, the code Google puts on lines it could not read. */
const INVALID_ARGUMENT = 3;

/** Answers one request as the model would, or with the error Gemini would write for it. */
export function answerRequest(kind: BatchKind, model: string, request: unknown): Answer {
  try {
    return { response: kind === 'generate' ? generateContent(model, request) : embedContent(request) };
  } catch (error) {
    if (error instanceof InvalidRequestError)
      return { error: { code: INVALID_ARGUMENT, message: error.message } };
    throw error;
  }
}

interface ParsedLine {
  readonly key: unknown;
  readonly request: unknown;
  readonly problem?: string;
}

/** One input line → its key and request, or why it cannot be read. Blank lines are not requests. */
function parseLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return {
      key: undefined,
      request: undefined,
      problem: `Invalid JSON payload received. ${(error as Error).message}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { key: undefined, request: undefined, problem: 'Invalid request line: expected a JSON object.' };
  }
  const { key, request } = value as Record<string, unknown>;
  if (request === undefined) {
    return { key, request, problem: 'Invalid request line: the "request" field is required.' };
  }
  return { key, request };
}

async function* nonBlankLines(path: string): AsyncGenerator<string> {
  // readline holds one line at a time, so memory is bounded by the longest line, not the file.
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() !== '') yield line;
  }
}

/** Counts requests and their estimated tokens without answering them: the admission check's input. */
export async function scanInputFile(path: string): Promise<InputScan> {
  let requests = 0;
  let tokens = 0;
  for await (const line of nonBlankLines(path)) {
    requests += 1;
    const parsed = parseLine(line);
    if (!parsed.problem) tokens += promptTokens(parsed.request);
  }
  return { requests, promptTokens: tokens };
}

export function scanInline(requests: readonly unknown[]): InputScan {
  const tokens = requests.reduce((sum: number, item) => sum + promptTokens(requestOf(item)), 0);
  return { requests: requests.length, promptTokens: tokens };
}

/**
 * Streams an input file into an output file: one line out per non-blank line in, in order, each
 * `{"response","key"}` or `{"error","key"}` (Google writes `response` before `key`, so neither
 * does the emulator: consumers must not rely on key order). A line that cannot be read becomes an
 * error line for that line rather than failing the job — an assumption about Gemini's behaviour.
 */
export async function processInputFile(
  inputPath: string,
  outputPath: string,
  kind: BatchKind,
  model: string,
  lineFault: LineFault,
): Promise<ProcessCounts & { readonly sha256Base64: string }> {
  const out = createWriteStream(outputPath);
  const hash = createHash('sha256');
  let pending = '';
  const flush = async () => {
    hash.update(pending);
    if (!out.write(pending)) await new Promise<void>((resolve) => out.once('drain', resolve));
    pending = '';
  };
  let requests = 0;
  let failed = 0;
  for await (const line of nonBlankLines(inputPath)) {
    const index = requests++;
    const parsed = parseLine(line);
    const injected = parsed.problem ? undefined : lineFault(index, line);
    const answer: Answer = parsed.problem
      ? { error: { code: INVALID_ARGUMENT, message: parsed.problem } }
      : injected
        ? { error: injected }
        : answerRequest(kind, model, parsed.request);
    if ('error' in answer) failed += 1;
    const keyed = parsed.key === undefined ? answer : { ...answer, key: parsed.key };
    pending += `${JSON.stringify(keyed)}\n`;
    if (pending.length >= 1 << 16) await flush();
  }
  await flush();
  out.end();
  await finished(out);
  return { requests, succeeded: requests - failed, failed, sha256Base64: hash.digest('base64') };
}

/** The request inside an inline item: `{request, metadata?}` for generate and embed alike. */
function requestOf(item: unknown): unknown {
  return typeof item === 'object' && item !== null ? (item as Record<string, unknown>).request : undefined;
}

/**
 * Answers inline requests in order. Generate answers echo the item's `metadata` (where callers keep
 * their key); embedding answers carry none, as on Gemini.
 */
export function processInline(
  kind: BatchKind,
  model: string,
  items: readonly unknown[],
  lineFault: LineFault,
): ProcessCounts & { readonly responses: readonly unknown[] } {
  let failed = 0;
  const responses = items.map((item, index) => {
    const request = requestOf(item);
    const injected = lineFault(index, JSON.stringify(item) ?? '');
    const answer: Answer = injected ? { error: injected } : answerRequest(kind, model, request);
    if ('error' in answer) failed += 1;
    const metadata =
      typeof item === 'object' && item !== null ? (item as Record<string, unknown>).metadata : undefined;
    return kind === 'generate' && metadata !== undefined ? { ...answer, metadata } : answer;
  });
  return { requests: items.length, succeeded: items.length - failed, failed, responses };
}
