/**
 * Writes accepted requests into chunk files under `work/<runId>/chunks/`: one group per format,
 * kind and model, each group cut into chunks that fit one Gemini job (bytes, requests, estimated
 * tokens), every chunk with its `[lineNumber, key]` file beside it.
 */
import type { BatchKind, RequestFormat } from '../shared/gemini/gemini-batch-api.js';
import { BUFFERED, type LineWriter, type ObjectStore } from '../shared/object-store/object-store.js';
import { workKeys } from '../shared/run/bucket-layout.js';
import type { ChunkPlan } from '../shared/run/work-records.js';
import type { ChunkLimits } from './chunk-limits.js';

/** One request on its way into a chunk, as Gemini receives it. */
export interface ChunkRequest {
  readonly format: RequestFormat;
  readonly kind: BatchKind;
  readonly model: string;
  readonly key: string;
  readonly lineNumber: number;
  /** The line as sent: its text, or the input line's bytes when it is sent as written. */
  readonly text: string | Uint8Array;
  /** Its UTF-8 size with the line break. */
  readonly bytes: number;
  readonly tokens: number;
  /** The limits of the request's model. */
  readonly limits: ChunkLimits;
}

export interface ChunkWriterParams {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly runId: string;
}

interface OpenChunk {
  readonly plan: Omit<ChunkPlan, 'requestCount' | 'bytes' | 'estimatedTokens'>;
  readonly limits: ChunkLimits;
  readonly writer: LineWriter;
  readonly keysWriter: LineWriter;
  requestCount: number;
  bytes: number;
  tokens: number;
}

/** Chunks of one run, numbered in the order they are opened. */
export class ChunkWriter {
  readonly #params: ChunkWriterParams;
  readonly #work: ReturnType<typeof workKeys>;
  readonly #open = new Map<string, OpenChunk>();
  readonly #closed: ChunkPlan[] = [];
  readonly #writers: LineWriter[] = [];
  #nextIndex = 0;

  constructor(params: ChunkWriterParams) {
    this.#params = params;
    this.#work = workKeys(params.runId);
  }

  /**
   * Appends a request to its group's open chunk, first closing that chunk when the request would
   * pass any of its limits. The request itself must fit one job (the caller rejects it otherwise).
   */
  add(request: ChunkRequest): Promise<void> {
    const group = this.#groupOf(request);
    const chunk = this.#open.get(group);
    if (
      chunk &&
      (chunk.requestCount + 1 > chunk.limits.maxRequests ||
        chunk.bytes + request.bytes > chunk.limits.maxBytes ||
        chunk.tokens + request.tokens > chunk.limits.maxTokens)
    ) {
      return this.#close(chunk).then(() => this.#append(group, undefined, request));
    }
    return this.#append(group, chunk, request);
  }

  /**
   * Not async, like the writers: most requests only join a block, so this is `BUFFERED` for them
   * and the caller's loop spends no promise and no microtask per line.
   */
  #append(group: string, open: OpenChunk | undefined, request: ChunkRequest): Promise<void> {
    let chunk = open;
    if (!chunk) {
      chunk = this.#openChunk(request);
      this.#open.set(group, chunk);
    }
    chunk.requestCount += 1;
    chunk.bytes += request.bytes;
    chunk.tokens += request.tokens;
    const wrote = chunk.writer.write(request.text);
    const wroteKey = chunk.keysWriter.write(keyPair(request.lineNumber, request.key));
    if (wrote === BUFFERED && wroteKey === BUFFERED) return BUFFERED;
    return Promise.all([wrote, wroteKey]).then(() => undefined);
  }

  #lastGroup: { format: string; kind: string; model: string; group: string } | undefined;

  /** The request's group name; the last one is kept, as runs of lines mostly share their model. */
  #groupOf({ format, kind, model }: ChunkRequest): string {
    const last = this.#lastGroup;
    if (last && last.model === model && last.kind === kind && last.format === format) return last.group;
    const group = `${format}\u0000${kind}\u0000${model}`;
    this.#lastGroup = { format, kind, model, group };
    return group;
  }

  /** Closes every open chunk; returns all the run's chunks in index order. */
  async close(): Promise<ChunkPlan[]> {
    for (const chunk of this.#open.values()) await this.#close(chunk);
    this.#open.clear();
    return this.#closed.sort((a, b) => a.index - b.index);
  }

  /** Discards what every chunk file received. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.#writers.map((writer) => writer.abort()));
  }

  #openChunk(first: ChunkRequest): OpenChunk {
    const { store, bucket } = this.#params;
    const index = this.#nextIndex++;
    const plan = {
      index,
      format: first.format,
      kind: first.kind,
      model: first.model,
      key: this.#work.chunk(index),
      keysKey: this.#work.chunkKeys(index),
      firstLine: first.lineNumber,
    };
    const chunk: OpenChunk = {
      plan,
      limits: first.limits,
      writer: store.openLineWriter(bucket, plan.key),
      keysWriter: store.openLineWriter(bucket, plan.keysKey),
      requestCount: 0,
      bytes: 0,
      tokens: 0,
    };
    this.#writers.push(chunk.writer, chunk.keysWriter);
    return chunk;
  }

  async #close(chunk: OpenChunk): Promise<void> {
    const [{ bytes }] = await Promise.all([chunk.writer.close(), chunk.keysWriter.close()]);
    this.#closed.push({
      ...chunk.plan,
      requestCount: chunk.requestCount,
      bytes,
      estimatedTokens: chunk.tokens,
    });
  }
}

/** A key JSON writes as it is, between quotes: no quote, backslash, control character or surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes.
const PLAIN_KEY = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * The keys file's line for a request, `[line,"key"]`. Most keys need no escaping, and quoting them
 * directly costs a third less than `JSON.stringify` (one call per request, in the hot loop).
 */
export const keyPair = (lineNumber: number, key: string): string =>
  PLAIN_KEY.test(key) ? `[${lineNumber},"${key}"]` : `[${lineNumber},${JSON.stringify(key)}]`;
