/**
 * Errors with stable names: Step Functions Retry and Catch match on `name`, so renaming one is a
 * change to the workflow's contract (see infra/constructs/workflow.ts).
 */

/** Base class: sets `name` from the subclass so every error is matchable by its class name. */
export abstract class PipelineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input file holds no line that could be sent: there is nothing to batch. Not retried. */
export class EmptyInputError extends PipelineError {}

/** The input cannot be used as a whole (too large, unreadable). Not retried. */
export class InputValidationError extends PipelineError {}

/** Gemini answered 429: a quota (active jobs, enqueued tokens, rate). Retried with long backoff. */
export class GeminiRateLimitError extends PipelineError {}

/** Gemini answered 5xx or 408, or could not be reached. Retried with backoff. */
export class GeminiUnavailableError extends PipelineError {}

/** Gemini refused the request itself (4xx other than 429): retrying cannot help. */
export class GeminiRequestError extends PipelineError {}

/** Run state in S3 is missing or inconsistent with the step asking for it. Not retried. */
export class RunStateError extends PipelineError {}

/** Names the workflow retries, by policy. */
export const RETRYABLE_ERRORS = {
  rateLimited: [GeminiRateLimitError.name],
  transient: [GeminiUnavailableError.name],
} as const;
