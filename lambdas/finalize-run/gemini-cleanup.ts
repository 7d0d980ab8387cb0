/**
 * What a run leaves on Gemini, taken away when it ends: jobs still running (recorded or not) are
 * cancelled, and the files the run uploaded or collected are deleted. Each step that fails is
 * reported, and the others still run: clean-up never fails a run.
 */
import { searchUnrecorded } from '../shared/batch-jobs/unrecorded-jobs.js';
import { type FoundBatch, type GeminiBatchApi, isTerminalState } from '../shared/gemini/gemini-batch-api.js';
import type { Log } from '../shared/log.js';
import type { RunRecords } from './run-records.js';

/** What clean-up did, and what it could not do: the manifest's `cleanup`. */
export interface CleanupReport {
  readonly cancelledJobs: readonly string[];
  readonly deletedFiles: readonly string[];
  readonly problems: readonly string[];
}

export interface CleanupParams {
  readonly records: RunRecords;
  /** Called only when a ledger shows there may be something on Gemini. */
  readonly gemini: () => Promise<GeminiBatchApi>;
  readonly log?: Log;
}

/**
 * Cancels the run's jobs that have not ended, those Submit created without recording them
 * included, and the duplicates Submit could not cancel; deletes the uploaded request files, and the
 * result files once collected (until then they are the only copy of the answers).
 */
export async function cleanUpGemini({
  records,
  gemini: connect,
  log,
}: CleanupParams): Promise<CleanupReport> {
  const { plan, ledgers, poll } = records;
  const cancelledJobs: string[] = [];
  const deletedFiles: string[] = [];
  const problems: string[] = [];
  if (ledgers.length === 0) return { cancelledJobs, deletedFiles, problems };
  const stateOf = new Map(poll?.jobs.map((job) => [job.batchName, job.state]));
  const formatOf = new Map(plan?.chunks.map((chunk) => [chunk.index, chunk.format]));
  let gemini: GeminiBatchApi;
  try {
    gemini = await connect();
  } catch (error) {
    return {
      cancelledJobs,
      deletedFiles,
      problems: [`could not reach Gemini to clean up: ${(error as Error).message}`],
    };
  }
  const attempt = async (what: string, action: () => Promise<void>) => {
    try {
      await action();
      return true;
    } catch (error) {
      problems.push(`could not ${what}: ${(error as Error).message}`);
      log?.('clean-up step failed', { what, error: (error as Error).message });
      return false;
    }
  };
  for (const ledger of ledgers) {
    const batchName = ledger.batchName;
    // Submit may have died between creating a job and recording it: look for any job under the
    // chunk's display name as Submit's recovery does (back to the creating time), and cancel each
    // one still running. A create Gemini refused (with no earlier outcome unknown) made nothing.
    const refused = ledger.createError !== undefined && !ledger.creating;
    if (!batchName && !refused && (ledger.creating || ledger.uploadedFile)) {
      let unrecorded: readonly FoundBatch[] = [];
      await attempt(`look up ${ledger.displayName}`, async () => {
        ({ found: unrecorded } = await searchUnrecorded(gemini, {
          displayName: ledger.displayName,
          format: formatOf.get(ledger.chunk) ?? 'gemini',
          ledger,
        }));
      });
      for (const { name, state } of unrecorded) {
        if (isTerminalState(state)) continue;
        if (await attempt(`cancel ${name}`, () => gemini.cancelBatch(name))) cancelledJobs.push(name);
      }
    }
    const state = batchName ? stateOf.get(batchName) : undefined;
    // A job still running when the run ends would go on costing money for results nobody collects.
    if (batchName && !(state && isTerminalState(state))) {
      const name = batchName;
      if (await attempt(`cancel ${name}`, () => gemini.cancelBatch(name))) cancelledJobs.push(name);
    }
    // Duplicates Submit could not cancel when it found them would run, and bill, for nobody.
    for (const name of ledger.duplicatesLeftRunning ?? []) {
      if (await attempt(`cancel ${name}`, () => gemini.cancelBatch(name))) cancelledJobs.push(name);
    }
    if (ledger.uploadedFile) {
      const file = ledger.uploadedFile;
      if (await attempt(`delete ${file}`, () => gemini.deleteFile(file))) deletedFiles.push(file);
    }
  }
  // Result files are deleted only once collected: until then they are the only copy of the answers.
  if (records.collected) {
    for (const job of poll?.jobs ?? []) {
      const file = job.responsesFile;
      if (file && (await attempt(`delete ${file}`, () => gemini.deleteFile(file)))) deletedFiles.push(file);
    }
  }
  return { cancelledJobs, deletedFiles, problems };
}
