import { invalidArgument } from '../api-error.js';
import type { BatchJob, BatchSource } from '../batch-job.js';
import type { BatchStore } from '../batch-store.js';
import type { EmulatorClock } from '../clock.js';
import type { FaultInjector } from '../fault-injector.js';
import {
  API_VERSION_PATTERN,
  type RequestContext,
  type Route,
  readJsonBody,
  sendJson,
  sendPage,
} from '../http.js';
import { isTerminal, type JobView } from '../job-view.js';
import { readField } from '../json-fields.js';
import type { BatchKind } from '../line-codec.js';
import type { ModelCatalogue } from '../model-catalogue.js';
import { refuseUnknownInlineFields } from '../unknown-fields.js';

const TYPE_PREFIX = 'type.googleapis.com/google.ai.generativelanguage.v1main';

export interface BatchesDeps {
  readonly batches: BatchStore;
  readonly clock: EmulatorClock;
  readonly maxRequestBytes: number;
  readonly catalogue: ModelCatalogue;
  /** Listings show finished jobs with the counts they started with (capture of 2026-07-25). */
  readonly staleListStats: boolean;
  /** Inline creates with a field Gemini's schema lacks are refused with 400. */
  readonly refuseUnknownFields: boolean;
  /** For `late-responses-file` faults, which spoil reads of succeeded file jobs. @default - none */
  readonly faults?: FaultInjector;
}

const BATCH_METHODS: Readonly<Record<BatchKind, string>> = {
  generate: 'batchGenerateContent',
  embed: 'asyncBatchEmbedContent',
};

/**
 * What a listing shows of a job: Gemini's listings keep the counts a finished job had when it
 * started (every request pending, capture of 2026-07-25: a SUCCEEDED job still listing
 * `pendingRequestCount`), while `GET batches/{id}` is current.
 */
function listedView(view: JobView, stale: boolean): JobView {
  if (!stale || !isTerminal(view.state)) return view;
  return { ...view, stats: { requests: view.stats.requests, succeeded: 0, failed: 0 } };
}

/** `google.longrunning.Operation` wrapping a batch, the shape every batch endpoint returns. */
export function operationResource(
  job: BatchJob,
  view: JobView,
  clock: EmulatorClock,
  includeInline: boolean,
  /** Leave the output out, as a `late-responses-file` fault does. */
  withholdOutput = false,
) {
  const batchType = job.kind === 'generate' ? 'GenerateContentBatch' : 'EmbedContentBatch';
  const output = withholdOutput ? undefined : outputOf(job, view, includeInline);
  const { requests, succeeded, failed } = view.stats;
  // int64 fields travel as strings and zero values are left out, as proto3 JSON does.
  const batchStats = Object.fromEntries(
    [
      ['requestCount', requests],
      ['successfulRequestCount', succeeded],
      ['failedRequestCount', failed],
      ['pendingRequestCount', requests - succeeded - failed],
    ]
      .filter(([, count]) => count !== 0)
      .map(([name, count]) => [name, String(count)]),
  );
  const metadata = {
    '@type': `${TYPE_PREFIX}.${batchType}`,
    // A job from the OpenAI-compatible layer whose lines name no readable model has none.
    ...(job.model !== '' ? { model: `models/${job.model}` } : {}),
    ...(job.displayName !== undefined ? { displayName: job.displayName } : {}),
    ...(job.source.type === 'file' ? { inputConfig: { fileName: job.source.fileName } } : {}),
    ...(output ? { output } : {}),
    createTime: clock.iso(job.createTimeMs),
    updateTime: clock.iso(view.updateTimeMs),
    ...(view.endTimeMs !== undefined ? { endTime: clock.iso(view.endTimeMs) } : {}),
    batchStats,
    state: view.state,
    name: job.name,
  };
  return {
    name: job.name,
    metadata,
    ...(isTerminal(view.state) ? { done: true } : {}),
    ...(output ? { response: { '@type': `${TYPE_PREFIX}.${batchType}Output`, ...output } } : {}),
    ...(view.error ? { error: view.error } : {}),
  };
}

function outputOf(job: BatchJob, view: JobView, includeInline: boolean) {
  if (view.state !== 'BATCH_STATE_SUCCEEDED' || !job.processing.done) return undefined;
  if (job.outputFile !== undefined) return { responsesFile: job.outputFile };
  if (job.processing.inlineResponses && includeInline) {
    return { inlinedResponses: { inlinedResponses: job.processing.inlineResponses } };
  }
  return undefined;
}

/** `inputConfig` → where the requests are; exactly one of a file name and inline requests. */
function parseSource(batch: unknown): BatchSource {
  const inputConfig = readField(batch, 'inputConfig');
  const fileName = readField(inputConfig, 'fileName');
  const requests = readField(readField(inputConfig, 'requests'), 'requests');
  if ((fileName === undefined) === (requests === undefined)) {
    throw invalidArgument('batch.inputConfig must set exactly one of fileName and requests.requests.');
  }
  if (fileName !== undefined) {
    if (typeof fileName !== 'string' || !/^files\/[a-z0-9-]+$/.test(fileName)) {
      throw invalidArgument(
        `batch.inputConfig.fileName must look like files/<id>, got ${JSON.stringify(fileName)}.`,
      );
    }
    return { type: 'file', fileName };
  }
  if (!Array.isArray(requests)) throw invalidArgument('batch.inputConfig.requests.requests must be a list.');
  return { type: 'inline', requests };
}

/** Routes of the Batch API: create (generate and embeddings), get, list, cancel, delete. */
export function batchRoutes({
  batches,
  clock,
  maxRequestBytes,
  catalogue,
  staleListStats,
  refuseUnknownFields,
  faults,
}: BatchesDeps): Route[] {
  const create = (kind: BatchKind) => async (ctx: RequestContext) => {
    const model = ctx.params[1] ?? '';
    const found = catalogue.forBatch(model, BATCH_METHODS[kind], ctx.params[0] ?? 'v1beta');
    const body = await readJsonBody(ctx.req, maxRequestBytes);
    const batch = readField(body, 'batch');
    if (typeof batch !== 'object' || batch === null)
      throw invalidArgument('The request body must carry a "batch" object.');
    const displayName = readField(batch, 'displayName');
    const source = parseSource(batch);
    if (refuseUnknownFields && source.type === 'inline') refuseUnknownInlineFields(kind, source.requests);
    const job = await batches.create({
      kind,
      model,
      displayName: typeof displayName === 'string' ? displayName : undefined,
      source,
      retired: found.retired,
      ...(found.model?.embeddingUsage ? { embeddingUsage: found.model.embeddingUsage } : {}),
    });
    sendJson(ctx.res, 200, operationResource(job, batches.view(job), clock, true));
  };

  const jobOf = (ctx: RequestContext) => batches.get(`batches/${ctx.params[1]}`);

  return [
    {
      method: 'POST',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/models/([^/:]+):batchGenerateContent$`),
      endpoint: 'batches.create',
      handle: create('generate'),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/models/([^/:]+):asyncBatchEmbedContent$`),
      endpoint: 'batches.createEmbeddings',
      handle: create('embed'),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/batches$`),
      endpoint: 'batches.list',
      handle: (ctx) => {
        sendPage(ctx, {
          field: 'operations',
          items: batches.list(),
          // Like Gemini, listings leave inline responses out: get the batch to read them.
          render: (job) =>
            operationResource(job, listedView(batches.view(job), staleListStats), clock, false),
          defaultSize: 50,
          maxSize: 1000,
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/batches/([a-z0-9-]+)$`),
      endpoint: 'batches.get',
      handle: (ctx) => {
        const job = jobOf(ctx);
        const view = batches.view(job);
        const late =
          view.state === 'BATCH_STATE_SUCCEEDED' &&
          job.source.type === 'file' &&
          (faults?.takeLateResponsesFile(job.displayName ?? '') ?? false);
        sendJson(ctx.res, 200, operationResource(job, view, clock, true, late));
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/batches/([a-z0-9-]+):cancel$`),
      endpoint: 'batches.cancel',
      handle: (ctx) => {
        batches.cancel(jobOf(ctx).name);
        sendJson(ctx.res, 200, {});
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/${API_VERSION_PATTERN}/batches/([a-z0-9-]+)$`),
      endpoint: 'batches.delete',
      handle: async (ctx) => {
        await batches.delete(jobOf(ctx).name);
        sendJson(ctx.res, 200, {});
      },
    },
  ];
}
