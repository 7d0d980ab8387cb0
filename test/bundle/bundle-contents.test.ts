/**
 * What the deployed bundles are made of, read from each function's source map (`sources` lists
 * every input esbuild put in, even without `sourcesContent`): the modules stubbed out in
 * infra/bundling/ stay out, with everything only they brought in, and each stub is what stands in.
 * That the stubs are never called is shown by the workflow suite, which runs these same bundles.
 */
import { readdir, readFile } from 'node:fs/promises';
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
];

/** Function folder → the inputs of its bundle, as the source map names them. */
const sourcesByFunction = new Map<string, string[]>();

beforeAll(async () => {
  const dir = inject('cloudAssemblyDir');
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith('asset.')) continue;
    const map = JSON.parse(await readFile(join(dir, entry, 'index.mjs.map'), 'utf8')) as {
      sources: string[];
    };
    const handler = map.sources.map((source) => /lambdas\/([a-z0-9-]+)\/handler\.ts$/.exec(source)?.[1]);
    const name = handler.find((match) => match !== undefined);
    if (name) sourcesByFunction.set(name, map.sources);
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

  it.each(PIPELINE_FUNCTION_NAMES.filter((name) => name !== 'start-run'))(
    '%s, which calls Gemini, gets the stubs in place of google-auth-library and ws',
    (name) => {
      const sources = sourcesByFunction.get(name) ?? [];
      expect(packagesOf(sources).has('@google/genai')).toBe(true);
      for (const module of ['google-auth-library', 'ws']) {
        expect(sources.some((source) => source.endsWith(`infra/bundling/${module}.stub.ts`))).toBe(true);
      }
    },
  );
});
