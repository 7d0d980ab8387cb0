import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Heap } from 'heap-js';
import { RunStateError } from '../shared/errors.js';
import type { GeminiBatchApi, InlineResponse } from '../shared/gemini/gemini-batch-api.js';
import { readJsonlLines } from '../shared/jsonl.js';
import { chunkId, resultKeys, workKeys } from '../shared/layout.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { ChunkPlan, JobStatusRecord, ModelUsage } from '../shared/run-records.js';
import { type CollectSummary, emptyModelUsage, LONG_PROMPT_TOKENS } from '../shared/run-records.js';
import type { CollectedRun, RunState } from '../shared/run-state.js';
import { readPlan, readPollStatus } from '../shared/run-store.js';

/** Result lines can be long (embeddings of 3072 floats, long generations); a bound still applies. */
const MAX_RESULT_LINE_BYTES = 64 * 1024 * 1024;

export interface CollectDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  readonly inputPrefix: string;
  /** Where result files are staged after download (Lambda's /tmp). */
  readonly tmpDir: string;
  readonly now?: () => Date;
}

/** An error the pipeline itself writes for a key, alongside the errors Gemini writes. */
type PipelineError = {
  readonly status: 'JOB_NOT_SUCCEEDED' | 'NOT_SUBMITTED' | 'NO_RESULT';
  readonly message: string;
};

/** A result as Gemini writes it, in a file line or inline; OpenAI-format lines carry `custom_id`. */
interface Result {
  readonly key?: unknown;
  readonly custom_id?: unknown;
  readonly response?: unknown;
  readonly error?: unknown;
}

/** How one output format names keys and writes answers. */
interface ResultFormat {
  keyOf(result: Result): unknown;
  /**
   * The output line for a key's result, and whether the request succeeded. `raw` is the result's
   * own line, when it came from a file: a line already in the output shape is passed through.
   */
  render(key: string, result: Result, raw?: string): { readonly text: string; readonly succeeded: boolean };
  renderError(key: string, error: PipelineError): string;
  /** Token counts of a successful answer, as Gemini reports them in this format. */
  usageOf(result: Result): UsageCounts | undefined;
}

interface UsageCounts {
  readonly prompt: number;
  /** Of `prompt`, the tokens served from a context cache. */
  readonly cached: number;
  readonly output: number;
  readonly thoughts: number;
  readonly total?: number;
}

const count = (value: unknown): number => Number(value ?? 0) || 0;

/** Gemini's own lines: `{"key","response"}` or `{"key","error"}`. */
const GEMINI_FORMAT: ResultFormat = {
  keyOf: (result) => result.key,
  render: (key, result, raw) => {
    const succeeded = result.response !== undefined;
    // `{"response","key"}` or `{"error","key"}` and nothing else is already an output line (key order
    // does not matter in JSON): passing it through saves re-serialising a large response.
    if (raw !== undefined && Object.keys(result).length === 2) return { text: raw, succeeded };
    const text = succeeded
      ? JSON.stringify({ key, response: result.response })
      : JSON.stringify({
          key,
          error: result.error ?? { message: 'Gemini returned neither response nor error' },
        });
    return { text, succeeded };
  },
  renderError: (key, error) => JSON.stringify({ key, error }),
  usageOf: (result) => {
    const body = result.response as
      | { usageMetadata?: Record<string, unknown>; tokenCount?: unknown }
      | undefined;
    const metadata = body?.usageMetadata;
    if (metadata) {
      return {
        prompt: count(metadata.promptTokenCount),
        cached: count(metadata.cachedContentTokenCount),
        output: count(metadata.candidatesTokenCount),
        thoughts: count(metadata.thoughtsTokenCount),
        ...(metadata.totalTokenCount !== undefined ? { total: count(metadata.totalTokenCount) } : {}),
      };
    }
    // Embeddings report only their input tokens, as a string.
    return body?.tokenCount !== undefined
      ? { prompt: count(body.tokenCount), cached: 0, output: 0, thoughts: 0 }
      : undefined;
  },
};

/**
 * OpenAI's batch output lines, `{"custom_id","response":{"status_code","body"},"error"}`, as users
 * migrating from OpenAI expect them. Gemini's compat layer omits `error` and writes camelCase usage
 * (`promptTokens`); both spellings are read.
 */
const OPENAI_FORMAT: ResultFormat = {
  keyOf: (result) => result.custom_id,
  render: (key, result) => {
    const response = result.response as
      | { status_code?: number; body?: { error?: { message?: string } } }
      | undefined;
    const status = response?.status_code;
    if (status !== undefined && status < 300) {
      return { text: JSON.stringify({ custom_id: key, response, error: null }), succeeded: true };
    }
    const message =
      response?.body?.error?.message ?? 'Gemini returned no successful response for this request';
    return {
      text: JSON.stringify({
        custom_id: key,
        response: response ?? null,
        error: { code: status ?? 'UNKNOWN', message },
      }),
      succeeded: false,
    };
  },
  renderError: (key, error) =>
    JSON.stringify({ custom_id: key, response: null, error: { code: error.status, message: error.message } }),
  usageOf: (result) => {
    const usage = (result.response as { body?: { usage?: Record<string, unknown> } } | undefined)?.body
      ?.usage;
    if (!usage) return undefined;
    const total = usage.totalTokens ?? usage.total_tokens;
    return {
      prompt: count(usage.promptTokens ?? usage.prompt_tokens),
      cached: 0,
      output: count(usage.completionTokens ?? usage.completion_tokens),
      thoughts: 0,
      ...(total !== undefined ? { total: count(total) } : {}),
    };
  },
};

const FORMATS: Readonly<Record<ChunkPlan['format'], ResultFormat>> = {
  gemini: GEMINI_FORMAT,
  openai: OPENAI_FORMAT,
};

/** One output line for one accepted input line. */
interface Answer {
  readonly line: number;
  readonly text: string;
}

interface Tally {
  succeeded: number;
  failed: number;
  missing: number;
  duplicates: number;
  unknown: number;
  readonly usage: Record<string, ModelUsage>;
}

/**
 * Writes `results.jsonl`: exactly one line for every accepted key, `{"key","response"}` or
 * `{"key","error"}`, in the input file's order, in memory bounded by one chunk's keys, never by
 * the results' size.
 *
 * How: each chunk's answers are produced in the chunk's own order, which is input order (Prepare
 * writes chunks in input order, with a `[line, key]` file beside each). Gemini writes a job's
 * results in request order, so the result file is normally read in lockstep with the keys; at the
 * first line out of step the chunk switches to an index of byte offsets and reads each answer by
 * position. A k-way merge on line numbers then interleaves the chunks back into input order.
 *
 * Keys of a job that did not succeed, and keys Gemini returned nothing for, get an error line
 * saying so; result lines for unknown keys or keys already answered are counted and dropped.
 */
export async function collectResults(run: RunState, deps: CollectDeps): Promise<CollectedRun> {
  const { store } = deps;
  const plan = await readPlan(store, run);
  const pollStatus = await readPollStatus(store, run);
  const jobs = new Map(pollStatus?.jobs.map((job) => [job.chunk, job]));
  const abandoned = new Set(pollStatus?.abandonedChunks);
  const tally: Tally = { succeeded: 0, failed: 0, missing: 0, duplicates: 0, unknown: 0, usage: {} };
  const output = store.openLineWriter(run.bucket, resultKeys(run.key, run.runId, deps.inputPrefix).results);
  const sources = plan.chunks.map((chunk) => {
    const job = jobs.get(chunk.index);
    if (!job && abandoned.has(chunk.index)) {
      const message = `Gemini refused this chunk's batch job (quota, 429) until the submit deadline; this request was not sent`;
      return {
        firstLine: chunk.firstLine,
        answers: failedAnswers(run, chunk, tally, deps, { status: 'NOT_SUBMITTED', message }),
      };
    }
    if (!job) throw new RunStateError(`chunk ${chunk.index} of run ${run.runId} has no polled batch job`);
    // A generator does nothing until asked: the chunk's results are fetched only when merged.
    return { firstLine: chunk.firstLine, answers: chunkAnswers(run, chunk, job, tally, deps) };
  });
  try {
    await mergeInInputOrder(sources, (answer) => output.write(answer.text));
    await output.close();
  } catch (error) {
    await Promise.allSettled([output.abort(), ...sources.map((source) => source.answers.return(undefined))]);
    throw error;
  }
  const summary: CollectSummary = {
    succeededCount: tally.succeeded,
    failedCount: tally.failed,
    missingCount: tally.missing,
    duplicateResultCount: tally.duplicates,
    unknownResultCount: tally.unknown,
    usageByModel: tally.usage,
    collectedAt: (deps.now?.() ?? new Date()).toISOString(),
  };
  await store.putJson(run.bucket, workKeys(run.runId).collected, summary);
  return { succeededCount: tally.succeeded, failedCount: tally.failed };
}

/** One chunk's answers, in input order, and the first input line they can hold. */
interface AnswerSource {
  readonly firstLine: number;
  readonly answers: AsyncGenerator<Answer>;
}

/**
 * Writes the answers of all chunks ordered by input line. Each source is already in that order, so
 * a min-heap of their next answers yields the next line in O(log chunks). A chunk joins the heap
 * only once the output reaches its first line, and the next one is fetched meanwhile: for a file of
 * one kind, whose chunks follow each other, at most two chunks' results are on disk at a time and
 * each download overlaps the merge of the chunk before.
 */
async function mergeInInputOrder(
  sources: readonly AnswerSource[],
  write: (answer: Answer) => Promise<void>,
): Promise<void> {
  const waiting = [...sources].sort((a, b) => a.firstLine - b.firstLine);
  const heads = new Heap<{ readonly answer: Answer; readonly source: AsyncGenerator<Answer> }>(
    (a, b) => a.answer.line - b.answer.line,
  );
  // The next waiting chunk's first answer, asked for early: its download overlaps the current merge.
  let prefetched:
    | { readonly source: AsyncGenerator<Answer>; readonly first: Promise<IteratorResult<Answer>> }
    | undefined;
  const enter = async (source: AsyncGenerator<Answer>, first = source.next()) => {
    const next = await first;
    if (!next.done) heads.push({ answer: next.value, source });
  };
  for (;;) {
    // Let in every chunk that could hold the next line: one starting before the smallest line in the heap.
    while (
      waiting.length > 0 &&
      (waiting[0]?.firstLine ?? 0) < (heads.peek()?.answer.line ?? Number.POSITIVE_INFINITY)
    ) {
      const source = waiting.shift();
      if (!source) continue;
      const early = prefetched?.source === source.answers ? prefetched.first : undefined;
      prefetched = undefined;
      await enter(source.answers, early);
    }
    const upcoming = waiting[0];
    if (upcoming && !prefetched) {
      const first = upcoming.answers.next();
      // Handled when entered; if the merge stops first, its failure must not surface as unhandled.
      first.catch(() => undefined);
      prefetched = { source: upcoming.answers, first };
    }
    const head = heads.pop();
    if (!head) return;
    await write(head.answer);
    await enter(head.source);
  }
}

/** The same pipeline error for every key of a chunk: a job that did not succeed, or never existed. */
async function* failedAnswers(
  run: RunState,
  chunk: ChunkPlan,
  tally: Tally,
  deps: CollectDeps,
  error: PipelineError,
): AsyncGenerator<Answer> {
  const format = FORMATS[chunk.format];
  for await (const [line, key] of expectedKeys(deps.store, run.bucket, chunk)) {
    tally.failed += 1;
    yield { line, text: format.renderError(key, error) };
  }
}

/** The chunk's `[line, key]` pairs, in chunk (= input) order. */
async function* expectedKeys(
  store: ObjectStore,
  bucket: string,
  chunk: ChunkPlan,
): AsyncGenerator<[number, string]> {
  for await (const line of readJsonlLines(await store.read(bucket, chunk.keysKey), {
    maxLineBytes: MAX_RESULT_LINE_BYTES,
  })) {
    if ('text' in line) yield JSON.parse(line.text) as [number, string];
  }
}

async function expectedKeySet(store: ObjectStore, bucket: string, chunk: ChunkPlan): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const [, key] of expectedKeys(store, bucket, chunk)) keys.add(key);
  return keys;
}

/** A result as an object, or undefined when it is not one: one bad line must not lose the rest. */
function parseResult(text: string): Result | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Result)
      : undefined;
  } catch {
    return undefined;
  }
}

async function* chunkAnswers(
  run: RunState,
  chunk: ChunkPlan,
  job: JobStatusRecord,
  tally: Tally,
  deps: CollectDeps,
): AsyncGenerator<Answer> {
  const format = FORMATS[chunk.format];
  const answer = (line: number, key: string, result: Result | undefined, raw?: string): Answer => {
    if (result === undefined) {
      tally.missing += 1;
      tally.failed += 1;
      const message = `Gemini's output for ${job.batchName} has no answer for this key`;
      return { line, text: format.renderError(key, { status: 'NO_RESULT', message }) };
    }
    const { text, succeeded } = format.render(key, result, raw);
    if (succeeded) {
      tally.succeeded += 1;
      addUsage(tally.usage, chunk.model, format.usageOf(result));
    } else {
      tally.failed += 1;
    }
    return { line, text };
  };

  if (job.state !== 'BATCH_STATE_SUCCEEDED') {
    const reason = job.error?.message ? `: ${job.error.message}` : '';
    const message = `batch job ${job.batchName} ended ${job.state}${reason}; this request was not answered`;
    yield* failedAnswers(run, chunk, tally, deps, { status: 'JOB_NOT_SUCCEEDED', message });
    return;
  }
  const expected = expectedKeys(deps.store, run.bucket, chunk);
  // A succeeded job with no responses file was an inline batch: its answers are in the operation.
  if (!job.responsesFile) {
    yield* inlineAnswers(
      await deps.gemini.getInlineResponses(job.batchName),
      chunk,
      expected,
      answer,
      tally,
      deps,
      run,
    );
    return;
  }

  const path = join(deps.tmpDir, `${run.runId}-${chunkId(chunk.index)}-results.jsonl`);
  await deps.gemini.downloadFile(job.responsesFile, path);
  const results = readJsonlLines(createReadStream(path), { maxLineBytes: MAX_RESULT_LINE_BYTES });
  try {
    // Lockstep: Gemini answers in request order, so each result line is normally the next key's.
    for (;;) {
      const next = await expected.next();
      if (next.done) break;
      const [line, key] = next.value;
      const result = await results.next();
      const raw = !result.done && 'text' in result.value ? result.value.text : undefined;
      const parsed = raw === undefined ? undefined : parseResult(raw);
      if (parsed !== undefined && format.keyOf(parsed) === key) {
        yield answer(line, key, parsed, raw);
        continue;
      }
      // Out of step (a gap, a duplicate, an unknown key, reordering): answer the rest by position.
      yield* indexedAnswers(
        path,
        [line, key],
        expected,
        answer,
        tally,
        await expectedKeySet(deps.store, run.bucket, chunk),
        format,
      );
      return;
    }
    // Every key answered: whatever else the file holds is a duplicate or a stranger.
    let known: Set<string> | undefined;
    for await (const extra of results) {
      const parsed = 'text' in extra ? parseResult(extra.text) : undefined;
      const key = parsed && format.keyOf(parsed);
      known ??= await expectedKeySet(deps.store, run.bucket, chunk);
      if (typeof key === 'string' && known.has(key)) tally.duplicates += 1;
      else tally.unknown += 1;
    }
  } finally {
    await results.return(undefined);
    await rm(path, { force: true });
  }
}

/**
 * Answers the remaining keys from a result file that is not in request order: one pass indexes the
 * byte position of each key's first answer (counting duplicates and unknown keys), then each key's
 * answer is read by position. Memory holds one entry per key of this chunk, not the answers.
 */
async function* indexedAnswers(
  path: string,
  first: [number, string],
  rest: AsyncIterator<[number, string]>,
  answer: (line: number, key: string, result: Result | undefined, raw?: string) => Answer,
  tally: Tally,
  known: Set<string>,
  format: ResultFormat,
): AsyncGenerator<Answer> {
  const positions = new Map<string, [offset: number, length: number]>();
  for await (const line of readJsonlLines(createReadStream(path), { maxLineBytes: MAX_RESULT_LINE_BYTES })) {
    const parsed = 'text' in line ? parseResult(line.text) : undefined;
    const key = parsed && format.keyOf(parsed);
    if (typeof key !== 'string' || !known.has(key)) tally.unknown += 1;
    else if (positions.has(key)) tally.duplicates += 1;
    else if ('text' in line) positions.set(key, [line.byteOffset, line.byteLength]);
  }
  // Keys answered in lockstep before the file fell out of step were indexed too; their later
  // repeats were counted as duplicates above, and they are not walked again below.
  const file = await open(path);
  try {
    for (let next: [number, string] | undefined = first; next; ) {
      const [line, key] = next;
      const at = positions.get(key);
      let result: Result | undefined;
      let raw: string | undefined;
      if (at) {
        const bytes = Buffer.alloc(at[1]);
        await file.read(bytes, 0, at[1], at[0]);
        raw = bytes.toString('utf8');
        result = parseResult(raw);
      }
      yield answer(line, key, result, raw);
      const step = await rest.next();
      next = step.done ? undefined : step.value;
    }
  } finally {
    await file.close();
  }
}

/**
 * Answers from an inline batch, whose answers come back in the operation: generate answers carry
 * their key in `metadata`; embedding answers carry none and are matched by position.
 */
async function* inlineAnswers(
  responses: readonly InlineResponse[],
  chunk: ChunkPlan,
  expected: AsyncGenerator<[number, string]>,
  answer: (line: number, key: string, result: Result | undefined) => Answer,
  tally: Tally,
  deps: CollectDeps,
  run: RunState,
): AsyncGenerator<Answer> {
  if (chunk.kind === 'embed') {
    let position = 0;
    for await (const [line, key] of expected) yield answer(line, key, responses[position++]);
    tally.unknown += Math.max(0, responses.length - position);
    return;
  }
  const known = await expectedKeySet(deps.store, run.bucket, chunk);
  const byKey = new Map<string, InlineResponse>();
  for (const response of responses) {
    const key = response.metadata?.key;
    if (typeof key !== 'string' || !known.has(key)) tally.unknown += 1;
    else if (byKey.has(key)) tally.duplicates += 1;
    else byKey.set(key, response);
  }
  for await (const [line, key] of expected) yield answer(line, key, byKey.get(key));
}

function addUsage(usage: Record<string, ModelUsage>, model: string, counts: UsageCounts | undefined): void {
  const entry = usage[model] ?? emptyModelUsage();
  usage[model] = entry;
  entry.requestCount += 1;
  if (!counts) return;
  entry.promptTokens += counts.prompt;
  entry.cachedTokens += counts.cached;
  entry.outputTokens += counts.output;
  entry.thoughtsTokens += counts.thoughts;
  entry.totalTokens += counts.total ?? counts.prompt + counts.output + counts.thoughts;
  if (counts.prompt > LONG_PROMPT_TOKENS) {
    entry.longPromptRequests += 1;
    entry.longPromptTokens += counts.prompt;
    entry.longPromptCachedTokens += counts.cached;
    entry.longPromptOutputTokens += counts.output + counts.thoughts;
  }
}
