import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What one run of the `gemini-batch` command printed, and how it exited. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const BIN = fileURLToPath(new URL('../../cli/bin.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs the `gemini-batch` bin as a user would, in a child process whose environment holds only
 * `environment` (the local stack's endpoints, region and credentials) besides PATH: no profile,
 * no shell credentials, so the standard chain can only find what the local stack gave.
 */
export function runGeminiBatch(
  args: readonly string[],
  environment: Readonly<Record<string, string>>,
  home: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...environment },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (piece: Buffer) => {
      stdout += piece.toString();
    });
    child.stderr.on('data', (piece: Buffer) => {
      stderr += piece.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
