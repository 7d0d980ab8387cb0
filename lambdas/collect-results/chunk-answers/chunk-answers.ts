import { join } from 'node:path';
import type { GeminiBatchApi } from '../../shared/gemini/gemini-batch-api.js';
import { chunkId } from '../../shared/run/bucket-layout.js';
import type { JobStatusRecord } from '../../shared/run/work-records.js';
import { inBatches } from '../merge-in-input-order.js';
import { inlineAnswers } from './inline-answers.js';
import { type Answer, type ChunkReading, failedAnswers } from './key-answers.js';
import { resultFileAnswers } from './result-file-answers.js';

/** A chunk's batch job as Poll last saw it, and where its answers are fetched from. */
export interface JobToRead {
  readonly job: JobStatusRecord;
  /** Whether the job went inline, as its ledger says: never guessed from what Gemini names. */
  readonly inline: boolean;
  readonly gemini: GeminiBatchApi;
  /** Where a result file is staged while it is read, under a name unique to the run and chunk. */
  readonly tmpDir: string;
  readonly runId: string;
}

/**
 * A chunk's answers, one per key in chunk order, from whichever place its job left them: inline
 * in the operation, or a result file. A job that did not succeed, or a file job whose file Gemini
 * never named, gives every key the same error. In batches, for the merge.
 */
export async function* chunkAnswers(reading: ChunkReading, from: JobToRead): AsyncGenerator<Answer[]> {
  const { job, gemini } = from;
  if (job.state !== 'BATCH_STATE_SUCCEEDED') {
    const reason = job.error?.message ? `: ${job.error.message}` : '';
    const message = `batch job ${job.batchName} ended ${job.state}${reason}; this request was not answered`;
    yield* failedAnswers(reading, { status: 'JOB_NOT_SUCCEEDED', message });
    return;
  }
  if (from.inline) {
    yield* inBatches(inlineAnswers(reading, await gemini.getInlineResponses(job.batchName)));
    return;
  }
  // Poll gave up waiting for Gemini to name the file (or recorded the job before it waited): ask once more.
  const responsesFile = job.responsesFile ?? (await gemini.getBatch(job.batchName)).responsesFile;
  if (!responsesFile) {
    const message = `Gemini reported batch job ${job.batchName} SUCCEEDED but never named its result file, so its answers could not be read; the job is listed in manifest.json`;
    yield* failedAnswers(reading, { status: 'NO_RESULT_FILE', message });
    return;
  }
  const path = join(from.tmpDir, `${from.runId}-${chunkId(reading.chunk.index)}-results.jsonl`);
  await gemini.downloadFile(responsesFile, path);
  yield* resultFileAnswers(reading, path);
}
