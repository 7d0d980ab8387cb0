import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postStreamed } from '../../../../../../lambdas/shared/gemini/genai/streamed-post.js';

/** A receiver that reads the whole body and then never answers: a stalled Gemini. */
let server: Server;
let url: URL;
beforeAll(async () => {
  server = createServer((request) => request.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`);
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('postStreamed', () => {
  it('gives up a connection that moves no bytes, as a network failure the upload resumes from', async () => {
    async function* body() {
      yield Buffer.from('{"key":"a"}\n');
    }

    await expect(postStreamed(url, { 'content-length': 12 }, body(), 100)).rejects.toThrow(
      new TypeError(`request to ${url.host} failed: no bytes moved for 0.1 s`),
    );
  });
});
