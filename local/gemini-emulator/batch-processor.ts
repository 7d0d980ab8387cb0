import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { isRecord } from './json-fields.js';
import {
  type EmbedContentResponseJson,
  embedContent,
  generateContent,
  InvalidRequestError,
  promptTokens,
} from './model/index.js';
import type { EmbeddingUsage } from './model-catalogue.js';
import { seededFraction, seededPermutation, seededRandom } from './seeded-random.js';
import { unknownFieldsLineError } from './unknown-fields.js';

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

/**
 * An embedding answer in the shape its model reports usage: `tokenCount` (a string, as
 * `gemini-embedding-001` lines carry it) or `usageMetadata` (as `gemini-embedding-2` lines do,
 * capture of 2026-07-25).
 */
function embeddingAnswer(response: EmbedContentResponseJson, usage: EmbeddingUsage): unknown {
  if (usage === 'tokenCount') return response;
  const tokens = Number(response.tokenCount);
  return {
    embedding: response.embedding,
    usageMetadata: { promptTokenCount: tokens, totalTokenCount: tokens },
  };
}

/** Answers one request as the model would, or with the error Gemini would write for it. */
export function answerRequest(
  kind: BatchKind,
  model: string,
  request: unknown,
  embeddingUsage: EmbeddingUsage = 'tokenCount',
): Answer {
  try {
    return {
      response:
        kind === 'generate'
          ? generateContent(model, request)
          : embeddingAnswer(embedContent(request), embeddingUsage),
    };
  } catch (error) {
    if (error instanceof InvalidRequestError)
      return { error: { code: INVALID_ARGUMENT, message: error.message } };
    throw error;
  }
}

interface ParsedLine {
  readonly key: unknown;
  readonly request: unknown;
  /** Every top-level field but `request`, echoed on the output line as Gemini does (go-genai #513). */
  readonly echoed?: Readonly<Record<string, unknown>>;
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
  const { request, ...echoed } = value as Record<string, unknown>;
  const { key } = echoed;
  if (request === undefined) {
    return { key, request, echoed, problem: 'Invalid request line: the "request" field is required.' };
  }
  return { key, request, echoed };
}

async function* nonBlankLines(path: string): AsyncGenerator<string> {
  // readline holds one line at a time, so memory is bounded by the longest line, not the file.
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() !== '') yield line;
  }
}

/** How native lines are answered beyond their kind and model. */
export interface NativeLineOptions {
  /** @default 'tokenCount' */
  readonly embeddingUsage?: EmbeddingUsage;
  /** A request with a field Gemini's schema lacks gets an error line. @default false */
  readonly refuseUnknownFields?: boolean;
}

/**
 * Gemini's native line format: `{"key", "request", …}` in, `{"response", "key", …}` or
 * `{"error", "key", …}` out, echoing every top-level field of the input line but `request`
 * (go-genai #513). Google writes `response` before `key`, so the emulator does too: consumers must
 * not rely on key order. A line that cannot be read becomes an error line for that line rather than
 * failing the job, an assumption about Gemini's behaviour.
 */
export function nativeCodec(kind: BatchKind, model: string, options: NativeLineOptions = {}): LineCodec {
  const { embeddingUsage = 'tokenCount', refuseUnknownFields = false } = options;
  return {
    scanLine(line) {
      const parsed = parseLine(line);
      return { model, tokens: parsed.problem ? 0 : promptTokens(parsed.request) };
    },
    answerLine(line, index, lineFault) {
      const parsed = parseLine(line);
      const unknown =
        parsed.problem || !refuseUnknownFields ? undefined : unknownFieldsLineError(kind, parsed.request);
      const injected = parsed.problem || unknown ? undefined : lineFault(index, line);
      const answer: Answer = parsed.problem
        ? { error: { code: INVALID_ARGUMENT, message: parsed.problem } }
        : unknown
          ? { error: unknown }
          : injected
            ? { error: injected }
            : answerRequest(kind, model, parsed.request, embeddingUsage);
      // The answer's own fields win over input fields of the same name.
      const { response: _response, error: _error, ...echoed } = parsed.echoed ?? {};
      return { text: JSON.stringify({ ...answer, ...echoed }), failed: 'error' in answer };
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

/** Lines held back at most, by count and by size, to reorder a result file as it streams. */
const SHUFFLE_WINDOW_LINES = 1024;
const SHUFFLE_WINDOW_CHARS = 8 * 1024 * 1024;

/**
 * Reorders a stream of lines through a bounded window: each line waits among at most
 * `SHUFFLE_WINDOW_LINES` others (and `SHUFFLE_WINDOW_CHARS` characters) and a seeded draw picks which
 * leaves next, so a file of any size is reordered in bounded memory. A file that fits the window is
 * fully shuffled, and the result is never input order when there are two lines or more.
 */
class ShuffleWindow {
  readonly #random: () => number;
  #held: string[] = [];
  #chars = 0;

  constructor(random: () => number) {
    this.#random = random;
  }

  /** Takes the next line; returns the line that leaves the window, if one must. */
  push(text: string): string | undefined {
    this.#held.push(text);
    this.#chars += text.length;
    // Two lines stay held whatever their size, so the drain below can always change the order.
    const full = this.#held.length > SHUFFLE_WINDOW_LINES || this.#chars > SHUFFLE_WINDOW_CHARS;
    if (this.#held.length <= 2 || !full) return undefined;
    const position = Math.floor(this.#random() * this.#held.length);
    const last = this.#held.length - 1;
    [this.#held[position], this.#held[last]] = [this.#held[last] as string, this.#held[position] as string];
    const line = this.#held.pop() as string;
    this.#chars -= line.length;
    return line;
  }

  /**
   * The lines still held, in a seeded order that is never theirs: so even when every line that
   * left early happened to leave in order, the file as a whole does not come out as it went in.
   */
  drain(): string[] {
    return seededPermutation(this.#held.length, this.#random).map(
      (position) => this.#held[position] as string,
    );
  }
}

/**
 * Streams an input file into an output file: one line out per non-blank line in, as `codec`
 * answers it, in input order, or in a seeded order when `shuffle` gives the draws.
 */
export async function processInputFile(
  inputPath: string,
  outputPath: string,
  codec: LineCodec,
  lineFault: LineFault,
  shuffle?: () => number,
): Promise<ProcessCounts & { readonly sha256Base64: string }> {
  const out = createWriteStream(outputPath);
  const hash = createHash('sha256');
  const window = shuffle ? new ShuffleWindow(shuffle) : undefined;
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
    const leaving = window ? window.push(answer.text) : answer.text;
    if (leaving !== undefined) pending += `${leaving}\n`;
    if (pending.length >= 1 << 16) await flush();
  }
  for (const text of window?.drain() ?? []) {
    pending += `${text}\n`;
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

/** How inline answers come back: Gemini's quirks, decided by the emulator's seed. */
export interface InlineAnswering {
  readonly seed: number;
  readonly embeddingUsage: EmbeddingUsage;
  /** Answers in a seeded permutation of request order (js-genai #1207, python-genai #1909). */
  readonly shuffle: boolean;
  /** Share of answers, chosen by seed and content, that lose their `metadata` (js-genai #1191). */
  readonly metadataDropRate: number;
}

/**
 * Answers inline requests. Each answer echoes its item's `metadata` (where callers keep their key),
 * for generate and embed alike, as 2026 captures show, unless the seeded drop rate takes it away;
 * and the answers come back in a seeded order, never request order when there are two or more.
 * Every seeded choice depends only on the seed and the requests, so the same batch replays exactly.
 */
export function processInline(
  kind: BatchKind,
  model: string,
  items: readonly unknown[],
  lineFault: LineFault,
  answering: InlineAnswering,
): ProcessCounts & { readonly responses: readonly unknown[] } {
  const { seed, embeddingUsage, shuffle, metadataDropRate } = answering;
  const digest = createHash('sha256');
  let failed = 0;
  const responses = items.map((item, index) => {
    const itemJson = JSON.stringify(item) ?? '';
    digest.update(itemJson);
    const injected = lineFault(index, itemJson);
    const answer: Answer = injected
      ? { error: injected }
      : answerRequest(kind, model, requestOf(item), embeddingUsage);
    if ('error' in answer) failed += 1;
    const metadata = isRecord(item) ? item.metadata : undefined;
    const dropped =
      metadataDropRate > 0 && seededFraction(seed, 'inline-metadata', index, itemJson) < metadataDropRate;
    return metadata !== undefined && !dropped ? { ...answer, metadata } : answer;
  });
  const ordered = shuffle
    ? seededPermutation(responses.length, seededRandom(seed, 'inline-order', digest.digest('hex'))).map(
        (position) => responses[position],
      )
    : responses;
  return { requests: items.length, succeeded: items.length - failed, failed, responses: ordered };
}
