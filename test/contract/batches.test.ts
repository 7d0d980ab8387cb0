import { describe, expect, it } from 'vitest';
import {
  downloadJsonl,
  embedLine,
  firstCandidateText,
  generateLine,
  type Harness,
  rawBatch,
  uploadJsonl,
  useEmulator,
  waitForJob,
} from './emulator-harness.js';

const PENDING_MS = 1000;
const RUNNING_MS = 1000;

/** Waits (in real time) until the emulator has computed the job's answers, shown by a non-zero count. */
async function waitForProgress(h: Harness, name: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const batch = await rawBatch(h, name);
    if (batch.metadata.batchStats.successfulRequestCount !== undefined) return batch;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no progress on ${name}`);
}

describe.each([
  ['v1beta', 'v1beta'],
  ["the SDK's default", undefined],
])('Batch API through the real SDK (%s API version)', (_label, apiVersion) => {
  const h = useEmulator({ timing: { pendingMs: PENDING_MS, runningMs: RUNNING_MS } });

  it('runs a generate file batch from upload to downloaded results, one line per key', async () => {
    const ai = h.sdk(apiVersion);
    const prompts = ['Name a colour', 'Name a fruit', 'Name a river'];
    const fileName = await uploadJsonl(
      h,
      ai,
      'generate.jsonl',
      prompts.map((text, i) => generateLine(`req-${i}`, text)),
    );

    const created = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: fileName,
      config: { displayName: 'gen-file' },
    });
    expect(created.state).toBe('JOB_STATE_PENDING');
    expect(created.model).toBe('models/gemini-2.5-flash');
    const done = await waitForJob(ai, h.emulator, created.name ?? '');

    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    expect(done.displayName).toBe('gen-file');
    expect(done.dest?.fileName).toBe(`files/batch-${created.name?.slice('batches/'.length)}`);
    const lines = await downloadJsonl(h, ai, done.dest?.fileName ?? '');
    // Lines come back in a seeded order (see rough-gemini.test.ts): match them by key.
    expect(lines.map((line) => line.key).sort()).toEqual(['req-0', 'req-1', 'req-2']);
    prompts.forEach((_, i) => {
      const line = lines.find((candidate) => candidate.key === `req-${i}`);
      const text = firstCandidateText(line);
      expect(text).toContain(prompts[i]);
      expect(text).toContain('emulated');
      const response = line?.response as {
        usageMetadata: { promptTokenCount: number; candidatesTokenCount: number; totalTokenCount: number };
      };
      const usage = response.usageMetadata;
      expect(usage.promptTokenCount).toBe(Math.ceil((prompts[i] ?? '').length / 4));
      expect(usage.totalTokenCount).toBe(usage.promptTokenCount + usage.candidatesTokenCount);
    });
  });

  it('runs an inline generate batch and returns every response with its metadata', async () => {
    const ai = h.sdk(apiVersion);
    const created = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: [
        { contents: 'first question', metadata: { key: 'in-1' } },
        { contents: 'second question', config: { systemInstruction: 'Be terse' }, metadata: { key: 'in-2' } },
      ],
      config: { displayName: 'gen-inline' },
    });

    const done = await waitForJob(ai, h.emulator, created.name ?? '');

    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const responses = done.dest?.inlinedResponses ?? [];
    expect(responses.map((item) => item.metadata?.key).sort()).toEqual(['in-1', 'in-2']);
    const second = responses.find((item) => item.metadata?.key === 'in-2');
    expect(second?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toContain('second question');
  });

  it('runs an embeddings file batch with one vector line per key', async () => {
    const ai = h.sdk(apiVersion);
    const fileName = await uploadJsonl(h, ai, 'embed.jsonl', [
      embedLine('e-1', 'the cat sat', 8),
      embedLine('e-2', 'the cat slept', 8),
    ]);

    const created = await ai.batches.createEmbeddings({ model: 'gemini-embedding-001', src: { fileName } });
    const done = await waitForJob(ai, h.emulator, created.name ?? '');

    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const lines = await downloadJsonl(h, ai, done.dest?.fileName ?? '');
    expect(lines.map((line) => line.key).sort()).toEqual(['e-1', 'e-2']);
    for (const line of lines) {
      const response = line.response as { embedding: { values: number[] }; tokenCount: string };
      expect(response.embedding.values).toHaveLength(8);
      expect(Math.hypot(...response.embedding.values)).toBeCloseTo(1, 5);
      expect(typeof response.tokenCount).toBe('string');
    }
  });

  it('runs an inline embeddings batch', async () => {
    const ai = h.sdk(apiVersion);
    const created = await ai.batches.createEmbeddings({
      model: 'gemini-embedding-001',
      src: { inlinedRequests: { contents: ['alpha', 'beta gamma'], config: { outputDimensionality: 16 } } },
    });

    const done = await waitForJob(ai, h.emulator, created.name ?? '');

    const embeddings = done.dest?.inlinedEmbedContentResponses ?? [];
    expect(embeddings).toHaveLength(2);
    expect(embeddings.map((item) => item.response?.embedding?.values?.length)).toEqual([16, 16]);
  });

  it('returns inline embedding errors where the SDK expects them when every item fails', async () => {
    const ai = h.sdk(apiVersion);
    const created = await ai.batches.createEmbeddings({
      model: 'gemini-embedding-001',
      src: { inlinedRequests: { contents: ['one', 'two'], config: { outputDimensionality: 0 } } },
    });

    const done = await waitForJob(ai, h.emulator, created.name ?? '');

    expect(done.dest?.inlinedEmbedContentResponses).toBeUndefined();
    const errors = done.dest?.inlinedResponses ?? [];
    expect(errors.map((item) => item.error?.code)).toEqual([3, 3]);
  });

  it('lists batches across pages, newest first, and ends the last page without a token', async () => {
    const ai = h.sdk(apiVersion);
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: [{ contents: `list ${i}` }] });
      names.push(job.name ?? '');
    }

    const pager = await ai.batches.list({ config: { pageSize: 2 } });
    expect(pager.page).toHaveLength(2);
    expect(pager.page.map((job) => job.name)).toEqual([names[2], names[1]]);
    const listed: string[] = [];
    for await (const job of pager) listed.push(job.name ?? '');

    expect(listed.slice(0, 3)).toEqual([...names].reverse());
    expect(new Set(listed).size).toBe(listed.length);
    const everything = (await (await h.rest('/v1beta/batches?pageSize=1000')).json()) as Record<
      string,
      unknown
    >;
    expect(everything).not.toHaveProperty('nextPageToken');
  });

  it('cancels a pending batch and a running batch', async () => {
    const ai = h.sdk(apiVersion);
    const pending = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: [{ contents: 'cancel me early' }],
    });
    await ai.batches.cancel({ name: pending.name ?? '' });
    expect((await ai.batches.get({ name: pending.name ?? '' })).state).toBe('JOB_STATE_CANCELLED');

    const running = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: [{ contents: 'cancel me later' }],
    });
    h.emulator.clock.advance(PENDING_MS + RUNNING_MS / 2);
    expect((await ai.batches.get({ name: running.name ?? '' })).state).toBe('JOB_STATE_RUNNING');
    await ai.batches.cancel({ name: running.name ?? '' });

    const cancelled = await ai.batches.get({ name: running.name ?? '' });
    expect(cancelled.state).toBe('JOB_STATE_CANCELLED');
    expect(cancelled.dest).toBeUndefined();
    h.emulator.clock.advance(RUNNING_MS * 10);
    expect((await ai.batches.get({ name: running.name ?? '' })).state).toBe('JOB_STATE_CANCELLED');
  });

  it('deletes a batch, after which it is not found', async () => {
    const ai = h.sdk(apiVersion);
    const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: [{ contents: 'short-lived' }] });

    await ai.batches.delete({ name: job.name ?? '' });

    await expect(ai.batches.get({ name: job.name ?? '' })).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
    });
  });

  it('returns JSON that follows the requested response schema', async () => {
    const ai = h.sdk(apiVersion);
    const responseSchema = {
      type: 'OBJECT',
      properties: {
        sentiment: { type: 'STRING', enum: ['positive', 'negative'] },
        score: { type: 'INTEGER', minimum: 1, maximum: 5 },
      },
      required: ['sentiment', 'score'],
    };
    const fileName = await uploadJsonl(h, ai, 'json.jsonl', [
      generateLine('review-1', 'Great phone, poor battery.', {
        generationConfig: { responseMimeType: 'application/json', responseSchema },
      }),
    ]);

    const created = await ai.batches.create({ model: 'gemini-2.5-flash', src: fileName });
    const done = await waitForJob(ai, h.emulator, created.name ?? '');

    const [line] = await downloadJsonl(h, ai, done.dest?.fileName ?? '');
    const value = JSON.parse(firstCandidateText(line)) as { sentiment: string; score: number };
    expect(['positive', 'negative']).toContain(value.sentiment);
    expect(Number.isInteger(value.score) && value.score >= 1 && value.score <= 5).toBe(true);
  });
});

describe('Batch lifecycle on the emulator clock (raw REST, which the SDK partly hides)', () => {
  const h = useEmulator({ timing: { pendingMs: PENDING_MS, runningMs: RUNNING_MS } });

  it('stays pending however often it is polled until the clock moves', async () => {
    const ai = h.sdk('v1beta');
    const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: [{ contents: 'patience' }] });

    for (let poll = 0; poll < 20; poll++) {
      expect((await ai.batches.get({ name: job.name ?? '' })).state).toBe('JOB_STATE_PENDING');
    }
    h.emulator.clock.advance(PENDING_MS);
    expect((await ai.batches.get({ name: job.name ?? '' })).state).toBe('JOB_STATE_RUNNING');
  });

  it('reports progress in batchStats while running, as int64 strings with zero counts left out', async () => {
    const ai = h.sdk('v1beta');
    const fileName = await uploadJsonl(
      h,
      ai,
      'progress.jsonl',
      Array.from({ length: 10 }, (_, i) => generateLine(`p-${i}`, `progress ${i}`)),
    );
    const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: fileName });

    const pending = await rawBatch(h, job.name ?? '');
    expect(pending.metadata.state).toBe('BATCH_STATE_PENDING');
    expect(pending.metadata.batchStats).toEqual({ requestCount: '10', pendingRequestCount: '10' });
    expect(pending).not.toHaveProperty('done');

    h.emulator.clock.advance(PENDING_MS + RUNNING_MS / 2);
    const running = await waitForProgress(h, job.name ?? '');
    expect(running.metadata.state).toBe('BATCH_STATE_RUNNING');
    expect(running.metadata.batchStats).toEqual({
      requestCount: '10',
      successfulRequestCount: '5',
      pendingRequestCount: '5',
    });

    h.emulator.clock.advance(RUNNING_MS);
    const succeeded = await rawBatch(h, job.name ?? '');
    expect(succeeded.done).toBe(true);
    expect(succeeded.metadata.state).toBe('BATCH_STATE_SUCCEEDED');
    expect(succeeded.metadata.batchStats).toEqual({ requestCount: '10', successfulRequestCount: '10' });
    expect(succeeded.metadata.output).toEqual({ responsesFile: `files/batch-${job.name?.slice(8)}` });
    expect(succeeded.response).toMatchObject({ responsesFile: succeeded.metadata.output?.responsesFile });
  });

  it('wraps every batch in a long-running Operation with typed metadata', async () => {
    const ai = h.sdk('v1beta');
    const job = await ai.batches.createEmbeddings({
      model: 'gemini-embedding-001',
      src: { inlinedRequests: { contents: ['typed'] } },
      config: { displayName: 'typed' },
    });

    const batch = await rawBatch(h, job.name ?? '');

    expect(batch.name).toMatch(/^batches\/[a-z0-9]{36}$/);
    expect(batch.metadata).toMatchObject({
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.EmbedContentBatch',
      model: 'models/gemini-embedding-001',
      displayName: 'typed',
      name: batch.name,
    });
  });
});
