/**
 * Pure verdicts: from what Gemini answered to confirmed / contradicted / not seen, with the evidence
 * in a few words. Kept apart from the calls so each rule can be tested on hand-made answers.
 */
import { googleMessage, isBusyStatus, type Refusal, type RestAnswer } from './client.js';
import { type Observation, shorten } from './findings.js';

/** The parts of Google's batch Operation the check reads, all optional: nothing is taken on trust. */
export interface RawOperation {
  readonly name?: unknown;
  readonly done?: unknown;
  readonly error?: { readonly code?: unknown; readonly message?: unknown };
  readonly metadata?: {
    readonly state?: unknown;
    readonly displayName?: unknown;
    readonly batchStats?: Readonly<Record<string, unknown>>;
    readonly output?: RawOutput;
    readonly [field: string]: unknown;
  };
  readonly response?: RawOutput;
}

export interface RawOutput {
  readonly responsesFile?: unknown;
  readonly inlinedResponses?: { readonly inlinedResponses?: readonly RawAnswer[] };
}

/** An inline answer or a result-file line. */
export interface RawAnswer {
  readonly key?: unknown;
  readonly metadata?: { readonly key?: unknown };
  readonly response?: unknown;
  readonly error?: unknown;
}

export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'BATCH_STATE_SUCCEEDED',
  'BATCH_STATE_FAILED',
  'BATCH_STATE_CANCELLED',
  'BATCH_STATE_EXPIRED',
]);

const confirmed = (evidence: string): Observation => ({ verdict: 'confirmed', evidence });
const contradicted = (evidence: string): Observation => ({ verdict: 'contradicted', evidence });
const notSeen = (evidence: string): Observation => ({ verdict: 'not seen', evidence });

/** `HTTP 400: Unsupported MIME type: jsonl`, short enough for a table cell. */
export function describeRefusal(refusal: { status: number; message: string }): string {
  return `HTTP ${refusal.status}: ${shorten(refusal.message, 90)}`;
}

/**
 * A refusal of a call whose success was assumed. A busy service (408, 429, 5xx, after the retries)
 * says nothing about the assumption, so the row was not seen; any other status contradicts it.
 */
export function judgeRefusal(refusal: { status: number; message: string }, context = ''): Observation {
  const text = `${context ? `${context}: ` : ''}${describeRefusal(refusal)}`;
  return isBusyStatus(refusal.status) ? notSeen(`${text} (busy)`) : contradicted(text);
}

/** A REST answer as a refusal, for answers that are not 2xx. */
export function restRefusal(answer: RestAnswer): Refusal {
  return { status: answer.status, body: answer.body, message: googleMessage(answer.body) ?? answer.text };
}

/** A create's answer: a `batches/…` name is what the pipeline stores. */
export function judgeCreated(name: unknown, how: string): Observation {
  if (typeof name === 'string' && /^batches\/[^/]+$/.test(name)) return confirmed(`${how}: ${name}`);
  return contradicted(`${how} answered name ${JSON.stringify(name) ?? 'undefined'}`);
}

/**
 * Whether each answer echoed its request's key. Extra, missing or repeated keys are contradictions
 * (the pipeline would file a result under the wrong key, or none); order is reported, not judged.
 */
export function judgeKeys(sent: readonly string[], echoed: readonly unknown[], what: string): Observation {
  const keys = echoed.filter((key): key is string => typeof key === 'string');
  const unkeyed = echoed.length - keys.length;
  const strangers = keys.filter((key) => !sent.includes(key));
  const repeated = keys.filter((key, i) => keys.indexOf(key) !== i);
  const missing = sent.filter((key) => !keys.includes(key));
  const problems = [
    unkeyed > 0 ? `${unkeyed} of ${echoed.length} ${what} without a key` : '',
    strangers.length > 0 ? `unknown keys ${strangers.join(', ')}` : '',
    repeated.length > 0 ? `repeated keys ${repeated.join(', ')}` : '',
    missing.length > 0 && unkeyed === 0 ? `no ${what.replace(/s$/, '')} for ${missing.join(', ')}` : '',
  ].filter((problem) => problem !== '');
  if (problems.length > 0) return contradicted(problems.join(', '));
  const order = keys.every((key, i) => key === sent[i]) ? 'in order' : 'reordered';
  return confirmed(`${keys.length} of ${sent.length} ${what} keyed, ${order}`);
}

/** State names and count types seen on every GET of every job. */
export function judgeStatesAndStats(
  states: readonly unknown[],
  stats: readonly Readonly<Record<string, unknown>>[],
): Observation {
  const badStates = states.filter(
    (state) => typeof state !== 'string' || !/^BATCH_STATE_[A-Z_]+$/.test(state),
  );
  const counts = stats.flatMap((s) => Object.entries(s));
  const badCounts = counts.filter(([, value]) => typeof value !== 'string' || !/^\d+$/.test(value));
  const seen = [...new Set(states.map(String))].map((state) => state.replace('BATCH_STATE_', '')).join(', ');
  if (badStates.length > 0 || badCounts.length > 0) {
    const problems = [
      badStates.length > 0 ? `state ${JSON.stringify(badStates[0])}` : '',
      badCounts.length > 0 ? `${badCounts[0]?.[0]} = ${JSON.stringify(badCounts[0]?.[1])}` : '',
    ];
    return contradicted(problems.filter(Boolean).join(', '));
  }
  if (states.length === 0) return notSeen('no GET answered');
  if (counts.length === 0) return notSeen(`states ${seen}, but no batchStats in any answer`);
  const [name, value] = counts[0] ?? [];
  return confirmed(`states ${seen}; counts as strings (${name}: "${value}")`);
}

/**
 * A partial response (`fields=`) against the full one: confirmed when every field asked for that the
 * full answer has came back, and nothing else did. Protobuf JSON keeps `@type` on `Any` fields such
 * as `metadata`, so that one is allowed through.
 *
 * @param mask the mask as sent, in Google's syntax (`name,metadata(state,batchStats)`)
 * @param paths the same fields as dotted paths (`metadata.state`)
 */
export function judgeFields(
  mask: string,
  paths: readonly string[],
  full: Readonly<Record<string, unknown>>,
  partial: RestAnswer,
): Observation {
  if (partial.status !== 200) return contradicted(`fields=${mask}: ${describeRefusal(restRefusal(partial))}`);
  const covers = (path: string) => paths.some((m) => path === m || path.startsWith(`${m}.`));
  const received = leafPaths(partial.body).filter((path) => !path.endsWith('@type'));
  const available = leafPaths(full).filter((path) => !path.endsWith('@type'));
  const extra = received.filter((path) => !covers(path));
  const missing = paths.filter(
    (m) =>
      available.some((path) => path === m || path.startsWith(`${m}.`)) &&
      !received.some((path) => path === m || path.startsWith(`${m}.`)),
  );
  const problems = [
    extra.length > 0 ? `still sent ${topPaths(extra).join(', ')}` : '',
    missing.length > 0 ? `left out ${missing.join(', ')}, which was asked for` : '',
  ].filter(Boolean);
  if (problems.length > 0) return contradicted(`fields=${mask}: ${problems.join('; ')}`);
  const droppable = available.filter((path) => !covers(path));
  if (droppable.length === 0) return notSeen('the full answer had no other fields to leave out');
  return confirmed(`fields=${mask}: only those came back; ${topPaths(droppable).join(', ')} … left out`);
}

/** `a.b.c` for every leaf of a JSON object (arrays count as leaves: masks do not index into them). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return prefix ? [prefix] : [];
  const entries = Object.entries(value);
  if (entries.length === 0) return prefix ? [prefix] : [];
  return entries.flatMap(([key, child]) => leafPaths(child, prefix ? `${prefix}.${key}` : key));
}

/** The first two levels of each path, deduplicated: `metadata.batchStats`, `response`. */
function topPaths(paths: readonly string[]): string[] {
  return [...new Set(paths.map((path) => path.split('.').slice(0, 2).join('.')))].slice(0, 4);
}

/** Google's quota answer: HTTP 429 with `error.code` 429 and `error.status` `RESOURCE_EXHAUSTED`. */
export function judgeQuota(refusal: Refusal, call: string): Observation {
  const error = (
    refusal.body as { error?: { code?: unknown; status?: unknown; details?: unknown } } | undefined
  )?.error;
  const types = Array.isArray(error?.details)
    ? error.details.map((d) => String((d as { '@type'?: unknown })['@type'] ?? '?').replace(/^.*\//, ''))
    : [];
  const detail = types.length > 0 ? `, details ${[...new Set(types)].join(', ')}` : '';
  if (error?.code === 429 && error.status === 'RESOURCE_EXHAUSTED') {
    return confirmed(`on ${call}: 429 RESOURCE_EXHAUSTED${detail}`);
  }
  const body = error === undefined ? shorten(JSON.stringify(refusal.body) ?? refusal.message, 60) : '';
  return contradicted(
    `on ${call}: 429 with code ${JSON.stringify(error?.code)}, status ${JSON.stringify(error?.status)}${detail}${body ? `, body ${body}` : ''}`,
  );
}

/** How an embedding answer reports its tokens. */
export function embedUsageOf(response: unknown): 'usageMetadata' | 'tokenCount' | undefined {
  const r = response as { usageMetadata?: { promptTokenCount?: unknown }; tokenCount?: unknown } | undefined;
  if (typeof r?.usageMetadata?.promptTokenCount === 'number') return 'usageMetadata';
  if (r?.tokenCount !== undefined && /^\d+$/.test(String(r.tokenCount))) return 'tokenCount';
  return undefined;
}

/** Every successful embedding answer must say how many tokens it cost, one way or the other. */
export function judgeEmbedUsage(answers: readonly RawAnswer[], where: string): Observation {
  const answered = answers.filter((answer) => answer.response !== undefined);
  if (answered.length === 0) return notSeen(`${where}: no embedding answered`);
  const kinds = answered.map((answer) => embedUsageOf(answer.response));
  const without = kinds.filter((kind) => kind === undefined).length;
  if (without > 0)
    return contradicted(`${where}: ${without} of ${answered.length} answers without token usage`);
  return confirmed(`${where}: ${[...new Set(kinds)].join(' and ')}`);
}

/** The inline answers of an Operation, in `metadata.output` and (as reported) again in `response`. */
export function judgeAnswersTwice(operation: RawOperation, where: string): Observation {
  const inMetadata = operation.metadata?.output?.inlinedResponses?.inlinedResponses;
  const inResponse = operation.response?.inlinedResponses?.inlinedResponses;
  if (!Array.isArray(inMetadata)) return notSeen(`${where}: no answers in metadata.output`);
  if (!Array.isArray(inResponse)) {
    return contradicted(`${where}: ${inMetadata.length} answers in metadata.output only`);
  }
  const same = JSON.stringify(inMetadata) === JSON.stringify(inResponse) ? 'identical' : 'different';
  return confirmed(
    `${where}: ${inMetadata.length} in metadata.output, ${inResponse.length} in response (${same})`,
  );
}

/** int64 counts of a `batchStats`, with proto3's omitted zeros read as 0. */
export function countsOf(stats: Readonly<Record<string, unknown>> | undefined) {
  const read = (field: string) => Number(stats?.[field] ?? 0);
  return {
    requests: read('requestCount'),
    succeeded: read('successfulRequestCount'),
    failed: read('failedRequestCount'),
    pending: read('pendingRequestCount'),
  };
}

const describeCounts = (c: ReturnType<typeof countsOf>) =>
  `${c.succeeded}+${c.failed} of ${c.requests}${c.pending > 0 ? `, ${c.pending} pending` : ''}`;

/**
 * A finished job's counts from GET must add up (the pipeline trusts them); the listing's may lag,
 * which is evidence, not a contradiction: the pipeline never reads counts from a listing.
 */
export function judgeListCounts(
  name: string,
  fromGet: RawOperation,
  fromList: RawOperation | undefined,
): Observation {
  const got = countsOf(fromGet.metadata?.batchStats);
  if (got.requests === 0) return notSeen(`${name}: GET shows no requestCount`);
  if (got.succeeded + got.failed !== got.requests || got.pending > 0) {
    return contradicted(`${name} ${String(fromGet.metadata?.state)}: GET counts ${describeCounts(got)}`);
  }
  if (fromList === undefined) return confirmed(`GET ${describeCounts(got)}; job not in the listing`);
  const listed = countsOf(fromList.metadata?.batchStats);
  const same = JSON.stringify(listed) === JSON.stringify(got);
  return confirmed(
    `GET ${describeCounts(got)}; list ${same ? 'the same' : `stale (${describeCounts(listed)})`}`,
  );
}

/** A model resource must list the batch method the check is about to call on it. */
export function judgeModel(model: string, method: string, answer: RestAnswer): Observation {
  if (answer.status !== 200) return judgeRefusal(restRefusal(answer), `models/${model}`);
  const methods = (answer.body as { supportedGenerationMethods?: unknown } | undefined)
    ?.supportedGenerationMethods;
  if (!Array.isArray(methods)) return contradicted(`models/${model}: no supportedGenerationMethods`);
  if (!methods.includes(method))
    return contradicted(`models/${model} lacks ${method} (${methods.join(', ')})`);
  return confirmed(`models/${model}: ${method}`);
}

/** Google's front end refuses an unknown field name with 400 `Invalid JSON payload … Unknown name`. */
export function judgeMisspelledCreate(answer: RestAnswer): Observation {
  if (answer.status === 200) {
    const name = (answer.body as RawOperation | undefined)?.name;
    return contradicted(`accepted: created ${String(name)}`);
  }
  const refusal = restRefusal(answer);
  if (answer.status === 400 && /Unknown name/i.test(refusal.message)) {
    const field = /Unknown name "([^"]+)"/.exec(refusal.message)?.[1];
    return confirmed(`HTTP 400 Unknown name${field ? ` "${field}"` : ''}`);
  }
  return judgeRefusal(refusal);
}
