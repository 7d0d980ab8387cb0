import type { CollectedRun } from '../shared/run/state-payloads.js';
import {
  type CollectSummary,
  emptyModelUsage,
  LONG_PROMPT_TOKENS,
  type ModelUsage,
} from '../shared/run/work-records.js';
import type { UsageCounts } from './result-formats.js';
import type { UnmatchedTotals } from './unmatched.js';

/** How the keys of a run were answered, counted once each, where their line is written. */
export class Tally {
  #succeeded = 0;
  #failed = 0;
  #missing = 0;
  readonly #usage: Record<string, ModelUsage> = {};

  /** A key written with its successful answer; `counts` are the tokens it used, when reported. */
  succeeded(model: string, counts: UsageCounts | undefined): void {
    this.#succeeded += 1;
    const entry = this.#usage[model] ?? emptyModelUsage();
    this.#usage[model] = entry;
    entry.requestCount += 1;
    if (!counts) return;
    entry.promptTokens += counts.prompt;
    entry.cachedTokens += counts.cached;
    entry.outputTokens += counts.output;
    entry.thoughtsTokens += counts.thoughts;
    entry.totalTokens += counts.total ?? counts.prompt + counts.output + counts.thoughts;
    if (counts.prompt > LONG_PROMPT_TOKENS) {
      entry.longPromptRequests += 1;
      entry.longPromptTokens += counts.prompt;
      entry.longPromptCachedTokens += counts.cached;
      entry.longPromptOutputTokens += counts.output + counts.thoughts;
    }
  }

  /** A key written with an error: Gemini's, or the pipeline's for a job that gave no answers. */
  failed(): void {
    this.#failed += 1;
  }

  /** A key Gemini's output has no answer for: written with a NO_RESULT error. */
  missing(): void {
    this.#missing += 1;
    this.#failed += 1;
  }

  /** What the Collect state returns. */
  outcome(): CollectedRun {
    return { succeededCount: this.#succeeded, failedCount: this.#failed };
  }

  /** `collected.json`. */
  summary({ unmatched, collectedAt }: { unmatched: UnmatchedTotals; collectedAt: string }): CollectSummary {
    return {
      succeededCount: this.#succeeded,
      failedCount: this.#failed,
      missingCount: this.#missing,
      duplicateResultCount: unmatched.duplicates,
      unknownResultCount: unmatched.unknown,
      unmatchedCount: unmatched.total,
      usageByModel: this.#usage,
      collectedAt,
    };
  }
}
