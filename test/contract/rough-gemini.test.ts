/**
 * The emulator's rough edges, each as the real SDK meets it: one file because they share one seeded emulator
 * setup and read as a list of Google's reported behaviours, longer than 300 lines for that reason.
 */
import { describe, expect, it } from 'vitest';
import {
  type GeminiEmulatorOptions,
  ROUGH_GEMINI,
  startGeminiEmulator,
} from '../../local/gemini-emulator/index.js';
import { embedContent } from '../../local/gemini-emulator/model/index.js';
import { GEMINI_QUOTA_429 } from '../fixtures/gemini-quota-429.js';
import {
  createInlineRest,
  defined,
  downloadJsonl,
  embedLine,
  FAST_JOBS,
  FLASH,
  firstCandidateText,
  generateLine,
  type Harness,
  type InlineAnswer,
  inlineAnswers,
  items,
  keysOf,
  type RawOperation,
  rawBatch,
  uploadJsonl,
  useEmulator,
  waitForJob,
} from './emulator-harness.js';

describe('inline answers: reordered, with echoed keys (defaults)', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('answers inline generate requests out of request order, each under its own key', async () => {
    const ai = h.sdk();
    const asked = items('gen', 6);
    const job = await ai.batches.create({
      model: FLASH,
      src: asked.map(({ key, text }) => ({ contents: text, metadata: { key } })),
    });

    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));

    const answers = done.dest?.inlinedResponses ?? [];
    const keys = answers.map((answer) => answer.metadata?.key);
    expect(keys).not.toEqual(asked.map(({ key }) => key));
    expect([...keys].sort()).toEqual(asked.map(({ key }) => key).sort());
    for (const answer of answers) {
      const question = asked.find(({ key }) => key === answer.metadata?.key);
      expect(answer.response?.candidates?.[0]?.content?.parts?.[0]?.text).toContain(question?.text);
    }
  });

  it('echoes metadata on inline embedding answers too, and reorders them', async () => {
    const ai = h.sdk();
    const asked = items('emb', 5);
    const created = await createInlineRest(h, 'embed', 'gemini-embedding-001', asked);

    const done = await waitForJob(ai, h.emulator, created.name);

    const answers = done.dest?.inlinedEmbedContentResponses ?? [];
    expect(answers.map((answer) => answer.metadata?.key)).not.toEqual(asked.map(({ key }) => key));
    for (const { key, text } of asked) {
      const answer = answers.find((candidate) => candidate.metadata?.key === key);
      const expected = embedContent({ content: { parts: [{ text }] }, outputDimensionality: 8 });
      expect(answer?.response?.embedding?.values).toEqual(expected.embedding.values);
    }
  });

  it('replays the same order for the same requests', async () => {
    const ai = h.sdk();
    const asked = items('replay', 8);
    const first = await inlineAnswers(h, ai, (await createInlineRest(h, 'generate', FLASH, asked)).name);
    const second = await inlineAnswers(h, ai, (await createInlineRest(h, 'generate', FLASH, asked)).name);

    expect(keysOf(second)).toEqual(keysOf(first));
  });

  it('carries the inline answers twice: under metadata.output and under response', async () => {
    const ai = h.sdk();
    const name = (await createInlineRest(h, 'generate', FLASH, items('twice', 3))).name;
    await waitForJob(ai, h.emulator, name);

    const operation = await rawBatch(h, name);

    const output = operation.metadata.output as { inlinedResponses: { inlinedResponses: InlineAnswer[] } };
    expect(output.inlinedResponses.inlinedResponses).toHaveLength(3);
    expect(operation.response).toEqual({
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput',
      inlinedResponses: output.inlinedResponses,
    });
  });
});

describe('inline answers with the switches turned', () => {
  const inOrder = useEmulator({ timing: FAST_JOBS, roughness: { shuffleInlineAnswers: false } });
  const keyless = useEmulator({ timing: FAST_JOBS, roughness: { inlineMetadataDropRate: 1 } });
  const someKeyless = useEmulator({ timing: FAST_JOBS, roughness: { inlineMetadataDropRate: 0.5 } });

  it('keeps request order when shuffleInlineAnswers is false', async () => {
    const asked = items('ordered', 6);
    const name = (await createInlineRest(inOrder, 'generate', FLASH, asked)).name;

    const answers = await inlineAnswers(inOrder, inOrder.sdk(), name);

    expect(keysOf(answers)).toEqual(asked.map(({ key }) => key));
  });

  it('drops the metadata of every answer at inlineMetadataDropRate 1, generate and embed alike', async () => {
    for (const kind of ['generate', 'embed'] as const) {
      const model = kind === 'generate' ? FLASH : 'gemini-embedding-001';
      const name = (await createInlineRest(keyless, kind, model, items(`keyless-${kind}`, 4))).name;

      const answers = await inlineAnswers(keyless, keyless.sdk(), name);

      expect(answers).toHaveLength(4);
      for (const answer of answers) expect(answer).not.toHaveProperty('metadata');
    }
  });

  it('drops the metadata of a seeded share of answers at a rate between 0 and 1', async () => {
    const name = (await createInlineRest(someKeyless, 'generate', FLASH, items('some', 20))).name;

    const answers = await inlineAnswers(someKeyless, someKeyless.sdk(), name);

    const withKey = answers.filter((answer) => answer.metadata?.key !== undefined).length;
    expect(withKey).toBeGreaterThan(0);
    expect(withKey).toBeLessThan(20);
  });
});

describe('result files: lines out of input order, echoing every field but request (defaults)', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('writes the lines of a file batch in another order than the input, each answer under its key', async () => {
    const ai = h.sdk();
    const prompts = Array.from({ length: 8 }, (_, i) => `Tell me about river ${i}`);
    const fileName = await uploadJsonl(
      h,
      ai,
      'shuffled.jsonl',
      prompts.map((text, i) => generateLine(`k-${i}`, text)),
    );
    const job = await ai.batches.create({ model: FLASH, src: fileName });
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));

    const lines = await downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));

    const keys = lines.map((line) => line.key);
    expect(keys).not.toEqual(prompts.map((_, i) => `k-${i}`));
    expect([...keys].sort()).toEqual(prompts.map((_, i) => `k-${i}`).sort());
    for (const line of lines) {
      expect(firstCandidateText(line)).toContain(prompts[Number(String(line.key).slice(2))]);
    }
  });

  it('reorders a file longer than its reordering window and still answers every key once', async () => {
    const ai = h.sdk();
    const count = 3000;
    const fileName = await uploadJsonl(
      h,
      ai,
      'long.jsonl',
      Array.from({ length: count }, (_, i) => embedLine(`long-${i}`, `word ${i}`, 2)),
    );
    const job = await ai.batches.createEmbeddings({ model: 'gemini-embedding-001', src: { fileName } });
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));

    const lines = await downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));

    const keys = lines.map((line) => String(line.key));
    expect(new Set(keys).size).toBe(count);
    const displaced = keys.filter((key, position) => key !== `long-${position}`).length;
    expect(displaced).toBeGreaterThan(count / 2);
  });

  it('echoes every top-level field of an input line except request', async () => {
    const ai = h.sdk();
    const line = JSON.stringify({
      key: 'echo-1',
      request: { contents: [{ parts: [{ text: 'echo me' }] }] },
      customerId: 42,
      tags: ['a', 'b'],
      note: { nested: true },
    });
    const fileName = await uploadJsonl(h, ai, 'echo.jsonl', [line, generateLine('echo-2', 'plain')]);
    const job = await ai.batches.create({ model: FLASH, src: fileName });
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));

    const lines = await downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));

    const echoed = lines.find((candidate) => candidate.key === 'echo-1');
    expect(echoed).toMatchObject({ customerId: 42, tags: ['a', 'b'], note: { nested: true } });
    expect(echoed).not.toHaveProperty('request');
    expect(Object.keys(lines.find((candidate) => candidate.key === 'echo-2') ?? {}).sort()).toEqual([
      'key',
      'response',
    ]);
  });
});

describe('result files with shuffleResultLines false', () => {
  const h = useEmulator({ timing: FAST_JOBS, roughness: { shuffleResultLines: false } });

  it('writes the lines in input order', async () => {
    const ai = h.sdk();
    const keys = Array.from({ length: 8 }, (_, i) => `in-order-${i}`);
    const fileName = await uploadJsonl(
      h,
      ai,
      'in-order.jsonl',
      keys.map((key) => generateLine(key, `about ${key}`)),
    );
    const job = await ai.batches.create({ model: FLASH, src: fileName });
    const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));

    const lines = await downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));

    expect(lines.map((line) => line.key)).toEqual(keys);
  });
});

describe('embedding usage per model', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it('reports usageMetadata on gemini-embedding-2 lines and tokenCount on gemini-embedding-001 lines', async () => {
    const ai = h.sdk();
    const text = 'twelve chars';
    const usage = async (model: string) => {
      const fileName = await uploadJsonl(h, ai, `${model}.jsonl`, [embedLine(`${model}-1`, text, 4)]);
      const job = await ai.batches.createEmbeddings({ model, src: { fileName } });
      const done = await waitForJob(ai, h.emulator, defined(job.name, 'job.name'));
      const [line] = await downloadJsonl(h, ai, defined(done.dest?.fileName, 'dest.fileName'));
      return line?.response as Record<string, unknown>;
    };

    const modern = await usage('gemini-embedding-2');
    const legacy = await usage('gemini-embedding-001');

    expect(modern.usageMetadata).toEqual({ promptTokenCount: 3, totalTokenCount: 3 });
    expect(modern).not.toHaveProperty('tokenCount');
    expect(legacy.tokenCount).toBe('3');
    expect(legacy).not.toHaveProperty('usageMetadata');
  });

  it('reports usageMetadata on inline gemini-embedding-2 answers', async () => {
    const name = (await createInlineRest(h, 'embed', 'gemini-embedding-2', items('modern', 2))).name;

    const answers = await inlineAnswers(h, h.sdk(), name);

    for (const answer of answers) {
      expect(answer.response).toMatchObject({ usageMetadata: { promptTokenCount: expect.any(Number) } });
      expect(answer.response).not.toHaveProperty('tokenCount');
    }
  });
});

describe('stale counts in listings (default)', () => {
  const h = useEmulator({ timing: FAST_JOBS });
  const fresh = useEmulator({ timing: FAST_JOBS, roughness: { staleListStats: false } });

  async function listedAndGot(harness: Harness) {
    const ai = harness.sdk();
    const name = (await createInlineRest(harness, 'generate', FLASH, items('stale', 6))).name;
    await waitForJob(ai, harness.emulator, name);
    const listing = (await (await harness.rest('/v1beta/batches?pageSize=100')).json()) as {
      operations: RawOperation[];
    };
    const listed = defined(
      listing.operations.find((operation) => operation.name === name),
      'the job in the listing',
    );
    return { listed, got: await rawBatch(harness, name) };
  }

  it('lists a succeeded job with the pending count it started with, while GET is current', async () => {
    const { listed, got } = await listedAndGot(h);

    expect(listed.metadata.state).toBe('BATCH_STATE_SUCCEEDED');
    expect(listed.metadata.batchStats).toEqual({ requestCount: '6', pendingRequestCount: '6' });
    expect(got.metadata.batchStats).toEqual({ requestCount: '6', successfulRequestCount: '6' });
  });

  it('lists current counts when staleListStats is false', async () => {
    const { listed } = await listedAndGot(fresh);

    expect(listed.metadata.batchStats).toEqual({ requestCount: '6', successfulRequestCount: '6' });
  });
});

describe('the ROUGH_GEMINI preset', () => {
  it('turns on every intermittent quirk at a modest seeded rate', () => {
    const kinds = (ROUGH_GEMINI.faults ?? []).map((fault) => fault.kind);
    expect(new Set(kinds)).toEqual(
      new Set(['http-error', 'upload-no-file', 'upload-not-final', 'refuse-mime-type']),
    );
    for (const fault of ROUGH_GEMINI.faults ?? []) {
      expect('rate' in fault && fault.rate !== undefined && fault.rate > 0 && fault.rate <= 0.2).toBe(true);
    }
    expect(ROUGH_GEMINI.faults).toContainEqual(
      expect.objectContaining({ kind: 'http-error', endpoint: '*', status: 429 }),
    );
    expect(ROUGH_GEMINI.faults).toContainEqual(
      expect.objectContaining({ kind: 'refuse-mime-type', mimeType: 'application/jsonl' }),
    );
    const dropRate = ROUGH_GEMINI.roughness?.inlineMetadataDropRate ?? 0;
    expect(dropRate > 0 && dropRate <= 0.2).toBe(true);
  });

  it('answers some of many reads with the generic 429, and the rest normally', async () => {
    // Its own emulator: a harness clears faults after each test, the preset's included.
    const emulator = await startGeminiEmulator({ ...ROUGH_GEMINI, timing: FAST_JOBS });
    try {
      const statuses: number[] = [];
      for (let call = 0; call < 200; call++) {
        const response = await fetch(`${emulator.url}/v1beta/models`, {
          headers: { 'x-goog-api-key': emulator.apiKey },
        });
        statuses.push(response.status);
        if (response.status === 429) expect(await response.json()).toEqual(GEMINI_QUOTA_429);
        else await response.body?.cancel();
      }

      expect(statuses).toContain(429);
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(180);
    } finally {
      await emulator.stop();
    }
  });
});

describe('options', () => {
  it('rejects a metadata drop rate outside 0..1', async () => {
    const options: GeminiEmulatorOptions = { roughness: { inlineMetadataDropRate: 2 } };
    await expect(startGeminiEmulator(options)).rejects.toThrow(/inlineMetadataDropRate/);
  });
});
