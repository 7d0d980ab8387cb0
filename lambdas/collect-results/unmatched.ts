/**
 * `unmatched.jsonl`: every answer Gemini returned (and billed) that no key received, kept as it
 * came, and the counts that `collected.json` and the keys' NO_RESULT messages report from it.
 */
import type { LineWriter } from '../shared/object-store/object-store.js';

/** Why an answer Gemini returned was not written under a key. */
export type UnmatchedReason =
  /** It carries no key: an inline answer without the echoed `metadata.key`, a result line without `key`. */
  | 'NO_KEY'
  /** It carries a key this job was never sent. */
  | 'UNKNOWN_KEY'
  /** Its key already had an answer, the same or one read at its request's place: that one was used. */
  | 'DUPLICATE_KEY'
  /** One of several different answers carrying the same key, none of which was used: one may be misfiled. */
  | 'AMBIGUOUS_KEY'
  /** A result line that is not a JSON object. */
  | 'NOT_JSON'
  /** A result line too long to hold or not UTF-8: only an excerpt is kept. */
  | 'UNREADABLE';

/**
 * A line of `unmatched.jsonl`: one answer Gemini returned that did not land in `results.jsonl`,
 * with Gemini's answer as it came, so that nothing Gemini answered (and billed) is lost.
 */
export interface UnmatchedAnswer {
  /** The batch job that returned it, `batches/…`. */
  readonly job: string;
  readonly chunk: number;
  readonly reason: UnmatchedReason;
  /** The key it carried, when it carried a string one. */
  readonly key?: string;
  /** Its position among the job's inline answers, from 0 (inline jobs). */
  readonly index?: number;
  /** Its line in the job's result file, from 1 (file jobs). */
  readonly line?: number;
  /** Gemini's answer: the inline answer or the result line, as an object. */
  readonly answer?: unknown;
  /** What there is of a result line that is no JSON object: its text, or an excerpt if unreadable. */
  readonly text?: string;
}

/** An unmatched answer as a chunk's reader finds it: the job and chunk are its log's. */
export type FoundUnmatched = Omit<UnmatchedAnswer, 'job' | 'chunk'>;

/** The answers of a run kept in unmatched.jsonl, for `collected.json`. */
export interface UnmatchedTotals {
  /** Answers repeating a key (DUPLICATE_KEY, AMBIGUOUS_KEY). */
  readonly duplicates: number;
  /** Answers carrying no key of the job, or unreadable. */
  readonly unknown: number;
  readonly total: number;
}

/** Where the unmatched answers of one chunk's job go. */
export interface JobUnmatched {
  /** Writes the answer to unmatched.jsonl; `raw` is a result line's own text, spliced in as it came. */
  keep(answer: FoundUnmatched, raw?: string): Promise<void>;
  /** The NO_RESULT message of a key this job returned no answer for, saying where unmatched ones are. */
  noResultMessage(): string;
  /** The NO_RESULT message of a key this job gave several different answers. */
  ambiguousMessage(answers: number): string;
}

type ReasonCounts = Record<UnmatchedReason, number>;

const noCounts = (): ReasonCounts => ({
  NO_KEY: 0,
  UNKNOWN_KEY: 0,
  DUPLICATE_KEY: 0,
  AMBIGUOUS_KEY: 0,
  NOT_JSON: 0,
  UNREADABLE: 0,
});

/** unmatched.jsonl of a run, written through `writer`, and how many answers went into it. */
export class UnmatchedLog {
  readonly #writer: LineWriter;
  readonly #counts = noCounts();

  constructor(writer: LineWriter) {
    this.#writer = writer;
  }

  /** Where the answers of chunk `chunk`'s batch job `job` go. */
  forJob(job: string, chunk: number): JobUnmatched {
    const counts = noCounts();
    return {
      keep: (answer, raw) => {
        counts[answer.reason] += 1;
        this.#counts[answer.reason] += 1;
        return this.#writer.write(unmatchedLine({ job, chunk, ...answer }, raw));
      },
      noResultMessage: () => noResultMessage(job, counts),
      ambiguousMessage: (answers) =>
        `Gemini's output for job ${job} has ${answers} answers carrying this key, not all the same; none was used, they are kept in unmatched.jsonl`,
    };
  }

  totals(): UnmatchedTotals {
    const counts = this.#counts;
    return {
      duplicates: counts.DUPLICATE_KEY + counts.AMBIGUOUS_KEY,
      unknown: counts.NO_KEY + counts.UNKNOWN_KEY + counts.NOT_JSON + counts.UNREADABLE,
      total: sum(counts),
    };
  }
}

/** Why an answer that carries `key` (or nothing) is no answer to any key of its chunk. */
export function strayReason(key: unknown): 'NO_KEY' | 'UNKNOWN_KEY' {
  return key === undefined || key === null || key === '' ? 'NO_KEY' : 'UNKNOWN_KEY';
}

/** The key an answer carries, as {@link UnmatchedAnswer.key} records it: only a string one. */
export function keptKey(key: unknown): string | undefined {
  return typeof key === 'string' ? key : undefined;
}

const sum = (counts: ReasonCounts): number =>
  Object.values(counts).reduce((total, count) => total + count, 0);

/** An unmatched.jsonl line; a result line's own text is spliced in rather than serialised again. */
function unmatchedLine({ answer, ...fields }: UnmatchedAnswer, raw?: string): string {
  const head = JSON.stringify(fields);
  if (raw !== undefined) return `${head.slice(0, -1)},"answer":${raw}}`;
  return answer === undefined ? head : `${head.slice(0, -1)},"answer":${JSON.stringify(answer)}}`;
}

function noResultMessage(job: string, counts: ReasonCounts): string {
  const parts = [
    [counts.NO_KEY, 'without their key'],
    [counts.UNKNOWN_KEY, 'under a key this job was never sent'],
    [counts.DUPLICATE_KEY + counts.AMBIGUOUS_KEY, 'repeating a key'],
    [counts.NOT_JSON + counts.UNREADABLE, 'unreadable'],
  ] as const;
  const found = parts.filter(([count]) => count > 0).map(([count, what]) => `${count} ${what}`);
  const base = `Gemini's output for job ${job} has no answer carrying this key`;
  if (found.length === 0) return base;
  return `${base}; it returned ${sum(counts)} answers that could not be tied to a key (${found.join(', ')}); they are kept in unmatched.jsonl`;
}
