/**
 * Figure 4: the seed's approach, Google's download-decode-split snippet, on the same results Collect
 * streams: the whole file as one Buffer, one string, one array of lines. It runs in its own process;
 * whatever stops it (V8's ~512 MiB string limit, an out-of-memory crash) is reported verbatim.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runWorker } from './support/child.js';
import { type BenchRow, mib, seconds } from './support/table.js';
import type { LargeFileWorkspace } from './support/workspace.js';
import type { SnippetWorkerInput } from './workers/snippet-worker.js';

interface SnippetResult {
  readonly ok: boolean;
  readonly ms: number;
  readonly lines?: number;
  readonly step?: string;
  readonly error?: string;
}

/** One file of all the run's results: what one job of that size would give the snippet to download. */
async function oneResultsFile(workspace: LargeFileWorkspace): Promise<{ path: string; joined: boolean }> {
  const { resultsFiles } = await workspace.submitted();
  const [only] = resultsFiles;
  if (only && resultsFiles.length === 1) return { path: only.path, joined: false };
  const path = join(workspace.dir, 'all-results.jsonl');
  // One pipeline over every file in turn: a pipeline per file with `end: false` left its listeners
  // on the shared write stream (Node's MaxListenersExceededWarning past ten files).
  async function* everyFile() {
    for (const file of resultsFiles) yield* createReadStream(file.path);
  }
  await pipeline(everyFile, createWriteStream(path));
  return { path, joined: true };
}

export async function benchSnippet(workspace: LargeFileWorkspace): Promise<BenchRow[]> {
  const { resultsBytes, resultsFiles } = await workspace.submitted();
  const collect = await workspace.collected();
  const { path, joined } = await oneResultsFile(workspace);
  try {
    const input: SnippetWorkerInput = { path };
    const outcome = await runWorker<SnippetResult>('snippet-worker', input);
    const peak = `peak RSS ${mib(outcome.peakRssBytes)}`;
    let value: string;
    if (outcome.result?.ok) {
      value = `ok: ${outcome.result.lines} lines in ${seconds(outcome.result.ms)}, ${peak}`;
    } else if (outcome.result) {
      value = `fails at ${outcome.result.step} after ${seconds(outcome.result.ms)}, ${peak}: ${outcome.result.error}`;
    } else {
      const fatal = outcome.stderr
        .split('\n')
        .find((line) => /FATAL|out of memory|Error/i.test(line))
        ?.trim();
      value = `dies (${outcome.signal ?? `exit ${outcome.exitCode}`}) after ${seconds(outcome.wallMs)}, ${peak}: ${fatal ?? outcome.stderr.trim().split('\n').at(-1)}`;
    }
    const files = joined ? ` (${resultsFiles.length} result files joined)` : '';
    return [
      {
        figure: `Google's snippet (readFileSync→toString→split→JSON.parse), ${mib(resultsBytes)} results${files}`,
        value,
        reference: `Collect on the same results: peak RSS ${mib(collect.peakRssBytes)}, ${seconds(collect.ms)}`,
        target: '≤ 256 MB, any size to 2 GB',
      },
    ];
  } finally {
    if (joined) await rm(path, { force: true });
  }
}
