import type { IncomingMessage, ServerResponse } from 'node:http';
import { type GoogleApiError, invalidArgument } from './api-error.js';
import type { Endpoint } from './faults.js';
import { type FieldSelection, selectFields } from './partial-response.js';

/** The API version in a Gemini path (`v1beta`, `v1`, `v1alpha` …), as a capture group: the emulator serves them all. */
export const API_VERSION_PATTERN = '(v\\d+[a-z0-9]*)';

/** Everything a route handler gets about one request. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Capture groups of the route's pattern, URL-decoded. */
  readonly params: readonly string[];
  /** `http://host:port` as the client addressed us; links we hand out must lead back here. */
  readonly baseUrl: string;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly pattern: RegExp;
  /** A further condition on the URL, for routes that share a path. */
  readonly when?: (url: URL) => boolean;
  /** The SDK operation, for fault injection; control routes have none. */
  readonly endpoint?: Endpoint;
  /** Control routes (`/_emulator/...`) need no API key. */
  readonly public?: boolean;
  readonly handle: (ctx: RequestContext) => Promise<void> | void;
}

/** The `fields` selection of each response being answered, set once per request by the server. */
const selections = new WeakMap<ServerResponse, FieldSelection>();

/** Makes every successful JSON answer on `res` a partial response holding only `selection`. */
export function selectResponseFields(res: ServerResponse, selection: FieldSelection): void {
  selections.set(res, selection);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const selection = status < 300 ? selections.get(res) : undefined;
  const text = JSON.stringify(selection ? selectFields(body, selection) : body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: GoogleApiError): void {
  sendJson(res, error.httpStatus, error.toBody());
}

/**
 * Reads a JSON body of at most `limit` bytes. A larger body is refused the way Google refuses it,
 * after reading it out so the client receives the answer instead of a reset.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () => invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);
  if (declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of req as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size <= limit) pieces.push(piece);
  }
  if (size > limit) throw tooLarge();
  const text = Buffer.concat(pieces).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidArgument(`Invalid JSON payload received. ${(error as Error).message}`);
  }
}

/** Google's page tokens are opaque; ours are a base64url offset into the listing. */
function paginate<T>(items: readonly T[], url: URL, defaultSize: number, maxSize: number) {
  const requested = Number(url.searchParams.get('pageSize') ?? defaultSize);
  const pageSize = Number.isInteger(requested) && requested > 0 ? Math.min(requested, maxSize) : defaultSize;
  const token = url.searchParams.get('pageToken');
  const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw invalidArgument(`Invalid page token '${token}'.`);
  const page = items.slice(offset, offset + pageSize);
  const next = offset + pageSize;
  // An empty-string token would make the SDK's pager loop forever: the last page has none at all.
  const nextPageToken = next < items.length ? Buffer.from(String(next)).toString('base64url') : undefined;
  return { page, nextPageToken };
}

/** One page of a Gemini listing: the items under `field`, each as `render` writes it. */
export interface ListingPage<T> {
  readonly field: string;
  readonly items: readonly T[];
  readonly render: (item: T) => unknown;
  /** The page size when the request asks for none. */
  readonly defaultSize: number;
  /** The largest page size honoured; a larger `pageSize` is cut to it. */
  readonly maxSize: number;
}

/** Answers the page of a listing the request's `pageSize` and `pageToken` ask for. */
export function sendPage<T>(ctx: RequestContext, listing: ListingPage<T>): void {
  const { page, nextPageToken } = paginate(listing.items, ctx.url, listing.defaultSize, listing.maxSize);
  sendJson(ctx.res, 200, {
    [listing.field]: page.map(listing.render),
    ...(nextPageToken ? { nextPageToken } : {}),
  });
}
