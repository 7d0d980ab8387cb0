/**
 * The download-decode-split pattern of Google's batch examples, on a results file already on disk:
 * `readFileSync` → `toString('utf8')` → `split('\n')` → `JSON.parse` each line. Whatever stops it
 * (V8's string length limit, a failed allocation) is reported, not thrown; a fatal OOM kills the
 * process and the parent reports stderr instead.
 */
import { readFileSync } from 'node:fs';
import { reportResult, workerInput } from '../support/child.js';

export interface SnippetWorkerInput {
  readonly path: string;
}

const { path } = workerInput<SnippetWorkerInput>();
const started = performance.now();
let step = 'readFileSync';
try {
  const bytes = readFileSync(path);
  step = "toString('utf8')";
  const text = bytes.toString('utf8');
  step = "split('\\n')";
  const lines = text.split('\n');
  step = 'JSON.parse';
  let parsed = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    JSON.parse(line);
    parsed += 1;
  }
  reportResult({ ok: true, ms: performance.now() - started, lines: parsed });
} catch (error) {
  reportResult({
    ok: false,
    ms: performance.now() - started,
    step,
    error: `${(error as Error).name}: ${(error as Error).message}`,
  });
}
