/** Where `npm start -- FILE` copies a run's files: the output folder holds this run's files only. */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resultKeys } from '../../lambdas/shared/run/bucket-layout.js';

/** The files a run can write, by their name in the output folder. */
export const OUTPUT_FILES = ['results.jsonl', 'rejected.jsonl', 'unmatched.jsonl', 'manifest.json'] as const;

/** What copying needs from the pipeline. */
export interface OutputSource {
  readonly inputPrefix: string;
  /**
   * Streams the object to `path`; false when there is no such object. Streamed, not read into a
   * string: a results file of millions of answers is longer than the longest string V8 makes.
   */
  downloadObject(key: string, path: string): Promise<boolean>;
}

/**
 * Copies the run's files into `outDir` and returns their paths. A file of an earlier run under a
 * name this run did not write (a failed run writes no `results.jsonl`) is removed first, so what
 * sits beside the manifest is always this run's; other files in the folder are left alone.
 */
export async function copyRunOutputs(
  source: OutputSource,
  runId: string,
  inputKey: string,
  outDir: string,
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const keys = resultKeys(inputKey, runId, source.inputPrefix);
  const keyOf: Record<(typeof OUTPUT_FILES)[number], string> = {
    'results.jsonl': keys.results,
    'rejected.jsonl': keys.rejected,
    'unmatched.jsonl': keys.unmatched,
    'manifest.json': keys.manifest,
  };
  const copied: string[] = [];
  for (const name of OUTPUT_FILES) {
    const path = join(outDir, name);
    await rm(path, { force: true });
    if (await source.downloadObject(keyOf[name], path)) copied.push(path);
  }
  return copied;
}
