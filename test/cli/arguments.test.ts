/**
 * What `npm start -- <args>` says about bad arguments, before it starts the local stack: a help
 * flag, a directory, a file name the trigger rule would ignore.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './cli-process.js';

/** A line only a started stack prints (local/cli.ts, describeStart). */
const STACK_STARTING = 'Starting the local stack';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cli-arguments-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('npm start arguments', { timeout: 120_000 }, () => {
  it('shows the help for -h as for --help', async () => {
    const short = await runCli(['-h']);
    const long = await runCli(['--help']);

    expect(short.code).toBe(0);
    expect(short.stdout).toContain('Usage:');
    expect(short.stdout).toBe(long.stdout);
  });

  it('says a directory given as the file is a directory, not that it does not exist', async () => {
    const { code, stderr } = await runCli(['examples']);

    expect(code).toBe(1);
    expect(stderr).toContain('examples is a directory: give one .jsonl file');
    expect(stderr).not.toContain('no such file');
  });

  it.each(['requests.txt', 'requests.JSONL'])(
    'refuses %s before starting anything, naming the keys that start runs',
    async (name) => {
      const file = join(scratch, name);
      await copyFile(join(REPO_ROOT, 'examples/generate-text.jsonl'), file);

      const { code, stdout, stderr } = await runCli([file]);

      expect(code).toBe(1);
      expect(stderr).toContain(
        `${name} would start no run: only uploads whose key matches inputs/*.jsonl do`,
      );
      expect(stderr).toContain('case-sensitive');
      expect(stdout).not.toContain(STACK_STARTING);
    },
  );

  it('refuses a --port that is not a port', async () => {
    const { code, stderr } = await runCli(['--port', '70000']);

    expect(code).toBe(1);
    expect(stderr).toContain("--port must be a whole number from 0 to 65535 (0: any free port), got '70000'");
  });
});
