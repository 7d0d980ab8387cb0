/**
 * The `gemini-batch` CLI end to end against the local stack: every command, run as a child process
 * with the real SDK clients pointed at the local S3, CloudFormation and Step Functions stand-ins by
 * the standard endpoint variables, as `npm start`'s serve mode prints them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../lambdas/finalize-run/manifest.js';
import { resultKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { watchUploads } from '../../local/runner/upload-watcher.js';
import { runGeminiBatch } from '../support/gemini-batch-cli.js';
import { startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;
let stopWatching: () => void;
let scratch: string;
const cli = (...args: string[]) => runGeminiBatch(args, pipeline.operatorEnvironment, scratch);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gemini-batch-cli-'));
  // Jobs take 30 ms per request: the three-line example ends in a moment, a 400-line file runs
  // long enough to be cancelled while its job is running.
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 0, runningMs: 200, perRequestMs: 30 } },
  });
  stopWatching = watchUploads({ ...pipeline, notify: pipeline.notify, intervalMs: 200 });
});

afterAll(async () => {
  stopWatching?.();
  await pipeline?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('gemini-batch against the local stack', () => {
  let runId: string;

  it('submit --wait uploads with a progress bar, sets the metadata, and ends with the summary and exit 0', async () => {
    const result = await cli(
      'submit',
      'examples/generate-text.jsonl',
      '--wait',
      '--model',
      'gemini-3.8-flash',
      '--max-cost',
      '2.5',
    );
    expect(result.stderr).toMatch(/uploading generate-text\.jsonl \[#{24}\] 100%/);
    const started = /^run (\S+) started for s3:\/\/gemini-batch-local\/inputs\/generate-text\.jsonl$/m.exec(
      result.stdout,
    );
    expect(started?.[1]).toBeDefined();
    runId = started?.[1] ?? '';
    expect(result.stdout.trimEnd().split('\n').slice(-4).join('\n')).toMatch(
      new RegExp(
        `^SUCCEEDED  run ${runId}\\n  lines 3 · accepted 3 · rejected 0 · succeeded 3 · failed 0\\n`,
      ),
    );
    expect(result.code).toBe(0);
    const head = await pipeline.s3.send(
      new HeadObjectCommand({ Bucket: pipeline.bucket, Key: 'inputs/generate-text.jsonl' }),
    );
    expect(head.Metadata).toEqual({ 'gemini-model': 'gemini-3.8-flash', 'gemini-max-cost-usd': '2.5' });
  });

  it('status --json gives the ended run with its manifest, and exits with its code', async () => {
    const result = await cli('status', runId, '--json');
    const status = JSON.parse(result.stdout) as {
      ended: boolean;
      manifest: Manifest;
      execution: { status: string };
    };
    expect(status.ended).toBe(true);
    expect(status.execution.status).toBe('SUCCEEDED');
    expect(status.manifest.runId).toBe(runId);
    expect(status.manifest.counts.succeeded).toBe(3);
    expect(result.code).toBe(0);
  });

  it('watch of an ended run prints its summary at once', async () => {
    const result = await cli('watch', runId);
    expect(result.stdout).toContain(`SUCCEEDED  run ${runId}`);
    expect(result.code).toBe(0);
  });

  it('ls lists the run with its status, counts and cost, as a table and as JSON', async () => {
    const text = await cli('ls');
    expect(text.stdout.split('\n')[0]).toMatch(/^RUN\s+STATUS\s+DONE\s+COST\s+STARTED\s+FILE$/);
    expect(text.stdout).toMatch(new RegExp(`^${runId}\\s+SUCCEEDED\\s+3/3\\s+\\S+`, 'm'));
    const listed = JSON.parse((await cli('ls', '--json')).stdout) as {
      runId: string;
      status: string;
      done: number;
    }[];
    expect(listed.find((run) => run.runId === runId)).toMatchObject({
      status: 'SUCCEEDED',
      done: 3,
      total: 3,
    });
  });

  it('results downloads every file the run wrote', async () => {
    const out = join(scratch, 'results');
    const result = await cli('results', runId, '--out', out, '--json');
    expect(result.code).toBe(0);
    const { files } = JSON.parse(result.stdout) as { files: string[] };
    expect(files.map((file) => file.split('/').pop()).sort()).toEqual([
      'manifest.json',
      'rejected.jsonl',
      'results.jsonl',
      'unmatched.jsonl',
    ]);
    const keys = resultKeys('inputs/generate-text.jsonl', runId);
    expect(await readFile(join(out, 'results.jsonl'), 'utf8')).toBe(await pipeline.readObject(keys.results));
  });

  it('cancel stops a running run; watch then ends with the salvage run CANCELLED and exit 3', async () => {
    const file = join(scratch, 'long.jsonl');
    const lines = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({ key: `k${i}`, request: { contents: [{ parts: [{ text: `line ${i}` }] }] } }),
    );
    await writeFile(file, `${lines.join('\n')}\n`);
    const submitted = await cli('submit', file, '--json');
    expect(submitted.code).toBe(0);
    const { runId: longRun } = JSON.parse(submitted.stdout) as { runId: string };
    // Cancel once Gemini has the job, so the salvage run has one to stop.
    for (let tries = 0; tries < 100; tries += 1) {
      const status = JSON.parse((await cli('status', longRun, '--json')).stdout) as {
        progress: { jobs: unknown[] };
      };
      if (status.progress.jobs.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const cancelled = await cli('cancel', longRun);
    expect(cancelled.stdout).toContain(`stopped run ${longRun}: its salvage run ${longRun}-salvage`);
    expect(cancelled.code).toBe(0);
    const watched = await cli('watch', longRun);
    expect(watched.stdout).toContain(`CANCELLED  run ${longRun}`);
    expect(watched.code).toBe(3);
    const again = await cli('cancel', longRun);
    expect(again.stderr).toContain(
      `run ${longRun} is not running: its execution ended ABORTED (salvage run SUCCEEDED)`,
    );
    expect(again.code).toBe(1);
  });

  it('says what is wrong with an unknown stack, run or file, and exits 1', async () => {
    const stack = await cli('ls', '--stack', 'NoSuchStack');
    expect(stack.stderr).toBe(
      "gemini-batch: Stack with id NoSuchStack does not exist (give the deployed stack's name with --stack)\n",
    );
    expect(stack.code).toBe(1);
    const run = await cli('status', '20260101T000000Z-0000000000000000');
    expect(run.stderr).toBe(
      'gemini-batch: stack GeminiBatchPipeline has no run 20260101T000000Z-0000000000000000\n',
    );
    expect(run.code).toBe(1);
    const notJsonl = await cli('submit', 'README.md');
    expect(notJsonl.stderr).toContain('only files named *.jsonl start runs');
    expect(notJsonl.code).toBe(1);
  });
});
