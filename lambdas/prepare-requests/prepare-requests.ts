import { EmptyInputError, InputValidationError } from '../shared/errors.js';
import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import {
  type FileEncoding,
  peekStream,
  readJsonlLines,
  SNIFF_BYTES,
  sniffFileEncoding,
} from '../shared/jsonl.js';
import {
  type LineWriter,
  ObjectChangedError,
  type ObjectStore,
  s3Uri,
  type VersionedReads,
} from '../shared/object-store/object-store.js';
import { resultKeys, workKeys } from '../shared/run/bucket-layout.js';
import type { PreparedRun, RunInput } from '../shared/run/state-payloads.js';
import type { ChunkPlan, RunPlan } from '../shared/run/work-records.js';
import { type ChunkLimits, chunkLimitsFor } from './chunk-limits.js';
import { KeyLineIndex } from './key-index.js';
import { ModelCheck, type ModelSource } from './model-check.js';
import { type DefaultModels, parseRequestLine } from './parse-request-line.js';
import { estimateLineTokens } from './token-estimate.js';

/**
 * Object metadata that picks a file's models over the stack's defaults, e.g.
 * `aws s3 cp in.jsonl s3://bucket/inputs/ --metadata gemini-model=gemini-2.5-pro`. A line that names
 * its own model (an embedding request's `model`, an OpenAI body's `model`) still wins.
 */
export const MODEL_METADATA = { generate: 'gemini-model', embed: 'gemini-embed-model' } as const;

function modelsFor(defaults: DefaultModels, metadata: Readonly<Record<string, string>>): DefaultModels {
  const pick = (kind: keyof DefaultModels) => {
    const value = metadata[MODEL_METADATA[kind]];
    if (value === undefined) return defaults[kind];
    const model = value.trim().replace(/^models\//, '');
    if (model === '' || /\s/.test(model)) {
      throw new InputValidationError(
        `object metadata ${MODEL_METADATA[kind]} must be a model name such as ${defaults[kind]}, got '${value}'`,
      );
    }
    return model;
  };
  return { generate: pick('generate'), embed: pick('embed') };
}

/** Longest line accepted, by default: room for large prompts, bounded so one line cannot exhaust memory. */
export const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024;
/** How much of a rejected line `rejected.jsonl` repeats. */
const EXCERPT_CHARS = 200;

export interface PrepareDeps {
  /** Reads the upload as of the event that started the run (`run.versionId`, `run.etag`). */
  readonly store: ObjectStore & VersionedReads;
  /**
   * Asked (Models API, `GET models/{model}`) about each distinct model the file uses, once per
   * invocation, before anything is sent: unknown or not batch-capable models reject their lines.
   */
  readonly gemini: Pick<GeminiBatchApi, 'getModel'>;
  /** The stack's default models (`GENERATE_MODEL`, `EMBED_MODEL`). */
  readonly models: DefaultModels;
  readonly inputPrefix: string;
  readonly maxLineBytes?: number;
  /** Overrides of the per-job limits, for every model. @default DEFAULT_CHUNK_LIMITS and DEFAULT_TOKENS_PER_JOB */
  readonly chunkLimits?: Partial<ChunkLimits>;
  /** Token budgets per job for particular models, over DEFAULT_TOKENS_PER_JOB (`chunkLimits.maxTokens` still wins). */
  readonly tokensPerJob?: Readonly<Record<string, number>>;
  readonly now?: () => Date;
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

/** What to do about a file that is not UTF-8 text at all, by what it is. */
function encodingAdvice(encoding: FileEncoding): string {
  if (encoding.kind === 'compressed') {
    const how = encoding.format === 'gzip' ? ' (gunzip it, or upload it without Content-Encoding: gzip)' : '';
    return `is ${encoding.format}-compressed, not JSONL text: upload the uncompressed file${how} to start a new run`;
  }
  // LE/BE spelled out: iconv reads a BOM-less `UTF-16` as big-endian, and a BOM it keeps is fine.
  const source = `${encoding.format}${encoding.byteOrder === 'little' ? 'LE' : 'BE'}`;
  return `is ${encoding.format} (${encoding.byteOrder}-endian) text, not UTF-8: save it as UTF-8 (for example \`iconv -f ${source} -t UTF-8 in.jsonl > out.jsonl\`) and upload that to start a new run`;
}

/**
 * Opens the upload as of the event that started this run, its metadata from the same version, and
 * checks what kind of file it is before any line is read: the bytes of a later upload are never
 * read under this run, and a compressed or UTF-16 file fails with one reason, not one per line.
 */
async function openUpload(run: RunInput, store: VersionedReads) {
  const input = s3Uri(run.bucket, run.key);
  let snapshot: Awaited<ReturnType<VersionedReads['openVersion']>>;
  try {
    snapshot = await store.openVersion(run.bucket, run.key, {
      ...(run.versionId ? { versionId: run.versionId } : {}),
      ...(run.etag ? { etag: run.etag } : {}),
    });
  } catch (error) {
    if (!(error instanceof ObjectChangedError)) throw error;
    // Reading the new bytes under this run would answer for a file nobody asked about here.
    throw new InputValidationError(
      `${input} was replaced after this run started (the run is for ETag ${error.expectedEtag}${error.foundEtag ? `, the object now has ${error.foundEtag}` : ''}): the run reads only the upload that started it, so it processed nothing; the new upload starts its own run (enable versioning on the bucket to have each run read its own version instead)`,
    );
  }
  const body = await peekStream(snapshot.body, SNIFF_BYTES);
  const encoding = sniffFileEncoding(body.head);
  if (encoding) {
    await body.close();
    throw new InputValidationError(`${input} ${encodingAdvice(encoding)}; nothing was sent to Gemini`);
  }
  return { metadata: snapshot.metadata, body };
}

const REASONS = {
  'too-long': (max: number) => `line is longer than the limit of ${max} bytes`,
  'invalid-utf8': () => 'line is not valid UTF-8 text',
  'too-long-as-sent': (bytes: number, max: number) =>
    `line is ${bytes} bytes as Gemini receives it (with its key and model), over the limit of ${max} bytes`,
} as const;

/**
 * Streams the uploaded file once: validates each line, writes the requests it can send into chunks
 * under `work/<runId>/chunks/` — one group per kind and model, each group cut into chunks that fit
 * one Gemini job (bytes, requests, estimated tokens) — and every line it cannot send into
 * `rejected.jsonl` with its line number, reason and an excerpt. The first occurrence of a key wins;
 * later lines with the same key are rejected, so no key is ever sent twice.
 */
export async function prepareRequests(run: RunInput, deps: PrepareDeps): Promise<PreparedRun> {
  const { store, inputPrefix } = deps;
  const { metadata, body } = await openUpload(run, store);
  let models: DefaultModels;
  try {
    models = modelsFor(deps.models, metadata);
  } catch (error) {
    await body.close();
    throw error;
  }
  const modelCheck = new ModelCheck(deps.gemini, MODEL_METADATA);
  const sourceOf = (kind: keyof DefaultModels, model: string): ModelSource =>
    model !== models[kind] ? 'line' : metadata[MODEL_METADATA[kind]] !== undefined ? 'metadata' : 'stack';
  const maxLineBytes = deps.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const work = workKeys(run.runId);
  const results = resultKeys(run.key, run.runId, inputPrefix);
  const rejected = store.openLineWriter(run.bucket, results.rejected);
  const open = new Map<string, OpenChunk>();
  const closed: ChunkPlan[] = [];
  const allWriters: LineWriter[] = [rejected];
  const firstLineOfKey = new KeyLineIndex();
  // Limits depend only on the model: worked out once per model, not once per line.
  const limitsByModel = new Map<string, ChunkLimits>();
  const limitsFor = (model: string): ChunkLimits => {
    let limits = limitsByModel.get(model);
    if (!limits) {
      limits = chunkLimitsFor(model, deps.chunkLimits, deps.tokensPerJob);
      limitsByModel.set(model, limits);
    }
    return limits;
  };
  let nextChunkIndex = 0;
  let lineCount = 0;
  let rejectedCount = 0;

  const rejectLine = (line: number, reason: string, excerpt: string) => {
    rejectedCount += 1;
    return rejected.write(JSON.stringify({ line, reason, excerpt: excerpt.slice(0, EXCERPT_CHARS) }));
  };
  const close = async (chunk: OpenChunk) => {
    const [{ bytes }] = await Promise.all([chunk.writer.close(), chunk.keysWriter.close()]);
    closed.push({ ...chunk.plan, requestCount: chunk.requestCount, bytes, estimatedTokens: chunk.tokens });
  };

  try {
    for await (const line of readJsonlLines(body.body, { maxLineBytes })) {
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
      let modelProblem = modelCheck.check(
        parsed.kind,
        parsed.format,
        parsed.model,
        sourceOf(parsed.kind, parsed.model),
      );
      // Awaited only for a model's first line: an await per line would cost a microtask each.
      if (typeof modelProblem === 'object') modelProblem = await modelProblem;
      if (modelProblem) {
        await rejectLine(line.lineNumber, modelProblem, line.text);
        continue;
      }
      const group = `${parsed.format}\u0000${parsed.kind}\u0000${parsed.model}`;
      const limits = limitsFor(parsed.model);
      const text = parsed.verbatim ? line.text : JSON.stringify(parsed.line);
      const textBytes = parsed.verbatim ? line.byteLength : Buffer.byteLength(text);
      // The line limit holds for what is sent, too: a bare request gains its key, an OpenAI body
      // its model, so a line just under the limit may come out over it.
      if (textBytes > maxLineBytes) {
        await rejectLine(line.lineNumber, REASONS['too-long-as-sent'](textBytes, maxLineBytes), line.text);
        continue;
      }
      const bytes = textBytes + 1;
      const tokens = estimateLineTokens(text, textBytes, parsed.request);
      if (bytes > limits.maxBytes || tokens > limits.maxTokens) {
        const size =
          bytes > limits.maxBytes
            ? `${bytes} bytes (limit ${limits.maxBytes})`
            : `about ${tokens} input tokens (limit ${limits.maxTokens} for ${parsed.model})`;
        await rejectLine(line.lineNumber, `request is too large for one batch job: ${size}`, line.text);
        continue;
      }
      // Claimed only once the line is known to be sendable: a rejected line does not take its key.
      const firstLine = firstLineOfKey.claim(parsed.key, line.lineNumber);
      if (firstLine !== undefined) {
        await rejectLine(
          line.lineNumber,
          `duplicate key "${parsed.key}": line ${firstLine} already uses it`,
          line.text,
        );
        continue;
      }

      let chunk = open.get(group);
      if (
        chunk &&
        (chunk.requestCount + 1 > chunk.limits.maxRequests ||
          chunk.bytes + bytes > chunk.limits.maxBytes ||
          chunk.tokens + tokens > chunk.limits.maxTokens)
      ) {
        await close(chunk);
        chunk = undefined;
      }
      if (!chunk) {
        const index = nextChunkIndex++;
        const plan = {
          index,
          format: parsed.format,
          kind: parsed.kind,
          model: parsed.model,
          key: work.chunk(index),
          keysKey: work.chunkKeys(index),
          firstLine: line.lineNumber,
        };
        chunk = {
          plan,
          limits,
          writer: store.openLineWriter(run.bucket, plan.key),
          keysWriter: store.openLineWriter(run.bucket, plan.keysKey),
          requestCount: 0,
          bytes: 0,
          tokens: 0,
        };
        allWriters.push(chunk.writer, chunk.keysWriter);
        open.set(group, chunk);
      }
      chunk.requestCount += 1;
      chunk.bytes += bytes;
      chunk.tokens += tokens;
      await chunk.writer.write(text);
      await chunk.keysWriter.write(`[${line.lineNumber},${JSON.stringify(parsed.key)}]`);
    }
    for (const chunk of open.values()) await close(chunk);
  } catch (error) {
    await Promise.allSettled(allWriters.map((writer) => writer.abort()));
    throw error;
  }

  await rejected.close();
  const chunkPlans = closed.sort((a, b) => a.index - b.index);
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
    const reasons = s3Uri(run.bucket, results.rejected);
    if (lineCount === 0) {
      throw new EmptyInputError(`${input} has no requests: the file is empty or holds only blank lines`);
    }
    const byModel = modelCheck.refusedLines;
    if (byModel === 0) {
      throw new EmptyInputError(
        `none of the ${lineCount} lines of ${input} could be sent; ${reasons} gives each line's reason`,
      );
    }
    // Most often a retired default model: say so first, and how to pick another.
    const which =
      byModel === lineCount
        ? 'every line names a model Gemini cannot batch'
        : `${byModel} of them name a model Gemini cannot batch`;
    const choose = `Choose current batch-capable models with ${modelCheck.settingsFor('generate')} for generation, ${modelCheck.settingsFor('embed')} for embeddings`;
    throw new EmptyInputError(
      `none of the ${lineCount} lines of ${input} could be sent: ${which}: ${modelCheck.summary()}. ${choose}; ${reasons} gives each line's reason`,
    );
  }
  return { chunkCount: chunkPlans.length, acceptedCount, rejectedCount };
}
