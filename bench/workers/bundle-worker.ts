/**
 * Bundles every pipeline function through the real `PipelineFunction` construct with bundling on,
 * so CDK runs esbuild exactly as `cdk synth`/`cdk deploy` does, and reports each asset's
 * `index.mjs` and source map sizes and what the bundle is made of: bytes by package, from esbuild's
 * metafile (the one option the bench adds). A worker, so CDK's and esbuild's console output stays
 * out of the table.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { Metafile } from 'esbuild';
import { PIPELINE_FUNCTION_NAMES } from '../../infra/constructs/gemini-batch-pipeline.js';
import { PipelineFunction } from '../../infra/constructs/pipeline-function.js';
import { cdkJsonContext } from '../../local/template/synthesize.js';
import { reportResult, workerInput } from '../support/child.js';

export interface BundleWorkerInput {
  /** The cloud assembly's directory; the caller removes it. */
  readonly outdir: string;
}

export interface BundleComposition {
  readonly bytes: number;
  readonly mapBytes: number;
  /** Output bytes by package (`node_modules/<name>`), or `lambdas/` for the project's own code; largest first. */
  readonly parts: readonly (readonly [string, number])[];
}

export interface BundleWorkerResult {
  readonly bundles: Record<string, BundleComposition>;
  readonly names: readonly string[];
  readonly ms: number;
}

/** Which function an asset is: its source map names the handler it was bundled from. */
async function handlerOf(assetDir: string): Promise<string | undefined> {
  const map = JSON.parse(await readFile(join(assetDir, 'index.mjs.map'), 'utf8')) as { sources?: string[] };
  for (const source of map.sources ?? []) {
    const match = /lambdas\/([a-z0-9-]+)\/handler\.ts$/.exec(source);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** The package an input belongs to: the last `node_modules/<name>` in its path. */
function packageOf(input: string): string {
  const match = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? (input.startsWith('lambdas/') ? 'lambdas/' : input);
}

async function compositionOf(assetDir: string): Promise<BundleComposition> {
  const metafile = JSON.parse(await readFile(join(assetDir, 'index.meta.json'), 'utf8')) as Metafile;
  const output = Object.values(metafile.outputs).find((entry) => entry.entryPoint);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(input);
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return {
    bytes: (await stat(join(assetDir, 'index.mjs'))).size,
    mapBytes: (await stat(join(assetDir, 'index.mjs.map'))).size,
    parts: [...byPackage].sort((a, b) => b[1] - a[1]),
  };
}

const { outdir } = workerInput<BundleWorkerInput>();
const started = performance.now();
const app = new App({ outdir, context: cdkJsonContext(), analyticsReporting: false });
const stack = new Stack(app, 'BundleBench', { env: { account: '000000000000', region: 'us-east-1' } });
// NodejsFunction bundles while it is constructed: this loop is where esbuild runs.
for (const name of PIPELINE_FUNCTION_NAMES) {
  new PipelineFunction(stack, name, {
    name,
    description: name,
    timeout: Duration.minutes(1),
    bundleMetafile: true,
  });
}
app.synth();
const ms = performance.now() - started;

const bundles: Record<string, BundleComposition> = {};
for (const entry of await readdir(outdir)) {
  if (!entry.startsWith('asset.')) continue;
  const assetDir = join(outdir, entry);
  const name = await handlerOf(assetDir).catch(() => undefined);
  if (name) bundles[name] = await compositionOf(assetDir);
}
const result: BundleWorkerResult = { bundles, names: PIPELINE_FUNCTION_NAMES, ms };
reportResult(result);
