import { createReadStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Heap } from 'heap-js';
import { RunStateError } from '../shared/errors.js';
import type { GeminiBatchApi, InlineResponse } from '../shared/gemini/gemini-batch-api.js';
import { type JsonlLine, readJsonlLines } from '../shared/jsonl.js';
import { BUFFERED, type ObjectStore } from '../shared/object-store/object-store.js';
import { chunkId, resultKeys, workKeys } from '../shared/run/bucket-layout.js';
import { readLedgers, readPlan, readPollStatus } from '../shared/run/read-work-records.js';
import type { CollectedRun, RunState } from '../shared/run/state-payloads.js';
import type { ChunkPlan, JobLedger, JobStatusRecord, ModelUsage } from '../shared/run/work-records.js';
import {
  type CollectSummary,
  emptyModelUsage,
  LONG_PROMPT_TOKENS,
  sentInline,
} from '../shared/run/work-records.js';

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

/**
 * An error the pipeline itself writes for a key, alongside the errors Gemini writes:
 * - `JOB_NOT_SUCCEEDED`: the job failed, was cancelled or expired;
 * - `NOT_SUBMITTED`: Gemini still refused the chunk's job (429, 5xx) at the submit deadline;
 * - `CREATE_REFUSED`: Gemini refused to create the chunk's job for good (a 4xx), so the request was not sent;
 * - `NO_RESULT_FILE`: the job succeeded over a file, but Gemini never named its result file;
 * - `NO_RESULT`: Gemini's output has no answer carrying the key.
 */
type PipelineError = {
  readonly status: 'JOB_NOT_SUCCEEDED' | 'NOT_SUBMITTED' | 'CREATE_REFUSED' | 'NO_RESULT_FILE' | 'NO_RESULT';
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
    // does not matter in JSON): passing it through saves re-serialising a large response. Only when
    // `"key"` occurs once: a line naming `key` twice parses to its last one, and its text must not
    // go out where a reader taking the first would see another key's answer.
    if (
      raw !== undefined &&
      Object.keys(result).length === 2 &&
      raw.indexOf('"key"') === raw.lastIndexOf('"key"')
    )
      return { text: raw, succeeded };
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
  /** The key was sent again in a newer chunk: this older attempt is read (to keep step) but not written. */
  readonly superseded?: boolean;
}

/** Why an answer Gemini returned was not written under a key. */
export type UnmatchedReason =
  /** It carries no key: an inline answer without the echoed `metadata.key`, a result line without `key`. */
  | 'NO_KEY'
  /** It carries a key this job was never sent. */
  | 'UNKNOWN_KEY'
  /** Its key already had an answer, the same or one read at its request's place: that one was used. */
  | 'DUPLICATE_KEY'
  /** One of several different answers carrying the same key, none of which was used: one may be misfiled. */
  | 'AMBIGUOUS_KEY'
  /** A result line that is not a JSON object. */
  | 'NOT_JSON'
  /** A result line too long to hold or not UTF-8: only an excerpt is kept. */
  | 'UNREADABLE';

/**
 * A line of `unmatched.jsonl`: one answer Gemini returned that did not land in `results.jsonl`,
 * with Gemini's answer as it came, so that nothing Gemini answered (and billed) is lost.
 */
export interface UnmatchedAnswer {
  /** The batch job that returned it, `batches/…`. */
  readonly job: string;
  readonly chunk: number;
  readonly reason: UnmatchedReason;
  /** The key it carried, when it carried a string one. */
  readonly key?: string;
  /** Its position among the job's inline answers, from 0 (inline jobs). */
  readonly index?: number;
  /** Its line in the job's result file, from 1 (file jobs). */
  readonly line?: number;
  /** Gemini's answer: the inline answer or the result line, as an object. */
  readonly answer?: unknown;
  /** What there is of a result line that is no JSON object: its text, or an excerpt if unreadable. */
  readonly text?: string;
}

interface Tally {
  succeeded: number;
  failed: number;
  missing: number;
  duplicates: number;
  unknown: number;
  unmatched: number;
  readonly usage: Record<string, ModelUsage>;
}

/** What one chunk's job returned that no key received, by reason: for its keys' NO_RESULT messages. */
type Unmatched = Record<UnmatchedReason, number>;

/** What a chunk's answers are read with. */
interface ChunkContext {
  readonly run: RunState;
  readonly chunk: ChunkPlan;
  readonly job: JobStatusRecord;
  /** Whether the job went inline, as its ledger says: never guessed from what Gemini names. */
  readonly inline: boolean;
  readonly deps: CollectDeps;
  readonly tally: Tally;
  readonly format: ResultFormat;
  /** Writes an answer to unmatched.jsonl and counts it. */
  readonly keep: (answer: Omit<UnmatchedAnswer, 'job' | 'chunk'>, raw?: string) => Promise<void>;
  readonly unmatched: Unmatched;
  /** Whether a newer chunk sent this line's request again, so that chunk's answer is the one written. */
  readonly superseded: (line: number) => boolean;
}

/**
 * Writes `results.jsonl`: exactly one line for every accepted key, `{"key","response"}` or
 * `{"key","error"}`, in the input file's order, in memory bounded by one chunk's keys, never by
 * the results' size. Beside it, `unmatched.jsonl` keeps every answer Gemini returned that no key
 * received (see {@link UnmatchedAnswer}).
 *
 * How: each chunk's answers are produced in the chunk's own order, which is input order (Prepare
 * writes chunks in input order, with a `[line, key]` file beside each). Gemini writes a job's
 * results in request order, so the result file is normally read in lockstep with the keys; at the
 * first line out of step the chunk switches to an index of byte offsets and reads each answer by
 * position. A k-way merge on line numbers then interleaves the chunks back into input order.
 *
 * An answer is written under a key only when it carries that key — the `key` of a result line, the
 * `metadata.key` Gemini echoes on an inline answer — never by its position, which Gemini has been
 * seen to scramble. The one exception is provable: a job of a single request whose single answer
 * carries no key can only be that request's. Among several requests no position or elimination is
 * safe: the only proof would be that Gemini never answers a request twice, and it has been seen to
 * file one answer under another key. For the same reason a key with several different answers gets
 * none of them, unless the one used was read in step, at its request's place in a result file in
 * request order (see {@link indexedAnswers}); identical repeats are harmless.
 *
 * Keys of a job that did not succeed, and keys left without an answer, get an error line saying
 * so; a key left without one while unkeyed or stray answers exist says where those are kept. So do
 * the keys of a chunk Gemini refused to create a job for (`CREATE_REFUSED`, from its ledger).
 *
 * A request Poll sent again (a retry chunk of a later round, see `planRetries`) is in several
 * chunks: the newest chunk holding its line writes it — its last attempt — and older chunks read
 * their answer for it (to keep step) without writing or counting it ({@link newestChunkByLine}).
 *
 * Whether a job's answers are inline or in a result file is what its ledger says, never whether
 * Gemini named a file: Gemini has reported a file job SUCCEEDED before naming its file. A file
 * job recorded without one is asked about once more; still without one, its keys get a
 * `NO_RESULT_FILE` error, never an empty inline read.
 */
export async function collectResults(run: RunState, deps: CollectDeps): Promise<CollectedRun> {
  const { store } = deps;
  const plan = await readPlan(store, run);
  const pollStatus = await readPollStatus(store, run);
  const jobs = new Map(pollStatus?.jobs.map((job) => [job.chunk, job]));
  const abandoned = new Set(pollStatus?.abandonedChunks);
  const ledgers = new Map<number, JobLedger>(
    (await readLedgers(store, run, plan)).map((ledger) => [ledger.chunk, ledger]),
  );
  const tally: Tally = {
    succeeded: 0,
    failed: 0,
    missing: 0,
    duplicates: 0,
    unknown: 0,
    unmatched: 0,
    usage: {},
  };
  const newest = await newestChunkByLine(store, run.bucket, plan.chunks);
  const supersededIn = (chunk: ChunkPlan) => (line: number) => {
    const holder = newest?.[line] ?? 0;
    return holder !== 0 && holder !== chunk.index + 1;
  };
  const keys = resultKeys(run.key, run.runId, deps.inputPrefix);
  const output = store.openLineWriter(run.bucket, keys.results);
  const unmatchedOutput = store.openLineWriter(run.bucket, keys.unmatched);
  /** A chunk with no job to read: every key gets the same pipeline error. */
  const unanswered = (chunk: ChunkPlan, error: PipelineError): AnswerSource => ({
    firstLine: chunk.firstLine,
    answers: failedAnswers(run, chunk, tally, deps, error, supersededIn(chunk)),
  });
  const sources = plan.chunks.map((chunk) => {
    const job = jobs.get(chunk.index);
    const ledger = ledgers.get(chunk.index);
    if (!job && ledger?.createError) {
      const message = `Gemini refused to create this chunk's batch job, so this request was not sent: ${ledger.createError.message}`;
      return unanswered(chunk, { status: 'CREATE_REFUSED', message });
    }
    if (!job && abandoned.has(chunk.index)) {
      const message = pollStatus?.abandonedReason
        ? `${pollStatus.abandonedReason} before this chunk's batch job was created; this request was not sent`
        : "Gemini did not accept this chunk's batch job before the submit deadline (it kept answering 429 or 5xx); this request was not sent";
      return unanswered(chunk, { status: 'NOT_SUBMITTED', message });
    }
    if (!job) throw new RunStateError(`chunk ${chunk.index} of run ${run.runId} has no polled batch job`);
    if (!ledger) {
      throw new RunStateError(`chunk ${chunk.index} of run ${run.runId} has a batch job but no ledger`);
    }
    const unmatched: Unmatched = {
      NO_KEY: 0,
      UNKNOWN_KEY: 0,
      DUPLICATE_KEY: 0,
      AMBIGUOUS_KEY: 0,
      NOT_JSON: 0,
      UNREADABLE: 0,
    };
    const context: ChunkContext = {
      run,
      chunk,
      job,
      inline: sentInline(ledger),
      deps,
      tally,
      format: FORMATS[chunk.format],
      unmatched,
      superseded: supersededIn(chunk),
      keep: (answer, raw) => {
        unmatched[answer.reason] += 1;
        tally.unmatched += 1;
        return unmatchedOutput.write(unmatchedLine(job.batchName, chunk.index, answer, raw));
      },
    };
    // A generator does nothing until asked: the chunk's results are fetched only when merged.
    return { firstLine: chunk.firstLine, answers: chunkAnswers(context) };
  });
  try {
    await mergeInInputOrder(sources, (answer) => (answer.superseded ? BUFFERED : output.write(answer.text)));
    await output.close();
    await unmatchedOutput.close();
  } catch (error) {
    await Promise.allSettled([
      output.abort(),
      unmatchedOutput.abort(),
      ...sources.map((source) => source.answers.return(undefined)),
    ]);
    throw error;
  }
  const summary: CollectSummary = {
    succeededCount: tally.succeeded,
    failedCount: tally.failed,
    missingCount: tally.missing,
    duplicateResultCount: tally.duplicates,
    unknownResultCount: tally.unknown,
    unmatchedCount: tally.unmatched,
    usageByModel: tally.usage,
    collectedAt: (deps.now?.() ?? new Date()).toISOString(),
  };
  await store.putJson(run.bucket, workKeys(run.runId).collected, summary);
  return { succeededCount: tally.succeeded, failedCount: tally.failed };
}

/** An unmatched.jsonl line; a result line's own text is spliced in rather than serialised again. */
function unmatchedLine(
  job: string,
  chunk: number,
  { answer, ...fields }: Omit<UnmatchedAnswer, 'job' | 'chunk'>,
  raw?: string,
): string {
  const head = JSON.stringify({ job, chunk, ...fields });
  if (raw !== undefined) return `${head.slice(0, -1)},"answer":${raw}}`;
  return answer === undefined ? head : `${head.slice(0, -1)},"answer":${JSON.stringify(answer)}}`;
}

/** Why an answer that carries `key` (or nothing) is no answer to any key of this chunk. */
function strayReason(key: unknown): 'NO_KEY' | 'UNKNOWN_KEY' {
  return key === undefined || key === null || key === '' ? 'NO_KEY' : 'UNKNOWN_KEY';
}

/** The NO_RESULT message of a key Gemini returned no answer for, saying where unmatched answers are. */
function noResultMessage(job: string, unmatched: Unmatched): string {
  const parts = [
    [unmatched.NO_KEY, 'without their key'],
    [unmatched.UNKNOWN_KEY, 'under a key this job was never sent'],
    [unmatched.DUPLICATE_KEY + unmatched.AMBIGUOUS_KEY, 'repeating a key'],
    [unmatched.NOT_JSON + unmatched.UNREADABLE, 'unreadable'],
  ]
    .filter(([count]) => (count as number) > 0)
    .map(([count, what]) => `${count} ${what}`);
  const base = `Gemini's output for job ${job} has no answer carrying this key`;
  if (parts.length === 0) return base;
  const total = Object.values(unmatched).reduce((sum, count) => sum + count, 0);
  return `${base}; it returned ${total} answers that could not be tied to a key (${parts.join(', ')}); they are kept in unmatched.jsonl`;
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
  superseded: (line: number) => boolean,
): AsyncGenerator<Answer> {
  const format = FORMATS[chunk.format];
  for await (const [line, key] of expectedKeys(deps.store, run.bucket, chunk)) {
    if (superseded(line)) {
      yield { line, text: '', superseded: true };
      continue;
    }
    tally.failed += 1;
    yield { line, text: format.renderError(key, error) };
  }
}

/**
 * For each input line whose request was sent again, the newest chunk holding it (its index + 1; 0
 * for a line never sent again): that chunk's answer is the key's last attempt, the one written.
 * Retry chunks are appended to the plan round by round, so the last chunk read holding a line is
 * the newest. Undefined when no chunk was sent again. A typed array, 4 bytes per line up to the
 * highest line sent again: bounded however many keys were retried, and no key strings held.
 */
async function newestChunkByLine(
  store: ObjectStore,
  bucket: string,
  chunks: readonly ChunkPlan[],
): Promise<Uint32Array | undefined> {
  const retries = chunks.filter((chunk) => (chunk.round ?? 0) > 0);
  if (retries.length === 0) return undefined;
  let newest = new Uint32Array(1024);
  for (const chunk of [...retries].sort((a, b) => a.index - b.index)) {
    for await (const [line] of expectedKeys(store, bucket, chunk)) {
      if (line >= newest.length) {
        const grown = new Uint32Array(Math.max(line + 1, newest.length * 2));
        grown.set(newest);
        newest = grown;
      }
      newest[line] = chunk.index + 1;
    }
  }
  return newest;
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

/** An answer found for a key: the result, the key it carries itself, and its line's text if from a file. */
interface Found {
  readonly result: Result;
  readonly carried: unknown;
  readonly raw?: string;
}

/**
 * The output line for a key: its answer, or a NO_RESULT error saying why there is none (`message`,
 * or where the chunk's unmatched answers are). `carried` is the key the answer itself carries:
 * anything else than `key` here is a bug upstream, refused rather than written under the wrong key.
 */
function answerFor(
  context: ChunkContext,
  line: number,
  key: string,
  found: Found | undefined,
  message?: string,
): Answer {
  const { tally, format, job, chunk } = context;
  // Counted, and its usage added, only where it is written: in the newest chunk holding the line.
  if (context.superseded(line)) return { line, text: '', superseded: true };
  if (found === undefined) {
    tally.missing += 1;
    tally.failed += 1;
    const error = {
      status: 'NO_RESULT' as const,
      message: message ?? noResultMessage(job.batchName, context.unmatched),
    };
    return { line, text: format.renderError(key, error) };
  }
  if (found.carried !== key) {
    throw new Error(
      `internal error: an answer carrying ${String(found.carried)} was about to be written for ${key}`,
    );
  }
  const { text, succeeded } = format.render(key, found.result, found.raw);
  if (succeeded) {
    tally.succeeded += 1;
    addUsage(tally.usage, chunk.model, format.usageOf(found.result));
  } else {
    tally.failed += 1;
  }
  return { line, text };
}

/** The NO_RESULT message of a key Gemini gave several different answers. */
function ambiguousMessage(job: string, answers: number): string {
  return `Gemini's output for job ${job} has ${answers} answers carrying this key, not all the same; none was used, they are kept in unmatched.jsonl`;
}

async function* chunkAnswers(context: ChunkContext): AsyncGenerator<Answer> {
  const { run, chunk, job, deps, format } = context;
  if (job.state !== 'BATCH_STATE_SUCCEEDED') {
    const reason = job.error?.message ? `: ${job.error.message}` : '';
    const message = `batch job ${job.batchName} ended ${job.state}${reason}; this request was not answered`;
    yield* failedAnswers(
      run,
      chunk,
      context.tally,
      deps,
      { status: 'JOB_NOT_SUCCEEDED', message },
      context.superseded,
    );
    return;
  }
  if (context.inline) {
    const expected = expectedKeys(deps.store, run.bucket, chunk);
    yield* inlineAnswers(context, await deps.gemini.getInlineResponses(job.batchName), expected);
    return;
  }
  // Poll gave up waiting for Gemini to name the file (or recorded the job before it waited): ask once more.
  const responsesFile = job.responsesFile ?? (await deps.gemini.getBatch(job.batchName)).responsesFile;
  if (!responsesFile) {
    const message = `Gemini reported batch job ${job.batchName} SUCCEEDED but never named its result file, so its answers could not be read; the job is listed in manifest.json`;
    yield* failedAnswers(
      run,
      chunk,
      context.tally,
      deps,
      { status: 'NO_RESULT_FILE', message },
      context.superseded,
    );
    return;
  }

  const expected = expectedKeys(deps.store, run.bucket, chunk);
  const path = join(deps.tmpDir, `${run.runId}-${chunkId(chunk.index)}-results.jsonl`);
  await deps.gemini.downloadFile(responsesFile, path);
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
      const carried = parsed && format.keyOf(parsed);
      if (parsed !== undefined && carried === key) {
        yield answerFor(context, line, key, { result: parsed, carried, raw });
        continue;
      }
      // Out of step (a gap, a duplicate, an unknown key, reordering): answer the rest by position.
      yield* indexedAnswers(context, path, {
        first: [line, key],
        rest: expected,
        known: await expectedKeySet(deps.store, run.bucket, chunk),
        inStepBefore: result.done ? Number.POSITIVE_INFINITY : result.value.lineNumber,
      });
      return;
    }
    // Every key answered, each by the line at its request's place: the rest repeats or strays.
    let known: Set<string> | undefined;
    for await (const extra of results) {
      known ??= await expectedKeySet(deps.store, run.bucket, chunk);
      const found = await classifyLine(context, extra, known);
      if (found) {
        context.tally.duplicates += 1;
        await context.keep({ reason: 'DUPLICATE_KEY', line: found.line, key: found.key }, found.text);
      }
    }
  } finally {
    await results.return(undefined);
    await rm(path, { force: true });
  }
}

/** A result line carrying a key of this chunk. */
interface KeyedLine {
  readonly key: string;
  readonly text: string;
  readonly line: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * A result line carrying one of this chunk's keys, or undefined once a line carrying none (no key,
 * an unknown key, not JSON, unreadable) has been kept in unmatched.jsonl.
 */
async function classifyLine(
  context: ChunkContext,
  line: JsonlLine,
  known: ReadonlySet<string>,
): Promise<KeyedLine | undefined> {
  const { tally, format } = context;
  if (!('text' in line)) {
    tally.unknown += 1;
    await context.keep({ reason: 'UNREADABLE', line: line.lineNumber, text: line.excerpt });
    return undefined;
  }
  const parsed = parseResult(line.text);
  if (parsed === undefined) {
    tally.unknown += 1;
    await context.keep({ reason: 'NOT_JSON', line: line.lineNumber, text: line.text });
    return undefined;
  }
  const key = format.keyOf(parsed);
  if (typeof key !== 'string' || !known.has(key)) {
    tally.unknown += 1;
    await context.keep(
      { reason: strayReason(key), line: line.lineNumber, ...(typeof key === 'string' ? { key } : {}) },
      line.text,
    );
    return undefined;
  }
  return { key, text: line.text, line: line.lineNumber, offset: line.byteOffset, length: line.byteLength };
}

async function readLine(file: FileHandle, at: KeyedLine): Promise<string> {
  const bytes = Buffer.alloc(at.length);
  await file.read(bytes, 0, at.length, at.offset);
  return bytes.toString('utf8');
}

/**
 * Answers the remaining keys from a result file that is not in request order: one pass indexes the
 * byte position of each key's first answer (strangers go to unmatched.jsonl), then each key's
 * answer is read by position. Memory holds one entry per key of this chunk, not the answers.
 *
 * A key answered more than once: a line read in step, at its request's place (before line
 * `inStepBefore`), was already used and its repeats are DUPLICATE_KEY; out of step, where position
 * says nothing, repeats identical to the first are DUPLICATE_KEY and the first is used, but if they
 * differ the key gets none of them (AMBIGUOUS_KEY): one of them may be another key's, misfiled.
 */
async function* indexedAnswers(
  context: ChunkContext,
  path: string,
  keys: {
    readonly first: [number, string];
    readonly rest: AsyncIterator<[number, string]>;
    readonly known: ReadonlySet<string>;
    readonly inStepBefore: number;
  },
): AsyncGenerator<Answer> {
  const { tally, format } = context;
  const positions = new Map<string, KeyedLine>();
  /** Keys with different answers, and how many answers carry each. */
  const ambiguous = new Map<string, number>();
  const file = await open(path);
  try {
    for await (const line of readJsonlLines(createReadStream(path), {
      maxLineBytes: MAX_RESULT_LINE_BYTES,
    })) {
      const found = await classifyLine(context, line, keys.known);
      if (!found) continue;
      const first = positions.get(found.key);
      if (!first) {
        positions.set(found.key, found);
        continue;
      }
      tally.duplicates += 1;
      const seen = ambiguous.get(found.key);
      const differs =
        first.line >= keys.inStepBefore &&
        (seen !== undefined || first.length !== found.length || (await readLine(file, first)) !== found.text);
      if (differs) ambiguous.set(found.key, (seen ?? 1) + 1);
      await context.keep(
        { reason: differs ? 'AMBIGUOUS_KEY' : 'DUPLICATE_KEY', line: found.line, key: found.key },
        found.text,
      );
    }
    // Keys answered in lockstep before the file fell out of step were indexed too; their later
    // repeats went to unmatched above, and they are not walked again below.
    for (let next: [number, string] | undefined = keys.first; next; ) {
      const [line, key] = next;
      const at = positions.get(key);
      const answers = ambiguous.get(key);
      if (at && answers !== undefined) {
        tally.duplicates += 1;
        await context.keep({ reason: 'AMBIGUOUS_KEY', line: at.line, key }, await readLine(file, at));
        yield answerFor(context, line, key, undefined, ambiguousMessage(context.job.batchName, answers));
      } else {
        const raw = at && (await readLine(file, at));
        const result = raw === undefined ? undefined : parseResult(raw);
        yield answerFor(
          context,
          line,
          key,
          result && raw !== undefined ? { result, carried: format.keyOf(result), raw } : undefined,
        );
      }
      const step = await keys.rest.next();
      next = step.done ? undefined : step.value;
    }
  } finally {
    await file.close();
  }
}

/**
 * Answers from an inline batch, whose answers come back in the operation: tied to keys by the
 * `metadata.key` Gemini echoes, and only by it (see {@link collectResults}). Their order means
 * nothing, so a key with several different answers gets none (AMBIGUOUS_KEY); identical repeats
 * are DUPLICATE_KEY.
 */
async function* inlineAnswers(
  context: ChunkContext,
  responses: readonly InlineResponse[],
  expected: AsyncGenerator<[number, string]>,
): AsyncGenerator<Answer> {
  const { tally, chunk, deps, run } = context;
  const known = await expectedKeySet(deps.store, run.bucket, chunk);
  const byKey = new Map<string, number[]>();
  const strays: Omit<UnmatchedAnswer, 'job' | 'chunk' | 'answer'>[] = [];
  const unkeyed: number[] = [];
  for (const [index, response] of responses.entries()) {
    // As Gemini sent it: not necessarily an object.
    const key = typeof response === 'object' && response !== null ? response.metadata?.key : undefined;
    if (typeof key === 'string' && known.has(key)) {
      byKey.set(key, [...(byKey.get(key) ?? []), index]);
    } else if (strayReason(key) === 'NO_KEY') {
      unkeyed.push(index);
    } else {
      tally.unknown += 1;
      strays.push({ reason: 'UNKNOWN_KEY', index, ...(typeof key === 'string' ? { key } : {}) });
    }
  }
  const ambiguous = new Map<string, number>();
  for (const [key, [first, ...repeats]] of byKey) {
    if (repeats.length === 0) continue;
    const text = JSON.stringify(responses[first ?? 0]);
    const same = repeats.every((index) => JSON.stringify(responses[index]) === text);
    tally.duplicates += same ? repeats.length : repeats.length + 1;
    if (!same) ambiguous.set(key, repeats.length + 1);
    for (const index of same ? repeats : [first ?? 0, ...repeats]) {
      strays.push({ reason: same ? 'DUPLICATE_KEY' : 'AMBIGUOUS_KEY', index, key });
    }
  }
  // The one tie without an echo that is provable: a job of one request answered once.
  const [only] = known;
  const eliminated =
    chunk.requestCount === 1 && known.size === 1 && responses.length === 1 && unkeyed.length === 1;
  if (eliminated && only !== undefined) byKey.set(only, [unkeyed.pop() ?? 0]);
  for (const index of unkeyed) {
    tally.unknown += 1;
    strays.push({ reason: 'NO_KEY', index });
  }
  for (const stray of strays.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
    await context.keep({ ...stray, answer: responses[stray.index ?? 0] });
  }
  for await (const [line, key] of expected) {
    const answers = ambiguous.get(key);
    if (answers !== undefined) {
      yield answerFor(context, line, key, undefined, ambiguousMessage(context.job.batchName, answers));
      continue;
    }
    const index = byKey.get(key)?.[0];
    const response = index === undefined ? undefined : responses[index];
    yield answerFor(
      context,
      line,
      key,
      response && { result: response as Result, carried: eliminated ? key : response.metadata?.key },
    );
  }
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
