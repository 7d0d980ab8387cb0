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
  /** The same tokens per model (bare id, no `models/`): the quota is charged per model. */
  readonly tokensByModel: Readonly<Record<string, number>>;
  /** The model of the first readable request, which names the job's model when the lines carry theirs. */
  readonly firstModel: string | undefined;
}

/** What one input line asks of the admission check: its model (if it names one) and its tokens. */
export interface LineScan {
  readonly model: string | undefined;
  readonly tokens: number;
}

/** One output line (without its newline), and whether it reports an error. */
export interface LineAnswer {
  readonly text: string;
  readonly failed: boolean;
}

/**
 * An input-file format: how a line is sized up for admission and how it is answered. Gemini's
 * native `{key, request}` lines and OpenAI's `{custom_id, method, url, body}` lines (the
 * OpenAI-compatible layer) share everything else: streaming, counting, faults, the job's life.
 */
export interface LineCodec {
  scanLine(line: string): LineScan;
  /** Answers line `index`; `lineFault` may replace the answer of a readable request with an error. */
  answerLine(line: string, index: number, lineFault: LineFault): LineAnswer;
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

/**
 * Gemini's native line format: `{"key", "request"}` in, `{"response", "key"}` or `{"error", "key"}`
 * out (Google writes `response` before `key`, so the emulator does too: consumers must not rely on
 * key order). A line that cannot be read becomes an error line for that line rather than failing
 * the job, an assumption about Gemini's behaviour.
 */
export function nativeCodec(kind: BatchKind, model: string): LineCodec {
  return {
    scanLine(line) {
      const parsed = parseLine(line);
      return { model, tokens: parsed.problem ? 0 : promptTokens(parsed.request) };
    },
    answerLine(line, index, lineFault) {
      const parsed = parseLine(line);
      const injected = parsed.problem ? undefined : lineFault(index, line);
      const answer: Answer = parsed.problem
        ? { error: { code: INVALID_ARGUMENT, message: parsed.problem } }
        : injected
          ? { error: injected }
          : answerRequest(kind, model, parsed.request);
      const keyed = parsed.key === undefined ? answer : { ...answer, key: parsed.key };
      return { text: JSON.stringify(keyed), failed: 'error' in answer };
    },
  };
}

/** Accumulates line scans into an InputScan. */
class ScanTotals {
  requests = 0;
  promptTokens = 0;
  readonly tokensByModel: Record<string, number> = {};
  firstModel: string | undefined;

  add({ model, tokens }: LineScan): void {
    this.requests += 1;
    this.promptTokens += tokens;
    if (model === undefined) return;
    this.firstModel ??= model;
    this.tokensByModel[model] = (this.tokensByModel[model] ?? 0) + tokens;
  }

  result(): InputScan {
    const { requests, promptTokens, tokensByModel, firstModel } = this;
    return { requests, promptTokens, tokensByModel, firstModel };
  }
}

/** Counts requests and their estimated tokens without answering them: the admission check's input. */
export async function scanInputFile(path: string, codec: LineCodec): Promise<InputScan> {
  const totals = new ScanTotals();
  for await (const line of nonBlankLines(path)) totals.add(codec.scanLine(line));
  return totals.result();
}

export function scanInline(model: string, requests: readonly unknown[]): InputScan {
  const totals = new ScanTotals();
  for (const item of requests) totals.add({ model, tokens: promptTokens(requestOf(item)) });
  return totals.result();
}

/**
 * Streams an input file into an output file: one line out per non-blank line in, in order, as
 * `codec` answers it.
 */
export async function processInputFile(
  inputPath: string,
  outputPath: string,
  codec: LineCodec,
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
    const answer = codec.answerLine(line, requests++, lineFault);
    if (answer.failed) failed += 1;
    pending += `${answer.text}\n`;
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
