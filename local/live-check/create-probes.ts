/**
 * The probes that make things on Gemini (uploads, jobs, a cancel): each makes one or two calls the
 * pipeline makes, and records what it saw against the assumptions it bears on. The real `@google/genai` SDK makes every call it can; raw REST makes the
 * ones where the SDK drops or rebuilds what is being checked. None of this goes through the
 * pipeline's adapter: the check is about Google, not about our code.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AssumptionId } from './assumptions.js';
import { refusalOf } from './client.js';
import {
  describeRefusal,
  judgeCreated,
  judgeMisspelledCreate,
  judgeModel,
  judgeRefusal,
  type RawOperation,
  restRefusal,
} from './judges.js';
import { type CheckModels, type KeyedRequest, toJsonl } from './plan.js';
import {
  type BatchKind,
  hasEnded,
  type JobRole,
  type ProbeContext,
  stateOf,
  type TrackedJob,
} from './probe-context.js';

const BATCH_METHOD: Readonly<Record<BatchKind, string>> = {
  generate: 'batchGenerateContent',
  embed: 'asyncBatchEmbedContent',
};

/** `GET models/{m}`: the model exists and serves the batch method the check is about to call. */
export async function probeModels(ctx: ProbeContext, models: CheckModels): Promise<void> {
  for (const [kind, model] of [
    ['generate', models.generate],
    ['embed', models.embed],
  ] as const) {
    // Raw REST: the SDK's Model renames supportedGenerationMethods to supportedActions.
    const answer = await ctx.client.rest('models.get', `models/${encodeURIComponent(model)}`);
    ctx.findings.record('models-api', judgeModel(model, BATCH_METHOD[kind], answer));
  }
}

/**
 * Uploads `requests` as a JSONL file declared `mimeType`, and returns its `files/…` name (found by
 * display name when the final answer carries no `file`), or undefined when Google refused it.
 */
export async function probeUpload(
  ctx: ProbeContext,
  upload: { name: string; requests: readonly KeyedRequest[]; mimeType: string; row: AssumptionId },
): Promise<string | undefined> {
  const { findings } = ctx;
  const path = join(ctx.dir, `${upload.name}.jsonl`);
  await writeFile(path, toJsonl(upload.requests));
  const displayName = `${ctx.created.prefix}-${upload.name}`;
  ctx.log(`uploading ${upload.name}.jsonl as ${upload.mimeType}`);
  try {
    const file = await ctx.client.sdk('files.upload', false, (ai) =>
      ai.files.upload({ file: path, config: { mimeType: upload.mimeType, displayName } }),
    );
    findings.confirm(upload.row, `${upload.mimeType} accepted`);
    if (typeof file?.name === 'string' && file.name.startsWith('files/')) {
      ctx.created.uploads.add(file.name);
      findings.confirm('upload-answer-has-file', `${upload.mimeType} upload: file in the final answer`);
      return file.name;
    }
    findings.contradict('upload-answer-has-file', `HTTP 200 without file (${upload.mimeType} upload)`);
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) {
      findings.record(upload.row, judgeRefusal(refusal, upload.mimeType));
      return undefined;
    }
    // The SDK's own complaint when the last chunk's answer is not final: every byte may be stored.
    if (!(error instanceof Error && /not finalized/i.test(error.message))) throw error;
    findings.confirm(upload.row, `${upload.mimeType} accepted`);
    findings.contradict('upload-answer-has-file', `SDK: ${error.message}`);
  }
  const found = await findFileByDisplayName(ctx, displayName);
  if (found) ctx.created.uploads.add(found);
  ctx.log(found ? `found the upload as ${found} by its display name` : 'the upload is not listed either');
  return found;
}

/** Scans `files.list` for a display name: how a client recovers an upload whose answer was lost. */
export async function findFileByDisplayName(
  ctx: ProbeContext,
  displayName: string,
): Promise<string | undefined> {
  return ctx.client.sdk('files.list', true, async (ai) => {
    let scanned = 0;
    for await (const file of await ai.files.list({ config: { pageSize: 100 } })) {
      if (file.displayName === displayName && file.name) return file.name;
      if (++scanned >= 1000) break;
    }
    return undefined;
  });
}

/** `batches.create` / `batches.createEmbeddings` from an uploaded file, through the SDK. */
export async function probeFileCreate(
  ctx: ProbeContext,
  job: { kind: BatchKind; model: string; fileName: string; requests: readonly KeyedRequest[] },
): Promise<TrackedJob | undefined> {
  const role: JobRole = job.kind === 'generate' ? 'file-generate' : 'file-embed';
  const row: AssumptionId = job.kind === 'generate' ? 'create-file-generate' : 'create-file-embed';
  const displayName = `${ctx.created.prefix}-${role}`;
  try {
    const created = await ctx.client.sdk(`batches.create (${role})`, false, (ai) =>
      job.kind === 'generate'
        ? ai.batches.create({ model: job.model, src: job.fileName, config: { displayName } })
        : ai.batches.createEmbeddings({
            model: job.model,
            src: { fileName: job.fileName },
            config: { displayName },
          }),
    );
    const verdict = judgeCreated(
      created.name,
      job.kind === 'generate' ? 'batches.create' : 'createEmbeddings',
    );
    ctx.findings.record(row, verdict);
    if (verdict.verdict !== 'confirmed' || !created.name) return undefined;
    ctx.log(`created ${created.name} (${role})`);
    const tracked = ctx.created.track({
      name: created.name,
      role,
      kind: job.kind,
      displayName,
      keys: job.requests.map((r) => r.key),
    });
    tracked.displayNames.push(created.displayName);
    return tracked;
  } catch (error) {
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    ctx.findings.record(row, judgeRefusal(refusal));
    return undefined;
  }
}

/** The body of an inline create, as the pipeline sends it: users' requests untouched, keys in metadata. */
export function inlineBody(displayName: string, requests: readonly KeyedRequest[], withKeys = true) {
  return {
    batch: {
      displayName,
      inputConfig: {
        requests: {
          requests: requests.map(({ key, request }) =>
            withKeys ? { request, metadata: { key } } : { request },
          ),
        },
      },
    },
  };
}

/**
 * An inline create over raw REST (the SDK rebuilds inline requests from its own types). If Google
 * refuses `metadata` on embedding requests, the job is made without keys so the rows about its
 * answers can still be looked at.
 */
export async function probeInlineCreate(
  ctx: ProbeContext,
  job: { kind: BatchKind; model: string; requests: readonly KeyedRequest[]; role?: JobRole },
): Promise<TrackedJob | undefined> {
  const role = job.role ?? (job.kind === 'generate' ? 'inline-generate' : 'inline-embed');
  const row: AssumptionId | undefined =
    role === 'inline-generate'
      ? 'create-inline-generate'
      : role === 'inline-embed'
        ? 'create-inline-embed'
        : undefined;
  const displayName = `${ctx.created.prefix}-${role}`;
  const path = `models/${encodeURIComponent(job.model)}:${BATCH_METHOD[job.kind]}`;
  let withKeys = true;
  let answer = await ctx.client.rest(`${BATCH_METHOD[job.kind]} (${role})`, path, {
    method: 'POST',
    body: inlineBody(displayName, job.requests),
  });
  if (answer.status === 400 && job.kind === 'embed' && row) {
    ctx.findings.contradict(row, `with metadata.key: ${describeRefusal(restRefusal(answer))}`);
    withKeys = false;
    answer = await ctx.client.rest(`${BATCH_METHOD[job.kind]} (${role}, no keys)`, path, {
      method: 'POST',
      body: inlineBody(displayName, job.requests, false),
    });
  }
  if (answer.status !== 200) {
    if (row) ctx.findings.record(row, judgeRefusal(restRefusal(answer)));
    return undefined;
  }
  const operation = answer.body as RawOperation;
  const verdict = judgeCreated(operation?.name, `${withKeys ? '' : 'without keys, '}REST`);
  if (row) ctx.findings.record(row, verdict);
  if (typeof operation?.name !== 'string' || !operation.name.startsWith('batches/')) return undefined;
  ctx.log(`created ${operation.name} (${role})`);
  const tracked = ctx.created.track({
    name: operation.name,
    role,
    kind: job.kind,
    displayName,
    keys: withKeys ? job.requests.map((r) => r.key) : [],
  });
  tracked.displayNames.push(operation.metadata?.displayName);
  return tracked;
}

/** An inline create with a misspelled field: Google's JSON parser should refuse it outright. */
export async function probeMisspelledCreate(
  ctx: ProbeContext,
  model: string,
  requests: readonly KeyedRequest[],
): Promise<void> {
  const displayName = `${ctx.created.prefix}-misspelled`;
  const answer = await ctx.client.rest(
    'batchGenerateContent (misspelled)',
    `models/${encodeURIComponent(model)}:batchGenerateContent`,
    {
      method: 'POST',
      body: inlineBody(displayName, requests),
    },
  );
  ctx.findings.record('unknown-field-refused', judgeMisspelledCreate(answer));
  const name = (answer.body as RawOperation | undefined)?.name;
  if (answer.status === 200 && typeof name === 'string') {
    // Taken after all: it is not wanted, so it is cancelled now and deleted with the rest.
    ctx.created.track({ name, role: 'misspelled', kind: 'generate', displayName, keys: [] });
    ctx.log(`created ${name} (misspelled; Google took it) and cancelling it`);
    await cancelQuietly(ctx, name);
  }
}

/** Creates a one-request job and cancels it at once; its end state is judged after polling. */
export async function probeCancel(
  ctx: ProbeContext,
  model: string,
  requests: readonly KeyedRequest[],
): Promise<TrackedJob | undefined> {
  const job = await probeInlineCreate(ctx, { kind: 'generate', model, requests, role: 'cancel' });
  if (!job) {
    ctx.findings.notSeen('cancel', 'the job to cancel could not be created');
    return undefined;
  }
  try {
    await ctx.client.sdk('batches.cancel', false, (ai) => ai.batches.cancel({ name: job.name }));
    ctx.log(`cancelled ${job.name}`);
    return job;
  } catch (error) {
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    ctx.findings.record('cancel', judgeRefusal(refusal, 'cancel of a new job'));
    return undefined;
  }
}

/** How the cancelled job ended. */
export function judgeCancelled(ctx: ProbeContext, job: TrackedJob, timedOut: boolean): void {
  const state = stateOf(job);
  if (state === 'BATCH_STATE_CANCELLED') ctx.findings.confirm('cancel', `cancel accepted; ended ${state}`);
  else if (timedOut && !hasEnded(job)) ctx.findings.notSeen('cancel', `still ${state} at the timeout`);
  else ctx.findings.notSeen('cancel', `cancel accepted, but the job ended ${state}`);
}

async function cancelQuietly(ctx: ProbeContext, name: string): Promise<void> {
  try {
    await ctx.client.sdk('batches.cancel', true, (ai) => ai.batches.cancel({ name }));
  } catch (error) {
    // An ended job refuses a cancel (400): all a cancel wants.
    if (!refusalOf(error)) throw error;
  }
}
