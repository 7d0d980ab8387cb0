import { invalidArgument, notFound } from '../api-error.js';
import type { BatchStore } from '../batch-store.js';
import type { EmulatorClock } from '../clock.js';
import { API_VERSION_PATTERN, type RequestContext, type Route, readJsonBody, sendJson } from '../http.js';
import { isRecord } from '../json-fields.js';
import { openAiBatchObject } from '../openai/batch-object.js';
import { isOpenAiBatchEndpoint, OPENAI_BATCH_ENDPOINTS } from '../openai/lines.js';

const BASE = `^/${API_VERSION_PATTERN}/openai`;
/**
 * A batch id is `batches/<id>`, slash included. The Node SDK percent-encodes the slash
 * (`batches%2Fxyz`), the Python SDK sends it raw; the path is matched after decoding, so both land here.
 */
const BATCH_ID = 'batches/([a-z0-9-]+)';

/** Paths under `/{v}/openai/`: the OpenAI-compatible layer, which authenticates and errs its own way. */
export const OPENAI_PATH = /^\/v\d+[a-z0-9]*\/openai(\/|$)/;

const MAX_METADATA_PAIRS = 16;

export interface OpenAiDeps {
  readonly batches: BatchStore;
  readonly clock: EmulatorClock;
  readonly maxRequestBytes: number;
  readonly cancellingMs: number;
  readonly jobTtlMs: number;
}

function parseMetadata(metadata: unknown): Readonly<Record<string, string>> | null {
  if (metadata === undefined || metadata === null) return null;
  const problem =
    'metadata must be an object of at most 16 string values (keys up to 64 characters, values up to 512).';
  if (!isRecord(metadata)) throw invalidArgument(problem);
  const entries = Object.entries(metadata);
  const valid =
    entries.length <= MAX_METADATA_PAIRS &&
    entries.every(([key, value]) => key.length <= 64 && typeof value === 'string' && value.length <= 512);
  if (!valid) throw invalidArgument(problem);
  return Object.fromEntries(entries) as Record<string, string>;
}

/** `limit` for a listing: 1 to 100, 20 when absent, as OpenAI's API takes it. */
function parseLimit(url: URL): number {
  const raw = url.searchParams.get('limit');
  if (raw === null) return 20;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw invalidArgument(`limit must be an integer from 1 to 100, got '${raw}'.`);
  }
  return limit;
}

/**
 * Gemini's OpenAI-compatible batch routes: create, retrieve, list and cancel. Files are refused:
 * Google documents upload and download through this layer as unsupported.
 */
export function openAiRoutes({
  batches,
  clock,
  maxRequestBytes,
  cancellingMs,
  jobTtlMs,
}: OpenAiDeps): Route[] {
  const render = (name: string) => {
    const job = batches.get(name);
    return openAiBatchObject(job, batches.view(job), { nowMs: clock.now(), cancellingMs, jobTtlMs });
  };
  const jobName = (ctx: RequestContext) => `batches/${ctx.params[1]}`;

  const create = async (ctx: RequestContext) => {
    const body = await readJsonBody(ctx.req, maxRequestBytes);
    if (!isRecord(body)) throw invalidArgument('The request body must be a JSON object.');
    const { input_file_id: inputFileId, endpoint, completion_window: completionWindow } = body;
    if (typeof inputFileId !== 'string' || !/^files\/[a-z0-9-]+$/.test(inputFileId)) {
      throw invalidArgument(
        `input_file_id must name a file uploaded through the native Files API, like files/abc123; got ${JSON.stringify(inputFileId)}.`,
      );
    }
    if (!isOpenAiBatchEndpoint(endpoint)) {
      throw invalidArgument(
        `endpoint must be one of ${OPENAI_BATCH_ENDPOINTS.join(', ')}; got ${JSON.stringify(endpoint)}.`,
      );
    }
    if (completionWindow !== '24h') {
      throw invalidArgument(`completion_window must be "24h"; got ${JSON.stringify(completionWindow)}.`);
    }
    const metadata = parseMetadata(body.metadata);
    const job = await batches.create({
      openai: { endpoint, completionWindow, metadata },
      fileName: inputFileId,
    });
    sendJson(ctx.res, 200, render(job.name));
  };

  const list = (ctx: RequestContext) => {
    const limit = parseLimit(ctx.url);
    const all = batches.list();
    const after = ctx.url.searchParams.get('after');
    let start = 0;
    if (after !== null) {
      const index = all.findIndex((job) => job.name === after);
      if (index < 0) throw invalidArgument(`after: no batch ${after} to list from.`);
      start = index + 1;
    }
    const page = all.slice(start, start + limit).map((job) => render(job.name));
    sendJson(ctx.res, 200, {
      object: 'list',
      data: page,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
      has_more: start + limit < all.length,
    });
  };

  const refuseFiles = () => {
    throw notFound(
      'Files are not supported by the OpenAI-compatible API. Upload with the native Files API ' +
        '(resumable POST /upload/v1beta/files) and pass the file name (files/...) as input_file_id; ' +
        'download results with GET /v1beta/files/{id}:download?alt=media.',
    );
  };

  return [
    {
      method: 'POST',
      pattern: new RegExp(`${BASE}/batches$`),
      endpoint: 'openai.batches.create',
      handle: create,
    },
    { method: 'GET', pattern: new RegExp(`${BASE}/batches$`), endpoint: 'openai.batches.list', handle: list },
    {
      method: 'GET',
      pattern: new RegExp(`${BASE}/batches/${BATCH_ID}$`),
      endpoint: 'openai.batches.retrieve',
      handle: (ctx) => sendJson(ctx.res, 200, render(jobName(ctx))),
    },
    {
      method: 'POST',
      pattern: new RegExp(`${BASE}/batches/${BATCH_ID}/cancel$`),
      endpoint: 'openai.batches.cancel',
      handle: (ctx) => {
        batches.cancel(jobName(ctx));
        sendJson(ctx.res, 200, render(jobName(ctx)));
      },
    },
    ...(['GET', 'POST', 'DELETE'] as const).map((method) => ({
      method,
      pattern: new RegExp(`${BASE}/files(/.*)?$`),
      handle: refuseFiles,
    })),
  ];
}
