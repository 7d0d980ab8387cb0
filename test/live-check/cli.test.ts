import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { GeminiEmulator } from '../../local/gemini-emulator/index.js';
import { ASSUMPTIONS } from '../../local/live-check/assumptions.js';
import type { LiveCheckReport } from '../../local/live-check/check.js';
import { startCheckEmulator } from '../../local/live-check/emulator.js';
import { leftOn } from './helpers.js';

interface Run {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves once stderr has shown a line containing `text`. */
  readonly saw: (text: string) => Promise<void>;
}

/** Runs the command as `npm run check:live` does, on this Node, with exactly `env` for its environment. */
function runCli(args: readonly string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/live-check/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.filter((w) => stderr.includes(w.text))) waiter.resolve();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const saw = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (stderr.includes(text)) return resolve();
      waiters.push({ text, resolve });
      void done.then(() => reject(new Error(`the command ended before printing "${text}":\n${stderr}`)));
    });
  return { child, done, saw };
}

let emulator: GeminiEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

describe('npm run check:live', () => {
  it('refuses to run without a key, and says how to run it', async () => {
    const { code, stdout, stderr } = await runCli([]).done;

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('GEMINI_API_KEY is not set');
    expect(stderr).toContain('--emulator');
  });

  it('refuses --gemini-url without a key too: it never falls back to anything', async () => {
    const { code, stderr } = await runCli(['--gemini-url', 'http://127.0.0.1:9']).done;

    expect(code).toBe(1);
    expect(stderr).toContain('GEMINI_API_KEY is not set');
  });

  it('explains itself with --help', async () => {
    const { code, stdout } = await runCli(['--help']).done;

    expect(code).toBe(0);
    for (const flag of [
      '--gemini-url',
      '--json',
      '--timeout',
      '--emulator',
      '--generate-model',
      '--embed-model',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('runs against an in-process emulator with --emulator, and prints JSON with --json', async () => {
    const { code, stdout, stderr } = await runCli(['--emulator', '--json']).done;

    expect(code).toBe(0);
    expect(stderr).toContain('Worst-case cost: $');
    const report = JSON.parse(stdout) as LiveCheckReport;
    expect(report.rows.map((r) => r.id)).toEqual(ASSUMPTIONS.map((a) => a.id));
    expect(report.endpoint).toMatch(/^in-process Gemini emulator/);
    expect(report.counts).toEqual({ confirmed: ASSUMPTIONS.length - 1, contradicted: 0, 'not seen': 1 });
  });

  it('checks any endpoint with --gemini-url and the key, and never prints the key', async () => {
    emulator = await startCheckEmulator();
    const apiKey = 'AIzaSy-live-check-test-key-0123456789';

    const { code, stdout, stderr } = await runCli(['--gemini-url', emulator.url, '--timeout', '5m'], {
      GEMINI_API_KEY: apiKey,
    }).done;

    expect(code).toBe(0);
    expect(stdout).toContain(`| Endpoint | ${emulator.url}, API \`v1beta\` |`);
    expect(stdout).toContain('| Timeout | 5 min |');
    expect(stdout.split('\n').filter((line) => line.startsWith('| `'))).toHaveLength(ASSUMPTIONS.length);
    expect(stdout + stderr).not.toContain(apiKey);
    expect(await leftOn(emulator)).toEqual({ batches: [], files: [] });
  });

  it('cleans up what it created when interrupted with Ctrl-C', async () => {
    // Jobs that stay pending: the Ctrl-C finds the check waiting for them.
    emulator = await startCheckEmulator({ timing: { pendingMs: 60 * 60 * 1000 } });
    const run = runCli(['--gemini-url', emulator.url], { GEMINI_API_KEY: 'any-key' });

    await run.saw('waiting');
    expect((await leftOn(emulator)).batches.length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const { code, stdout } = await run.done;

    expect(code).toBe(130);
    expect(stdout).toContain('The check was interrupted: rows it did not reach say "not seen".');
    expect(await leftOn(emulator)).toEqual({ batches: [], files: [] });
  });
});
