/**
 * Figure 6: each Lambda's minified bundle. Rather than repeat the bundling options, the worker
 * builds every function through the real `PipelineFunction` construct with bundling on, so CDK runs
 * esbuild exactly as `cdk synth`/`cdk deploy` does (minified ESM, node24 target, AWS SDK included,
 * source map beside it, not counted), and measures each asset's `index.mjs`.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resultOf, runWorker } from './support/child.js';
import { type BenchRow, count, MIB, percent, seconds } from './support/table.js';

import type { BundleWorkerInput, BundleWorkerResult } from './workers/bundle-worker.js';

/** The 1 MB target (docs/architecture.md, Targets), read as decimal megabytes: the stricter reading. */
const BUDGET_BYTES = 1_000_000;

export async function benchBundles(dir: string): Promise<BenchRow[]> {
  const input: BundleWorkerInput = { outdir: join(dir, 'bundles') };
  try {
    const outcome = await runWorker<BundleWorkerResult>('bundle-worker', input, { pinCpu: false });
    const { sizes, names, ms } = resultOf(outcome, 'bundle');
    return names.map((name, index) => {
      const bytes = sizes[name];
      const howBundled =
        index === 0 ? `; all ${names.length} bundled by PipelineFunction in ${seconds(ms)}` : '';
      return {
        figure: `Lambda bundle, ${name}`,
        value:
          bytes === undefined
            ? 'error: no bundle found'
            : `${(bytes / MIB).toFixed(2)} MiB (${count(bytes)} B)`,
        reference:
          bytes === undefined ? '' : `${percent(bytes / BUDGET_BYTES)} of the 1 MB target${howBundled}`,
        target: '≤ 1 MB minified',
      };
    });
  } finally {
    await rm(input.outdir, { recursive: true, force: true });
  }
}
