/**
 * What a run could not rule out when it ends: jobs that may exist on Gemini without the run knowing
 * them, which it therefore neither collected nor cancelled.
 */
import type { RunRecords } from './run-records.js';

/**
 * The manifest's `risks`: jobs that may exist on Gemini unknown to the run. An OpenAI-format chunk
 * that got a job was created through the compat layer, which takes no display name: finding it
 * again after a crash rests on that layer listing batches and echoing `metadata`, which Google
 * does not document. A chunk created again after a lookup found nothing may have a second job,
 * unless a later lookup back to the same time found its jobs.
 */
export function runRisks({ plan, ledgers }: RunRecords): string[] | undefined {
  const risks: string[] = [];
  const byChunk = new Map(ledgers.map((ledger) => [ledger.chunk, ledger]));
  const compat = (plan?.chunks ?? []).filter(
    (chunk) => chunk.format === 'openai' && byChunk.get(chunk.index)?.batchName,
  );
  if (compat.length > 0) {
    risks.push(
      `chunk(s) ${compat.map((chunk) => chunk.index).join(', ')} went through Gemini's OpenAI-compatible batch layer, ` +
        'which takes no display name: each job carries its name in metadata.display_name, and finding a job again ' +
        'after Submit dies between creating and recording it rests on that layer listing batches and echoing their ' +
        'metadata, neither documented by Google; had such a lookup missed, the chunk would have been created again ' +
        '(its ledger records every such lookup) and the first job would run unrecorded',
    );
  }
  for (const ledger of ledgers) {
    const lookups = ledger.emptyLookups ?? [];
    // A later lookup, back to the same time, found the chunk's jobs and kept or cancelled each one.
    if (lookups.length === 0 || ledger.recovered) continue;
    const incomplete = lookups.find((lookup) => lookup.incomplete)?.incomplete;
    risks.push(
      `chunk ${ledger.chunk}: a create call's answer was lost and ${lookups.length} lookup(s) by display name ` +
        `found no job (listing back to ${lookups[0]?.since}${incomplete ? `; ${incomplete}` : ''}) before the chunk ` +
        `was created again: if the lost call made a job after all, a second job named "${ledger.displayName}" ` +
        'exists that this run neither collected nor cancelled',
    );
  }
  return risks.length > 0 ? risks : undefined;
}
