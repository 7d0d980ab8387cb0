/**
 * The probes: each makes one or two calls the pipeline makes, and records what it saw against the
 * assumptions it bears on. The real `@google/genai` SDK makes every call it can; raw REST makes the
 * ones where the SDK drops or rebuilds what is being checked. None of this goes through the
 * pipeline's adapter: the check is about Google, not about our code.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AssumptionId } from './assumptions.js';
import { type CheckClient, refusalOf } from './client.js';
import type { Findings } from './findings.js';
import {
  describeRefusal,
  judgeAnswersTwice,
  judgeCreated,
  judgeEmbedUsage,
  judgeFields,
  judgeKeys,
  judgeListCounts,
  judgeMisspelledCreate,
  judgeModel,
  judgeRefusal,
  judgeStatesAndStats,
  type RawAnswer,
  type RawOperation,
  restRefusal,
  TERMINAL_STATES,
} from './judges.js';
import { type CheckModels, type KeyedRequest, toJsonl } from './plan.js';

/** What each job of the check is for; `leftover` is one found by its display name at clean-up. */
export type JobRole =
  | 'file-generate'
  | 'file-embed'
  | 'inline-generate'
  | 'inline-embed'
  | 'misspelled'
  | 'cancel'
  | 'leftover';

export type BatchKind = 'generate' | 'embed';

const BATCH_METHOD: Readonly<Record<BatchKind, string>> = {
  generate: 'batchGenerateContent',
  embed: 'asyncBatchEmbedContent',
};

/** A job the check created, and everything its GETs showed. */
export interface TrackedJob {
  readonly name: string;
  readonly role: JobRole;
  readonly kind: BatchKind;
  readonly displayName: string;
  /** Keys the answers should echo; empty when none could be sent. */
  readonly keys: readonly string[];
  /** The latest full `GET batches/{id}`. */
  last: RawOperation | undefined;
  /** Set when a GET failed for good: the job is treated as over. */
  lost: string | undefined;
  readonly states: unknown[];
  readonly stats: Readonly<Record<string, unknown>>[];
  readonly displayNames: unknown[];
}

/** Everything the check made on Gemini, so that all of it is deleted however the check ends. */
export class CreatedResources {
  readonly uploads = new Set<string>();
  readonly outputFiles = new Set<string>();
  readonly jobs = new Map<string, TrackedJob>();

  /** @param prefix starts every display name the check gives, so leftovers can be found by name. */
  constructor(readonly prefix: string) {}

  track(job: Omit<TrackedJob, 'last' | 'lost' | 'states' | 'stats' | 'displayNames'>): TrackedJob {
    const tracked: TrackedJob = {
      ...job,
      last: undefined,
      lost: undefined,
      states: [],
      stats: [],
      displayNames: [],
    };
    this.jobs.set(job.name, tracked);
    return tracked;
  }
}

export interface ProbeContext {
  readonly client: CheckClient;
  readonly findings: Findings;
  readonly created: CreatedResources;
  /** A scratch directory for the JSONL files to upload and the results to download. */
  readonly dir: string;
  readonly log: (line: string) => void;
}

export const stateOf = (job: TrackedJob): string => String(job.last?.metadata?.state ?? 'unknown');
export const hasEnded = (job: TrackedJob): boolean =>
  job.lost !== undefined || TERMINAL_STATES.has(stateOf(job));

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

/** One full `GET batches/{id}` over raw REST (the SDK drops `batchStats`, `done` and `error`). */
export async function readJob(ctx: ProbeContext, job: TrackedJob): Promise<void> {
  const answer = await ctx.client.rest('batches.get', job.name);
  if (answer.status !== 200) {
    if (answer.status === 404 || (answer.status >= 400 && answer.status < 500 && answer.status !== 429)) {
      job.lost = describeRefusal(restRefusal(answer));
    }
    return;
  }
  const operation = answer.body as RawOperation;
  job.last = operation;
  job.states.push(operation.metadata?.state);
  if (operation.metadata?.batchStats) job.stats.push(operation.metadata.batchStats);
  job.displayNames.push(operation.metadata?.displayName);
}

export interface Pacing {
  /** First wait between polls. */
  readonly firstPollMs: number;
  /** Longest wait between polls. */
  readonly maxPollMs: number;
  /** Each wait is this many times the one before, up to `maxPollMs`. */
  readonly factor: number;
  /** First wait after a 429 or a transient failure. */
  readonly retryBaseMs: number;
}

/**
 * GETs every job that has not ended, waiting longer each round, until all have ended or the
 * deadline passes. Returns whether the deadline cut it short.
 */
export async function pollJobs(
  ctx: ProbeContext,
  jobs: readonly TrackedJob[],
  deadline: number,
  pacing: Pacing,
  sleep: (ms: number) => Promise<void>,
): Promise<{ timedOut: boolean }> {
  let wait = pacing.firstPollMs;
  for (;;) {
    for (const job of jobs.filter((j) => !hasEnded(j))) await readJob(ctx, job);
    const open = jobs.filter((j) => !hasEnded(j));
    if (open.length === 0) return { timedOut: false };
    const left = deadline - Date.now();
    if (left <= 0) return { timedOut: true };
    const states = open.map((j) => `${j.role} ${stateOf(j).replace('BATCH_STATE_', '')}`).join(', ');
    ctx.log(`waiting ${(Math.min(wait, left) / 1000).toFixed(1)} s for ${states}`);
    await sleep(Math.min(wait, left));
    wait = Math.min(wait * pacing.factor, pacing.maxPollMs);
  }
}

/** Every state and count the GETs showed, judged once for the row. */
export function judgePolls(ctx: ProbeContext, jobs: readonly TrackedJob[]): void {
  ctx.findings.record(
    'get-state-stats',
    judgeStatesAndStats(
      jobs.flatMap((j) => j.states),
      jobs.flatMap((j) => j.stats),
    ),
  );
}

/**
 * What Poll needs of an inline job, not its answers: in Google's partial-response syntax (`/` and
 * `(…)` select sub-fields), and as the dotted paths the judge compares.
 */
export const FIELDS_MASK = {
  param: 'name,done,metadata(state,batchStats)',
  paths: ['name', 'done', 'metadata.state', 'metadata.batchStats'],
} as const;

/** `GET batches/{id}?fields=…` against the job's full answer. */
export async function probeFields(ctx: ProbeContext, job: TrackedJob): Promise<void> {
  if (!job.last) {
    ctx.findings.notSeen('get-fields', 'no full GET to compare with');
    return;
  }
  const partial = await ctx.client.rest('batches.get (fields)', job.name, {
    query: { fields: FIELDS_MASK.param },
  });
  ctx.findings.record(
    'get-fields',
    judgeFields(FIELDS_MASK.param, FIELDS_MASK.paths, job.last as Record<string, unknown>, partial),
  );
}

/** Why a job's answers could not be looked at, in a few words. */
function unfinished(job: TrackedJob, timedOut: boolean): string {
  if (job.lost) return `${job.role}: ${job.lost}`;
  const state = stateOf(job);
  if (timedOut && !hasEnded(job))
    return `${job.role} still ${state.replace('BATCH_STATE_', '')} at the timeout; cancelled`;
  const reason = job.last?.error?.message;
  return `${job.role} ended ${state}${typeof reason === 'string' ? ` (${reason.slice(0, 60)})` : ''}`;
}

/** A file job's result file: named in `metadata.output`, downloaded with the SDK, and its lines keyed. */
export async function probeFileResults(ctx: ProbeContext, job: TrackedJob, timedOut: boolean): Promise<void> {
  const keyRow: AssumptionId = 'file-lines-keyed';
  if (stateOf(job) !== 'BATCH_STATE_SUCCEEDED') {
    for (const row of ['file-output', keyRow] as const) ctx.findings.notSeen(row, unfinished(job, timedOut));
    if (job.kind === 'embed') ctx.findings.notSeen('embed-usage', unfinished(job, timedOut));
    return;
  }
  const fileName = job.last?.metadata?.output?.responsesFile;
  if (typeof fileName !== 'string' || !fileName.startsWith('files/')) {
    ctx.findings.contradict(
      'file-output',
      `${job.role} succeeded, responsesFile ${JSON.stringify(fileName)}`,
    );
    return;
  }
  ctx.created.outputFiles.add(fileName);
  const downloadPath = join(ctx.dir, `${job.role}-results.jsonl`);
  try {
    await ctx.client.sdk('files.download', true, (ai) => ai.files.download({ file: fileName, downloadPath }));
  } catch (error) {
    const refusal = refusalOf(error);
    ctx.findings.contradict(
      'file-output',
      `${fileName} did not download: ${refusal ? describeRefusal(refusal) : (error as Error).message}`,
    );
    return;
  }
  const lines = parseLines(await readFile(downloadPath, 'utf8'));
  if (lines === undefined) {
    ctx.findings.contradict('file-output', `${fileName} downloaded, but is not JSON lines`);
    return;
  }
  const errors = lines.filter((line) => line.error !== undefined).length;
  ctx.findings.confirm(
    'file-output',
    `${job.role}: ${fileName}, ${lines.length} lines${errors > 0 ? ` (${errors} errors)` : ''}`,
  );
  const verdict = judgeKeys(
    job.keys,
    lines.map((line) => line.key),
    'lines',
  );
  ctx.findings.record(keyRow, { ...verdict, evidence: `${job.role}: ${verdict.evidence}` });
  if (job.kind === 'embed') ctx.findings.record('embed-usage', judgeEmbedUsage(lines, 'file lines'));
}

function parseLines(text: string): RawAnswer[] | undefined {
  try {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as RawAnswer);
  } catch {
    return undefined;
  }
}

/** An inline job's answers, from its last full GET: keyed, and carried twice. */
export function probeInlineResults(ctx: ProbeContext, job: TrackedJob, timedOut: boolean): void {
  const keyRow: AssumptionId = job.kind === 'generate' ? 'inline-generate-keyed' : 'inline-embed-keyed';
  const rows: AssumptionId[] = [
    keyRow,
    'inline-answers-twice',
    ...(job.kind === 'embed' ? (['embed-usage'] as const) : []),
  ];
  if (stateOf(job) !== 'BATCH_STATE_SUCCEEDED' || !job.last) {
    for (const row of rows) ctx.findings.notSeen(row, unfinished(job, timedOut));
    return;
  }
  const answers = job.last.metadata?.output?.inlinedResponses?.inlinedResponses;
  if (!Array.isArray(answers)) {
    for (const row of rows) ctx.findings.notSeen(row, `${job.role} succeeded without inlinedResponses`);
    return;
  }
  if (job.keys.length === 0) ctx.findings.notSeen(keyRow, 'the job was made without keys');
  else
    ctx.findings.record(
      keyRow,
      judgeKeys(
        job.keys,
        answers.map((answer) => answer.metadata?.key),
        'answers',
      ),
    );
  ctx.findings.record('inline-answers-twice', judgeAnswersTwice(job.last, job.role));
  if (job.kind === 'embed') ctx.findings.record('embed-usage', judgeEmbedUsage(answers, 'inline answers'));
}

/**
 * `batches.list` through the SDK, as Submit's recovery does: every job must be found by its display
 * name, and GET must have shown that name too.
 */
export async function probeListByDisplayName(ctx: ProbeContext, jobs: readonly TrackedJob[]): Promise<void> {
  const wrongName = jobs.filter((job) => job.displayNames.some((name) => name !== job.displayName));
  const found = new Map<string, string>();
  await ctx.client.sdk('batches.list', true, async (ai) => {
    let scanned = 0;
    for await (const listed of await ai.batches.list({ config: { pageSize: 100 } })) {
      if (listed.displayName && listed.name) found.set(listed.displayName, listed.name);
      if (jobs.every((job) => found.has(job.displayName)) || ++scanned >= 1000) break;
    }
  });
  const missing = jobs.filter((job) => found.get(job.displayName) !== job.name);
  if (wrongName.length > 0) {
    const job = wrongName[0] as TrackedJob;
    const shown = job.displayNames.find((name) => name !== job.displayName);
    ctx.findings.contradict('display-name-listed', `${job.role} shown as ${JSON.stringify(shown)}`);
  }
  if (missing.length > 0) {
    ctx.findings.contradict(
      'display-name-listed',
      `list did not find ${missing.map((j) => j.role).join(', ')} by name`,
    );
  }
  if (wrongName.length === 0 && missing.length === 0) {
    ctx.findings.confirm('display-name-listed', `${jobs.length} of ${jobs.length} kept and found by name`);
  }
}

/** A raw listing's counts against each finished job's GET. */
export async function probeListCounts(ctx: ProbeContext, jobs: readonly TrackedJob[]): Promise<void> {
  const listed = new Map<string, RawOperation>();
  let pageToken: string | undefined;
  for (let page = 0; page < 10; page++) {
    const answer = await ctx.client.rest('batches.list', 'batches', {
      query: { pageSize: '100', ...(pageToken ? { pageToken } : {}) },
    });
    if (answer.status !== 200) {
      ctx.findings.notSeen('list-counts', `batches.list: ${describeRefusal(restRefusal(answer))}`);
      return;
    }
    const body = answer.body as { operations?: RawOperation[]; nextPageToken?: string };
    for (const operation of body.operations ?? []) listed.set(String(operation.name), operation);
    pageToken = body.nextPageToken || undefined;
    if (!pageToken || jobs.every((job) => listed.has(job.name))) break;
  }
  const finished = jobs.filter((job) => stateOf(job) === 'BATCH_STATE_SUCCEEDED' && job.last);
  if (finished.length === 0) ctx.findings.notSeen('list-counts', 'no job succeeded');
  for (const job of finished) {
    ctx.findings.record(
      'list-counts',
      judgeListCounts(job.role, job.last as RawOperation, listed.get(job.name)),
    );
  }
}
