/**
 * Contract tests for the Models API and the model checks of batch creates: the real SDK's
 * `models.get`/`models.list`, raw REST for the fields the SDK renames, Google's 404 wording, and jobs
 * on retired models, which Gemini accepts and expires (python-genai #2439).
 */
import type { Model } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  type CatalogueModel,
  DEFAULT_ENQUEUED_TOKEN_LIMITS,
  GEMINI_MODELS,
  RETIRED_MODELS,
} from '../../local/gemini-emulator/index.js';
import {
  defined,
  FAST_JOBS,
  HOUR_MS,
  type RawOperation,
  rawBatch,
  useEmulator,
  waitForJob,
} from './emulator-harness.js';

const CURRENT_IDS = [
  'gemini-3.8-flash',
  'gemini-3.5-flash',
  'gemini-3.5-flash-lite',
  'gemini-3.1-pro-preview',
  'gemini-3-flash-preview',
  'gemini-3.1-flash-lite-preview',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-embedding-2',
  'gemini-embedding-001',
];
const EMBEDDING_IDS = ['gemini-embedding-2', 'gemini-embedding-001'];

describe('the model catalogue', () => {
  it('holds the current models under the API ids people use, each with a source', () => {
    expect(GEMINI_MODELS.map((model) => model.id)).toEqual(CURRENT_IDS);
    for (const model of GEMINI_MODELS) expect(model.source.length).toBeGreaterThan(10);
  });

  it('lists batch and embedding methods by kind of model', () => {
    for (const model of GEMINI_MODELS) {
      const methods = model.supportedGenerationMethods;
      if (EMBEDDING_IDS.includes(model.id)) {
        expect(methods).toEqual(expect.arrayContaining(['embedContent', 'asyncBatchEmbedContent']));
        expect(methods).not.toContain('batchGenerateContent');
      } else {
        expect(methods).toEqual(
          expect.arrayContaining(['generateContent', 'countTokens', 'batchGenerateContent']),
        );
        expect(methods).not.toContain('asyncBatchEmbedContent');
      }
    }
  });

  it('gives every batch-capable model an enqueued-token limit, and nothing else one', () => {
    expect(Object.keys(DEFAULT_ENQUEUED_TOKEN_LIMITS).sort()).toEqual([...CURRENT_IDS].sort());
    expect(DEFAULT_ENQUEUED_TOKEN_LIMITS['gemini-2.5-pro']).toBe(5_000_000);
    expect(DEFAULT_ENQUEUED_TOKEN_LIMITS['gemini-2.5-flash']).toBe(3_000_000);
    expect(DEFAULT_ENQUEUED_TOKEN_LIMITS['gemini-2.5-flash-lite']).toBe(10_000_000);
  });

  it('retires the Gemini 2.0 ids on 2026-06-01', () => {
    const retired = RETIRED_MODELS.map((model) => model.id);
    expect(retired).toEqual(expect.arrayContaining(['gemini-2.0-flash', 'gemini-2.0-flash-lite']));
    for (const model of RETIRED_MODELS) {
      expect(model.id).toMatch(/^gemini-2\.0-/);
      expect(model.retiredOn).toBe('2026-06-01');
    }
  });
});

describe('Models API through the real SDK', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('describes a model with models.get as Google renders it', async () => {
    const model = await h.sdk().models.get({ model: 'gemini-3.8-flash' });

    expect(model).toMatchObject({
      name: 'models/gemini-3.8-flash',
      displayName: 'Gemini 3.8 Flash',
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
    });
    // The SDK renames supportedGenerationMethods: raw REST shows Google's own field names.
    expect(model.supportedActions).toContain('batchGenerateContent');
    const raw = (await (await h.rest('/v1beta/models/gemini-embedding-001')).json()) as Record<
      string,
      unknown
    >;
    expect(raw).toMatchObject({
      name: 'models/gemini-embedding-001',
      baseModelId: 'gemini-embedding-001',
      version: '001',
      displayName: 'Gemini Embedding 001',
      description: expect.any(String),
      inputTokenLimit: 2048,
      outputTokenLimit: 1,
      supportedGenerationMethods: expect.arrayContaining(['embedContent', 'asyncBatchEmbedContent']),
    });
  });

  it('lists every model across pages with models.list, the last page without a token', async () => {
    const ai = h.sdk();
    const listed: Model[] = [];
    const pager = await ai.models.list({ config: { pageSize: 4 } });
    expect(pager.page).toHaveLength(4);
    for await (const model of pager) listed.push(model);

    expect(listed.map((model) => model.name)).toEqual(CURRENT_IDS.map((id) => `models/${id}`));
    let page: Record<string, unknown> = { nextPageToken: '' };
    const sizes: number[] = [];
    while (typeof page.nextPageToken === 'string') {
      const token = page.nextPageToken === '' ? '' : `&pageToken=${page.nextPageToken}`;
      page = (await (await h.rest(`/v1beta/models?pageSize=4${token}`)).json()) as Record<string, unknown>;
      sizes.push((page.models as unknown[]).length);
    }
    expect(sizes).toEqual([4, 4, 3]);
    expect(page).not.toHaveProperty('nextPageToken');
  });

  it("answers an unknown model with Google's 404 NOT_FOUND", async () => {
    const refused = h.sdk('v1beta').models.get({ model: 'gemini-9-ultra' });

    await expect(refused).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
      message: expect.stringContaining('"status":"NOT_FOUND"'),
    });
    await expect(refused).rejects.toThrow(
      /"message":"models\/gemini-9-ultra is not found for API version v1beta, or is not supported for /,
    );
  });

  it('refuses a batch on an unknown model, or on a model without that batch method, with 404', async () => {
    const ai = h.sdk('v1beta');
    await expect(
      ai.batches.create({ model: 'gemini-9-ultra', src: [{ contents: 'hi' }] }),
    ).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
      message: expect.stringContaining(
        'models/gemini-9-ultra is not found for API version v1beta, or is not supported for batchGenerateContent.',
      ),
    });
    await expect(
      ai.batches.create({ model: 'gemini-embedding-001', src: [{ contents: 'hi' }] }),
    ).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
      message: expect.stringContaining('or is not supported for batchGenerateContent'),
    });
    expect((await ai.batches.list()).page).toHaveLength(0);
  });
});

describe('jobs on retired models (default)', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('answers models.get on a retired model with 404, yet accepts a batch on it that never runs and expires', async () => {
    const ai = h.sdk();
    await expect(ai.models.get({ model: 'gemini-2.0-flash' })).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
    });

    const job = await ai.batches.create({
      model: 'gemini-2.0-flash',
      src: [{ contents: 'hello from the past', metadata: { key: 'old-1' } }],
      config: { displayName: 'retired' },
    });
    const name = defined(job.name, 'job.name');
    expect(job.state).toBe('JOB_STATE_PENDING');
    h.emulator.clock.advance(47 * HOUR_MS);
    expect((await ai.batches.get({ name })).state).toBe('JOB_STATE_PENDING');
    h.emulator.clock.advance(HOUR_MS);

    const done = await ai.batches.get({ name });
    expect(done.state).toBe('JOB_STATE_EXPIRED');
    expect(done.dest).toBeUndefined();
    const raw: RawOperation = await rawBatch(h, name);
    expect(raw.metadata.output).toBeUndefined();
    expect(raw).not.toHaveProperty('error');
  });

  it('accepts embedding batches on retired ids too', async () => {
    const created = await h.rest('/v1beta/models/gemini-2.0-flash-lite:asyncBatchEmbedContent', {
      method: 'POST',
      body: JSON.stringify({
        batch: {
          inputConfig: { requests: { requests: [{ request: { content: { parts: [{ text: 'x' }] } } }] } },
        },
      }),
    });

    expect(created.status).toBe(200);
  });
});

describe('models options', () => {
  // Gemini 2.0 Flash as it was before its retirement, served again.
  const revived: CatalogueModel = {
    ...(GEMINI_MODELS.find((model) => model.id === 'gemini-2.5-flash') as CatalogueModel),
    id: 'gemini-2.0-flash',
    baseModelId: 'gemini-2.0-flash',
    displayName: 'Gemini 2.0 Flash',
  };
  const h = useEmulator({
    timing: FAST_JOBS,
    models: [revived],
    roughness: { retiredModels: [] },
  });

  it('serves a custom catalogue, and runs jobs on a model no longer marked retired', async () => {
    const ai = h.sdk();
    const listed: string[] = [];
    for await (const model of await ai.models.list()) listed.push(model.name ?? '');
    expect(listed).toEqual(['models/gemini-2.0-flash']);

    const job = await ai.batches.create({ model: 'gemini-2.0-flash', src: [{ contents: 'revived' }] });
    expect((await waitForJob(ai, h.emulator, defined(job.name, 'job.name'))).state).toBe(
      'JOB_STATE_SUCCEEDED',
    );
    await expect(
      ai.batches.create({ model: 'gemini-2.5-flash', src: [{ contents: 'x' }] }),
    ).rejects.toMatchObject({ name: 'ApiError', status: 404 });
  });
});
