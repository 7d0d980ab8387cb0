/**
 * The shapes of a result line: how Gemini's own format and OpenAI's name a key, write an answer
 * or an error, and report token usage.
 */
import type { RequestFormat } from '../shared/gemini/gemini-batch-api.js';
import { hasMemberCount, isJsonObject } from '../shared/json.js';

/** A result as Gemini writes it, in a file line or inline; OpenAI-format lines carry `custom_id`. */
export interface BatchResult {
  readonly key?: unknown;
  readonly custom_id?: unknown;
  readonly response?: unknown;
  readonly error?: unknown;
}

/**
 * The error of a result line the pipeline itself writes for a key, alongside the errors Gemini writes:
 * - `JOB_NOT_SUCCEEDED`: the job failed, was cancelled or expired;
 * - `NOT_SUBMITTED`: Gemini still refused the chunk's job (429, 5xx) at the submit deadline;
 * - `CREATE_REFUSED`: Gemini refused to create the chunk's job for good (a 4xx), so the request was not sent;
 * - `NO_RESULT_FILE`: the job succeeded over a file, but Gemini never named its result file;
 * - `NO_RESULT`: Gemini's output has no answer carrying the key.
 */
export interface ResultLineError {
  readonly status: 'JOB_NOT_SUCCEEDED' | 'NOT_SUBMITTED' | 'CREATE_REFUSED' | 'NO_RESULT_FILE' | 'NO_RESULT';
  readonly message: string;
}

/** Token counts of one successful answer. */
export interface UsageCounts {
  readonly prompt: number;
  /** Of `prompt`, the tokens served from a context cache. */
  readonly cached: number;
  readonly output: number;
  readonly thoughts: number;
  /** As Gemini reports it; when absent, the sum of the others. */
  readonly total?: number;
}

/** How one output format names keys and writes answers. */
export interface ResultFormat {
  keyOf(result: BatchResult): unknown;
  /**
   * The output line for a key's result, and whether the request succeeded. `raw` is the result's
   * own line, when it came from a file: a line already in the output shape is passed through.
   */
  render(
    key: string,
    result: BatchResult,
    raw?: string,
  ): { readonly text: string; readonly succeeded: boolean };
  renderError(key: string, error: ResultLineError): string;
  /** Token counts of a successful answer, as Gemini reports them in this format. */
  usageOf(result: BatchResult): UsageCounts | undefined;
}

const count = (value: unknown): number => Number(value ?? 0) || 0;
const countIfGiven = (value: unknown): number | undefined => (value === undefined ? undefined : count(value));

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
      hasMemberCount(result, 2) &&
      // Searching on from the first, not back from the end: V8's lastIndexOf is a naive scan, 5-8 times slower.
      raw.indexOf('"key"', raw.indexOf('"key"') + 1) === -1
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
        total: countIfGiven(metadata.totalTokenCount),
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
    return {
      prompt: count(usage.promptTokens ?? usage.prompt_tokens),
      cached: 0,
      output: count(usage.completionTokens ?? usage.completion_tokens),
      thoughts: 0,
      total: countIfGiven(usage.totalTokens ?? usage.total_tokens),
    };
  },
};

/** The result format of a chunk's requests: its answers come back in the same one. */
export const RESULT_FORMATS: Readonly<Record<RequestFormat, ResultFormat>> = {
  gemini: GEMINI_FORMAT,
  openai: OPENAI_FORMAT,
};

/** A result as an object, or undefined when it is not one: one bad line must not lose the rest. */
export function parseResult(text: string): BatchResult | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? (value as BatchResult) : undefined;
  } catch {
    return undefined;
  }
}
