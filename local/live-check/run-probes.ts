/** The probes in the order a batch meets them: upload, create, poll, read the results, list. */
import type { AssumptionId } from './assumptions.js';
import {
  judgeCancelled,
  probeCancel,
  probeFileCreate,
  probeInlineCreate,
  probeMisspelledCreate,
  probeModels,
  probeUpload,
} from './create-probes.js';
import { type CheckModels, type KeyedRequest, REQUESTS } from './plan.js';
import { judgePolls, type Pacing, pollJobs, probeFields } from './poll-probes.js';
import type { BatchKind, JobRole, ProbeContext, TrackedJob } from './probe-context.js';
import {
  probeFileResults,
  probeInlineResults,
  probeListByDisplayName,
  probeListCounts,
} from './result-probes.js';

/** Rows that depend on a job of `role`, for when that job never existed. */
const ROWS_OF_JOB: Readonly<Partial<Record<JobRole, readonly AssumptionId[]>>> = {
  'file-generate': ['file-output', 'file-lines-keyed'],
  'file-embed': ['file-output', 'file-lines-keyed', 'embed-usage'],
  'inline-generate': ['inline-generate-keyed', 'inline-answers-twice'],
  'inline-embed': ['inline-embed-keyed', 'inline-answers-twice', 'embed-usage'],
};

/** What a run of the probes is given besides the context every probe shares. */
export interface Run {
  readonly models: CheckModels;
  readonly deadline: number;
  readonly pacing: Pacing;
  readonly sleep: (ms: number) => Promise<void>;
  /** Throws when the check has been interrupted, between probes. */
  readonly checkpoint: () => void;
}

/** Uploads and file jobs of one kind: what each needs, and the row its create decides. */
interface FileKind {
  readonly kind: BatchKind;
  readonly requests: readonly KeyedRequest[];
  readonly createRow: AssumptionId;
}

const FILE_KINDS: readonly FileKind[] = [
  { kind: 'generate', requests: REQUESTS.fileGenerate, createRow: 'create-file-generate' },
  { kind: 'embed', requests: REQUESTS.fileEmbed, createRow: 'create-file-embed' },
];

/**
 * Uploads one file of each kind as `application/jsonl`, and each again as `application/json`:
 * where `application/jsonl` was refused, the jobs run on the other upload instead, so the rows
 * after the upload still get looked at. The generate file is uploaded both ways whatever happens,
 * so the `application/json` row is always seen.
 */
async function uploadSources(ctx: ProbeContext): Promise<Record<BatchKind, string | undefined>> {
  const upload = (kind: BatchKind, requests: readonly KeyedRequest[], json: boolean) =>
    probeUpload(ctx, {
      name: json ? `file-${kind}-json` : `file-${kind}`,
      requests,
      mimeType: json ? 'application/json' : 'application/jsonl',
      row: json ? 'upload-json-mime' : 'upload-jsonl-mime',
    });
  const generateUpload = await upload('generate', REQUESTS.fileGenerate, false);
  const embedUpload = await upload('embed', REQUESTS.fileEmbed, false);
  const generateJson = await upload('generate', REQUESTS.fileGenerate, true);
  const embedSource = embedUpload ?? (await upload('embed', REQUESTS.fileEmbed, true));
  return { generate: generateUpload ?? generateJson, embed: embedSource };
}

/** The probes, in the order a batch meets them. */
export async function runProbes(ctx: ProbeContext, run: Run): Promise<void> {
  const { models, checkpoint } = run;
  const { findings } = ctx;
  await probeModels(ctx, models);
  checkpoint();

  const sources = await uploadSources(ctx);
  checkpoint();

  const jobs: (TrackedJob | undefined)[] = [];
  for (const { kind, requests, createRow } of FILE_KINDS) {
    const fileName = sources[kind];
    if (fileName) jobs.push(await probeFileCreate(ctx, { kind, model: models[kind], fileName, requests }));
    else findings.notSeen(createRow, 'no upload to create from');
  }
  checkpoint();
  jobs.push(
    await probeInlineCreate(ctx, {
      kind: 'generate',
      model: models.generate,
      requests: REQUESTS.inlineGenerate,
    }),
  );
  jobs.push(
    await probeInlineCreate(ctx, { kind: 'embed', model: models.embed, requests: REQUESTS.inlineEmbed }),
  );
  checkpoint();
  await probeMisspelledCreate(ctx, models.generate, REQUESTS.misspelled);
  const cancelled = await probeCancel(ctx, models.generate, REQUESTS.cancel);
  checkpoint();

  const byRole = (role: JobRole) => jobs.find((job) => job?.role === role);
  for (const role of ['file-generate', 'file-embed', 'inline-generate', 'inline-embed'] as const) {
    if (byRole(role)) continue;
    for (const row of ROWS_OF_JOB[role] ?? []) findings.notSeen(row, `${role}: no job was created`);
  }
  const all = [...ctx.created.jobs.values()];
  if (all.length === 0) return;
  const { timedOut } = await pollJobs(ctx, all, run.deadline, run.pacing, run.sleep);
  judgePolls(ctx, all);
  if (cancelled) judgeCancelled(ctx, cancelled, timedOut);

  // The fields probe wants a job whose full answer is big: a succeeded inline one, if there is one.
  const fieldsJob = byRole('inline-generate') ?? byRole('inline-embed') ?? all[0];
  if (fieldsJob) await probeFields(ctx, fieldsJob);
  for (const job of jobs) {
    if (!job) continue;
    if (job.role === 'file-generate' || job.role === 'file-embed') await probeFileResults(ctx, job, timedOut);
    else probeInlineResults(ctx, job, timedOut);
  }
  checkpoint();
  await probeListByDisplayName(ctx, all);
  await probeListCounts(ctx, all);
}
