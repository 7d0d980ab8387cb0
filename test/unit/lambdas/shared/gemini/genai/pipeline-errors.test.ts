import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  GeminiRateLimitError,
  GeminiRequestError,
  GeminiUnavailableError,
  RETRYABLE_ERRORS,
} from '../../../../../../lambdas/shared/errors.js';
import { toPipelineError } from '../../../../../../lambdas/shared/gemini/genai/pipeline-errors.js';

const apiError = (status: number) =>
  new ApiError({
    message: JSON.stringify({ error: { code: status, message: `HTTP ${status} from Gemini` } }),
    status,
  });

describe('toPipelineError', () => {
  it('turns HTTP 429 into GeminiRateLimitError, which the workflow retries with long backoff', () => {
    const original = apiError(429);
    const error = toPipelineError(original, 'create batch job r/chunk-00000');
    expect(error).toBeInstanceOf(GeminiRateLimitError);
    expect(error.name).toBe('GeminiRateLimitError');
    expect(RETRYABLE_ERRORS.rateLimited).toContain(error.name);
    expect(error.message).toBe(
      `Gemini refused to create batch job r/chunk-00000 (HTTP 429): ${original.message}`,
    );
    expect(error.cause).toBe(original);
  });

  it.each([500, 502, 503, 504, 408])('turns HTTP %i into GeminiUnavailableError', (status) => {
    const error = toPipelineError(apiError(status), 'read batch job batches/x');
    expect(error.name).toBe('GeminiUnavailableError');
    expect(RETRYABLE_ERRORS.transient).toContain(error.name);
    expect(error.message).toContain(`(HTTP ${status})`);
  });

  it.each([400, 401, 403, 404])('turns HTTP %i into GeminiRequestError, which is not retried', (status) => {
    const error = toPipelineError(apiError(status), 'upload a request file');
    expect(error).toBeInstanceOf(GeminiRequestError);
    expect(error.name).toBe('GeminiRequestError');
    expect([...RETRYABLE_ERRORS.rateLimited, ...RETRYABLE_ERRORS.transient]).not.toContain(error.name);
  });

  it('turns a network failure (TypeError: fetch failed) into GeminiUnavailableError', () => {
    const original = new TypeError('fetch failed');
    const error = toPipelineError(original, 'list batch jobs');
    expect(error).toBeInstanceOf(GeminiUnavailableError);
    expect(error.message).toBe('could not reach Gemini to list batch jobs: fetch failed');
    expect(error.cause).toBe(original);
  });

  it.each([
    'Failed to upload file: Upload status is not finalized.',
    'All content has been uploaded, but the upload status is not finalized.',
    'Failed to get upload url. Server did not return the x-google-upload-url in the headers',
  ])("turns the SDK's plain Error '%s' into GeminiUnavailableError", (message) => {
    const original = new Error(message);
    const error = toPipelineError(original, 'upload the request file r/chunk-00000');
    expect(error).toBeInstanceOf(GeminiUnavailableError);
    expect(error.cause).toBe(original);
  });

  it('passes other errors through unchanged', () => {
    const original = new RangeError('something else');
    expect(toPipelineError(original, 'x')).toBe(original);
    const already = new GeminiRequestError('no file name');
    expect(toPipelineError(already, 'x')).toBe(already);
  });

  it('wraps a thrown non-error in an Error', () => {
    const error = toPipelineError('just a string', 'x');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('just a string');
  });
});
