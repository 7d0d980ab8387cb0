/** A job's input, sized up for admission and answered: streamed from file to file, or inline in memory. */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { isRecord } from './json-fields.js';
import type { Answer, BatchKind, LineCodec, LineFault, LineScan } from './line-codec.js';
import { promptTokens } from './model/index.js';
import type { EmbeddingUsage } from './model-catalogue.js';
import { answerRequest } from './native-lines.js';
import { seededFraction, seededPermutation, seededRandom } from './seeded-random.js';
import { ShuffleWindow } from './shuffle-window.js';

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

async function* nonBlankLines(path: string): AsyncGenerator<string> {
  // readline holds one line at a time, so memory is bounded by the longest line, not the file.
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() !== '') yield line;
  }
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
