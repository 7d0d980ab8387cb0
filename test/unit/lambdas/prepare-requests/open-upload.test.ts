import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MODEL_METADATA } from '../../../../lambdas/prepare-requests/file-models.js';
import { type PrepareDeps, prepareRequests } from '../../../../lambdas/prepare-requests/prepare-requests.js';
import { ObjectNotFoundError } from '../../../../lambdas/shared/object-store/object-store.js';
import type { RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import { BUCKET, fixedNow, INPUT_KEY, INPUT_PREFIX, MODELS, runState, WORK } from '../run-fixtures.js';
import { generate, jsonl, preparation, prepare } from './prepare-fixture.js';

describe('prepareRequests: the upload it reads', () => {
  const deps = (store: MemoryObjectStore): PrepareDeps => ({
    store,
    gemini: new FakeGemini(),
    models: MODELS,
    inputPrefix: INPUT_PREFIX,
    now: fixedNow,
  });
  const first = jsonl([{ key: 'old', request: generate('first upload') }]);
  const second = jsonl([{ key: 'new', request: generate('second upload') }]);

  it('fails with InputValidationError, reading nothing, when the file was replaced after the run started', async () => {
    const store = new MemoryObjectStore();
    const uploaded = store.put(BUCKET, INPUT_KEY, first);
    const replaced = store.put(BUCKET, INPUT_KEY, second);

    await expect(prepareRequests(runState({ etag: uploaded.etag }), deps(store))).rejects.toMatchObject({
      name: 'InputValidationError',
      message: `s3://${BUCKET}/${INPUT_KEY} was replaced after this run started (the run is for ETag ${uploaded.etag}, the object now has ${replaced.etag}): the run reads only the upload that started it, so it processed nothing; the new upload starts its own run (enable versioning on the bucket to have each run read its own version instead)`,
    });
    expect(store.keys()).toEqual([`${BUCKET}/${INPUT_KEY}`]);
  });

  it('reads the file while it still has the ETag the run was started for', async () => {
    const store = new MemoryObjectStore();
    const { etag } = store.put(BUCKET, INPUT_KEY, first);
    await prepareRequests(runState({ etag: `"${etag}"` }), deps(store));
    expect(store.jsonLines(BUCKET, WORK.chunk(0))).toEqual([
      { key: 'old', request: generate('first upload') },
    ]);
  });

  it('reads the version the run was started for in a versioned bucket, with that version’s metadata', async () => {
    const store = new MemoryObjectStore();
    const uploaded = store.put(BUCKET, INPUT_KEY, first, { [MODEL_METADATA.generate]: 'gemini-2.5-pro' });
    store.put(BUCKET, INPUT_KEY, second, { [MODEL_METADATA.generate]: 'gemini-3.8-flash' });

    await prepareRequests(runState(uploaded), deps(store));

    const plan = await store.getJson<RunPlan>(BUCKET, WORK.plan);
    expect(plan?.chunks.map((chunk) => chunk.model)).toEqual(['gemini-2.5-pro']);
    expect(store.jsonLines(BUCKET, WORK.chunk(0))).toEqual([
      { key: 'old', request: generate('first upload') },
    ]);
  });

  it.each([
    [
      'gzip-compressed',
      gzipSync(first),
      'is gzip-compressed, not JSONL text: upload the uncompressed file (gunzip it, or upload it without Content-Encoding: gzip) to start a new run',
    ],
    [
      'zstd-compressed',
      Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from(first)]),
      'is zstd-compressed, not JSONL text: upload the uncompressed file to start a new run',
    ],
    [
      'UTF-16',
      Buffer.from(`\uFEFF${first}`, 'utf16le'),
      'is UTF-16 (little-endian) text, not UTF-8: save it as UTF-8 (for example `iconv -f UTF-16LE -t UTF-8 in.jsonl > out.jsonl`) and upload that to start a new run',
    ],
    [
      'big-endian UTF-16 without a BOM',
      Buffer.from(first, 'utf16le').swap16(),
      'is UTF-16 (big-endian) text, not UTF-8: save it as UTF-8 (for example `iconv -f UTF-16BE -t UTF-8 in.jsonl > out.jsonl`) and upload that to start a new run',
    ],
  ])(
    'fails a %s file with one InputValidationError saying what to do, writing nothing',
    async (_, content, says) => {
      const prepared = preparation(content);
      await expect(prepared.run()).rejects.toMatchObject({
        name: 'InputValidationError',
        message: `s3://${BUCKET}/${INPUT_KEY} ${says}; nothing was sent to Gemini`,
      });
      expect((await prepared.outputs()).plan).toBeUndefined();
      expect(prepared.store.keys()).toEqual([`${BUCKET}/${INPUT_KEY}`]);
    },
  );

  it('reads a UTF-8 file with a byte order mark', async () => {
    const { chunkLines } = await prepare(`\uFEFF${first}`);
    expect(chunkLines).toEqual([[{ key: 'old', request: generate('first upload') }]]);
  });

  it('numbers the lines of a file with CR-only line endings as an editor does', async () => {
    const lines = [1, 2, 3].map((n) => JSON.stringify({ key: `k${n}`, request: generate(`${n}`) }));
    const { store, rejected } = await prepare(`${lines[0]}\r${lines[1]}\r\rnot json\r${lines[2]}\r`);
    expect(store.jsonLines(BUCKET, WORK.chunkKeys(0))).toEqual([
      [1, 'k1'],
      [2, 'k2'],
      [5, 'k3'],
    ]);
    expect(rejected.map((entry) => entry.line)).toEqual([4]);
  });

  it('fails when the input object does not exist', async () => {
    const store = new MemoryObjectStore();
    await expect(prepareRequests(runState(), deps(store))).rejects.toThrow(ObjectNotFoundError);
    expect(store.keys()).toEqual([]);
  });
});
