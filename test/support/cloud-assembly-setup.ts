/**
 * Global setup of the `bundled` test project: synthesizes the stack once with bundling, as
 * `cdk deploy` would, and hands the cloud assembly's directory to the tests (`inject`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { synthesizeCloudAssembly } from '../../local/template/synthesize.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The bundled cloud assembly, in the `bundled` project; absent in the `source` one. */
    cloudAssemblyDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'gemini-batch-assembly-'));
  synthesizeCloudAssembly(dir);
  project.provide('cloudAssemblyDir', dir);
  return () => rm(dir, { recursive: true, force: true });
}
