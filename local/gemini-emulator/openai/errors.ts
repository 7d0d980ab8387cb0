/**
 * Errors of the OpenAI-compatible layer. Authentication failures answer in OpenAI's own shape
 * (`{error:{message,type,param,code}}`); every other error is Google's `google.rpc.Status` object,
 * by default wrapped in a JSON list as Gemini's compatibility layer has been reported to answer.
 */
import type { ServerResponse } from 'node:http';
import { GoogleApiError } from '../api-error.js';
import { sendJson } from '../http.js';

/** A missing or wrong `Authorization: Bearer` key on the OpenAI-compatible layer: 401 either way. */
export class OpenAiAuthError extends GoogleApiError {
  readonly openAiCode: string | null;

  constructor(message: string, openAiCode: string | null) {
    super(401, message);
    this.openAiCode = openAiCode;
  }

  toOpenAiBody() {
    return {
      error: { message: this.message, type: 'invalid_request_error', param: null, code: this.openAiCode },
    };
  }
}

export function missingBearerKey(): OpenAiAuthError {
  return new OpenAiAuthError(
    'Missing bearer authentication in header: send "Authorization: Bearer <Gemini API key>".',
    null,
  );
}

export function invalidBearerKey(): OpenAiAuthError {
  return new OpenAiAuthError('API key not valid. Please pass a valid API key.', 'invalid_api_key');
}

/** The key from `Authorization: Bearer <key>`, or undefined when there is none. */
export function bearerKey(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Sends an error of the compatibility layer in the shape it uses. */
export function sendOpenAiError(res: ServerResponse, error: GoogleApiError, shape: 'array' | 'object'): void {
  if (error instanceof OpenAiAuthError) {
    sendJson(res, error.httpStatus, error.toOpenAiBody());
    return;
  }
  const body = error.toBody();
  sendJson(res, error.httpStatus, shape === 'array' ? [body] : body);
}
