#!/usr/bin/env node
/**
 * Runs `node <args>` on Node 24, the version Lambda runs (nodejs24.x), whatever Node started this
 * script: the tests, the local runner and the benchmarks all go through here, so offline means the
 * same runtime as deployed. Node 24 itself comes from the npm registry (`node-<os>-<arch>@24`,
 * cached by npx after the first use) when this machine's Node is another version.
 */
import { execFileSync, spawn } from 'node:child_process';

const LAMBDA_NODE_MAJOR = 24;

/** This Node if it is Lambda's version; otherwise Node 24's binary, installed into npx's cache. */
function lambdaNode() {
  if (Number(process.versions.node.split('.')[0]) === LAMBDA_NODE_MAJOR) return process.execPath;
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  const pkg = `node-${platform}-${process.arch}@${LAMBDA_NODE_MAJOR}`;
  // Only the path: the command then runs on that binary directly, not under npx, whose environment
  // would make every nested `npx` (esbuild, during cdk synth) look for this package instead.
  const found = execFileSync(
    process.platform === 'win32' ? 'npx.cmd' : 'npx',
    ['--yes', '-p', pkg, '--', 'node', '-p', 'process.execPath'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' },
  );
  return found.trim();
}

const child = spawn(lambdaNode(), process.argv.slice(2), { stdio: 'inherit' });

/**
 * Signals: npm runs this script under `sh -c`, and a signal sent to npm (as `kill <npm pid>` or a
 * process manager sends it) stops npm and that shell but never reaches this process, so the parent
 * is watched too, and the child is stopped when it goes. A SIGTERM or SIGHUP sent to this process
 * is passed on. A Ctrl-C in a terminal reaches the child directly (the terminal signals the whole
 * foreground process group), so SIGINT is passed on only when no terminal sent it: passing it on
 * as well would be the child's second Ctrl-C, which quits a run at once instead of cancelling it.
 */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const forward = (signal) => {
  if (signal === 'SIGINT' && process.stdin.isTTY) return;
  child.kill(signal);
};
for (const signal of FORWARDED) process.on(signal, forward);
const parent = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(parentWatch);
  child.kill('SIGTERM');
}, 500);
parentWatch.unref();

// This process ends as the child did: with its exit code, or by the same signal.
child.on('exit', (code, signal) => {
  clearInterval(parentWatch);
  if (signal) {
    for (const forwarded of FORWARDED) process.off(forwarded, forward);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
child.on('error', (error) => {
  console.error(`could not start Node ${LAMBDA_NODE_MAJOR}: ${error.message}`);
  process.exit(1);
});
