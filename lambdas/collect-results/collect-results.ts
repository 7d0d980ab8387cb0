import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RunStateError } from '../shared/errors.js';
import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import { readJsonlLines } from '../shared/jsonl.js';
import { chunkId, resultKeys, workKeys } from '../shared/layout.js';
import type { LineWriter, ObjectStore } from '../shared/object-store.js';
import {
  type ChunkPlan,
  type CollectSummary,
  emptyModelUsage,
  type JobStatusRecord,
  type ModelUsage,
} from '../shared/run-records.js';
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
interface PipelineErrorLine {
  readonly key: string;
  readonly error: { readonly status: 'JOB_NOT_SUCCEEDED' | 'NO_RESULT'; readonly message: string };
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
 * `{"key","error"}`. Keys of a job that did not succeed, and keys Gemini returned nothing for, get
 * an error line saying so; result lines for unknown keys or keys already answered are counted and
 * dropped. Token usage is summed per model.
 */
export async function collectResults(run: RunState, deps: CollectDeps): Promise<CollectedRun> {
  const { store } = deps;
  const plan = await readPlan(store, run);
  const jobs = new Map((await readPollStatus(store, run))?.jobs.map((job) => [job.chunk, job]));
  const output = store.openLineWriter(run.bucket, resultKeys(run.key, run.runId, deps.inputPrefix).results);
  const tally: Tally = { succeeded: 0, failed: 0, missing: 0, duplicates: 0, unknown: 0, usage: {} };
  try {
    for (const chunk of plan.chunks) {
      const job = jobs.get(chunk.index);
      if (!job) throw new RunStateError(`chunk ${chunk.index} of run ${run.runId} has no polled batch job`);
      await collectChunk(run, chunk, job, output, tally, deps);
    }
    await output.close();
  } catch (error) {
    await output.abort();
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

async function chunkKeys(store: ObjectStore, bucket: string, chunk: ChunkPlan): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const line of readJsonlLines(await store.read(bucket, chunk.key), {
    maxLineBytes: MAX_RESULT_LINE_BYTES,
  })) {
    if ('text' in line) keys.add((JSON.parse(line.text) as { key: string }).key);
  }
  return keys;
}

async function collectChunk(
  run: RunState,
  chunk: ChunkPlan,
  job: JobStatusRecord,
  output: LineWriter,
  tally: Tally,
  deps: CollectDeps,
): Promise<void> {
  const expected = await chunkKeys(deps.store, run.bucket, chunk);
  const answered = new Set<string>();
  const writeError = async (line: PipelineErrorLine) => {
    tally.failed += 1;
    await output.write(JSON.stringify(line));
  };

  if (job.state !== 'BATCH_STATE_SUCCEEDED' || !job.responsesFile) {
    const reason = job.error?.message ? `: ${job.error.message}` : '';
    const message = `batch job ${job.batchName} ended ${job.state}${reason}; this request was not answered`;
    for (const key of expected) await writeError({ key, error: { status: 'JOB_NOT_SUCCEEDED', message } });
    return;
  }

  const path = join(deps.tmpDir, `${run.runId}-${chunkId(chunk.index)}-results.jsonl`);
  try {
    await deps.gemini.downloadFile(job.responsesFile, path);
    const lines = readJsonlLines(createReadStream(path), { maxLineBytes: MAX_RESULT_LINE_BYTES });
    for await (const line of lines) {
      if (!('text' in line)) {
        tally.unknown += 1;
        continue;
      }
      const result = parseResultLine(line.text);
      const key = typeof result?.key === 'string' ? result.key : undefined;
      if (result === undefined || key === undefined || !expected.has(key)) {
        tally.unknown += 1;
        continue;
      }
      if (answered.has(key)) {
        tally.duplicates += 1; // never written twice
        continue;
      }
      answered.add(key);
      if (result.response !== undefined) {
        tally.succeeded += 1;
        addUsage(tally.usage, chunk.model, result.response);
        await output.write(JSON.stringify({ key, response: result.response }));
      } else {
        tally.failed += 1;
        await output.write(
          JSON.stringify({
            key,
            error: result.error ?? { message: 'Gemini returned neither response nor error' },
          }),
        );
      }
    }
  } finally {
    await rm(path, { force: true });
  }
  for (const key of expected) {
    if (answered.has(key)) continue;
    tally.missing += 1;
    await writeError({
      key,
      error: {
        status: 'NO_RESULT',
        message: `Gemini's output for ${job.batchName} has no line for this key`,
      },
    });
  }
}

interface ResultLine {
  readonly key?: unknown;
  readonly response?: unknown;
  readonly error?: unknown;
}

/** A result line as an object, or undefined when it is not one: one bad line must not lose the rest. */
function parseResultLine(text: string): ResultLine | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as ResultLine)
      : undefined;
  } catch {
    return undefined;
  }
}

function addUsage(usage: Record<string, ModelUsage>, model: string, response: unknown): void {
  const entry = usage[model] ?? emptyModelUsage();
  usage[model] = entry;
  entry.requestCount += 1;
  const body = response as {
    usageMetadata?: Record<string, unknown>;
    tokenCount?: unknown;
  };
  const metadata = body.usageMetadata;
  if (metadata) {
    const prompt = Number(metadata.promptTokenCount ?? 0);
    const output = Number(metadata.candidatesTokenCount ?? 0);
    const thoughts = Number(metadata.thoughtsTokenCount ?? 0);
    entry.promptTokens += prompt;
    entry.outputTokens += output;
    entry.thoughtsTokens += thoughts;
    entry.totalTokens += Number(metadata.totalTokenCount ?? prompt + output + thoughts);
  } else if (body.tokenCount !== undefined) {
    // Embeddings report only their input tokens, as a string.
    const tokens = Number(body.tokenCount);
    entry.promptTokens += tokens;
    entry.totalTokens += tokens;
  }
}
