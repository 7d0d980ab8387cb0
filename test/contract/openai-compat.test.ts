import { describe, expect, it } from 'vitest';
import { compileJsonSchema, validationErrors } from '../unit/gemini-emulator/model/json-schema-validator.js';
import { useEmulator } from './emulator-harness.js';
import {
  type Batch,
  bodyOf,
  type ChatBody,
  chatLine,
  createBatch,
  downloadOutput,
  type EmbeddingsBody,
  type ErrorBody,
  embeddingsLine,
  openAi,
  TIMING,
  waitForBatch,
} from './openai-harness.js';

describe('OpenAI-compatible batches through the real openai SDK', () => {
  const h = useEmulator({ timing: TIMING });

  it('runs a chat batch from native upload to downloaded results, one line per custom_id', async () => {
    const oai = openAi(h);
    const prompts = ['Name a colour', 'Name a fruit', 'Name a river'];
    const created = await createBatch(
      h,
      oai,
      prompts.map((text, i) => chatLine(`request-${i}`, text)),
    );

    expect(created).toMatchObject({
      object: 'batch',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      request_counts: { total: 3, completed: 0, failed: 0 },
    });
    expect(created.id).toMatch(/^batches\/[a-z0-9]{36}$/);
    expect(created.input_file_id).toMatch(/^files\/[a-z0-9]+$/);
    expect(Number.isInteger(created.created_at)).toBe(true);
    const done = await waitForBatch(h, oai, created.id);

    expect(done.status).toBe('completed');
    expect(done.output_file_id).toBe(`files/batch-${created.id.slice('batches/'.length)}`);
    expect(done.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(done.in_progress_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.in_progress_at ?? 0);
    const output = await downloadOutput(h, done);
    expect([...output.keys()].sort()).toEqual(['request-0', 'request-1', 'request-2']);
    prompts.forEach((prompt, i) => {
      expect(output.get(`request-${i}`)?.response.status_code).toBe(200);
      const body = bodyOf<ChatBody>(output, `request-${i}`);
      expect(body.object).toBe('chat.completion');
      expect(body.model).toBe('gemini-2.5-flash');
      expect(body.choices).toHaveLength(1);
      expect(body.choices[0]).toEqual({
        message: { role: 'assistant', content: expect.stringContaining(prompt) },
        finishReason: 'stop',
      });
      expect(body.usage.promptTokens).toBe(Math.ceil(prompt.length / 4));
      expect(body.usage.totalTokens).toBe(body.usage.promptTokens + body.usage.completionTokens);
    });
  });

  it("writes lines in Gemini's observed shape: camelCase, created as a string, no id, error or index", async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('shape-1', 'Tell me a joke', { max_tokens: 2 })]);
    const done = await waitForBatch(h, oai, created.id);

    const output = await downloadOutput(h, done);

    const line = output.get('shape-1');
    expect(Object.keys(line ?? {}).sort()).toEqual(['custom_id', 'response']);
    expect(Object.keys(line?.response ?? {}).sort()).toEqual(['body', 'status_code']);
    const body = bodyOf<ChatBody>(output, 'shape-1');
    expect(typeof body.created).toBe('string');
    expect(String(body.created)).toMatch(/^\d+$/);
    expect(body.choices[0]).not.toHaveProperty('index');
    expect(body.choices[0]).not.toHaveProperty('finish_reason');
    expect(body.choices[0]?.finishReason).toBe('length');
    expect(Object.keys(body.usage).sort()).toEqual(['completionTokens', 'promptTokens', 'totalTokens']);
  });

  it('varies key order from line to line, so a consumer cannot rely on it', async () => {
    const oai = openAi(h);
    const created = await createBatch(
      h,
      oai,
      ['a', 'b', 'c', 'd'].map((key) => chatLine(key, `order ${key}`)),
    );
    const done = await waitForBatch(h, oai, created.id);

    const lines = [...(await downloadOutput(h, done)).values()];

    const lineOrders = new Set(lines.map((line) => Object.keys(line).join()));
    const bodyOrders = new Set(lines.map((line) => Object.keys(line.response.body).join()));
    expect(lineOrders.size).toBe(2);
    expect(bodyOrders.size).toBe(2);
  });

  it('retrieves a batch whose id carries a slash, percent-encoded by retrieve() and raw by get()', async () => {
    const requested: string[] = [];
    const oai = openAi(h, {
      fetch: (url, init) => {
        requested.push(String(url));
        return fetch(url, init);
      },
    });
    const created = await createBatch(h, openAi(h), [chatLine('slash-1', 'slashes')]);

    const viaRetrieve = await oai.batches.retrieve(created.id);
    const viaGet = await oai.get<Batch>(`/batches/${created.id}`);

    expect(requested[0]).toContain(`/openai/batches/${created.id.replace('/', '%2F')}`);
    expect(requested[1]).toContain(`/openai/batches/${created.id}`);
    expect(viaRetrieve).toEqual(viaGet);
    expect(viaGet.id).toBe(created.id);
  });

  it('answers an embeddings batch with one unit vector per input, indexed, and the model echoed', async () => {
    const oai = openAi(h);
    const created = await createBatch(
      h,
      oai,
      [embeddingsLine('e-1', 'the cat sat', 8), embeddingsLine('e-2', ['the cat slept', 'a dog ran'], 16)],
      '/v1/embeddings',
    );
    const done = await waitForBatch(h, oai, created.id);

    expect(done.status).toBe('completed');
    expect(done.endpoint).toBe('/v1/embeddings');
    const output = await downloadOutput(h, done);
    const single = bodyOf<EmbeddingsBody>(output, 'e-1');
    const pair = bodyOf<EmbeddingsBody>(output, 'e-2');
    expect(single.object).toBe('list');
    expect(single.model).toBe('models/gemini-embedding-001');
    expect(single.data).toHaveLength(1);
    expect(single.data[0]?.object).toBe('embedding');
    expect(single.data[0]?.embedding).toHaveLength(8);
    expect(single.usage.promptTokens).toBe(Math.ceil('the cat sat'.length / 4));
    expect(pair.data.map((item) => item.index)).toEqual([0, 1]);
    for (const item of pair.data) {
      expect(item.embedding).toHaveLength(16);
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 5);
    }
  });

  it('returns JSON that validates against a json_schema response_format, and JSON for json_object', async () => {
    const oai = openAi(h);
    const schema = {
      type: 'object',
      properties: {
        sentiment: { type: 'string', enum: ['positive', 'negative'] },
        score: { type: 'integer', minimum: 1, maximum: 5 },
        tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
      },
      required: ['sentiment', 'score', 'tags'],
      additionalProperties: false,
    };
    const created = await createBatch(h, oai, [
      chatLine('schema-1', 'Great phone, poor battery.', {
        response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } },
      }),
      chatLine('object-1', 'Any JSON will do.', { response_format: { type: 'json_object' } }),
    ]);
    const done = await waitForBatch(h, oai, created.id);

    const output = await downloadOutput(h, done);
    const contentOf = (key: string) => bodyOf<ChatBody>(output, key).choices[0]?.message.content ?? '';
    const validate = compileJsonSchema(schema);
    expect(validationErrors(validate, JSON.parse(contentOf('schema-1')))).toBe('');
    expect(typeof JSON.parse(contentOf('object-1'))).toBe('object');
  });

  it('writes an error line for a line-error marker, a url that differs from the endpoint, and a malformed line', async () => {
    const oai = openAi(h);
    h.emulator.faults.add({ kind: 'line-error', marker: 'PLEASE_FAIL', code: 13, message: 'boom' });
    const created = await createBatch(h, oai, [
      chatLine('ok-1', 'fine'),
      chatLine('fault-1', 'PLEASE_FAIL'),
      embeddingsLine('wrong-url', 'embeddings in a chat batch'),
      '{"custom_id": "broken", not json',
    ]);
    const done = await waitForBatch(h, oai, created.id);

    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 4, completed: 1, failed: 3 });
    const output = await downloadOutput(h, done);
    expect(output.size).toBe(4);
    expect(output.get('ok-1')?.response.status_code).toBe(200);
    expect(output.get('fault-1')?.response).toEqual({
      status_code: 500,
      body: { error: { code: 500, message: 'boom', status: 'INTERNAL' } },
    });
    expect(output.get('wrong-url')?.response.status_code).toBe(400);
    const wrongUrl = bodyOf<ErrorBody>(output, 'wrong-url');
    expect(wrongUrl.error.status).toBe('INVALID_ARGUMENT');
    expect(wrongUrl.error.message).toContain('/v1/chat/completions');
    // A line that is not JSON has no custom_id to echo.
    expect(output.get('')?.response.status_code).toBe(400);
  });
});
