/**
 * A GeminiBatchApi that "runs" every job the moment it is created: a job over an uploaded file gets
 * the responses file Gemini would write (`writeResultsFor`, generated at upload), an inline job
 * gets its answers in the same shape; every job reports SUCCEEDED, and `downloadFile` copies the
 * file. State lives in a directory, so the Collect worker (another process) sees the jobs the
 * Submit core created here. No network, no emulator: only the cores are measured.
 */
import { createWriteStream } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  BATCH_METHODS,
  type BatchJobStatus,
  type BatchSearch,
  type CreateBatchRequest,
  type GeminiBatchApi,
  type InlineResponse,
  type JsonlSource,
  type ModelInfo,
} from '../../lambdas/shared/gemini/gemini-batch-api.js';
import { type GeneratedFile, writeResultsFor } from './generate.js';

type ResultsFile = GeneratedFile & { readonly id: number };

interface FileGeminiState {
  /** Uploaded input `files/up-<n>` → its responses file `files/out-<n>`. */
  readonly uploads: Record<string, ResultsFile>;
  readonly batches: Record<
    string,
    { readonly displayName: string; readonly results: ResultsFile; readonly inline: boolean }
  >;
  next: number;
}

export class FileGemini implements GeminiBatchApi {
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly state: FileGeminiState,
  ) {}

  /** Every model exists and supports both batch methods: the benchmarks measure the pipeline, not lookups. */
  async getModel(model: string): Promise<ModelInfo> {
    const id = model.replace(/^models\//, '');
    return { name: `models/${id}`, supportedGenerationMethods: Object.values(BATCH_METHODS) };
  }

  /** The fake whose state is kept in `dir` (empty if there is none yet). */
  static async open(dir: string): Promise<FileGemini> {
    let state: FileGeminiState = { uploads: {}, batches: {}, next: 1 };
    try {
      state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as FileGeminiState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new FileGemini(dir, state);
  }

  /** The responses files of the jobs created so far (file jobs and inline ones), in creation order. */
  resultsFiles(): GeneratedFile[] {
    return Object.values(this.state.batches).map(({ results: { path, bytes, lines } }) => ({
      path,
      bytes,
      lines,
    }));
  }

  /** Submit uploads and creates several chunks at once: saves are queued so none is lost. */
  private save(): Promise<void> {
    const text = () => JSON.stringify(this.state);
    this.#saving = this.#saving.then(() => writeFile(join(this.dir, 'state.json'), text()));
    return this.#saving;
  }

  async uploadJsonl(source: JsonlSource, _displayName: string): Promise<string> {
    const id = this.state.next++;
    const path = join(this.dir, `up-${id}.jsonl`);
    await pipeline(await source.open(), createWriteStream(path));
    const results = await writeResultsFor(path, join(this.dir, `out-${id}.jsonl`));
    const name = `files/up-${id}`;
    this.state.uploads[name] = { ...results, id };
    await this.save();
    return name;
  }

  async createBatch(request: CreateBatchRequest): Promise<string> {
    let results: ResultsFile;
    if ('fileName' in request) {
      const upload = this.state.uploads[request.fileName];
      if (!upload)
        throw new Error(`bench FileGemini: ${request.displayName} names no upload ${request.fileName}`);
      results = upload;
    } else {
      const id = this.state.next++;
      const input = join(this.dir, `inline-${id}.jsonl`);
      await writeFile(input, request.inlineRequests.map((line) => `${JSON.stringify(line)}\n`).join(''));
      results = { ...(await writeResultsFor(input, join(this.dir, `out-${id}.jsonl`))), id };
    }
    const name = `batches/b-${this.state.next++}`;
    this.state.batches[name] = {
      displayName: request.displayName,
      results,
      inline: !('fileName' in request),
    };
    await this.save();
    return name;
  }

  /** Every job "runs" at once: each one found under the name has succeeded. */
  async findBatchesByDisplayName(displayName: string): Promise<BatchSearch> {
    const found = Object.entries(this.state.batches)
      .filter(([, batch]) => batch.displayName === displayName)
      .map(([name]) => ({ name, state: 'BATCH_STATE_SUCCEEDED' }));
    return { found: found.reverse() };
  }

  #batch(name: string) {
    const batch = this.state.batches[name];
    if (!batch) throw new Error(`bench FileGemini: no batch ${name}`);
    return batch;
  }

  async getBatch(name: string): Promise<BatchJobStatus> {
    const { displayName, results, inline } = this.#batch(name);
    return {
      name,
      state: 'BATCH_STATE_SUCCEEDED',
      displayName,
      requestCount: results.lines,
      successfulCount: results.lines,
      failedCount: 0,
      ...(inline ? {} : { responsesFile: `files/out-${results.id}` }),
    };
  }

  async getInlineResponses(name: string): Promise<readonly InlineResponse[]> {
    const text = await readFile(this.#batch(name).results.path, 'utf8');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const { key, response } = JSON.parse(line) as { key: string; response: unknown };
        return { response, metadata: { key } };
      });
  }

  async cancelBatch(_name: string): Promise<void> {}

  async downloadFile(fileName: string, path: string): Promise<void> {
    const id = Number(/^files\/out-(\d+)$/.exec(fileName)?.[1]);
    const batch = Object.values(this.state.batches).find((candidate) => candidate.results.id === id);
    if (!batch) throw new Error(`bench FileGemini: no file ${fileName}`);
    await copyFile(batch.results.path, path);
  }

  async deleteFile(_fileName: string): Promise<void> {}
}
