/**
 * What the local stack and the CLI load: not aws-cdk-lib. The synth runs in a child process of its
 * own (`local/runner/synthesize-apart.ts`), and a process that imported a construct, even for a
 * constant, would hold about 65 MiB of CDK code for the whole run (docs/benchmarks.md). Read from
 * esbuild's import graph of each entry point, packages left out.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function cdkImports(entry: string): Promise<string[]> {
  const { metafile } = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  return Object.entries(metafile.inputs).flatMap(([file, { imports }]) =>
    imports
      .filter(
        ({ path }) => path === 'aws-cdk-lib' || path.startsWith('aws-cdk-lib/') || path === 'constructs',
      )
      .map(({ path }) => `${file} -> ${path}`),
  );
}

describe('the import graph', () => {
  it.each(['local/cli.ts', 'local/local-pipeline.ts', 'cli/main.ts'])(
    'of %s holds no aws-cdk-lib',
    async (entry) => {
      expect(await cdkImports(entry)).toEqual([]);
    },
  );

  it('of the synth does, so the check above would see one', async () => {
    expect(await cdkImports('local/template/synthesize.ts')).toContain(
      'local/template/synthesize.ts -> aws-cdk-lib',
    );
  });
});
