import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEmulator } from './emulator-harness.js';

const MIB = 1024 * 1024;
const requestLog: string[] = [];

/** Deterministic JSONL of roughly `bytes` bytes. */
function jsonlOfSize(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = JSON.stringify({
      key: `k-${i}`,
      request: { contents: [{ parts: [{ text: `row ${i} `.repeat(20) }] }] },
    });
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

describe.each([
  ['v1beta', 'v1beta'],
  ["the SDK's default", undefined],
])('Files API through the real SDK (%s API version)', (_label, apiVersion) => {
  const h = useEmulator({ log: (line) => requestLog.push(line) });

  it('uploads a file larger than 8 MiB in several chunks and gives back the same bytes', async () => {
    const ai = h.sdk(apiVersion);
    const content = jsonlOfSize(9 * MIB);
    const path = join(h.dir, `big-${apiVersion ?? 'default'}.jsonl`);
    await writeFile(path, content);
    requestLog.length = 0;

    const file = await ai.files.upload({
      file: path,
      config: { mimeType: 'application/jsonl', displayName: 'big' },
    });

    const uploadRequests = requestLog.filter((line) => line.startsWith('POST /upload/'));
    expect(uploadRequests).toHaveLength(3); // start, one full 8 MiB chunk, the finalizing rest
    expect(file.sizeBytes).toBe(String(Buffer.byteLength(content)));
    expect(file.sha256Hash).toBe(createHash('sha256').update(content).digest('base64'));
    const downloaded = join(h.dir, 'big-downloaded.jsonl');
    await ai.files.download({ file: file.name ?? '', downloadPath: downloaded });
    expect(await readFile(downloaded, 'utf8')).toBe(content);
  });

  it('describes an uploaded file as Google does', async () => {
    const ai = h.sdk(apiVersion);
    const before = h.emulator.clock.now();
    const content = '{"key":"a","request":{}}\n';
    const file = await ai.files.upload({
      file: new Blob([content], { type: 'application/jsonl' }),
      config: { mimeType: 'application/jsonl', displayName: 'described' },
    });

    const got = await ai.files.get({ name: file.name ?? '' });

    expect(got.name).toMatch(/^files\/[a-z0-9]+$/);
    expect(got).toMatchObject({
      displayName: 'described',
      mimeType: 'application/jsonl',
      sizeBytes: String(content.length),
      state: 'ACTIVE',
      source: 'UPLOADED',
    });
    const lifetimeMs = Date.parse(got.expirationTime ?? '') - Date.parse(got.createTime ?? '');
    expect(lifetimeMs).toBe(48 * 3600 * 1000);
    expect(Date.parse(got.createTime ?? '')).toBeGreaterThanOrEqual(before);
  });

  it('lists every file across pages and ends without a page token', async () => {
    const ai = h.sdk(apiVersion);
    const names = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const file = await ai.files.upload({
        file: new Blob([`{"n":${i}}\n`]),
        config: { mimeType: 'application/jsonl' },
      });
      names.add(file.name ?? '');
    }

    const listed: string[] = [];
    const pager = await ai.files.list({ config: { pageSize: 2 } });
    expect(pager.page).toHaveLength(2);
    for await (const file of pager) listed.push(file.name ?? '');

    expect(new Set(listed).size).toBe(listed.length); // no file twice
    for (const name of names) expect(listed).toContain(name);
    const lastPage = (await (await h.rest(`/v1beta/files?pageSize=1000`)).json()) as Record<string, unknown>;
    expect(lastPage).not.toHaveProperty('nextPageToken');
  });

  it('serves the download URI form as well as the SDK form', async () => {
    const ai = h.sdk(apiVersion);
    const file = await ai.files.upload({ file: new Blob(['hello\n']), config: { mimeType: 'text/plain' } });
    const got = await ai.files.get({ name: file.name ?? '' });
    const path = new URL(got.downloadUri ?? '').pathname;
    expect(path).toMatch(/^\/download\/v\w+\/files\/[a-z0-9]+:download$/);

    const response = await h.rest(`${path}?alt=media`);

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello\n');
  });

  it('deletes a file, after which it is not found', async () => {
    const ai = h.sdk(apiVersion);
    const file = await ai.files.upload({ file: new Blob(['x\n']), config: { mimeType: 'text/plain' } });

    await ai.files.delete({ name: file.name ?? '' });

    await expect(ai.files.get({ name: file.name ?? '' })).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
    });
  });
});
