import { RunStateError } from '../shared/errors.js';
import type { GeminiBatchApi } from '../shared/gemini/gemini-batch-api.js';
import { BUFFERED, type ObjectStore } from '../shared/object-store/object-store.js';
import { resultKeys, workKeys } from '../shared/run/bucket-layout.js';
import { readLedgers, readPlan, readPollStatus } from '../shared/run/read-work-records.js';
import type { CollectedRun, RunState } from '../shared/run/state-payloads.js';
import {
  type ChunkPlan,
  type JobLedger,
  type JobStatusRecord,
  type PollStatus,
  type RunPlan,
  sentInline,
} from '../shared/run/work-records.js';
import { chunkAnswers, type JobToRead } from './chunk-answers/chunk-answers.js';
import { type Answer, failedAnswers, KeyAnswers } from './chunk-answers/key-answers.js';
import { chunkKeys, newerAttempts } from './chunk-keys.js';
import { mergeInInputOrder, type SortedSource } from './merge-in-input-order.js';
import { RESULT_FORMATS, type ResultLineError } from './result-formats.js';
import { Tally } from './tally.js';
import { UnmatchedLog } from './unmatched.js';

export type { UnmatchedAnswer, UnmatchedReason } from './unmatched.js';

export interface CollectDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
  readonly inputPrefix: string;
  /** Where result files are staged after download (Lambda's /tmp). */
  readonly tmpDir: string;
  readonly now?: () => Date;
}

/**
 * Writes `results.jsonl`: exactly one line for every accepted key, `{"key","response"}` or
 * `{"key","error"}`, in the input file's order, in memory bounded by one chunk's keys, never by
 * the results' size. Beside it, `unmatched.jsonl` keeps every answer Gemini returned that no key
 * received (see {@link UnmatchedAnswer}).
 *
 * How: each chunk's answers are produced in the chunk's own order, which is input order (Prepare
 * writes chunks in input order, with a `[line, key]` file beside each). Gemini writes a job's
 * results in request order, so the result file is normally read in lockstep with the keys; at the
 * first line out of step the chunk switches to an index of byte offsets and reads each answer by
 * position. A k-way merge on line numbers then interleaves the chunks back into input order.
 *
 * An answer is written under a key only when it carries that key — the `key` of a result line, the
 * `metadata.key` Gemini echoes on an inline answer — never by its position, which Gemini has been
 * seen to scramble. The one exception is provable: a job of a single request whose single answer
 * carries no key can only be that request's. Among several requests no position or elimination is
 * safe: the only proof would be that Gemini never answers a request twice, and it has been seen to
 * file one answer under another key. For the same reason a key with several different answers gets
 * none of them, unless the one used was read in step, at its request's place in a result file in
 * request order (see `indexedAnswers`); identical repeats are harmless.
 *
 * Keys of a job that did not succeed, and keys left without an answer, get an error line saying
 * so; a key left without one while unkeyed or stray answers exist says where those are kept. So do
 * the keys of a chunk Gemini refused to create a job for (`CREATE_REFUSED`, from its ledger).
 *
 * A request Poll sent again (a retry chunk of a later round, see `planRetries`) is in several
 * chunks: the newest chunk holding its line writes it — its last attempt — and older chunks read
 * their answer for it (to keep step) without writing or counting it (`newerAttempts`).
 *
 * Whether a job's answers are inline or in a result file is what its ledger says, never whether
 * Gemini named a file: Gemini has reported a file job SUCCEEDED before naming its file. A file
 * job recorded without one is asked about once more; still without one, its keys get a
 * `NO_RESULT_FILE` error, never an empty inline read.
 */
export async function collectResults(run: RunState, deps: CollectDeps): Promise<CollectedRun> {
  const { store } = deps;
  const plan = await readPlan(store, run);
  const records = await runRecords(store, run, plan);
  // Every chunk is accounted for before anything is written.
  const chunks = plan.chunks.map((chunk) => ({ chunk, from: whereAnswersAre(run, chunk, records) }));
  const supersededIn = await newerAttempts(store, run.bucket, plan.chunks);

  const keys = resultKeys(run.key, run.runId, deps.inputPrefix);
  const output = store.openLineWriter(run.bucket, keys.results);
  const unmatchedOutput = store.openLineWriter(run.bucket, keys.unmatched);
  const unmatched = new UnmatchedLog(unmatchedOutput);
  const tally = new Tally();
  const sources = chunks.map(({ chunk, from }): SortedSource<Answer> => {
    const format = RESULT_FORMATS[chunk.format];
    const reading = {
      chunk,
      format,
      keys: chunkKeys(store, run.bucket, chunk),
      answers: new KeyAnswers({ model: chunk.model, format, tally, superseded: supersededIn(chunk) }),
    };
    // A generator does nothing until asked: the chunk's results are fetched only when merged.
    const items =
      'unsent' in from
        ? failedAnswers(reading, from.unsent)
        : chunkAnswers(
            { ...reading, unmatched: unmatched.forJob(from.job.batchName, chunk.index) },
            { ...from, gemini: deps.gemini, tmpDir: deps.tmpDir, runId: run.runId },
          );
    return { firstLine: chunk.firstLine, items };
  });
  try {
    await mergeInInputOrder(sources, (answer) => {
      if (answer.superseded) return undefined;
      const written = output.write(answer.text);
      return written === BUFFERED ? undefined : written;
    });
    await output.close();
    await unmatchedOutput.close();
  } catch (error) {
    await Promise.allSettled([output.abort(), unmatchedOutput.abort()]);
    throw error;
  }
  const collectedAt = (deps.now?.() ?? new Date()).toISOString();
  const summary = tally.summary({ unmatched: unmatched.totals(), collectedAt });
  await store.putJson(run.bucket, workKeys(run.runId).collected, summary);
  return tally.outcome();
}

/** What Submit and Poll recorded of a run's chunks. */
interface RunRecords {
  readonly pollStatus: PollStatus | undefined;
  readonly jobs: ReadonlyMap<number, JobStatusRecord>;
  readonly ledgers: ReadonlyMap<number, JobLedger>;
}

async function runRecords(store: ObjectStore, run: RunState, plan: RunPlan): Promise<RunRecords> {
  const pollStatus = await readPollStatus(store, run);
  const ledgers = await readLedgers(store, run, plan);
  return {
    pollStatus,
    jobs: new Map(pollStatus?.jobs.map((job) => [job.chunk, job])),
    ledgers: new Map(ledgers.map((ledger) => [ledger.chunk, ledger])),
  };
}

/** Where a chunk's answers are: with its polled batch job, or nowhere, and the error its keys get. */
type AnswersFrom = Pick<JobToRead, 'job' | 'inline'> | { readonly unsent: ResultLineError };

/** Throws RunStateError for a chunk that has neither a job to read nor a reason it has none. */
function whereAnswersAre(run: RunState, chunk: ChunkPlan, records: RunRecords): AnswersFrom {
  const { pollStatus } = records;
  const job = records.jobs.get(chunk.index);
  const ledger = records.ledgers.get(chunk.index);
  if (!job && ledger?.createError) {
    const message = `Gemini refused to create this chunk's batch job, so this request was not sent: ${ledger.createError.message}`;
    return { unsent: { status: 'CREATE_REFUSED', message } };
  }
  if (!job && pollStatus?.abandonedChunks?.includes(chunk.index)) {
    const message = pollStatus.abandonedReason
      ? `${pollStatus.abandonedReason} before this chunk's batch job was created; this request was not sent`
      : "Gemini did not accept this chunk's batch job before the submit deadline (it kept answering 429 or 5xx); this request was not sent";
    return { unsent: { status: 'NOT_SUBMITTED', message } };
  }
  if (!job) throw new RunStateError(`chunk ${chunk.index} of run ${run.runId} has no polled batch job`);
  if (!ledger) {
    throw new RunStateError(`chunk ${chunk.index} of run ${run.runId} has a batch job but no ledger`);
  }
  return { job, inline: sentInline(ledger) };
}
