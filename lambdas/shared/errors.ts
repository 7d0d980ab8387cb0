/**
 * Errors with stable names: Step Functions Retry and Catch match on the `errorType` Lambda reports,
 * which is the thrown error's `name`. The names are literal strings, never derived from class names:
 * a minified bundle renames classes (`GeminiUnavailableError` became `Pf`), and then no retrier
 * matches. Renaming one is a change to the workflow's contract (see infra/constructs/workflow.ts).
 */
export const ERROR_NAMES = {
  emptyInput: 'EmptyInputError',
  inputValidation: 'InputValidationError',
  geminiRateLimit: 'GeminiRateLimitError',
  geminiUnavailable: 'GeminiUnavailableError',
  geminiRequest: 'GeminiRequestError',
  runState: 'RunStateError',
  runBudget: 'RunBudgetError',
} as const;

export type PipelineErrorName = (typeof ERROR_NAMES)[keyof typeof ERROR_NAMES];

/** Base class: each subclass names itself with one of {@link ERROR_NAMES}. */
export abstract class PipelineError extends Error {
  abstract override readonly name: PipelineErrorName;
}

/** The input file holds no line that could be sent: there is nothing to batch. Not retried. */
export class EmptyInputError extends PipelineError {
  override readonly name = ERROR_NAMES.emptyInput;
}

/** The input cannot be used as a whole (too large, unreadable). Not retried. */
export class InputValidationError extends PipelineError {
  override readonly name = ERROR_NAMES.inputValidation;
}

/** Gemini answered 429: a quota (active jobs, enqueued tokens, rate). Retried with long backoff. */
export class GeminiRateLimitError extends PipelineError {
  override readonly name = ERROR_NAMES.geminiRateLimit;
}

/** Gemini answered 5xx or 408, or could not be reached. Retried with backoff. */
export class GeminiUnavailableError extends PipelineError {
  override readonly name = ERROR_NAMES.geminiUnavailable;
}

/** Gemini refused the request itself (4xx other than 408 and 429): retrying cannot help. */
export class GeminiRequestError extends PipelineError {
  override readonly name = ERROR_NAMES.geminiRequest;
  /**
   * The HTTP status of Gemini's refusal, when it was one: absent for refusals the adapter makes
   * itself (an answer too large to hold), which say nothing about what Gemini would accept.
   */
  readonly status?: number;

  constructor(message: string, options?: ErrorOptions & { readonly status?: number }) {
    super(message, options);
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** Run state in S3 is missing or inconsistent with the step asking for it. Not retried. */
export class RunStateError extends PipelineError {
  override readonly name = ERROR_NAMES.runState;
}

/**
 * The run's estimated cost passes its cap (`maxRunCostUsd`, or the upload's `gemini-max-cost-usd`),
 * or a cap is set and a model the run uses has no price to estimate it with. Thrown by Prepare
 * before any job exists. Not retried: the same file prices the same.
 */
export class RunBudgetError extends PipelineError {
  override readonly name = ERROR_NAMES.runBudget;
}

/** Names the workflow retries, by policy. */
export const RETRYABLE_ERRORS = {
  rateLimited: [ERROR_NAMES.geminiRateLimit],
  transient: [ERROR_NAMES.geminiUnavailable],
} as const;
