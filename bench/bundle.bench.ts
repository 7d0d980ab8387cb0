/**
 * Figure 6: each Lambda's minified bundle. Rather than repeat the bundling options, the worker
 * builds every function through the real `PipelineFunction` construct with bundling on, so CDK runs
 * esbuild exactly as `cdk synth`/`cdk deploy` does (minified ESM, node24 target, AWS SDK included,
 * stubs for modules never called, source map beside it, not counted), and measures each asset's
 * `index.mjs`. The reference column says where the bytes go: the largest packages, from esbuild's
 * metafile.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resultOf, runWorker } from './support/child.js';
import { type BenchRow, count, MIB, percent, seconds } from './support/table.js';

import type { BundleComposition, BundleWorkerInput, BundleWorkerResult } from './workers/bundle-worker.js';

/** The 1 MB target (docs/architecture.md, Targets), read as decimal megabytes: the stricter reading. */
const BUDGET_BYTES = 1_000_000;
/** How many packages the reference column names. */
const TOP_PARTS = 6;

const kb = (bytes: number): string => `${Math.round(bytes / 1000)} kB`;

function composition({ bytes, mapBytes, parts }: BundleComposition): string {
  const top = parts.slice(0, TOP_PARTS).map(([name, size]) => `${name} ${kb(size)}`);
  return `${percent(bytes / BUDGET_BYTES)} of 1 MB; map ${kb(mapBytes)}; ${top.join(', ')}`;
}

export async function benchBundles(dir: string): Promise<BenchRow[]> {
  const input: BundleWorkerInput = { outdir: join(dir, 'bundles') };
  try {
    const outcome = await runWorker<BundleWorkerResult>('bundle-worker', input, { pinCpu: false });
    const { bundles, names, ms } = resultOf(outcome, 'bundle');
    return names.map((name, index) => {
      const bundle = bundles[name];
      const howBundled =
        index === 0 ? `; all ${names.length} bundled by PipelineFunction in ${seconds(ms)}` : '';
      return {
        figure: `Lambda bundle, ${name}`,
        value:
          bundle === undefined
            ? 'error: no bundle found'
            : `${(bundle.bytes / MIB).toFixed(2)} MiB (${count(bundle.bytes)} B)`,
        reference: bundle === undefined ? '' : `${composition(bundle)}${howBundled}`,
        target: '≤ 1 MB minified',
      };
    });
  } finally {
    await rm(input.outdir, { recursive: true, force: true });
  }
}
