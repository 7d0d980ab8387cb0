import type { AssumptionId } from './assumptions.js';

/** What the check saw of one assumption. */
export type Verdict = 'confirmed' | 'contradicted' | 'not seen';

export interface Observation {
  readonly verdict: Verdict;
  /** A few words of what was seen, e.g. `400 Unsupported MIME type: application/jsonl`. */
  readonly evidence: string;
}

/** Evidence longer than this is cut: a row has to fit a table in a bug report. */
const MAX_EVIDENCE = 220;

/**
 * What the probes saw, per assumption. A probe may look at an assumption more than once (two
 * uploads, several jobs); one contradiction outweighs any number of confirmations, since the pipeline
 * needs the assumption every time, and a row nobody could look at stays "not seen".
 */
export class Findings {
  readonly #seen = new Map<AssumptionId, Observation[]>();

  confirm(id: AssumptionId, evidence: string): void {
    this.#add(id, { verdict: 'confirmed', evidence });
  }

  contradict(id: AssumptionId, evidence: string): void {
    this.#add(id, { verdict: 'contradicted', evidence });
  }

  /** Says why an assumption could not be looked at (a job that failed, a timeout). */
  notSeen(id: AssumptionId, evidence: string): void {
    this.#add(id, { verdict: 'not seen', evidence });
  }

  record(id: AssumptionId, observation: Observation): void {
    this.#add(id, observation);
  }

  /** The row's verdict and its evidence: the contradictions' first, then the rest. */
  result(id: AssumptionId): Observation {
    const seen = this.#seen.get(id) ?? [];
    const verdict: Verdict = seen.some((o) => o.verdict === 'contradicted')
      ? 'contradicted'
      : seen.some((o) => o.verdict === 'confirmed')
        ? 'confirmed'
        : 'not seen';
    const ranked = [
      ...seen.filter((o) => o.verdict === verdict),
      ...seen.filter((o) => o.verdict !== verdict && o.verdict !== 'not seen'),
      ...seen.filter((o) => o.verdict !== verdict && o.verdict === 'not seen'),
    ];
    const evidence = [...new Set(ranked.map((o) => o.evidence))].join('; ');
    return { verdict, evidence: shorten(evidence === '' ? 'no probe got this far' : evidence) };
  }

  #add(id: AssumptionId, observation: Observation): void {
    const list = this.#seen.get(id) ?? [];
    list.push({ ...observation, evidence: observation.evidence.replace(/\s+/g, ' ').trim() });
    this.#seen.set(id, list);
  }
}

export function shorten(text: string, max = MAX_EVIDENCE): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
