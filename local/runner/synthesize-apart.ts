/**
 * The stack's synthesis, run in a child process rather than in the local stack's: aws-cdk-lib keeps
 * what a synth loaded (about 300 MiB of RSS, measured) for as long as the process lives, and the
 * process that synthesizes the template would carry it through the whole run beside the functions'
 * sandboxes. A child takes it away when it exits, as `cdk synth` does before `cdk deploy` uploads.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnTemplate } from '../template/cfn-template.js';

const CHILD = fileURLToPath(new URL('./synthesize-child.mjs', import.meta.url));

let templateOnly: Promise<CfnTemplate> | undefined;

/**
 * The deployable stack's template, synthesized in a child process: bundling skipped, or, given
 * `assemblyDir`, the whole cloud assembly with every function's bundle written there. The template
 * alone is synthesized once per process (the code it describes does not change under a running
 * process, which has loaded it), so tests that start many pipelines wait for one synth.
 */
export function synthesizeApart(options: { readonly assemblyDir?: string } = {}): Promise<CfnTemplate> {
  if (options.assemblyDir !== undefined) return synthesizeInChild(options.assemblyDir);
  templateOnly ??= synthesizeInChild(undefined);
  // A failed synth is not kept: the next pipeline tries again (and reports the error again).
  templateOnly.catch(() => {
    templateOnly = undefined;
  });
  return templateOnly.then((template) => structuredClone(template));
}

async function synthesizeInChild(assemblyDir: string | undefined): Promise<CfnTemplate> {
  const scratch = await mkdtemp(join(tmpdir(), 'gemini-batch-synth-'));
  try {
    const templateFile = join(scratch, 'template.json');
    const argument = JSON.stringify({ templateFile, assemblyDir });
    // The synth's warnings (and esbuild's, when bundling) reach the terminal as they would in-process.
    const child = spawn(process.execPath, [CHILD, argument], { stdio: ['ignore', 'inherit', 'inherit'] });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
    if (code !== 0)
      throw new Error(`synthesizing the stack failed (${signal ?? `exit ${code}`}): see the output above`);
    return JSON.parse(await readFile(templateFile, 'utf8')) as CfnTemplate;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
