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
// Ctrl-C reaches the child through the terminal; a signal sent to this process alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
child.on('error', (error) => {
  console.error(`could not start Node ${LAMBDA_NODE_MAJOR}: ${error.message}`);
  process.exit(1);
});
