import { GeminiRateLimitError, GeminiRequestError, GeminiUnavailableError } from '../errors.js';
import type { JobLedger } from '../run/work-records.js';

/**
 * The most of Gemini's refusal a ledger keeps: Collect repeats it on every key of the chunk (up
 * to 200,000 lines), and Google's field-violation answers can run long. The start names the field.
 */
export const MAX_CREATE_ERROR_CHARS = 2000;

/** Gemini's answers that mean "not now": a quota (429), or Gemini unavailable or unreachable. */
export function isWait(error: unknown): error is GeminiRateLimitError | GeminiUnavailableError {
  return error instanceof GeminiRateLimitError || error instanceof GeminiUnavailableError;
}

/**
 * Gemini's HTTP refusals that no wait can change: 4xx other than 408 (a timeout) and 429 (a quota).
 * A `GeminiRequestError` without a status is the adapter's own verdict, not Gemini's: not one.
 */
export function isFinalRefusal(error: unknown): error is GeminiRequestError & { readonly status: number } {
  if (!(error instanceof GeminiRequestError) || error.status === undefined) return false;
  return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

/** What a chunk's ledger keeps of Gemini's final refusal of its upload or its create. */
export function ledgerRefusal(
  step: 'upload' | 'create',
  error: { readonly status?: number; readonly message: string },
): NonNullable<JobLedger['createError']> {
  const message =
    step === 'upload' ? `the upload of the chunk's requests was refused: ${error.message}` : error.message;
  return {
    code: error.status,
    message:
      message.length > MAX_CREATE_ERROR_CHARS ? `${message.slice(0, MAX_CREATE_ERROR_CHARS)}…` : message,
  };
}
