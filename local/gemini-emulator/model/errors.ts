/**
 * Thrown when a request is malformed in a way the real Gemini API would reject with HTTP 400
 * `INVALID_ARGUMENT`. The message mimics Google's field-path style so that clients and tests see
 * the same kind of diagnostics they would get from the real service.
 */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}
