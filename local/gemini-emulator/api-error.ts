/**
 * Errors in the shape Google's REST front end returns them (`google.rpc.Status` under `error`), so
 * the real `@google/genai` SDK turns them into `ApiError` with the same `status` it would see live.
 */

/** The canonical gRPC status names Google puts in `error.status`, by the HTTP code they travel with. */
const STATUS_BY_HTTP_CODE: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface GoogleErrorBody {
  readonly error: {
    readonly code: number;
    readonly message: string;
    readonly status: string;
    readonly details?: readonly unknown[];
  };
}

/** An error the emulator answers with, as Google would: HTTP status plus a `google.rpc.Status` body. */
export class GoogleApiError extends Error {
  readonly httpStatus: number;
  readonly status: string;
  readonly details: readonly unknown[] | undefined;

  constructor(httpStatus: number, message: string, details?: readonly unknown[], status?: string) {
    super(message);
    this.name = 'GoogleApiError';
    this.httpStatus = httpStatus;
    this.status = status ?? STATUS_BY_HTTP_CODE[httpStatus] ?? 'UNKNOWN';
    this.details = details;
  }

  toBody(): GoogleErrorBody {
    return {
      error: {
        code: this.httpStatus,
        message: this.message,
        status: this.status,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

export const invalidArgument = (message: string): GoogleApiError => new GoogleApiError(400, message);
export const notFound = (message: string): GoogleApiError => new GoogleApiError(404, message);

/**
 * The text of Google's one quota answer. Gemini does not say which quota ran out (tokens, jobs,
 * storage or requests per minute), nor on which endpoint: langchain4j PR #3942 (2026-01-12) captured
 * this very body on `batches.list` and reads as well as on create.
 */
export const QUOTA_EXCEEDED_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. For more ' +
  'information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.';

/**
 * Google's generic 429 `RESOURCE_EXHAUSTED`, with its `google.rpc.Help` link, for every quota or rate
 * refusal the emulator makes. `message` replaces only the text (an http-error fault's own message).
 */
export function quotaExceeded(message: string = QUOTA_EXCEEDED_MESSAGE): GoogleApiError {
  return new GoogleApiError(429, message, [
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [
        {
          description: 'Learn more about Gemini API quotas',
          url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
        },
      ],
    },
  ]);
}

/** What Google answers to a request whose `x-goog-api-key` is not a key it knows. */
export function invalidApiKey(): GoogleApiError {
  const message = 'API key not valid. Please pass a valid API key.';
  return new GoogleApiError(400, message, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
  ]);
}

/** What Google answers to a request that carries no credentials at all. */
export function missingApiKey(): GoogleApiError {
  return new GoogleApiError(
    403,
    "Method doesn't allow unregistered callers (callers without established identity). " +
      'Please use API Key or other form of API consumer identity to call this API.',
  );
}

/** The canonical gRPC codes, with the HTTP status Google's front end maps each one to. */
const GRPC_CODES: Readonly<Record<number, { readonly status: string; readonly httpStatus: number }>> = {
  1: { status: 'CANCELLED', httpStatus: 499 },
  2: { status: 'UNKNOWN', httpStatus: 500 },
  3: { status: 'INVALID_ARGUMENT', httpStatus: 400 },
  4: { status: 'DEADLINE_EXCEEDED', httpStatus: 504 },
  5: { status: 'NOT_FOUND', httpStatus: 404 },
  6: { status: 'ALREADY_EXISTS', httpStatus: 409 },
  7: { status: 'PERMISSION_DENIED', httpStatus: 403 },
  8: { status: 'RESOURCE_EXHAUSTED', httpStatus: 429 },
  9: { status: 'FAILED_PRECONDITION', httpStatus: 400 },
  10: { status: 'ABORTED', httpStatus: 409 },
  11: { status: 'OUT_OF_RANGE', httpStatus: 400 },
  12: { status: 'UNIMPLEMENTED', httpStatus: 501 },
  13: { status: 'INTERNAL', httpStatus: 500 },
  14: { status: 'UNAVAILABLE', httpStatus: 503 },
  15: { status: 'DATA_LOSS', httpStatus: 500 },
  16: { status: 'UNAUTHENTICATED', httpStatus: 401 },
};

/**
 * The HTTP status and status name for an error code that is either a gRPC code (3, 13 …, what
 * line-error faults and the native output carry) or, from 100 up, already an HTTP status.
 */
export function describeErrorCode(code: number): { readonly httpStatus: number; readonly status: string } {
  if (code >= 100 && code <= 599) return { httpStatus: code, status: STATUS_BY_HTTP_CODE[code] ?? 'UNKNOWN' };
  return GRPC_CODES[code] ?? { httpStatus: 500, status: 'UNKNOWN' };
}
