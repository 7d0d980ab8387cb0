/**
 * `npm start -- <file.jsonl> [--out DIR]`: runs one file through the whole pipeline offline and
 * copies its results to DIR (default `out/<file name>/`).
 * `npm start` with no file: keeps the local stack up and processes every upload until Ctrl-C.
 * The Gemini emulator answers unless `--live` or `--gemini-url` says otherwise: a key in the shell
 * never sends a local run to the real, billed API.
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { STATE_NAMES } from '../infra/constructs/workflow.js';
import type { Manifest } from '../lambdas/finalize-run/finalize-run.js';
import { GEMINI_API_URL } from '../lambdas/shared/gemini/genai-batch-api.js';
import { resultKeys } from '../lambdas/shared/run/bucket-layout.js';
import type { PollState, PreparedRun } from '../lambdas/shared/run/state-payloads.js';
import {
  type GeminiEndpoint,
  type LocalPipeline,
  type LocalPipelineOptions,
  type ProgressEvent,
  type RunOutcome,
  startLocalPipeline,
} from './local-pipeline.js';

const HELP = `Runs the Gemini batch pipeline on this machine: local S3, the synthesized state machine,
the same Lambda code, and the Gemini emulator.

Usage:
  npm start -- <file.jsonl> [--out DIR]   run one file; results go to DIR (default out/<file name>/)
  npm start                               keep the stack up and process every upload to inputs/

Options:
  --out DIR          where to copy results.jsonl, rejected.jsonl, unmatched.jsonl, manifest.json
  --bundled          run the functions' bundles, synthesized as cdk deploy uploads them,
                     instead of their source
  --live             call the real Gemini API (billed), with the key in GEMINI_API_KEY
  --gemini-url URL   call another Gemini-protocol endpoint (a proxy, a regional endpoint, a
                     replay), with the key in GEMINI_API_KEY (any non-empty value if it needs none)
  --verbose          show the functions' structured logs
  --help             show this text

Without --live or --gemini-url the Gemini emulator answers, whatever the shell holds.
Ctrl-C cancels the run: its Gemini jobs are stopped, what finished is kept, and the manifest says
CANCELLED; a second Ctrl-C quits at once.

Exit status: 0 when every line succeeded, 2 when the run completed with errors
(rejected lines or failed requests), 1 when the run failed, 3 when it was cancelled.`;

const EXIT_CODES: Record<Manifest['status'], number> = {
  SUCCEEDED: 0,
  COMPLETED_WITH_ERRORS: 2,
  FAILED: 1,
  CANCELLED: 3,
};

/** The last progress line printed per run, so an unchanged poll prints nothing. */
const lastProgress = new Map<string, string>();

function describeProgress(event: ProgressEvent): string | undefined {
  const line = progressLine(event);
  if (line === undefined || lastProgress.get(event.runId) === line) return undefined;
  lastProgress.set(event.runId, line);
  return `${new Date().toISOString().slice(11, 19)}  ${line}`;
}

function progressLine(event: ProgressEvent): string | undefined {
  if (event.phase === 'failed') return `${event.state}: ${event.error.name}: ${event.error.message}`;
  if (event.phase !== 'succeeded') return undefined;
  if (event.state === STATE_NAMES.prepareRequests) {
    const prepared = event.result as PreparedRun;
    return `${STATE_NAMES.prepareRequests}: ${prepared.acceptedCount} accepted, ${prepared.rejectedCount} rejected, ${prepared.chunkCount} chunk(s)`;
  }
  if (event.state === STATE_NAMES.pollBatchJobs) {
    const poll = event.result as PollState;
    return `${STATE_NAMES.pollBatchJobs}: ${poll.completedCount ?? 0} of ${poll.requestCount ?? '?'} requests done${poll.allDone ? ', all jobs finished' : ''}`;
  }
  return `${event.state}: done`;
}

async function copyOutputs(
  pipeline: LocalPipeline,
  outcome: RunOutcome,
  inputKey: string,
  outDir: string,
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const keys = resultKeys(inputKey, outcome.runId, pipeline.inputPrefix);
  const copied: string[] = [];
  for (const [name, key] of [
    ['results.jsonl', keys.results],
    ['rejected.jsonl', keys.rejected],
    ['unmatched.jsonl', keys.unmatched],
    ['manifest.json', keys.manifest],
  ] as const) {
    const content = await pipeline.readObject(key);
    if (content === undefined) continue;
    const path = join(outDir, name);
    await writeFile(path, content);
    copied.push(path);
  }
  return copied;
}

function summarize(outcome: RunOutcome, copied: readonly string[]): string {
  const { manifest } = outcome;
  const { counts } = manifest;
  const lines = [
    '',
    `${manifest.status}  run ${outcome.runId}`,
    ...(manifest.reason ? [`  reason:   ${manifest.reason}`] : []),
    `  lines ${counts.lines} · accepted ${counts.accepted} · rejected ${counts.rejected} · succeeded ${counts.succeeded} · failed ${counts.failed}`,
  ];
  for (const [model, usage] of Object.entries(manifest.usage.byModel)) {
    lines.push(
      `  ${model}: ${usage.requestCount} requests, ${usage.promptTokens} prompt + ${usage.outputTokens} output tokens`,
    );
  }
  const { cost } = manifest;
  if (cost.total > 0 || cost.unpricedModels.length > 0) {
    const unpriced =
      cost.unpricedModels.length > 0 ? ` (no price for ${cost.unpricedModels.join(', ')})` : '';
    lines.push(`  estimated cost at batch prices: $${cost.total.toFixed(4)}${unpriced}`);
  }
  for (const path of copied) lines.push(`  → ${relative(process.cwd(), path)}`);
  return lines.join('\n');
}

/** Which Gemini answers, in words: the first thing a run prints, so nobody is billed unawares. */
function describeGemini(pipeline: LocalPipeline): string {
  if (pipeline.emulator) return `the Gemini emulator at ${pipeline.gemini.url}`;
  return pipeline.gemini.live ? 'the REAL Gemini API (billed)' : `the Gemini endpoint ${pipeline.gemini.url}`;
}

function warnOfUnusedKey(pipeline: LocalPipeline): void {
  if (pipeline.emulator && process.env.GEMINI_API_KEY) {
    console.log('GEMINI_API_KEY is set but not used: add --live to call the real Gemini API (billed).');
  }
}

async function runOneFile(
  path: string,
  outDir: string | undefined,
  options: LocalPipelineOptions,
): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) {
    console.error(`no such file: ${path}`);
    return 1;
  }
  const pipeline = await startLocalPipeline({
    ...options,
    onProgress: (event) => {
      const line = describeProgress(event);
      if (line) console.log(line);
    },
  });
  try {
    const code = options.code === 'bundled' ? 'bundled functions' : 'functions from source';
    console.log(
      `Running ${path} through the local pipeline (${code}, ${describeGemini(pipeline)}, S3 at ${pipeline.s3Endpoint})`,
    );
    warnOfUnusedKey(pipeline);
    const inputKey = `${pipeline.inputPrefix}${basename(path)}`;
    const { delivery } = await pipeline.upload(inputKey, createReadStream(path));
    if (!delivery.runId) throw new Error(`uploading ${inputKey} started no run: the rule did not match it`);
    const runId = delivery.runId;
    // Ctrl-C cancels the run as a deployed one is cancelled (its jobs stopped, what finished kept,
    // the manifest CANCELLED); a second Ctrl-C quits at once.
    const onInterrupt = () => {
      process.once('SIGINT', () => process.exit(130));
      console.log(
        `\nCancelling run ${runId}: stopping its Gemini jobs and keeping what finished (Ctrl-C again to quit now)`,
      );
      pipeline.cancel(runId, 'cancelled with Ctrl-C');
    };
    process.once('SIGINT', onInterrupt);
    const outcome = await pipeline.waitForRun(runId).finally(() => process.off('SIGINT', onInterrupt));
    const copied = await copyOutputs(
      pipeline,
      outcome,
      inputKey,
      outDir ?? join('out', basename(path, '.jsonl')),
    );
    console.log(summarize(outcome, copied));
    return EXIT_CODES[outcome.manifest.status];
  } finally {
    await pipeline.close();
  }
}

async function serve(options: LocalPipelineOptions): Promise<void> {
  const seen = new Set<string>();
  const pipeline = await startLocalPipeline({
    ...options,
    onProgress: (event) => {
      const line = describeProgress(event);
      if (line) console.log(`[${event.runId}] ${line}`);
    },
  });
  console.log(`Local pipeline up: ${describeGemini(pipeline)}. S3 endpoint ${pipeline.s3Endpoint}, bucket ${pipeline.bucket}.
Upload a file under ${pipeline.inputPrefix} with any S3 client, for example:

  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url ${pipeline.s3Endpoint} \\
    s3 cp examples/generate-text.jsonl s3://${pipeline.bucket}/${pipeline.inputPrefix}

Results appear under s3://${pipeline.bucket}/results/. Ctrl-C stops.

Or drive it with the gemini-batch CLI, as a deployed stack, from another shell:

  ${Object.entries(pipeline.operatorEnvironment)
    .map(([name, value]) => `export ${name}=${value}`)
    .join('\n  ')}
  npm run cli -- submit examples/generate-text.jsonl --wait`);
  warnOfUnusedKey(pipeline);
  // fauxqs does not emit S3 events, so the runner notices new uploads and delivers their event.
  const timer = setInterval(() => {
    void (async () => {
      const listed = await pipeline.s3.send(
        new ListObjectsV2Command({ Bucket: pipeline.bucket, Prefix: pipeline.inputPrefix }),
      );
      for (const object of listed.Contents ?? []) {
        const id = `${object.Key}\u0000${object.ETag}`;
        if (!object.Key || seen.has(id)) continue;
        seen.add(id);
        const { delivery } = await pipeline.notify(object.Key);
        if (!delivery.runId) continue;
        console.log(`[${delivery.runId}] started for s3://${pipeline.bucket}/${object.Key}`);
        const outcome = await pipeline.waitForRun(delivery.runId);
        console.log(summarize(outcome, []));
      }
    })().catch((error: unknown) => console.error(`watching uploads failed: ${(error as Error).message}`));
  }, 1000);
  process.once('SIGINT', () => {
    clearInterval(timer);
    void pipeline.close().then(() => process.exit(0));
  });
}

/** The Gemini endpoint asked for on the command line, if any: never the shell's key alone. */
function requestedGemini(live: boolean, url: string | undefined): GeminiEndpoint | undefined {
  if (live && url !== undefined) throw new Error('give --live or --gemini-url, not both');
  if (!live && url === undefined) return undefined;
  const apiKey = process.env.GEMINI_API_KEY ?? '';
  if (apiKey === '') {
    throw new Error(`${live ? '--live' : '--gemini-url'} needs the API key in GEMINI_API_KEY`);
  }
  return { url: live ? GEMINI_API_URL : new URL(url ?? '').toString().replace(/\/+$/, ''), apiKey };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      bundled: { type: 'boolean', default: false },
      live: { type: 'boolean', default: false },
      'gemini-url': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (positionals.length > 1) throw new Error('give one file at a time');
  const gemini = requestedGemini(values.live, values['gemini-url']);
  const options: LocalPipelineOptions = {
    verbose: values.verbose,
    code: values.bundled ? 'bundled' : 'source',
    gemini,
  };
  const [file] = positionals;
  if (file === undefined) return serve(options);
  process.exitCode = await runOneFile(file, values.out, options);
}

main().catch((error: unknown) => {
  console.error(`gemini-batch-pipeline: ${(error as Error).message}`);
  process.exitCode = 1;
});
