/**
 * What the deployed bundles are made of, read from each function's source map (`sources` lists
 * every input esbuild put in, even without `sourcesContent`): the modules stubbed out in
 * infra/bundling/ stay out, with everything only they brought in, and each stub is what stands in;
 * the `openai` SDK, replaced by two REST calls, stays out; and each bundle stays within the 1 MB
 * the design allows a function (docs/architecture.md, Targets): a size of the deploy artifact, not
 * a timing. That the stubs are never called is shown by the workflow suite, which runs these same
 * bundles.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PIPELINE_FUNCTION_NAMES } from '../../infra/constructs/gemini-batch-pipeline.js';

/**
 * The stubbed modules (named here, not read from infra/bundling/, so dropping a stub fails this
 * test) the transport stack only `google-auth-library` pulled in, and the
 * credential providers and STS/SSO clients only the default chain pulled in.
 */
const NEVER_BUNDLED = [
  'google-auth-library',
  'ws',
  'semver',
  '@aws-sdk/credential-provider-node',
  'gaxios',
  'gcp-metadata',
  'node-fetch',
  'web-streams-polyfill',
  'json-bigint',
  'bignumber.js',
  'https-proxy-agent',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/nested-clients',
  '@smithy/credential-provider-imds',
  'p-retry',
  'retry',
  // Not a stub: the functions reach Gemini's OpenAI-compatible layer over REST (genai/openai-batches.ts).
  'openai',
];

/** The most a function's `index.mjs` may weigh: 1 MB, read as decimal megabytes (the stricter reading). */
const MAX_BUNDLE_BYTES = 1_000_000;

/** Function folder → the inputs of its bundle, as the source map names them. */
const sourcesByFunction = new Map<string, string[]>();
/** Function folder → the size of its bundle, `index.mjs`, in bytes. */
const bytesByFunction = new Map<string, number>();

beforeAll(async () => {
  const dir = inject('cloudAssemblyDir');
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith('asset.')) continue;
    const map = JSON.parse(await readFile(join(dir, entry, 'index.mjs.map'), 'utf8')) as {
      sources: string[];
    };
    const handler = map.sources.map((source) => /lambdas\/([a-z0-9-]+)\/handler\.ts$/.exec(source)?.[1]);
    const name = handler.find((match) => match !== undefined);
    if (!name) continue;
    sourcesByFunction.set(name, map.sources);
    bytesByFunction.set(name, (await stat(join(dir, entry, 'index.mjs'))).size);
  }
});

/** The packages a bundle holds: the last `node_modules/<name>` of each input. */
function packagesOf(sources: readonly string[]): Set<string> {
  return new Set(sources.flatMap((source) => /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1] ?? []));
}

describe('the bundles', () => {
  it('are one per pipeline function', () => {
    expect([...sourcesByFunction.keys()].sort()).toEqual([...PIPELINE_FUNCTION_NAMES].sort());
  });

  it.each(PIPELINE_FUNCTION_NAMES)('%s holds none of the modules it never calls', (name) => {
    const packages = packagesOf(sourcesByFunction.get(name) ?? []);
    expect(NEVER_BUNDLED.filter((module) => packages.has(module))).toEqual([]);
  });

  it.each(PIPELINE_FUNCTION_NAMES)('%s is at most 1 MB', (name) => {
    expect(bytesByFunction.get(name)).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  it.each(PIPELINE_FUNCTION_NAMES.filter((name) => name !== 'start-run'))(
    '%s, which calls Gemini, gets the stubs in place of google-auth-library, ws and p-retry',
    (name) => {
      const sources = sourcesByFunction.get(name) ?? [];
      expect(packagesOf(sources).has('@google/genai')).toBe(true);
      for (const module of ['google-auth-library', 'ws', 'p-retry']) {
        expect(sources.some((source) => source.endsWith(`infra/bundling/${module}.stub.ts`))).toBe(true);
      }
    },
  );
});
