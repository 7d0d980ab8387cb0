/**
 * Reading a batch operation over raw REST (the SDK's BatchJob drops batchStats and error, which are
 * what the poller needs): its status for a poll, its inline answers for Collect.
 */
import { GeminiRequestError } from '../../errors.js';
import type { BatchJobStatus, InlineResponse } from '../gemini-batch-api.js';
import type { GeminiRest } from './clients.js';
import { type OperationScan, type ScanAnswers, scanResponse } from './operation-scan.js';
import { isHttpStatus } from './pipeline-errors.js';

/**
 * Google's partial-response `fields` system parameter
 * (https://cloud.google.com/apis/docs/system-parameters) for a poll: state, counts, error and the
 * responses file — never inline answers, which a succeeded inline batch carries twice. Gemini that
 * ignores the mask is still read safely: see `scanOperation`.
 */
const STATUS_FIELDS =
  'name,done,error,metadata(state,displayName,batchStats,output/responsesFile),response/responsesFile';
/** One copy of an inline batch's answers, `metadata.output`, instead of that copy and `response`. */
const INLINE_ANSWER_FIELDS = 'metadata/output';
/** How many bytes the kept copy's answers may hold together (see `MAX_OPERATION_ENVELOPE_BYTES`). */
const MAX_INLINE_ANSWERS_BYTES = 256 * 1024 * 1024;

interface RawOutput {
  readonly responsesFile?: string;
  readonly inlinedResponses?: { readonly inlinedResponses?: readonly InlineResponse[] };
}

/** A batch operation as Gemini's REST API sends it. */
export interface RawOperation {
  readonly name: string;
  readonly metadata?: {
    readonly state?: string;
    readonly displayName?: string;
    readonly batchStats?: Record<string, string | undefined>;
    readonly output?: RawOutput;
  };
  readonly response?: RawOutput;
  readonly error?: { readonly code?: number; readonly message?: string };
}

/** Reads operations, remembering whether Gemini takes a `fields` mask. */
export class OperationReader {
  readonly #rest: GeminiRest;
  /** Set once Gemini answers a `fields` mask with 400: later reads go without one. */
  #fieldsRefused = false;

  constructor(rest: GeminiRest) {
    this.#rest = rest;
  }

  /**
   * With {@link STATUS_FIELDS}: a poll never downloads inline answers; if Gemini ignores the mask,
   * the scan skips them without holding them.
   */
  async status(name: string): Promise<BatchJobStatus> {
    return toBatchJobStatus((await this.#read(name, STATUS_FIELDS)).operation as RawOperation);
  }

  /**
   * One copy of the answers ({@link INLINE_ANSWER_FIELDS}). Gemini that ignores the mask sends both
   * copies: `metadata.output` is kept and `response` only when there is no `metadata.output`. A
   * masked answer holding no copy at all (a Gemini that put the answers only under `response`) is
   * read again without the mask rather than taken for "no answers".
   */
  async inlineAnswers(name: string): Promise<readonly InlineResponse[]> {
    const masked = new AnswerSink(name);
    const read = await this.#read(name, INLINE_ANSWER_FIELDS, masked);
    if (masked.found || !read.masked) return masked.answers();
    const whole = new AnswerSink(name);
    await this.#read(name, undefined, whole);
    return whole.answers();
  }

  /**
   * GETs an operation with a `fields` mask and streams it through `scanOperation`. A 400 to the
   * mask (Gemini refusing the mask itself) makes this and later reads go without it; the scan keeps
   * them small anyway.
   */
  async #read(
    name: string,
    fields: string | undefined,
    answers?: AnswerSink,
  ): Promise<OperationScan & { readonly masked: boolean }> {
    if (fields !== undefined && !this.#fieldsRefused) {
      try {
        const scan = await scanResponse(await this.#rest.fetch(`${name}?${operationQuery(fields)}`), answers);
        return { ...scan, masked: true };
      } catch (error) {
        if (!isHttpStatus(error, 400)) throw error;
        this.#fieldsRefused = true;
      }
    }
    const scan = await scanResponse(await this.#rest.fetch(`${name}?${operationQuery(undefined)}`), answers);
    return { ...scan, masked: false };
  }
}

/** `prettyPrint=false` (the same system parameters): Google indents JSON by default, doubling a float array. */
function operationQuery(fields: string | undefined): string {
  return `${fields !== undefined ? `fields=${encodeURIComponent(fields)}&` : ''}prettyPrint=false`;
}

/**
 * Gathers the inline answers a scan finds, keeping one copy: `metadata` (`metadata.output`) when
 * the operation has it, else `response`. Answers of a copy that is not kept are never parsed.
 */
class AnswerSink implements ScanAnswers {
  #kept: string | undefined;
  #items: InlineResponse[] = [];
  #bytes = 0;
  constructor(private readonly name: string) {}

  get found(): boolean {
    return this.#kept !== undefined;
  }

  start(copy: string): void {
    if (this.#kept === 'metadata') return;
    if (this.#kept === undefined || copy === 'metadata') {
      this.#kept = copy;
      this.#items = [];
      this.#bytes = 0;
    }
  }

  add(copy: string, text: string): void {
    if (copy !== this.#kept) return;
    this.#bytes += text.length;
    if (this.#bytes > MAX_INLINE_ANSWERS_BYTES) {
      throw new GeminiRequestError(
        `the inline answers of ${this.name} pass ${MAX_INLINE_ANSWERS_BYTES} bytes, more than one read may hold; ` +
          'send chunks this large as files (see DEFAULT_INLINE_MAX_ANSWER_BYTES)',
      );
    }
    this.#items.push(JSON.parse(text) as InlineResponse);
  }

  answers(): readonly InlineResponse[] {
    return this.#items;
  }
}

/** int64 counts arrive as strings and zero counts are left out, as proto3 JSON does. */
function count(stats: Record<string, string | undefined> | undefined, field: string): number {
  return Number(stats?.[field] ?? 0);
}

/** The port's view of an operation: REST's state names, counts as numbers, the responses file. */
export function toBatchJobStatus(operation: RawOperation): BatchJobStatus {
  const { metadata, error } = operation;
  const stats = metadata?.batchStats;
  // The SDK reads results from metadata.output; `response` carries the same, and is the fallback.
  const responsesFile = metadata?.output?.responsesFile ?? operation.response?.responsesFile;
  return {
    name: operation.name,
    state: metadata?.state ?? 'BATCH_STATE_UNSPECIFIED',
    ...(metadata?.displayName !== undefined ? { displayName: metadata.displayName } : {}),
    requestCount: count(stats, 'requestCount'),
    successfulCount: count(stats, 'successfulRequestCount'),
    failedCount: count(stats, 'failedRequestCount'),
    ...(error
      ? { error: { ...(error.code !== undefined ? { code: error.code } : {}), message: error.message ?? '' } }
      : {}),
    ...(responsesFile ? { responsesFile } : {}),
  };
}
