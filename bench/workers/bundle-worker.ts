/**
 * Bundles every pipeline function through the real `PipelineFunction` construct with bundling on,
 * so CDK runs esbuild exactly as `cdk synth`/`cdk deploy` does, and reports the size of the
 * `index.mjs` in each asset. A worker, so CDK's and esbuild's console output stays out of the table.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { PIPELINE_FUNCTION_NAMES } from '../../infra/constructs/gemini-batch-pipeline.js';
import { PipelineFunction } from '../../infra/constructs/pipeline-function.js';
import { cdkJsonContext } from '../../local/template/synthesize.js';
import { reportResult, workerInput } from '../support/child.js';

export interface BundleWorkerInput {
  /** The cloud assembly's directory; the caller removes it. */
  readonly outdir: string;
}

export interface BundleWorkerResult {
  /** `index.mjs` bytes by function folder name. */
  readonly sizes: Record<string, number>;
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

const { outdir } = workerInput<BundleWorkerInput>();
const started = performance.now();
const app = new App({ outdir, context: cdkJsonContext(), analyticsReporting: false });
const stack = new Stack(app, 'BundleBench', { env: { account: '000000000000', region: 'us-east-1' } });
// NodejsFunction bundles while it is constructed: this loop is where esbuild runs.
for (const name of PIPELINE_FUNCTION_NAMES) {
  new PipelineFunction(stack, name, { name, description: name, timeout: Duration.minutes(1) });
}
app.synth();
const ms = performance.now() - started;

const sizes: Record<string, number> = {};
for (const entry of await readdir(outdir)) {
  if (!entry.startsWith('asset.')) continue;
  const assetDir = join(outdir, entry);
  const name = await handlerOf(assetDir).catch(() => undefined);
  if (name) sizes[name] = (await stat(join(assetDir, 'index.mjs'))).size;
}
const result: BundleWorkerResult = { sizes, names: PIPELINE_FUNCTION_NAMES, ms };
reportResult(result);
