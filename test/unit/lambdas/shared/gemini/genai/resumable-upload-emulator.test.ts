/**
 * The streamed upload against the Gemini emulator, a receiver as strict as Google's protocol: a
 * connection reset mid-upload is resumed from the offset `query` reports and the stored file is
 * the source byte for byte; a source longer or shorter than declared is never finalized.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JsonlSource } from '../../../../../../lambdas/shared/gemini/gemini-batch-api.js';
import { GeminiRest } from '../../../../../../lambdas/shared/gemini/genai/clients.js';
import { GenaiBatchApi } from '../../../../../../lambdas/shared/gemini/genai-batch-api.js';
import { type GeminiEmulator, startGeminiEmulator } from '../../../../../../local/gemini-emulator/index.js';

const MIB = 1024 * 1024;
let emulator: GeminiEmulator;

beforeAll(async () => {
  emulator = await startGeminiEmulator();
});
afterEach(() => {
  emulator.faults.clear();
  vi.restoreAllMocks();
});
afterAll(() => emulator.stop());

/**
 * `bytes` bytes of JSONL-ish text that differ along the way, in S3-like parts of 64 KiB, declared
 * as `declared`. Parts past the declared size come late, as from a slow S3 read: a receiver has
 * then long had every declared byte, and would finalize if the client had sent them all.
 */
function source(
  bytes: number,
  declared = bytes,
): JsonlSource & { readonly whole: Buffer; opened: number; closed: number } {
  const whole = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += 1) whole[at] = at % 100 === 99 ? 10 : 97 + ((at >> 12) % 26);
  const made = {
    bytes: declared,
    whole,
    opened: 0,
    /** Reads that ended, read to the end or left: an S3 stream left open holds its socket. */
    closed: 0,
    open: async () => {
      made.opened += 1;
      return (async function* () {
        try {
          for (let at = 0; at < bytes; at += 64 * 1024) {
            if (at >= declared) await sleep(300);
            yield whole.subarray(at, at + 64 * 1024);
          }
        } finally {
          made.closed += 1;
        }
      })();
    },
  };
  return made;
}

const api = () => new GenaiBatchApi({ apiKey: emulator.apiKey, baseUrl: emulator.url });

/** The commands and offsets of the requests sent to the upload's URL. */
function watchUploads(): () => { command?: string; offset?: string }[] {
  const spy = vi.spyOn(GeminiRest.prototype, 'toUpload');
  return () =>
    spy.mock.calls.map(([, { headers }]) => ({
      command: headers['x-goog-upload-command'],
      ...(headers['x-goog-upload-offset'] ? { offset: headers['x-goog-upload-offset'] } : {}),
    }));
}

async function storedBytes(name: string): Promise<Buffer> {
  const id = name.slice('files/'.length);
  const response = await fetch(`${emulator.url}/download/v1beta/files/${id}:download?alt=media`, {
    headers: { 'x-goog-api-key': emulator.apiKey },
  });
  return Buffer.from(await response.arrayBuffer());
}

async function storedDisplayNames(): Promise<string[]> {
  const response = await fetch(`${emulator.url}/v1beta/files?pageSize=100`, {
    headers: { 'x-goog-api-key': emulator.apiKey },
  });
  const { files = [] } = (await response.json()) as { files?: { displayName: string }[] };
  return files.map((file) => file.displayName);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('GenaiBatchApi.uploadJsonl against the emulator', () => {
  it('resumes a connection reset mid-upload from the offset Gemini reports; the file is byte-identical', async () => {
    const chunk = source(21 * MIB + 17);
    // Reset 13 MiB in: the emulator keeps the one whole 8 MiB granule that arrived.
    emulator.faults.add({ kind: 'interrupt-upload', afterBytes: 13 * MIB, times: 1 });
    const uploads = watchUploads();

    const name = await api().uploadJsonl(chunk, 'run/resumed');

    expect(uploads()).toEqual([
      { command: 'upload, finalize', offset: '0' },
      { command: 'query' },
      { command: 'upload, finalize', offset: String(8 * MIB) },
    ]);
    expect(sha256(await storedBytes(name))).toBe(sha256(chunk.whole));
    expect(chunk).toMatchObject({ opened: 2, closed: 2 });
  });

  it('resumes from 0 when the reset comes before a whole granule arrived', async () => {
    const chunk = source(3 * MIB);
    emulator.faults.add({ kind: 'interrupt-upload', afterBytes: MIB, times: 1 });
    const uploads = watchUploads();

    const name = await api().uploadJsonl(chunk, 'run/resumed-from-0');

    expect(uploads().map((upload) => upload.offset)).toEqual(['0', undefined, '0']);
    expect(sha256(await storedBytes(name))).toBe(sha256(chunk.whole));
  });

  it.each([
    ['shorter than declared', source(9 * MIB, 10 * MIB), `ended after ${9 * MIB} of ${10 * MIB} bytes`],
    ['longer than declared', source(9 * MIB, 8 * MIB + 1), 'more than the'],
    ['longer than declared, at a part boundary', source(9 * MIB, 8 * MIB), 'more than the'],
  ])('never finalizes a source %s', async (_case, chunk, why) => {
    const displayName = `run/wrong-size-${chunk.bytes}-${chunk.whole.length}`;
    await expect(api().uploadJsonl(chunk, displayName)).rejects.toMatchObject({
      name: 'GeminiUnavailableError',
      message: expect.stringContaining(why),
    });
    expect(await storedDisplayNames()).not.toContain(displayName);
  });
});
