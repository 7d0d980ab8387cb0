/** How a failure of the SDK or of a raw REST call becomes one of the pipeline's named errors. */
import { ApiError } from '@google/genai';
import { GeminiRateLimitError, GeminiRequestError, GeminiUnavailableError } from '../../errors.js';

/** Failures the JS SDK throws as plain Errors while Gemini has not finished an upload: transient. */
const UNFINISHED_UPLOAD = /upload status is not finalized|did not return the x-goog(?:le)?-upload-url/i;

/**
 * Turns a client failure into the pipeline's named errors, which the state machine retries (429,
 * 5xx, network, an unfinished upload) or does not (any other 4xx).
 */
export function toPipelineError(error: unknown, doing: string): Error {
  if (error instanceof ApiError) {
    const message = `Gemini refused to ${doing} (HTTP ${error.status}): ${error.message}`;
    if (error.status === 429) return new GeminiRateLimitError(message, { cause: error });
    if (error.status === 408 || error.status >= 500)
      return new GeminiUnavailableError(message, { cause: error });
    return new GeminiRequestError(message, { cause: error, status: error.status });
  }
  if (error instanceof TypeError) {
    return new GeminiUnavailableError(`could not reach Gemini to ${doing}: ${error.message}`, {
      cause: error,
    });
  }
  // The SDK's own words for an upload Gemini has not finished (its source: TODO b/401391430).
  if (error instanceof Error && error.constructor === Error && UNFINISHED_UPLOAD.test(error.message)) {
    return new GeminiUnavailableError(`Gemini did not finish the upload to ${doing}: ${error.message}`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs one call of the port, throwing what it throws as {@link toPipelineError} names it. */
export async function attempt<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toPipelineError(error, doing);
  }
}

/** Whether the SDK failed with this HTTP status: the answers some calls take for success. */
export function isHttpStatus(error: unknown, ...statuses: readonly number[]): boolean {
  return error instanceof ApiError && statuses.includes(error.status);
}
