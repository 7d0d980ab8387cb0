/**
 * Contract tests for how Gemini's OpenAI-compatible layer refuses, through the real `openai` SDK:
 * keys, unknown batches and files, unsupported endpoints, faults, quotas and the error shape option.
 */
import {
  APIConnectionError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  toFile,
} from 'openai';
import { describe, expect, it } from 'vitest';
import type { GeminiEmulatorOptions } from '../../local/gemini-emulator/index.js';
import { useEmulator } from './emulator-harness.js';
import { chatLine, createBatch, openAi, TIMING, uploadLines } from './openai-harness.js';

describe('OpenAI-compatible layer errors', () => {
  // A wrong key is only wrong when the emulator is given one; by default any key passes.
  const h = useEmulator({ timing: TIMING, apiKey: 'the-one-configured-key' });

  it('answers a request without a bearer key with 401 in OpenAI shape', async () => {
    const oai = openAi(h, { defaultHeaders: { Authorization: null } });

    const refused = oai.batches.list();

    await expect(refused).rejects.toThrow(AuthenticationError);
    await expect(refused).rejects.toMatchObject({ status: 401, error: { type: 'invalid_request_error' } });
  });

  it('answers a wrong bearer key with 401', async () => {
    const refused = openAi(h, { apiKey: 'not-the-key' }).batches.list();

    await expect(refused).rejects.toThrow(AuthenticationError);
    await expect(refused).rejects.toMatchObject({ status: 401 });
  });

  it('raises NotFoundError for an unknown batch, with a list-wrapped Google error body', async () => {
    const refused = openAi(h).batches.retrieve('batches/doesnotexist');

    await expect(refused).rejects.toThrow(NotFoundError);
    // The SDK finds no `error` in a list body, so it has no message of Google's to show.
    await expect(refused).rejects.toHaveProperty('error', undefined);
    const raw = await fetch(`${h.emulator.url}/v1beta/openai/batches/batches%2Fdoesnotexist`, {
      headers: { authorization: `Bearer ${h.emulator.apiKey}` },
    });
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual([
      { error: { code: 404, message: expect.stringContaining('not found'), status: 'NOT_FOUND' } },
    ]);
  });

  it('raises BadRequestError for an endpoint other than chat completions and embeddings', async () => {
    const inputFileId = await uploadLines(h, 'responses.jsonl', [chatLine('r-1', 'hi')]);

    await expect(
      openAi(h).batches.create({
        input_file_id: inputFileId,
        endpoint: '/v1/responses',
        completion_window: '24h',
      }),
    ).rejects.toThrow(BadRequestError);
  });

  it('raises BadRequestError for an input_file_id that is not a native file name', async () => {
    await expect(
      openAi(h).batches.create({
        input_file_id: 'file-abc123',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toThrow(BadRequestError);
  });

  it('raises NotFoundError for an input file that does not exist', async () => {
    await expect(
      openAi(h).batches.create({
        input_file_id: 'files/missing',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toThrow(NotFoundError);
  });

  it("refuses the compatibility layer's own file upload and download, as Google does", async () => {
    const oai = openAi(h);

    const file = await toFile(Buffer.from(`${chatLine('f-1', 'hi')}\n`), 'batch.jsonl', {
      type: 'application/jsonl',
    });

    await expect(oai.files.create({ file, purpose: 'batch' })).rejects.toThrow(NotFoundError);
    await expect(oai.files.content('files/anything')).rejects.toThrow(NotFoundError);
  });

  it('injects http-error and drop-connection faults on the openai.* endpoints', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('fault-http', 'faulty')]);
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'openai.batches.retrieve', status: 503 });
    h.emulator.faults.add({ kind: 'http-error', endpoint: 'openai.batches.list', status: 429 });
    h.emulator.faults.add({ kind: 'drop-connection', endpoint: 'openai.batches.cancel' });

    await expect(oai.batches.retrieve(created.id)).rejects.toThrow(InternalServerError);
    await expect(oai.batches.list()).rejects.toThrow(RateLimitError);
    await expect(oai.batches.cancel(created.id)).rejects.toThrow(APIConnectionError);
    expect((await oai.batches.retrieve(created.id)).status).toBe('validating');
  });
});

describe('OpenAI-compatible layer limits and error shape options', () => {
  const options: GeminiEmulatorOptions = {
    timing: TIMING,
    limits: { enqueuedTokensPerModel: { 'gemini-2.5-flash': 10 } },
    openai: { errorShape: 'object' },
  };
  const h = useEmulator(options);

  it("charges the enqueued-token quota per line's model and answers 429 beyond it", async () => {
    const oai = openAi(h);
    await createBatch(h, oai, [chatLine('q-1', 'x'.repeat(32))]);

    const refused = createBatch(h, oai, [chatLine('q-2', 'x'.repeat(32))]);

    await expect(refused).rejects.toThrow(RateLimitError);
    // Google's generic quota body, which names no model (langchain4j PR #3942).
    await expect(refused).rejects.toMatchObject({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: expect.stringContaining('You exceeded your current quota'),
      },
    });
    // Lines naming another model are charged to that model's own quota, and admitted.
    const other = await createBatch(h, oai, [
      chatLine('q-3', 'x'.repeat(32), { model: 'gemini-2.5-flash-lite' }),
    ]);
    expect(other.status).toBe('validating');
  });

  it('answers errors as a bare Google error object when errorShape is object', async () => {
    const refused = openAi(h).batches.retrieve('batches/doesnotexist');

    await expect(refused).rejects.toThrow(NotFoundError);
    await expect(refused).rejects.toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    await expect(refused).rejects.toThrow('batches/doesnotexist');
  });
});
