/**
 * `npm start -- <file.jsonl> [--out DIR]`: runs one file through the whole pipeline offline and
 * copies its results to DIR (default `out/<file name>/`).
 * `npm start` with no file: keeps the local stack up and processes every upload until Ctrl-C.
 * The Gemini emulator answers unless `--live` or `--gemini-url` says otherwise: a key in the shell
 * never sends a local run to the real, billed API.
 */
import { createReadStream } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
// Only light modules here: the heavy ones (see stackModules) load after the first line is printed.
import { RUN_EXIT_CODES } from '../cli/format.js';
import { GEMINI_API_URL } from '../lambdas/shared/gemini/gemini-api.js';
import { fileProblem } from './cli/input-file.js';
import type { LocalPipeline, LocalPipelineOptions } from './local-pipeline.js';

/** The S3 port of `npm start` with no file: fixed, so the printed upload command keeps working. */
const DEFAULT_SERVE_PORT = 8088;

const HELP = `Runs the Gemini batch pipeline on this machine: local S3, the synthesized state machine,
the same Lambda code, and the Gemini emulator.

Usage:
  npm start -- <file.jsonl> [--out DIR]   run one file; results go to DIR (default out/<file name>/)
  npm start [-- --port N]                 keep the stack up and process every upload to inputs/

Options:
  --out DIR          where to copy results.jsonl, rejected.jsonl, unmatched.jsonl, manifest.json
                     (files of an earlier run under those names are replaced or removed)
  --port N           the local S3's port (default ${DEFAULT_SERVE_PORT} with no file, any free port with
                     one; 0 picks any free port)
  --host ADDRESS     where the local S3 listens (default 127.0.0.1: it checks no credentials, so
                     0.0.0.0 opens it to your network)
  --bundled          run the functions' bundles, synthesized as cdk deploy uploads them,
                     instead of their source
  --live             call the real Gemini API (billed), with the key in GEMINI_API_KEY
  --gemini-url URL   call another Gemini-protocol endpoint (a proxy, a regional endpoint, a
                     replay), with the key in GEMINI_API_KEY (any non-empty value if it needs none)
  --verbose          show the functions' structured logs
  -h, --help         show this text

Only files whose name the stack's trigger rule matches start runs (inputs/*.jsonl, case-sensitive).
Without --live or --gemini-url the Gemini emulator answers, whatever the shell holds.
Ctrl-C cancels the run: its Gemini jobs are stopped, what finished is kept, and the manifest says
CANCELLED; a second Ctrl-C quits at once.

Exit status: 0 when every line succeeded, 2 when the run completed with errors
(rejected lines or failed requests), 1 when the run failed, 3 when it was cancelled.`;

/**
 * The modules that start the stack, loaded only once the first line is printed: aws-cdk-lib alone
 * takes seconds to import, and a user should not wait on a silent terminal.
 */
async function stackModules() {
  const [pipeline, synthesis, runner, trigger, report, output, watcher] = await Promise.all([
    import('./local-pipeline.js'),
    import('./runner/synthesize-apart.js'),
    import('./runner/template.js'),
    import('./cli/trigger-check.js'),
    import('./cli/run-report.js'),
    import('./cli/output-folder.js'),
    import('./runner/upload-watcher.js'),
  ]);
  return { ...pipeline, ...synthesis, ...runner, ...trigger, ...report, ...output, ...watcher };
}

type StackModules = Awaited<ReturnType<typeof stackModules>>;

/** Which Gemini answers, in words: said before a run starts, so nobody is billed unawares. */
function describeGemini(pipeline: LocalPipeline): string {
  if (pipeline.emulator) return `the Gemini emulator at ${pipeline.gemini.url}`;
  return pipeline.gemini.live ? 'the REAL Gemini API (billed)' : `the Gemini endpoint ${pipeline.gemini.url}`;
}

function warnOfUnusedKey(pipeline: LocalPipeline): void {
  if (pipeline.emulator && process.env.GEMINI_API_KEY) {
    console.log('GEMINI_API_KEY is set but not used: add --live to call the real Gemini API (billed).');
  }
}

/** What is about to start, said before the seconds it takes. */
function describeStart(options: LocalPipelineOptions): string {
  const gemini = options.gemini ? `Gemini at ${options.gemini.url}` : 'the Gemini emulator';
  const code =
    options.code === 'bundled'
      ? "the functions' bundles (synthesized with esbuild as cdk deploy builds them: some seconds each)"
      : 'the functions from source';
  return `Starting the local stack: S3 on ${options.s3Host}, ${gemini}, ${code}, and the state machine…`;
}

/** The local S3's port was taken: say which, and how to pick another. */
function explainListenError(error: unknown, port: number | undefined): Error {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new Error(
      `port ${port} is already in use (another npm start?): give --port N, or --port 0 for any free port`,
    );
  }
  return error as Error;
}

async function runOneFile(
  stack: StackModules,
  path: string,
  outDir: string | undefined,
  options: LocalPipelineOptions,
): Promise<number> {
  const template = await stack.synthesizeApart();
  const { inputPattern, inputPrefix } = stack.runnerTemplate(template);
  const refusal = stack.triggerRefusal(path, { inputPattern, inputPrefix, bucket: stack.LOCAL_BUCKET });
  if (refusal) {
    console.error(refusal);
    return 1;
  }
  console.log(describeStart(options));
  const describeProgress = stack.progressPrinter();
  const pipeline = await stack
    .startLocalPipeline({
      ...options,
      template,
      onProgress: (event) => {
        const line = describeProgress(event);
        if (line) console.log(line);
      },
    })
    .catch((error: unknown) => Promise.reject(explainListenError(error, options.s3Port)));
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
    const copied = await stack.copyRunOutputs(
      pipeline,
      runId,
      inputKey,
      outDir ?? join('out', basename(path, '.jsonl')),
    );
    console.log(
      stack.summarize(
        outcome,
        copied.map((file) => relative(process.cwd(), file)),
      ),
    );
    return RUN_EXIT_CODES[outcome.manifest.status];
  } finally {
    await pipeline.close();
  }
}

async function serve(stack: StackModules, options: LocalPipelineOptions): Promise<void> {
  // Ctrl-C, or a SIGTERM (tools/with-node24.mjs passes on what npm's process receives), stops.
  // Listening from the start: a signal while the stack starts stops it once it is up, and a second
  // signal while it closes does not kill it half-closed.
  let stopRequested = false;
  let stopServing: (() => void) | undefined;
  const stop = () => {
    if (stopRequested) return;
    stopRequested = true;
    stopServing?.();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  console.log(describeStart(options));
  const describeProgress = stack.progressPrinter();
  const pipeline = await stack
    .startLocalPipeline({
      ...options,
      onProgress: (event) => {
        const line = describeProgress(event);
        if (line) console.log(`[${event.runId}] ${line}`);
      },
    })
    .catch((error: unknown) => Promise.reject(explainListenError(error, options.s3Port)));
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
  // The local S3 emits no S3 events, so the runner notices new uploads and delivers their event.
  const stopWatching = stack.watchUploads({
    s3: pipeline.s3,
    bucket: pipeline.bucket,
    inputPrefix: pipeline.inputPrefix,
    notify: (key) => pipeline.notify(key),
    onRunStarted: (runId, key) => {
      console.log(`[${runId}] started for s3://${pipeline.bucket}/${key}`);
      void pipeline.waitForRun(runId).then((outcome) => console.log(stack.summarize(outcome, [])));
    },
    onError: (error) => console.error(`watching uploads failed: ${error.message}`),
  });
  stopServing = () => {
    stopWatching();
    void pipeline.close().then(() => process.exit(0));
  };
  if (stopRequested) stopServing();
}

/** The Gemini endpoint asked for on the command line, if any: never the shell's key alone. */
function requestedGemini(
  live: boolean,
  url: string | undefined,
): { readonly live: boolean; readonly url?: string; readonly apiKey: string } | undefined {
  if (live && url !== undefined) throw new Error('give --live or --gemini-url, not both');
  if (!live && url === undefined) return undefined;
  const apiKey = process.env.GEMINI_API_KEY ?? '';
  if (apiKey === '') {
    throw new Error(`${live ? '--live' : '--gemini-url'} needs the API key in GEMINI_API_KEY`);
  }
  return { live, url: url === undefined ? undefined : new URL(url).toString().replace(/\/+$/, ''), apiKey };
}

/** `--port`: a whole number a TCP port can be, 0 meaning any free one. */
function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new Error(`--port must be a whole number from 0 to 65535 (0: any free port), got '${text}'`);
  }
  return port;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      bundled: { type: 'boolean', default: false },
      live: { type: 'boolean', default: false },
      'gemini-url': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (positionals.length > 1) throw new Error('give one file at a time');
  const [file] = positionals;
  const gemini = requestedGemini(values.live, values['gemini-url']);
  const s3Port = parsePort(values.port) ?? (file === undefined ? DEFAULT_SERVE_PORT : 0);
  if (file !== undefined) {
    const problem = await fileProblem(file);
    if (problem) throw new Error(problem);
    console.log("Reading the stack's trigger rule and state machine (synthesizing the CDK app)…");
  } else {
    console.log('Loading the CDK app and the local stand-ins…');
  }
  const stack = await stackModules();
  const options: LocalPipelineOptions = {
    verbose: values.verbose,
    code: values.bundled ? 'bundled' : 'source',
    gemini: gemini && { url: gemini.url ?? GEMINI_API_URL, apiKey: gemini.apiKey },
    s3Host: values.host,
    s3Port,
  };
  if (file === undefined) return serve(stack, options);
  process.exitCode = await runOneFile(stack, file, values.out, options);
}

main().catch((error: unknown) => {
  console.error(`gemini-batch-pipeline: ${(error as Error).message}`);
  process.exitCode = 1;
});
