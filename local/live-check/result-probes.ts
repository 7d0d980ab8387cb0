/** Reading what ended jobs produced: result files, inline answers, and listings. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AssumptionId } from './assumptions.js';
import { refusalOf } from './client.js';
import {
  describeRefusal,
  judgeAnswersTwice,
  judgeEmbedUsage,
  judgeKeys,
  judgeListCounts,
  type RawAnswer,
  type RawOperation,
  restRefusal,
} from './judges.js';
import { hasEnded, type ProbeContext, stateOf, type TrackedJob } from './probe-context.js';

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
