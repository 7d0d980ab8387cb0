import { EmptyInputError } from '../shared/errors.js';
import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import { readJsonlBatches } from '../shared/jsonl.js';
import {
  BUFFERED,
  type ObjectStore,
  s3Uri,
  type VersionedReads,
} from '../shared/object-store/object-store.js';
import { DEFAULT_BATCH_PRICES } from '../shared/pricing/batch-prices.js';
import type { PriceTable } from '../shared/pricing/pricing.js';
import { resultKeys, workKeys } from '../shared/run/bucket-layout.js';
import type { PreparedRun, RunInput } from '../shared/run/state-payloads.js';
import type { RunPlan } from '../shared/run/work-records.js';
import { type ChunkLimits, chunkLimitsByModel } from './chunk-limits.js';
import { ChunkWriter } from './chunk-writer.js';
import { type FileModels, fileModels, MODEL_METADATA } from './file-models.js';
import { KeyLineIndex } from './key-index.js';
import { ModelCheck } from './model-check.js';
import { openUpload } from './open-upload.js';
import { type DefaultModels, parseRequestLine } from './parse-request-line.js';
import {
  budgetProblem,
  type RunCostCap,
  RunCostTally,
  requestOutputTokens,
  runCostCap,
} from './run-budget.js';
import { estimateLineTokens } from './token-estimate.js';

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
  /** The batch prices the run's estimate uses: the table Finalize prices the run with. @default DEFAULT_BATCH_PRICES */
  readonly prices?: PriceTable;
  /**
   * The most a run may cost at batch prices (USD), estimated before any job exists; the upload's
   * `gemini-max-cost-usd` metadata overrides it. @default - no cap
   */
  readonly maxRunCostUsd?: number;
  readonly now?: () => Date;
}

const REASONS = {
  'too-long': (max: number) => `line is longer than the limit of ${max} bytes`,
  'invalid-utf8': () => 'line is not valid UTF-8 text',
  'too-long-as-sent': (bytes: number, max: number) =>
    `line is ${bytes} bytes as Gemini receives it (with its key and model), over the limit of ${max} bytes`,
} as const;

/**
 * Streams the uploaded file once: validates each line, writes the requests it can send into chunks
 * under `work/<runId>/chunks/` (see `ChunkWriter`) and every line it cannot send into
 * `rejected.jsonl` with its line number, reason and an excerpt. The first occurrence of a key wins;
 * later lines with the same key are rejected, so no key is ever sent twice.
 */
export async function prepareRequests(run: RunInput, deps: PrepareDeps): Promise<PreparedRun> {
  const { store } = deps;
  const { metadata, body } = await openUpload(run, store);
  let file: FileModels;
  let cap: RunCostCap | undefined;
  try {
    file = fileModels(deps.models, metadata);
    cap = runCostCap(deps.maxRunCostUsd, metadata);
  } catch (error) {
    await body.close();
    throw error;
  }
  const { models } = file;
  const modelCheck = new ModelCheck(deps.gemini, MODEL_METADATA);
  const maxLineBytes = deps.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const results = resultKeys(run.key, run.runId, deps.inputPrefix);
  const rejected = store.openLineWriter(run.bucket, results.rejected);
  const chunks = new ChunkWriter({ store, bucket: run.bucket, runId: run.runId });
  const limitsFor = chunkLimitsByModel(deps.chunkLimits, deps.tokensPerJob);
  const firstLineOfKey = new KeyLineIndex();
  const cost = new RunCostTally();
  let lineCount = 0;
  let rejectedCount = 0;

  const rejectLine = (line: number, reason: string, excerpt: string) => {
    rejectedCount += 1;
    return rejected.write(JSON.stringify({ line, reason, excerpt: excerpt.slice(0, EXCERPT_CHARS) }));
  };

  let chunkPlans: RunPlan['chunks'];
  try {
    // A chunk of the stream at a time: the loop below then costs no generator step per line.
    for await (const batch of readJsonlBatches(body.body, { maxLineBytes, withBytes: true })) {
      for (const line of batch) {
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
          file.sourceOf(parsed.kind, parsed.model),
        );
        // Awaited only for a model's first line: an await per line would cost a microtask each.
        if (typeof modelProblem === 'object') modelProblem = await modelProblem;
        if (modelProblem) {
          await rejectLine(line.lineNumber, modelProblem, line.text);
          continue;
        }
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
        const tokens = estimateLineTokens(text, textBytes, parsed.request, parsed.inlineMedia);
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
        const { format, kind, model, key } = parsed;
        cost.add(model, tokens, requestOutputTokens(format, kind, parsed.request));
        const added = chunks.add({
          format,
          kind,
          model,
          key,
          lineNumber: line.lineNumber,
          // Sent as written: the bytes read, not the text encoded again.
          text: parsed.verbatim ? (line.bytes ?? text) : text,
          bytes,
          tokens,
          limits,
        });
        // Awaited only when a writer flushes: an await per line would cost a microtask each.
        if (added !== BUFFERED) await added;
      }
    }
    chunkPlans = await chunks.close();
  } catch (error) {
    await Promise.allSettled([rejected.abort(), chunks.abort()]);
    throw error;
  }

  await rejected.close();
  const acceptedCount = lineCount - rejectedCount;
  const preparedAt = deps.now?.() ?? new Date();
  const estimate = cost.estimate(deps.prices ?? DEFAULT_BATCH_PRICES, preparedAt, cap);
  const plan: RunPlan = {
    runId: run.runId,
    bucket: run.bucket,
    inputKey: run.key,
    lineCount,
    acceptedCount,
    rejectedCount,
    chunks: chunkPlans,
    preparedAt: preparedAt.toISOString(),
    estimate,
  };
  await store.putJson(run.bucket, workKeys(run.runId).plan, plan);
  if (acceptedCount === 0) {
    throw nothingToSend(
      lineCount,
      s3Uri(run.bucket, run.key),
      s3Uri(run.bucket, results.rejected),
      modelCheck,
    );
  }
  // After the plan is written: the Stop, Collect and Finalize that follow answer every accepted key
  // with this reason and put the estimate in the manifest.
  const overBudget = budgetProblem(estimate);
  if (overBudget) throw overBudget;
  return { chunkCount: chunkPlans.length, acceptedCount, rejectedCount };
}

/** The run's error when no line could be sent, leading with the likeliest cause: a retired model. */
function nothingToSend(
  lineCount: number,
  input: string,
  reasons: string,
  modelCheck: ModelCheck,
): EmptyInputError {
  if (lineCount === 0) {
    return new EmptyInputError(`${input} has no requests: the file is empty or holds only blank lines`);
  }
  const byModel = modelCheck.refusedLines;
  if (byModel === 0) {
    return new EmptyInputError(
      `none of the ${lineCount} lines of ${input} could be sent; ${reasons} gives each line's reason`,
    );
  }
  const which =
    byModel === lineCount
      ? 'every line names a model Gemini cannot batch'
      : `${byModel} of them name a model Gemini cannot batch`;
  const choose = `Choose current batch-capable models with ${modelCheck.settingsFor('generate')} for generation, ${modelCheck.settingsFor('embed')} for embeddings`;
  return new EmptyInputError(
    `none of the ${lineCount} lines of ${input} could be sent: ${which}: ${modelCheck.summary()}. ${choose}; ${reasons} gives each line's reason`,
  );
}
