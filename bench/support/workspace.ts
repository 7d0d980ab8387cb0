/**
 * One large input and everything the pipeline makes of it, in a temporary directory: the generated
 * file, the filesystem store the cores read and write, the FileGemini fake's jobs and result files.
 * Each stage runs at most once and on demand, so the sections that share a size (throughput, peak
 * RSS, Google's snippet) share the work, and `--only collect` still prepares what Collect needs.
 * Prepare and Collect run in workers (their own process, one CPU); Submit and Poll, which only set
 * the records up, run here.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HEAP_NODE_OPTIONS } from '../../infra/constructs/pipeline-function.js';
import { pollBatchJobs } from '../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import type { PreparedRun, RunInput, RunState } from '../../lambdas/shared/run/state-payloads.js';
import { submitBatchJobs } from '../../lambdas/submit-batch-jobs/submit-batch-jobs.js';
import type { CollectWorkerInput } from '../workers/collect-worker.js';
import type { PrepareWorkerInput } from '../workers/prepare-worker.js';
import { BENCH_BUCKET } from './bench-run.js';
import { resultOf, runWorker } from './child.js';
import { FileGemini } from './file-gemini.js';
import { FsObjectStore } from './fs-object-store.js';
import { type GeneratedFile, writeGenerateRequests } from './generate.js';
import { MIB } from './table.js';

/** The heap flags the deployed functions run with (their NODE_OPTIONS): the workers measure what Lambda runs. */
export const HEAP_NODE_ARGS = HEAP_NODE_OPTIONS.split(' ');

/**
 * The flags `npm start` gives the local stack's process (package.json's `start`), so that the bench
 * measures what a user runs: its own thread (local S3, emulator, state machine) keeps a young
 * generation as small as the functions' (32 MiB instead of V8's 128 MiB on a machine this size).
 */
export const LOCAL_STACK_NODE_ARGS: readonly string[] = ['--max-semi-space-size=16'];

/** The deployed poll schedule's defaults; the fake's jobs are done at the first poll anyway. */
const POLL_SCHEDULE = { initialSeconds: 30, maxSeconds: 600, backoffRate: 1.5 };

export interface TimedFile extends GeneratedFile {
  readonly ms: number;
}

export interface CoreRun<T> {
  /** The core's own time, measured inside the worker. */
  readonly ms: number;
  readonly peakRssBytes: number;
  readonly output: T;
}

export interface SubmittedRun {
  readonly run: RunState;
  /** The responses files Gemini "wrote" for this run's jobs. */
  readonly resultsFiles: readonly GeneratedFile[];
  readonly resultsBytes: number;
}

export class LargeFileWorkspace {
  readonly store: FsObjectStore;
  readonly geminiDir: string;
  readonly tmpDir: string;
  readonly run: RunInput;
  readonly #memo = new Map<string, Promise<unknown>>();

  private constructor(
    readonly dir: string,
    /** How big the generated input is (it stops at the first line past this). */
    readonly targetBytes: number,
  ) {
    this.store = new FsObjectStore(join(dir, 'store'));
    this.geminiDir = join(dir, 'gemini');
    this.tmpDir = join(dir, 'tmp');
    const label = `${Math.round(targetBytes / MIB)}mib`;
    this.run = {
      runId: `bench-${label}`,
      bucket: BENCH_BUCKET,
      key: `inputs/large-${label}.jsonl`,
      uploadedAt: new Date().toISOString(),
    };
  }

  static async create(parentDir: string, targetBytes: number): Promise<LargeFileWorkspace> {
    const workspace = new LargeFileWorkspace(await mkdtemp(join(parentDir, 'large-')), targetBytes);
    await Promise.all([workspace.geminiDir, workspace.tmpDir].map((dir) => mkdir(dir, { recursive: true })));
    return workspace;
  }

  get label(): string {
    return `${Math.round(this.targetBytes / MIB)} MiB`;
  }

  #once<T>(stage: string, work: () => Promise<T>): Promise<T> {
    let promise = this.#memo.get(stage) as Promise<T> | undefined;
    if (!promise) {
      promise = work();
      this.#memo.set(stage, promise);
    }
    return promise;
  }

  /** The generated generate-request file, as the user uploaded it. */
  input(): Promise<TimedFile> {
    return this.#once('input', async () => {
      const path = this.store.pathOf(this.run.bucket, this.run.key);
      await mkdir(join(path, '..'), { recursive: true });
      const started = performance.now();
      const file = await writeGenerateRequests(path, { bytes: this.targetBytes });
      return { ...file, ms: performance.now() - started };
    });
  }

  /** The real Prepare core over the input, in a worker. */
  prepared(): Promise<CoreRun<PreparedRun>> {
    return this.#once('prepared', async () => {
      await this.input();
      const input: PrepareWorkerInput = { storeRoot: this.store.root, run: this.run };
      const outcome = await runWorker<{ ms: number; prepared: PreparedRun }>('prepare-worker', input, {
        nodeArgs: HEAP_NODE_ARGS,
      });
      const { ms, prepared } = resultOf(outcome, 'prepare');
      return { ms, peakRssBytes: outcome.peakRssBytes, output: prepared };
    });
  }

  /** The real Submit and Poll cores against FileGemini: jobs created, "run", and polled to the end. */
  submitted(): Promise<SubmittedRun> {
    return this.#once('submitted', async () => {
      const prepared = (await this.prepared()).output;
      const gemini = await FileGemini.open(this.geminiDir);
      let run: RunState = { ...this.run, prepared };
      // Every chunk as an uploaded file, however small: Collect then downloads result files, the
      // path whose streaming the figures are about (inline answers arrive in one response).
      const deps = { store: this.store, gemini, tmpDir: this.tmpDir, inlineMaxBytes: 0 };
      run = { ...run, submitted: await submitBatchJobs(run, deps) };
      for (let pass = 0; !run.poll?.allDone; pass++) {
        if (pass === 10) throw new Error('FileGemini jobs did not end after 10 polls');
        run = { ...run, poll: await pollBatchJobs(run, { ...deps, schedule: POLL_SCHEDULE }) };
      }
      const resultsFiles = gemini.resultsFiles();
      return { run, resultsFiles, resultsBytes: resultsFiles.reduce((sum, file) => sum + file.bytes, 0) };
    });
  }

  /** The real Collect core over the submitted run, in a worker. */
  collected(): Promise<CoreRun<unknown>> {
    return this.#once('collected', async () => {
      const { run } = await this.submitted();
      const input: CollectWorkerInput = {
        storeRoot: this.store.root,
        geminiDir: this.geminiDir,
        tmpDir: this.tmpDir,
        run,
      };
      const outcome = await runWorker<{ ms: number; collected: unknown }>('collect-worker', input, {
        nodeArgs: HEAP_NODE_ARGS,
      });
      const { ms, collected } = resultOf(outcome, 'collect');
      return { ms, peakRssBytes: outcome.peakRssBytes, output: collected };
    });
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
