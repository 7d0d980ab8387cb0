/**
 * The bucket's S3 keys: uploads under `inputs/`, a run's working records under `work/<runId>/`, its
 * outputs under `results/<input stem>/<runId>/`. The only place that builds keys. Results never
 * land under the input prefix, so a run cannot trigger itself.
 */

export const DEFAULT_INPUT_PREFIX = 'inputs/';
export const WORK_PREFIX = 'work/';
export const RESULTS_PREFIX = 'results/';

/** `inputs/team/reviews.jsonl` → `team/reviews`: the input's path inside the prefix, without `.jsonl`. */
export function inputStem(key: string, inputPrefix: string = DEFAULT_INPUT_PREFIX): string {
  const inside = key.startsWith(inputPrefix) ? key.slice(inputPrefix.length) : key;
  return inside.replace(/\.jsonl$/i, '');
}

/** Keys of one run's working state under `work/<runId>/`. */
export function workKeys(runId: string) {
  const root = `${WORK_PREFIX}${runId}/`;
  return {
    root,
    plan: `${root}plan.json`,
    chunk: (index: number) => `${root}chunks/${chunkId(index)}.jsonl`,
    /** `[lineNumber, key]` per request of a chunk, in order: how Collect restores input order. */
    chunkKeys: (index: number) => `${root}chunks/${chunkId(index)}.keys.jsonl`,
    ledger: (index: number) => `${root}jobs/${chunkId(index)}.json`,
    pollStatus: `${root}poll-status.json`,
    collected: `${root}collected.json`,
  };
}

/** Keys of one run's outputs under `results/<stem>/<runId>/`. */
export function resultKeys(inputKey: string, runId: string, inputPrefix: string = DEFAULT_INPUT_PREFIX) {
  const root = `${RESULTS_PREFIX}${inputStem(inputKey, inputPrefix)}/${runId}/`;
  return {
    root,
    results: `${root}results.jsonl`,
    rejected: `${root}rejected.jsonl`,
    /** Answers Gemini returned that no key received (no key, an unknown key, a repeat), as they came. */
    unmatched: `${root}unmatched.jsonl`,
    manifest: `${root}manifest.json`,
  };
}

/** Zero-padded so chunk keys sort in order. */
export function chunkId(index: number): string {
  return `chunk-${String(index).padStart(5, '0')}`;
}

/** The Gemini display name of a chunk's job: how Submit finds a job it created but did not record. */
export function jobDisplayName(runId: string, index: number): string {
  return `${runId}/${chunkId(index)}`;
}
