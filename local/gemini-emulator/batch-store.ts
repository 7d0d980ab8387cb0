import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GoogleApiError, invalidArgument, notFound, quotaExceeded } from './api-error.js';
import type { BatchJob, BatchSource, CreateBatch, OpenAiBatchInfo } from './batch-job.js';
import {
  type InputScan,
  processInline,
  processInputFile,
  scanInline,
  scanInputFile,
} from './batch-processor.js';
import type { EmulatorClock } from './clock.js';
import type { FaultInjector } from './fault-injector.js';
import { type FileStore, newResourceId } from './file-store.js';
import { isTerminal, type JobView, viewJob } from './job-view.js';
import type { BatchKind, LineCodec, LineFault } from './line-codec.js';
import { nativeCodec } from './native-lines.js';
import { openAiCodec } from './openai/lines.js';
import type { ResolvedLimits, ResolvedRoughness, ResolvedTiming } from './options.js';
import { seededRandom } from './seeded-random.js';

/** One create call that reached the quota check: the job's display name and whether it was admitted. */
export interface CreateAttempt {
  readonly displayName: string;
  readonly admitted: boolean;
  /** On the emulator clock. */
  readonly atMs: number;
}

/** What a batch store works with. */
export interface BatchStoreDeps {
  /** Where answers are streamed to while a job runs. */
  readonly dir: string;
  readonly clock: EmulatorClock;
  readonly timing: ResolvedTiming;
  readonly limits: ResolvedLimits;
  /** Input files are read from here, and succeeded output is published here. */
  readonly files: FileStore;
  readonly faults: FaultInjector;
  readonly roughness: ResolvedRoughness;
  /** Seeds every choice the store makes: line order, inline order, dropped metadata. */
  readonly seed: number;
}

/**
 * Batch jobs and their life on the emulator clock. A job's answers are computed as soon as it is
 * created (streamed to disk), but what a client sees — state, progress, results — is a function of
 * the clock alone, so polling faster does not make a job finish sooner.
 */
export class BatchStore {
  readonly #jobs = new Map<string, BatchJob>();
  readonly #createAttempts: CreateAttempt[] = [];

  readonly #dir: string;
  readonly #clock: EmulatorClock;
  readonly #timing: ResolvedTiming;
  readonly #limits: ResolvedLimits;
  readonly #files: FileStore;
  readonly #faults: FaultInjector;
  readonly #roughness: ResolvedRoughness;
  readonly #seed: number;

  constructor(deps: BatchStoreDeps) {
    this.#dir = deps.dir;
    this.#clock = deps.clock;
    this.#timing = deps.timing;
    this.#limits = deps.limits;
    this.#files = deps.files;
    this.#faults = deps.faults;
    this.#roughness = deps.roughness;
    this.#seed = deps.seed;
  }

  async create(input: CreateBatch): Promise<BatchJob> {
    const native = input.openai === undefined ? input : undefined;
    let kind: BatchKind;
    let source: BatchSource;
    let scan: InputScan;
    if (input.openai === undefined) {
      kind = input.kind;
      source = input.source;
      scan =
        source.type === 'inline'
          ? scanInline(input.model, source.requests)
          : await scanInputFile(this.#files.get(source.fileName).path, nativeCodec(kind, input.model));
    } else {
      kind = input.openai.endpoint === '/v1/embeddings' ? 'embed' : 'generate';
      source = { type: 'file', fileName: input.fileName };
      // Only the line format matters to the scan; `created` is written when the lines are answered.
      const codec = this.#openAiCodec(input.openai, this.#clock.now());
      scan = await scanInputFile(this.#files.get(input.fileName).path, codec);
    }
    if (scan.requests === 0) {
      throw invalidArgument('The batch has no requests: the input is empty.');
    }
    const displayName = native?.displayName ?? '';
    try {
      this.#admit(scan);
    } catch (error) {
      this.#createAttempts.push({ displayName, admitted: false, atMs: this.#clock.now() });
      throw error;
    }
    this.#createAttempts.push({ displayName, admitted: true, atMs: this.#clock.now() });
    const id = newResourceId(36);
    const retired = native?.retired === true;
    // A job on a retired model never runs, so no fault can change how it ends: leave them to others.
    const outcome = retired ? undefined : this.#faults.takeJobOutcome(displayName);
    const createTimeMs = this.#clock.now();
    const runningAtMs =
      retired || outcome?.outcome === 'STUCK_PENDING' ? undefined : createTimeMs + this.#timing.pendingMs;
    const runningMs =
      outcome?.outcome === 'SLOW'
        ? (outcome.runningMs ?? 60 * 60 * 1000)
        : this.#timing.runningMs + this.#timing.perRequestMs * scan.requests;
    const job: BatchJob = {
      name: `batches/${id}`,
      kind,
      model: native?.model ?? scan.firstModel ?? '',
      openai: input.openai,
      displayName: native?.displayName,
      source,
      embeddingUsage: native?.embeddingUsage ?? 'tokenCount',
      createTimeMs,
      scan,
      runningAtMs,
      doneAtMs: (runningAtMs ?? createTimeMs) + runningMs,
      plannedEnd:
        outcome?.outcome === 'FAILED'
          ? 'BATCH_STATE_FAILED'
          : outcome?.outcome === 'EXPIRED'
            ? 'BATCH_STATE_EXPIRED'
            : 'BATCH_STATE_SUCCEEDED',
      failMessage: outcome?.outcome === 'FAILED' ? outcome.errorMessage : undefined,
      cancelledAtMs: undefined,
      processing: { done: false },
      outputFile: undefined,
    };
    this.#jobs.set(job.name, job);
    // Nothing is ever answered on a retired model: its job just waits to expire.
    if (retired) job.processing = { done: true, atMs: createTimeMs };
    else void this.#process(job);
    return job;
  }

  /** Every create that reached the quota check, in the order they came: what tests measure admission by. */
  createAttempts(): readonly CreateAttempt[] {
    return [...this.#createAttempts];
  }

  get(name: string): BatchJob {
    const job = this.#jobs.get(name);
    if (!job) throw notFound(`Batch ${name} not found.`);
    return job;
  }

  /** Jobs newest first, as Google lists them. */
  list(): BatchJob[] {
    return [...this.#jobs.values()].reverse();
  }

  cancel(name: string): void {
    const job = this.get(name);
    const { state } = this.view(job);
    if (isTerminal(state)) {
      throw new GoogleApiError(
        400,
        `Batch ${name} is already in terminal state ${state} and cannot be cancelled.`,
        undefined,
        'FAILED_PRECONDITION',
      );
    }
    job.cancelledAtMs = this.#clock.now();
  }

  async delete(name: string): Promise<void> {
    const job = this.get(name);
    this.#jobs.delete(name);
    await this.#discardOutput(job);
  }

  /** Where the job stands now on the emulator clock. */
  view(job: BatchJob): JobView {
    return viewJob(job, this.#clock.now(), this.#limits.jobTtlMs);
  }

  /**
   * Publishes the output of jobs that have succeeded by now as `files/batch-<id>`, and drops the
   * answers of jobs that ended otherwise. Called before every API request, so what a client can
   * see always matches the clock.
   */
  async settle(): Promise<void> {
    for (const job of this.#jobs.values()) {
      if (!job.processing.done || job.outputFile !== undefined || job.processing.outputPath === undefined)
        continue;
      const { state } = this.view(job);
      if (state === 'BATCH_STATE_SUCCEEDED') {
        const name = `files/batch-${job.name.slice('batches/'.length)}`;
        await this.#files.addGenerated(
          name,
          job.processing.outputPath,
          'application/jsonl',
          job.processing.outputSha256 ?? '',
        );
        job.outputFile = name;
      } else if (isTerminal(state)) {
        await this.#discardOutput(job);
      }
    }
  }

  /** The line format of a job's input file. */
  #codec(job: BatchJob): LineCodec {
    return job.openai
      ? this.#openAiCodec(job.openai, job.runningAtMs ?? job.createTimeMs)
      : nativeCodec(job.kind, job.model, {
          embeddingUsage: job.embeddingUsage,
          refuseUnknownFields: this.#roughness.refuseUnknownFields,
        });
  }

  /** OpenAI-format lines; chat answers say they were `created` at `createdAtMs` (the job's start). */
  #openAiCodec(info: OpenAiBatchInfo, createdAtMs: number): LineCodec {
    return openAiCodec({ endpoint: info.endpoint, createdSeconds: Math.floor(createdAtMs / 1000) });
  }

  /**
   * Gemini's per-project admission rules: 100 active jobs, and an enqueued-token cap per model
   * (charged per line's model for OpenAI-format input, whose lines may name different models).
   */
  #admit(scan: InputScan): void {
    const active = [...this.#jobs.values()].filter((job) => !isTerminal(this.view(job).state));
    // Both refusals are Google's generic quota answer, which names neither the quota nor the model.
    if (active.length >= this.#limits.maxActiveJobs) throw quotaExceeded();
    for (const [model, tokens] of Object.entries(scan.tokensByModel)) {
      const limit = this.#limits.enqueuedTokensPerModel[model] ?? this.#limits.defaultEnqueuedTokens;
      const enqueued = active.reduce((sum, job) => sum + (job.scan.tokensByModel[model] ?? 0), 0);
      if (enqueued + tokens > limit) throw quotaExceeded();
    }
  }

  async #process(job: BatchJob): Promise<void> {
    const lineFault: LineFault = (index, requestJson) => this.#faults.lineError(index, requestJson);
    try {
      if (job.source.type === 'inline') {
        const { responses, ...counts } = processInline(job.kind, job.model, job.source.requests, lineFault, {
          seed: this.#seed,
          embeddingUsage: job.embeddingUsage,
          shuffle: this.#roughness.shuffleInlineAnswers,
          metadataDropRate: this.#roughness.inlineMetadataDropRate,
        });
        job.processing = { done: true, atMs: this.#clock.now(), counts, inlineResponses: responses };
        return;
      }
      const outputPath = join(this.#dir, `output-${job.name.slice('batches/'.length)}.jsonl`);
      const input = this.#files.get(job.source.fileName);
      // Seeded by the input's hash, not the job's random name, so the same file replays the same order.
      const shuffle = this.#roughness.shuffleResultLines
        ? seededRandom(this.#seed, 'line-order', input.sha256Base64)
        : undefined;
      const { sha256Base64, ...counts } = await processInputFile(
        input.path,
        outputPath,
        this.#codec(job),
        lineFault,
        shuffle,
      );
      job.processing = {
        done: true,
        atMs: this.#clock.now(),
        counts,
        outputPath,
        outputSha256: sha256Base64,
      };
      // Deleted while its answers were being computed: nobody can ask for them now.
      if (!this.#jobs.has(job.name)) await this.#discardOutput(job);
    } catch (error) {
      job.processing = {
        done: true,
        atMs: this.#clock.now(),
        error: `The batch could not be processed: ${(error as Error).message}`,
      };
    }
  }

  async #discardOutput(job: BatchJob): Promise<void> {
    if (job.processing.done && job.processing.outputPath !== undefined && job.outputFile === undefined) {
      const { outputPath } = job.processing;
      job.processing = { ...job.processing, outputPath: undefined };
      await rm(outputPath, { force: true });
    }
  }
}
