/**
 * Contract tests for Google's refusal of unknown request fields ("Invalid JSON payload received.
 * Unknown name … Cannot find field."): inline creates over raw REST (the SDK rebuilds requests from
 * its own types, so it cannot send an unknown field), file batches through the real SDK.
 */
import { describe, expect, it } from 'vitest';
import {
  defined,
  downloadJsonl,
  FAST_JOBS,
  generateLine,
  type Harness,
  uploadJsonl,
  useEmulator,
  waitForJob,
} from './emulator-harness.js';

function createInline(h: Harness, method: string, requests: readonly unknown[]) {
  return h.rest(`/v1beta/models/${method}`, {
    method: 'POST',
    body: JSON.stringify({ batch: { displayName: 'unknown', inputConfig: { requests: { requests } } } }),
  });
}

const hello = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };

describe('unknown request fields (default)', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it("refuses an inline create whose request has an unknown field with Google's 400 and its location", async () => {
    const response = await createInline(h, 'gemini-2.5-flash:batchGenerateContent', [
      { request: hello, metadata: { key: 'fine' } },
      { request: { ...hello, generationConfg: { temperature: 0 } }, metadata: { key: 'typo' } },
    ]);

    expect(response.status).toBe(400);
    const message =
      'Invalid JSON payload received. Unknown name "generationConfg" at ' +
      "'batch.input_config.requests.requests[1].request': Cannot find field.";
    expect(await response.json()).toEqual({
      error: {
        code: 400,
        message,
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [
              { field: 'batch.input_config.requests.requests[1].request', description: message },
            ],
          },
        ],
      },
    });
    const listed = (await (await h.rest('/v1beta/batches')).json()) as { operations?: unknown[] };
    expect(listed.operations ?? []).toHaveLength(0);
  });

  it('names every unknown field, nested ones and ones beside request, one line each', async () => {
    const response = await createInline(h, 'gemini-embedding-001:asyncBatchEmbedContent', [
      { request: { content: { parts: [{ txt: 'a' }] } }, key: 'k-0' },
    ]);

    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message.split('\n')).toEqual([
      'Invalid JSON payload received. Unknown name "key" at \'batch.input_config.requests.requests[0]\': Cannot find field.',
      'Invalid JSON payload received. Unknown name "txt" at \'batch.input_config.requests.requests[0].request.content.parts[0]\': Cannot find field.',
    ]);
  });

  it('accepts snake_case spellings and free-form values such as a JSON schema', async () => {
    const response = await createInline(h, 'gemini-2.5-flash:batchGenerateContent', [
      {
        request: {
          ...hello,
          generation_config: {
            response_mime_type: 'application/json',
            responseJsonSchema: { type: 'object', properties: { anyName: { type: 'string' } } },
          },
        },
      },
    ]);

    expect(response.status).toBe(200);
  });

  it('turns a file line with an unknown field into an error line of code 400, and answers the rest', async () => {
    const ai = h.sdk();
    const fileName = await uploadJsonl(h, ai, 'unknown-fields.jsonl', [
      generateLine('good', 'fine'),
      JSON.stringify({ key: 'bad', request: { ...hello, safetySetting: [] } }),
    ]);
    const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: fileName });
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));

    const lines = await downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));

    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    expect(lines.find((line) => line.key === 'bad')).toEqual({
      key: 'bad',
      error: {
        code: 400,
        message:
          'Invalid JSON payload received. Unknown name "safetySetting" at \'request\': Cannot find field.',
      },
    });
    expect(lines.find((line) => line.key === 'good')).toHaveProperty('response');
  });
});

describe('unknown request fields with refuseUnknownFields false', () => {
  const h = useEmulator({ timing: FAST_JOBS, roughness: { refuseUnknownFields: false } });

  it('accepts and ignores them', async () => {
    const response = await createInline(h, 'gemini-2.5-flash:batchGenerateContent', [
      { request: { ...hello, generationConfg: {} }, key: 'beside' },
    ]);

    expect(response.status).toBe(200);
  });
});
