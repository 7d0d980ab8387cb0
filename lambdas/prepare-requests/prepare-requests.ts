import { EmptyInputError } from '../shared/errors.js';
import { readJsonlLines } from '../shared/jsonl.js';
import { resultKeys, workKeys } from '../shared/layout.js';
import type { LineWriter, ObjectStore } from '../shared/object-store.js';
import { s3Uri } from '../shared/object-store.js';
import type { ChunkPlan, RunPlan } from '../shared/run-records.js';
import type { PreparedRun, RunInput } from '../shared/run-state.js';
import { type DefaultModels, parseRequestLine } from './parse-request-line.js';

/** Longest line accepted, by default: room for large prompts, bounded so one line cannot exhaust memory. */
export const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024;
/** How much of a rejected line `rejected.jsonl` repeats. */
const EXCERPT_CHARS = 200;

export interface PrepareDeps {
  readonly store: ObjectStore;
  readonly models: DefaultModels;
  readonly inputPrefix: string;
  readonly maxLineBytes?: number;
  readonly now?: () => Date;
}

interface OpenChunk {
  readonly plan: Omit<ChunkPlan, 'requestCount' | 'bytes'>;
  readonly writer: LineWriter;
  requestCount: number;
}

const REASONS = {
  'too-long': (max: number) => `line is longer than the limit of ${max} bytes`,
  'invalid-utf8': () => 'line is not valid UTF-8 text',
} as const;

/**
 * Streams the uploaded file once: validates each line, writes the requests it can send into one
 * chunk per kind and model under `work/<runId>/chunks/`, and every line it cannot send into
 * `rejected.jsonl` with its line number, reason and an excerpt. The first occurrence of a key wins;
 * later lines with the same key are rejected, so no key is ever sent twice.
 */
export async function prepareRequests(run: RunInput, deps: PrepareDeps): Promise<PreparedRun> {
  const { store, models, inputPrefix } = deps;
  const maxLineBytes = deps.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const work = workKeys(run.runId);
  const results = resultKeys(run.key, run.runId, inputPrefix);
  const rejected = store.openLineWriter(run.bucket, results.rejected);
  const chunks = new Map<string, OpenChunk>();
  const firstLineOfKey = new Map<string, number>();
  let lineCount = 0;
  let rejectedCount = 0;

  const rejectLine = (line: number, reason: string, excerpt: string) => {
    rejectedCount += 1;
    return rejected.write(JSON.stringify({ line, reason, excerpt: excerpt.slice(0, EXCERPT_CHARS) }));
  };

  try {
    for await (const line of readJsonlLines(await store.read(run.bucket, run.key), { maxLineBytes })) {
      lineCount += 1;
      if ('problem' in line) {
        await rejectLine(line.lineNumber, REASONS[line.problem](maxLineBytes), line.excerpt);
        continue;
      }
      const parsed = parseRequestLine(line.text, line.lineNumber, models);
      if (!parsed.ok) {
        await rejectLine(line.lineNumber, parsed.reason, line.text);
        continue;
      }
      const firstLine = firstLineOfKey.get(parsed.key);
      if (firstLine !== undefined) {
        await rejectLine(
          line.lineNumber,
          `duplicate key "${parsed.key}": line ${firstLine} already uses it`,
          line.text,
        );
        continue;
      }
      firstLineOfKey.set(parsed.key, line.lineNumber);
      const group = `${parsed.kind}\u0000${parsed.model}`;
      let chunk = chunks.get(group);
      if (!chunk) {
        const index = chunks.size;
        const plan = { index, kind: parsed.kind, model: parsed.model, key: work.chunk(index) };
        chunk = { plan, writer: store.openLineWriter(run.bucket, plan.key), requestCount: 0 };
        chunks.set(group, chunk);
      }
      chunk.requestCount += 1;
      await chunk.writer.write(JSON.stringify({ key: parsed.key, request: parsed.request }));
    }
  } catch (error) {
    await Promise.all([rejected.abort(), ...[...chunks.values()].map((chunk) => chunk.writer.abort())]);
    throw error;
  }

  await rejected.close();
  const chunkPlans: ChunkPlan[] = [];
  for (const chunk of chunks.values()) {
    const { bytes } = await chunk.writer.close();
    chunkPlans.push({ ...chunk.plan, requestCount: chunk.requestCount, bytes });
  }
  const acceptedCount = lineCount - rejectedCount;
  const plan: RunPlan = {
    runId: run.runId,
    bucket: run.bucket,
    inputKey: run.key,
    lineCount,
    acceptedCount,
    rejectedCount,
    chunks: chunkPlans,
    preparedAt: (deps.now?.() ?? new Date()).toISOString(),
  };
  await store.putJson(run.bucket, work.plan, plan);

  if (acceptedCount === 0) {
    const input = s3Uri(run.bucket, run.key);
    throw new EmptyInputError(
      lineCount === 0
        ? `${input} has no requests: the file is empty or holds only blank lines`
        : `none of the ${lineCount} lines of ${input} could be sent; ${s3Uri(run.bucket, results.rejected)} gives each line's reason`,
    );
  }
  return { chunkCount: chunkPlans.length, acceptedCount, rejectedCount };
}
