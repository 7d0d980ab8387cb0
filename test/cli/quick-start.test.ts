/**
 * The README's quick start as a user types it: `npm start -- examples/generate-text.jsonl`, in a
 * child process, with a Gemini key in the shell as most Gemini users have. The key must not send
 * the run to the real, billed API: the emulator answers, and the output says so.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

let outDir: string | undefined;
afterEach(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** `npm start -- <args>` (tsx under this Node, which the test command makes Node 24). */
async function npmStart(...args: string[]) {
  outDir = await mkdtemp(join(tmpdir(), 'quick-start-'));
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'local/cli.ts', 'examples/generate-text.jsonl', '--out', outDir, ...args],
    { cwd: REPO_ROOT, env: { ...process.env, GEMINI_API_KEY: 'anything' }, timeout: 120_000 },
  );
  const results = (await readFile(join(outDir, 'results.jsonl'), 'utf8')).trim().split('\n');
  const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as { status: string };
  return { stdout, results, manifest };
}

describe('npm start', { timeout: 180_000 }, () => {
  it('runs the example on the emulator although GEMINI_API_KEY is set, and says so', async () => {
    const { stdout, results, manifest } = await npmStart();

    expect(stdout).toContain('functions from source, the Gemini emulator at http://127.0.0.1:');
    expect(stdout).toContain('GEMINI_API_KEY is set but not used: add --live');
    expect(manifest.status).toBe('SUCCEEDED');
    expect(results).toHaveLength(3);
  });

  it('cancels the run on Ctrl-C: its jobs stopped, the manifest CANCELLED, exit status 3', async () => {
    outDir = await mkdtemp(join(tmpdir(), 'quick-start-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/cli.ts', 'examples/generate-text.jsonl', '--out', outDir],
      { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      // The jobs exist and are still running on the emulator's clock: interrupt now.
      if (stdout.includes('Submit Batch Jobs: done') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(stdout).toContain('Cancelling run');
    expect(code).toBe(3);
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as {
      status: string;
      reason: string;
    };
    expect(manifest.status).toBe('CANCELLED');
    expect(manifest.reason).toContain('cancelled with Ctrl-C');
  });

  it('runs the bundles cdk deploy uploads with --bundled', async () => {
    const { stdout, manifest } = await npmStart('--bundled');

    expect(stdout).toContain('bundled functions, the Gemini emulator');
    expect(manifest.status).toBe('SUCCEEDED');
  });
});
