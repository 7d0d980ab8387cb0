import OpenAI, {
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
import { compileJsonSchema, validationErrors } from '../unit/gemini-emulator/model/json-schema-validator.js';
import { downloadJsonl, type Harness, rawBatch, useEmulator, writeJsonl } from './emulator-harness.js';

const PENDING_MS = 1000;
const RUNNING_MS = 1000;
const CANCELLING_MS = 1000;
const HOUR_MS = 60 * 60 * 1000;
const TIMING = { pendingMs: PENDING_MS, runningMs: RUNNING_MS, cancellingMs: CANCELLING_MS };
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'expired']);

type Batch = OpenAI.Batches.Batch;

/** An output line as Gemini's compatibility layer writes it (not OpenAI's BatchRequestOutput). */
interface OutputLine {
  custom_id?: string;
  response: { status_code: number; body: Record<string, unknown> };
}

interface ChatBody {
  id: string;
  object: string;
  created: unknown;
  model: string;
  choices: { message: { role: string; content: string }; finishReason: string }[];
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
}

interface EmbeddingsBody {
  object: string;
  model: string;
  data: { object: string; embedding: number[]; index: number }[];
  usage: { promptTokens: number; totalTokens: number };
}

interface ErrorBody {
  error: { code: number; message: string; status: string };
}

/** The real `openai` SDK pointed at the emulator's compatibility layer, as Google's docs configure it. */
function openAi(h: Harness, options: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
  return new OpenAI({
    apiKey: h.emulator.apiKey,
    baseURL: `${h.emulator.url}/v1beta/openai/`,
    maxRetries: 0,
    ...options,
  });
}

function chatLine(customId: string, text: string, body: Record<string, unknown> = {}): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: text }], ...body },
  });
}

function embeddingsLine(customId: string, input: string | string[], dimensions = 8): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/embeddings',
    body: { model: 'gemini-embedding-001', input, dimensions },
  });
}

/**
 * Uploads OpenAI-format lines through the native Files API, as Google's recipe does, but with
 * mimeType `application/json`: the recipe's bare `jsonl` is refused (python-genai #1547), and
 * "only application/json worked" (python-genai #1248).
 */
async function uploadLines(h: Harness, name: string, lines: readonly string[]): Promise<string> {
  const path = await writeJsonl(h.dir, name, lines);
  const file = await h
    .sdk('v1beta')
    .files.upload({ file: path, config: { mimeType: 'application/json', displayName: name } });
  return file.name ?? '';
}

async function createBatch(
  h: Harness,
  oai: OpenAI,
  lines: readonly string[],
  endpoint: '/v1/chat/completions' | '/v1/embeddings' = '/v1/chat/completions',
): Promise<Batch> {
  const inputFileId = await uploadLines(h, `input-${Math.random().toString(36).slice(2)}.jsonl`, lines);
  return oai.batches.create({ input_file_id: inputFileId, endpoint, completion_window: '24h' });
}

/** Polls with `retrieve` until the batch is terminal, moving the emulator clock between polls. */
async function waitForBatch(h: Harness, oai: OpenAI, id: string, stepMs = 1000): Promise<Batch> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const batch = await oai.batches.retrieve(id);
    if (TERMINAL.has(batch.status)) return batch;
    h.emulator.clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`batch ${id} did not finish after 500 polls`);
}

async function downloadOutput(h: Harness, batch: Batch): Promise<Map<string, OutputLine>> {
  const lines = (await downloadJsonl(
    h,
    h.sdk('v1beta'),
    batch.output_file_id ?? '',
  )) as unknown as OutputLine[];
  return new Map(lines.map((line) => [line.custom_id ?? '', line]));
}

/** The response body of the output line for `customId`; fails the test when there is no such line. */
function bodyOf<T>(output: Map<string, OutputLine>, customId: string): T {
  const line = output.get(customId);
  if (!line) throw new Error(`no output line for custom_id ${JSON.stringify(customId)}`);
  return line.response.body as unknown as T;
}

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

  it('reports validating, then in_progress, then completed as the emulator clock moves', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('states-1', 'states')]);

    for (let poll = 0; poll < 5; poll++) {
      expect((await oai.batches.retrieve(created.id)).status).toBe('validating');
    }
    h.emulator.clock.advance(PENDING_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('in_progress');
    const done = await waitForBatch(h, oai, created.id, RUNNING_MS);
    expect(done.status).toBe('completed');
  });

  it('reports a job that ends FAILED as failed, with the reason in errors', async () => {
    const oai = openAi(h);
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'FAILED', errorMessage: 'quota ran dry' });
    const created = await createBatch(h, oai, [chatLine('fail-1', 'doomed')]);

    const done = await waitForBatch(h, oai, created.id);

    expect(done.status).toBe('failed');
    expect(done.failed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.output_file_id).toBeNull();
    expect(done.errors?.data?.[0]).toMatchObject({ code: 'INTERNAL', message: 'quota ran dry' });
  });

  it('reports a job that ends EXPIRED as expired, without output', async () => {
    const oai = openAi(h);
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'EXPIRED' });
    const created = await createBatch(h, oai, [chatLine('expire-1', 'too late')]);

    const done = await waitForBatch(h, oai, created.id);

    expect(done.status).toBe('expired');
    expect(done.expired_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.output_file_id).toBeNull();
  });

  it('expires a job held pending for 48 hours without it ever being in progress', async () => {
    const oai = openAi(h);
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'STUCK_PENDING' });
    const created = await createBatch(h, oai, [chatLine('stuck-1', 'waiting')]);

    h.emulator.clock.advance(47 * HOUR_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('validating');
    h.emulator.clock.advance(HOUR_MS);
    const expired = await oai.batches.retrieve(created.id);

    expect(expired.status).toBe('expired');
    expect(expired.expired_at).toBe(expired.expires_at);
    expect(expired).not.toHaveProperty('in_progress_at');
  });

  it('cancels a running batch: cancelling at once, cancelled once the clock moves', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('cancel-1', 'stop me')]);
    h.emulator.clock.advance(PENDING_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('in_progress');

    const cancelling = await oai.batches.cancel(created.id);

    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toBeGreaterThanOrEqual(cancelling.created_at);
    expect((await oai.batches.retrieve(created.id)).status).toBe('cancelling');
    h.emulator.clock.advance(CANCELLING_MS);
    const cancelled = await oai.batches.retrieve(created.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled_at).toBeGreaterThanOrEqual(cancelled.cancelling_at ?? 0);
    expect(cancelled.output_file_id).toBeNull();
  });

  it('refuses to cancel a batch that has already completed', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('late-cancel', 'already done')]);
    await waitForBatch(h, oai, created.id);

    await expect(oai.batches.cancel(created.id)).rejects.toThrow(BadRequestError);
  });

  it('serves a compat-created batch natively as the same resource', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('native-1', 'one resource')]);

    const native = await rawBatch(h, created.id);
    expect(native.name).toBe(created.id);
    expect(native.metadata).toMatchObject({
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
      model: 'models/gemini-2.5-flash',
      inputConfig: { fileName: created.input_file_id },
      state: 'BATCH_STATE_PENDING',
    });
    const done = await waitForBatch(h, oai, created.id);
    const sdkView = await h.sdk('v1beta').batches.get({ name: created.id });
    expect(sdkView.state).toBe('JOB_STATE_SUCCEEDED');
    expect(sdkView.dest?.fileName).toBe(done.output_file_id);
  });

  it('sees a native cancel through the compatibility layer', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('native-cancel', 'cancel natively')]);

    await h.sdk('v1beta').batches.cancel({ name: created.id });

    expect((await rawBatch(h, created.id)).metadata.state).toBe('BATCH_STATE_CANCELLED');
    expect((await oai.batches.retrieve(created.id)).status).toBe('cancelling');
    h.emulator.clock.advance(CANCELLING_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('cancelled');
  });

  it('echoes metadata given at creation', async () => {
    const oai = openAi(h);
    const inputFileId = await uploadLines(h, 'metadata.jsonl', [chatLine('meta-1', 'tagged')]);

    const created = await oai.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 'r-42' },
    });

    expect(created.metadata).toEqual({ run: 'r-42' });
    expect((await oai.batches.retrieve(created.id)).metadata).toEqual({ run: 'r-42' });
  });
});

describe('OpenAI-compatible batch listing', () => {
  const h = useEmulator({ timing: TIMING });

  it('lists batches newest first across pages, following after= cursors to the end', async () => {
    const oai = openAi(h);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await createBatch(h, oai, [chatLine(`list-${i}`, `list ${i}`)])).id);

    const first = await oai.batches.list({ limit: 2 });
    expect(first.data.map((batch) => batch.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const listed: string[] = [];
    for await (const batch of oai.batches.list({ limit: 2 })) listed.push(batch.id);

    expect(listed).toEqual([...ids].reverse());
    const raw = (await oai.get('/batches', { query: { limit: 2, after: ids[1] } })) as Record<
      string,
      unknown
    >;
    expect(raw).toMatchObject({ object: 'list', first_id: ids[0], last_id: ids[0], has_more: false });
  });
});

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
