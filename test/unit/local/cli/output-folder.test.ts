import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyRunOutputs, type OutputSource } from '../../../../local/cli/output-folder.js';

let outDir: string;
beforeEach(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'output-folder-'));
});
afterEach(() => rm(outDir, { recursive: true, force: true }));

/** A bucket holding `objects` by key; `failing` keys fail to read as a too-long object does. */
function source(objects: Record<string, string>, failing: readonly string[] = []): OutputSource {
  return {
    inputPrefix: 'inputs/',
    async downloadObject(key, path) {
      if (failing.includes(key)) throw new Error(`cannot read ${key}`);
      const content = objects[key];
      if (content === undefined) return false;
      await writeFile(path, content);
      return true;
    },
  };
}

const results = 'results/a/run-1/results.jsonl';
const manifest = 'results/a/run-1/manifest.json';

describe('copyRunOutputs', () => {
  it("copies the run's files that exist and removes an earlier run's file the run did not write", async () => {
    await writeFile(join(outDir, 'rejected.jsonl'), 'from an earlier run\n');
    const copied = await copyRunOutputs(
      source({ [results]: '{"key":"a"}\n', [manifest]: '{}' }),
      'run-1',
      'inputs/a.jsonl',
      outDir,
    );
    expect(copied).toEqual([join(outDir, 'results.jsonl'), join(outDir, 'manifest.json')]);
    expect(await readFile(join(outDir, 'results.jsonl'), 'utf8')).toBe('{"key":"a"}\n');
    expect((await readdir(outDir)).sort()).toEqual(['manifest.json', 'results.jsonl']);
  });

  it('fails when a file the run wrote cannot be read, instead of reporting it as never written', async () => {
    await expect(
      copyRunOutputs(source({ [manifest]: '{}' }, [results]), 'run-1', 'inputs/a.jsonl', outDir),
    ).rejects.toThrow(`cannot read ${results}`);
  });
});
