/**
 * What `npm start -- FILE` prints while a run starts and when it ends, and what it leaves in the
 * output folder: the whole command, spawned as a user types it, against the emulator.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, REPO_ROOT, runCli } from './cli-process.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cli-run-output-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('npm start -- examples/embeddings.jsonl', { timeout: 240_000 }, () => {
  let run: CliResult;
  beforeAll(async () => {
    run = await runCli(['examples/embeddings.jsonl', '--out', join(scratch, 'embeddings')]);
  }, 240_000);

  it('says what it is starting before the stack is up', () => {
    const lines = run.stdout.split('\n');
    const running = lines.findIndex((line) => line.startsWith('Running examples/embeddings.jsonl'));

    expect(lines[0]).toBe("Reading the stack's trigger rule and state machine (synthesizing the CDK app)…");
    expect(lines[1]).toMatch(
      /^Starting the local stack: S3 on 127\.0\.0\.1, the Gemini emulator, the functions from source/,
    );
    expect(running).toBe(2);
  });

  it('shows the cost of a run too cheap for the manifest to round above $0', async () => {
    const manifest = JSON.parse(await readFile(join(scratch, 'embeddings', 'manifest.json'), 'utf8')) as {
      cost: { total: number };
    };

    expect(run.code).toBe(0);
    expect(manifest.cost.total).toBe(0);
    expect(run.stdout).toContain('  estimated cost at batch prices: < $0.0001');
  });
});

describe('npm start -- a file of 1,200 requests', { timeout: 240_000 }, () => {
  it('writes counts with thousands separators', async () => {
    const file = join(scratch, 'many.jsonl');
    const line = (n: number) =>
      JSON.stringify({
        key: `r-${n}`,
        request: { contents: [{ role: 'user', parts: [{ text: `say ${n}` }] }] },
      });
    await writeFile(file, `${Array.from({ length: 1200 }, (_, n) => line(n)).join('\n')}\n`);

    const { code, stdout } = await runCli([file, '--out', join(scratch, 'many')]);

    expect(code).toBe(0);
    expect(stdout).toContain('Prepare Requests: 1,200 accepted, 0 rejected');
    expect(stdout).toContain('of 1,200 requests done');
    expect(stdout).toContain('lines 1,200 · accepted 1,200 · rejected 0 · succeeded 1,200 · failed 0');
    expect(stdout).toMatch(/gemini-[\w.-]+: 1,200 requests, [\d,]+ prompt/);
  });
});

describe('npm start -- FILE --out DIR, after an earlier run into DIR', { timeout: 240_000 }, () => {
  it('leaves beside a failed run only its own files, and what else the folder held', async () => {
    const outDir = join(scratch, 'reused');
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir);
    await writeFile(join(outDir, 'results.jsonl'), '{"key":"from-an-earlier-run"}\n');
    await writeFile(join(outDir, 'notes.txt'), 'mine\n');
    // A gzip file named .jsonl: the run fails in Prepare, before any results.jsonl is written.
    const file = join(scratch, 'compressed.jsonl');
    await writeFile(file, gzipSync(await readFile(join(REPO_ROOT, 'examples/generate-text.jsonl'))));

    const { code } = await runCli([file, '--out', outDir]);
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as { status: string };

    expect(code).toBe(1);
    expect(manifest.status).toBe('FAILED');
    expect((await readdir(outDir)).sort()).not.toContain('results.jsonl');
    expect(await readFile(join(outDir, 'notes.txt'), 'utf8')).toBe('mine\n');
  });
});
