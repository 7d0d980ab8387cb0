/**
 * `npm start` with no file (serve mode) as a user runs it: on the port asked for, the local S3 on
 * loopback unless `--host` opens it, and stopped with its children when npm's process is stopped.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { accepts, eventually, freePort, isAlive, networkAddress, printed, REPO_ROOT } from './cli-process.js';

const UP = 'Local pipeline up';

/** Process groups a test started, killed after it whatever it asserted. */
const groups: number[] = [];
afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone: what the test wanted
    }
  }
});

describe('npm start (serve mode)', { timeout: 180_000 }, () => {
  it('serves S3 on --port, on loopback only, and stops with its children on SIGTERM to npm', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--', '--port', String(port)], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    groups.push(npm.pid as number);
    const stdout = await printed(npm, UP);

    expect(stdout).toContain(`S3 endpoint http://127.0.0.1:${port}, bucket`);
    expect(await accepts('127.0.0.1', port)).toBe(true);
    expect(await accepts(networkAddress(), port)).toBe(false);

    npm.kill('SIGTERM');
    // npm stops its shell, which never passes the signal on: the wrapper must notice, stop Node 24.
    expect(await eventually(async () => !(await accepts('127.0.0.1', port)), 20_000)).toBe(true);
    // Nothing of the process group npm led is left (npm, sh, with-node24, Node 24, esbuild).
    expect(await eventually(() => !isAlive(-(npm.pid as number)), 20_000)).toBe(true);
  });

  it('listens on the network with --host 0.0.0.0, and SIGINT to with-node24 stops it, exiting as its child did', async () => {
    const port = await freePort();
    const wrapper = spawn(
      'node',
      [
        'tools/with-node24.mjs',
        '--import',
        'tsx',
        'local/cli.ts',
        '--port',
        String(port),
        '--host',
        '0.0.0.0',
      ],
      { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    groups.push(wrapper.pid as number);
    await printed(wrapper, UP);

    expect(await accepts(networkAddress(), port)).toBe(true);

    const exited = new Promise<number | null>((resolve) => wrapper.on('exit', (code) => resolve(code)));
    wrapper.kill('SIGINT');

    expect(await exited).toBe(0);
    expect(await accepts('127.0.0.1', port)).toBe(false);
  });
});
