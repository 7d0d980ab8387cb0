import type { KeyAtLine } from '../../shared/run/chunk-keys-file.js';
import type { ChunkPlan } from '../../shared/run/work-records.js';
import type { ChunkKeys, Superseded } from '../chunk-keys.js';
import type { BatchResult, ResultFormat, ResultLineError } from '../result-formats.js';
import type { Tally } from '../tally.js';
import type { JobUnmatched } from '../unmatched.js';

/** One output line for one accepted input line. */
export interface Answer {
  readonly line: number;
  /** The output line: its text, or the result file's own bytes for a line passed through as it came. */
  readonly text: string | Uint8Array;
  /** The key was sent again in a newer chunk: this older attempt is read (to keep step) but not written. */
  readonly superseded?: boolean;
}

/** An answer found for a key: the result, the key it carries itself, and its line's text if from a file. */
export interface Found {
  readonly result: BatchResult;
  readonly carried: unknown;
  readonly raw?: string;
  /** The bytes `raw` was read as, when at hand: a line passed through is written from them. */
  readonly rawBytes?: Uint8Array;
}

/**
 * Turns a chunk's keys into output lines in its result format, and counts each key once, where it
 * is written: a line a newer chunk sent again is that chunk's to write and count.
 */
export class KeyAnswers {
  readonly #model: string;
  readonly #format: ResultFormat;
  readonly #tally: Tally;
  readonly #superseded: Superseded;

  constructor(options: {
    /** Whose usage a successful answer adds to. */
    readonly model: string;
    readonly format: ResultFormat;
    readonly tally: Tally;
    readonly superseded: Superseded;
  }) {
    this.#model = options.model;
    this.#format = options.format;
    this.#tally = options.tally;
    this.#superseded = options.superseded;
  }

  /**
   * The key's line from its answer. `found.carried` is the key the answer itself carries: anything
   * else than the key here is a bug upstream, refused rather than written under the wrong key.
   */
  answered([line, key]: KeyAtLine, found: Found): Answer {
    if (this.#superseded(line)) return { line, text: '', superseded: true };
    if (found.carried !== key) {
      throw new Error(
        `internal error: an answer carrying ${String(found.carried)} was about to be written for ${key}`,
      );
    }
    const { text, succeeded } = this.#format.render(key, found.result, found.raw);
    if (succeeded) this.#tally.succeeded(this.#model, this.#format.usageOf(found.result));
    else this.#tally.failed();
    // Passed through: write the bytes read rather than encode the same text again.
    if (found.rawBytes !== undefined && text === found.raw) return { line, text: found.rawBytes };
    return { line, text };
  }

  /** A NO_RESULT error for a key Gemini's output has no answer for, saying why. */
  unanswered([line, key]: KeyAtLine, message: string): Answer {
    if (this.#superseded(line)) return { line, text: '', superseded: true };
    this.#tally.missing();
    return { line, text: this.#format.renderError(key, { status: 'NO_RESULT', message }) };
  }

  /** The pipeline's error for a key of a chunk that has no answers to read. */
  failed([line, key]: KeyAtLine, error: ResultLineError): Answer {
    if (this.#superseded(line)) return { line, text: '', superseded: true };
    this.#tally.failed();
    return { line, text: this.#format.renderError(key, error) };
  }
}

/** What one chunk's answers are read with. */
export interface ChunkReading {
  readonly chunk: ChunkPlan;
  readonly format: ResultFormat;
  readonly keys: ChunkKeys;
  readonly answers: KeyAnswers;
  readonly unmatched: JobUnmatched;
}

/** The key's line from its answer, or NO_RESULT saying where the job's unmatched answers are. */
export function answerOrNoResult(reading: ChunkReading, at: KeyAtLine, found: Found | undefined): Answer {
  return found
    ? reading.answers.answered(at, found)
    : reading.answers.unanswered(at, reading.unmatched.noResultMessage());
}

/** Error lines are rendered this many at a time: a chunk's keys may be a great many. */
const FAILED_BATCH = 1024;

/**
 * The same pipeline error for every key of a chunk (a job that did not succeed, or never existed),
 * in batches for the merge.
 */
export async function* failedAnswers(
  { keys, answers }: Pick<ChunkReading, 'keys' | 'answers'>,
  error: ResultLineError,
): AsyncGenerator<Answer[]> {
  const pairs = await keys.inOrder();
  for (let from = 0; from < pairs.length; from += FAILED_BATCH) {
    yield pairs.slice(from, from + FAILED_BATCH).map((at) => answers.failed(at, error));
  }
}
