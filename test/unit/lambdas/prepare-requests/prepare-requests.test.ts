import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  MODEL_METADATA,
  type PrepareDeps,
  prepareRequests,
} from '../../../../lambdas/prepare-requests/prepare-requests.js';
import { estimateLineTokens } from '../../../../lambdas/prepare-requests/token-estimate.js';
import { GeminiUnavailableError } from '../../../../lambdas/shared/errors.js';
import { BATCH_METHODS, type ModelInfo } from '../../../../lambdas/shared/gemini/gemini-batch-api.js';
import type { PreparedRun } from '../../../../lambdas/shared/run/state-payloads.js';
import type { RunPlan } from '../../../../lambdas/shared/run/work-records.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import {
  BUCKET,
  fixedNow,
  INPUT_KEY,
  INPUT_PREFIX,
  MODELS,
  RESULTS_ROOT,
  RUN_ID,
  rejection,
  runState,
  WORK,
} from '../run-fixtures.js';

const REJECTED_KEY = `${RESULTS_ROOT}rejected.jsonl`;

interface Prepared {
  readonly store: MemoryObjectStore;
  readonly outcome?: PreparedRun;
  readonly error?: Error;
  readonly plan: RunPlan | undefined;
  readonly rejected: { line: number; reason: string; excerpt: string }[];
  /** Each chunk's `{"key","request"}` lines, parsed, by chunk index. */
  readonly chunkLines: { key: string; request: Record<string, unknown> }[][];
}

async function prepare(content: string | Buffer, options: Partial<PrepareDeps> = {}): Promise<Prepared> {
  const store = new MemoryObjectStore();
  store.put(BUCKET, INPUT_KEY, content);
  const deps: PrepareDeps = {
    store,
    gemini: new FakeGemini(),
    models: MODELS,
    inputPrefix: INPUT_PREFIX,
    now: fixedNow,
    ...options,
  };
  let outcome: PreparedRun | undefined;
  let error: Error | undefined;
  try {
    outcome = await prepareRequests(runState(), deps);
  } catch (caught) {
    error = caught as Error;
  }
  const plan = await store.getJson<RunPlan>(BUCKET, WORK.plan);
  return {
    store,
    ...(outcome ? { outcome } : {}),
    ...(error ? { error } : {}),
    plan,
    rejected: store.jsonLines(BUCKET, REJECTED_KEY) as Prepared['rejected'],
    chunkLines: (plan?.chunks ?? []).map(
      (chunk) => store.jsonLines(BUCKET, chunk.key) as Prepared['chunkLines'][number],
    ),
  };
}

const jsonl = (values: readonly unknown[]): string =>
  values.map((value) => `${JSON.stringify(value)}\n`).join('');
const generate = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });
const embed = (text: string) => ({ content: { parts: [{ text }] } });

/** A small deterministic generator (LCG), so the "random" file is the same on every run. */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('prepareRequests', () => {
  it('writes the accepted requests as {"key","request"} lines into one chunk and returns the counts', async () => {
    const { outcome, plan, chunkLines, store } = await prepare(
      jsonl([
        { key: 'a', request: generate('first') },
        { key: 'b', request: generate('second') },
      ]),
    );
    expect(outcome).toEqual({ chunkCount: 1, acceptedCount: 2, rejectedCount: 0 });
    expect(chunkLines).toEqual([
      [
        { key: 'a', request: generate('first') },
        { key: 'b', request: generate('second') },
      ],
    ]);
    expect(plan?.chunks).toEqual([
      {
        index: 0,
        format: 'gemini',
        kind: 'generate',
        model: MODELS.generate,
        key: `work/${RUN_ID}/chunks/chunk-00000.jsonl`,
        keysKey: `work/${RUN_ID}/chunks/chunk-00000.keys.jsonl`,
        requestCount: 2,
        bytes: Buffer.byteLength(store.text(BUCKET, WORK.chunk(0)) ?? ''),
        estimatedTokens: [
          { key: 'a', request: generate('first') },
          { key: 'b', request: generate('second') },
        ]
          .map((line) => JSON.stringify(line))
          .reduce((sum, text) => sum + estimateLineTokens(text, Buffer.byteLength(text), {}), 0),
        firstLine: 1,
      },
    ]);
    expect(store.jsonLines(BUCKET, WORK.chunkKeys(0))).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('starts a new chunk when the next request would pass the per-job request limit', async () => {
    const lines = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, request: generate(`prompt ${i}`) }));
    const { plan, chunkLines } = await prepare(jsonl(lines), { chunkLimits: { maxRequests: 2 } });

    expect(chunkLines.map((chunk) => chunk.map((line) => line.key))).toEqual([
      ['k0', 'k1'],
      ['k2', 'k3'],
      ['k4'],
    ]);
    expect(plan?.chunks.map((chunk) => chunk.firstLine)).toEqual([1, 3, 5]);
  });

  it('starts a new chunk when the next request would pass the per-job byte or token budget', async () => {
    const long = 'word '.repeat(200); // about 250 tokens
    const lines = Array.from({ length: 4 }, (_, i) => ({ key: `t${i}`, request: generate(`${i} ${long}`) }));
    const byTokens = await prepare(jsonl(lines), { chunkLimits: { maxTokens: 600 } });
    const byBytes = await prepare(jsonl(lines), { chunkLimits: { maxBytes: 2500 } });

    expect(byTokens.plan?.chunks.map((chunk) => chunk.requestCount)).toEqual([2, 2]);
    expect(byTokens.plan?.chunks.every((chunk) => chunk.estimatedTokens <= 600)).toBe(true);
    expect(byBytes.plan?.chunks.map((chunk) => chunk.requestCount)).toEqual([2, 2]);
    expect(byBytes.plan?.chunks.every((chunk) => chunk.bytes <= 2500)).toBe(true);
  });

  it('cuts chunks of a model to the per-model token budget it is given', async () => {
    const long = 'word '.repeat(200); // about 250 tokens
    const lines = Array.from({ length: 4 }, (_, i) => ({ key: `t${i}`, request: generate(`${i} ${long}`) }));
    const { plan } = await prepare(jsonl(lines), { tokensPerJob: { [MODELS.generate]: 600 } });
    expect(plan?.chunks.map((chunk) => chunk.requestCount)).toEqual([2, 2]);
  });

  it('rejects a single request larger than one job may be, naming the limit', async () => {
    const { rejected, chunkLines } = await prepare(
      jsonl([
        { key: 'huge', request: generate('word '.repeat(400)) },
        { key: 'small', request: generate('hi') },
      ]),
      { chunkLimits: { maxTokens: 100 } },
    );

    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.line).toBe(1);
    expect(rejected[0]?.reason).toMatch(/too large for one batch job: about \d+ input tokens \(limit 100/);
    expect(chunkLines).toEqual([[{ key: 'small', request: generate('hi') }]]);
  });

  it("takes a file's models from its object metadata, while a line's own model still wins", async () => {
    const store = new MemoryObjectStore();
    store.put(
      BUCKET,
      INPUT_KEY,
      jsonl([
        { key: 'g', request: generate('one') },
        { key: 'e', request: embed('two') },
        { key: 'm', request: { ...embed('three'), model: 'models/own-embedder' } },
      ]),
      { [MODEL_METADATA.generate]: 'gemini-2.5-pro', [MODEL_METADATA.embed]: 'models/custom-embedder' },
    );

    await prepareRequests(runState(), {
      store,
      gemini: new FakeGemini(),
      models: MODELS,
      inputPrefix: INPUT_PREFIX,
      now: fixedNow,
    });

    const plan = await store.getJson<RunPlan>(BUCKET, WORK.plan);
    expect(plan?.chunks.map((chunk) => chunk.model)).toEqual([
      'gemini-2.5-pro',
      'custom-embedder',
      'own-embedder',
    ]);
  });

  it('refuses a model in object metadata that is not a model name, naming the metadata', async () => {
    const store = new MemoryObjectStore();
    store.put(BUCKET, INPUT_KEY, jsonl([{ key: 'g', request: generate('one') }]), {
      [MODEL_METADATA.generate]: 'two words',
    });

    const error = await rejection(
      prepareRequests(runState(), {
        store,
        gemini: new FakeGemini(),
        models: MODELS,
        inputPrefix: INPUT_PREFIX,
      }),
    );

    expect(error.name).toBe('InputValidationError');
    expect(error.message).toBe(
      "object metadata gemini-model must be a model name such as gemini-2.5-flash, got 'two words'",
    );
  });

  it('lets a later line use the key of a line rejected as too large', async () => {
    const { rejected, chunkLines } = await prepare(
      jsonl([
        { key: 'x', request: generate('word '.repeat(400)) },
        { key: 'x', request: generate('short') },
      ]),
      { chunkLimits: { maxTokens: 100 } },
    );

    expect(rejected.map((entry) => entry.line)).toEqual([1]);
    expect(chunkLines).toEqual([[{ key: 'x', request: generate('short') }]]);
  });

  it('keeps each chunk of a mixed file in input order with its line numbers', async () => {
    const { store, plan } = await prepare(
      jsonl([
        { key: 'g1', request: generate('one') },
        { key: 'e1', request: embed('two') },
        { key: 'g2', request: generate('three') },
      ]),
    );

    expect(plan?.chunks.map((chunk) => [chunk.kind, chunk.firstLine])).toEqual([
      ['generate', 1],
      ['embed', 2],
    ]);
    expect(store.jsonLines(BUCKET, WORK.chunkKeys(0))).toEqual([
      [1, 'g1'],
      [3, 'g2'],
    ]);
    expect(store.jsonLines(BUCKET, WORK.chunkKeys(1))).toEqual([[2, 'e1']]);
  });

  it('writes one chunk per kind and model', async () => {
    const { plan, chunkLines, outcome } = await prepare(
      jsonl([
        { key: 'g1', request: generate('one') },
        { key: 'e1', request: embed('two') },
        { key: 'g2', request: generate('three') },
        { key: 'x1', request: { model: 'models/text-embedding-other', ...embed('four') } },
        { key: 'e2', request: embed('five') },
      ]),
    );
    expect(outcome?.chunkCount).toBe(3);
    expect(
      plan?.chunks.map(({ index, kind, model, requestCount }) => ({ index, kind, model, requestCount })),
    ).toEqual([
      { index: 0, kind: 'generate', model: MODELS.generate, requestCount: 2 },
      { index: 1, kind: 'embed', model: MODELS.embed, requestCount: 2 },
      { index: 2, kind: 'embed', model: 'text-embedding-other', requestCount: 1 },
    ]);
    expect(chunkLines.map((lines) => lines.map((line) => line.key))).toEqual([
      ['g1', 'g2'],
      ['e1', 'e2'],
      ['x1'],
    ]);
  });

  it('records the line, accepted and rejected counts in plan.json', async () => {
    const { plan } = await prepare(
      `${jsonl([{ key: 'a', request: generate('x') }])}\n   \nnot json\n${jsonl([{ key: 'b', request: embed('y') }, [1]])}`,
    );
    expect(plan).toMatchObject({
      runId: RUN_ID,
      bucket: BUCKET,
      inputKey: INPUT_KEY,
      lineCount: 4,
      acceptedCount: 2,
      rejectedCount: 2,
      preparedAt: fixedNow().toISOString(),
    });
  });

  it('writes each rejected line with its line number, reason and excerpt', async () => {
    const { rejected } = await prepare(`${jsonl([{ key: 'a', request: generate('x') }])}\nnot json\n[1,2]\n`);
    expect(rejected).toEqual([
      { line: 3, reason: expect.stringMatching(/^not valid JSON: /), excerpt: 'not json' },
      { line: 4, reason: 'expected a JSON object, got an array', excerpt: '[1,2]' },
    ]);
  });

  it('rejects a line whose request has a field Gemini does not know, naming it, and sends the rest', async () => {
    const { rejected, chunkLines, plan } = await prepare(
      jsonl([
        { key: 'a', request: generate('first') },
        { key: 'b', request: { ...generate('second'), generationConfg: { temperature: 0 } } },
        { key: 'c', request: { ...embed('third'), task_typ: 'CLUSTERING' } },
        { key: 'd', request: generate('fourth') },
      ]),
    );
    expect(rejected.map(({ line, reason }) => ({ line, reason }))).toEqual([
      {
        line: 2,
        reason:
          'unknown field "generationConfg" in the request (did you mean "generationConfig"?): Gemini refuses requests with unknown fields',
      },
      {
        line: 3,
        reason:
          'unknown field "task_typ" in the request (did you mean "task_type"?): Gemini refuses requests with unknown fields',
      },
    ]);
    expect(chunkLines.flat().map((line) => line.key)).toEqual(['a', 'd']);
    expect(plan).toMatchObject({ acceptedCount: 2, rejectedCount: 2 });
  });

  it("does not check OpenAI-format lines against Gemini's own request schema", async () => {
    const body = {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
      response_format: { type: 'text' },
    };
    const { rejected, plan } = await prepare(
      jsonl([{ custom_id: 'o', method: 'POST', url: '/v1/chat/completions', body }]),
    );
    expect(rejected).toEqual([]);
    expect(plan?.chunks.map((chunk) => chunk.format)).toEqual(['openai']);
  });

  it('bounds the excerpt of a rejected line to its first 200 characters', async () => {
    const bad = JSON.stringify({ key: 'long', request: { prompt: 'p'.repeat(1000) } });
    const { rejected } = await prepare(`${jsonl([{ key: 'a', request: generate('x') }])}${bad}\n`);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.excerpt).toBe(bad.slice(0, 200));
  });

  it('keeps the first line of a duplicated key and rejects the later ones, naming the first line', async () => {
    const { chunkLines, rejected, plan } = await prepare(
      jsonl([
        { key: 'same', request: generate('first') },
        { key: 'other', request: generate('other') },
        { key: 'same', request: generate('second') },
        { key: 'same', request: embed('third') },
      ]),
    );
    const sent = chunkLines.flat();
    expect(sent.filter((line) => line.key === 'same')).toEqual([{ key: 'same', request: generate('first') }]);
    expect(rejected.map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 3, reason: 'duplicate key "same": line 1 already uses it' },
      { line: 4, reason: 'duplicate key "same": line 1 already uses it' },
    ]);
    expect(plan).toMatchObject({ acceptedCount: 2, rejectedCount: 2 });
    expect(plan?.chunks).toHaveLength(1);
  });

  it('rejects a line over maxLineBytes with the limit in the reason, and reads on', async () => {
    const long = JSON.stringify({ key: 'big', request: generate('b'.repeat(300)) });
    const { rejected, chunkLines } = await prepare(
      `${jsonl([{ key: 'a', request: generate('x') }])}${long}\n${jsonl([{ key: 'c', request: generate('z') }])}`,
      { maxLineBytes: 120 },
    );
    expect(rejected).toEqual([
      {
        line: 2,
        reason: 'line is longer than the limit of 120 bytes',
        excerpt: expect.stringMatching(/^\{"key":"big"/),
      },
    ]);
    expect(rejected[0]?.excerpt.length).toBeLessThanOrEqual(200);
    expect(chunkLines.flat().map((line) => line.key)).toEqual(['a', 'c']);
  });

  it('rejects a line that is not valid UTF-8', async () => {
    const content = Buffer.concat([
      Buffer.from(jsonl([{ key: 'a', request: generate('x') }])),
      Buffer.from('{"key":"b","request":{"contents":[{"parts":[{"text":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}]}]}}\n'),
    ]);
    const { rejected, plan } = await prepare(content);
    expect(rejected).toEqual([
      { line: 2, reason: 'line is not valid UTF-8 text', excerpt: expect.any(String) },
    ]);
    expect(plan).toMatchObject({ acceptedCount: 1, rejectedCount: 1 });
  });

  it('puts every non-blank line in exactly one place: a chunk or rejected.jsonl', async () => {
    const next = sequence(2026);
    const input: string[] = [];
    const usedKeys: string[] = [];
    for (let n = 1; n <= 200; n += 1) {
      const text = `from line ${n}`; // lets a chunk line be traced back to its input line
      const roll = next();
      const reuse = usedKeys[Math.floor(next() * usedKeys.length)];
      let line: string;
      if (roll < 0.3) {
        const key = `g-${n}`;
        usedKeys.push(key);
        line = JSON.stringify({ key, request: generate(text) });
      } else if (roll < 0.45) {
        const key = `e-${n}`;
        usedKeys.push(key);
        line = JSON.stringify({ key, request: embed(text) });
      } else if (roll < 0.55) line = JSON.stringify(generate(text));
      else if (roll < 0.6) line = JSON.stringify({ request: embed(text) });
      else if (roll < 0.65 && reuse) line = JSON.stringify({ key: reuse, request: generate(text) });
      else if (roll < 0.7) line = `{"key":"broken-${n}", "request": {`;
      else if (roll < 0.74) line = JSON.stringify([text]);
      else if (roll < 0.78) line = JSON.stringify({ key: `m-${n}`, request: { contents: [], text } });
      else if (roll < 0.81) line = JSON.stringify({ key: '', request: generate(text) });
      else if (roll < 0.84)
        line = JSON.stringify({ custom_id: `c-${n}`, method: 'POST', url: '/v1/embeddings', body: { text } });
      else if (roll < 0.88)
        line = JSON.stringify({ key: `long-${n}`, request: generate(`${text} ${'L'.repeat(600)}`) });
      else if (roll < 0.94) line = roll < 0.91 ? '' : ' \t ';
      else line = JSON.stringify({ key: `g-${n}`, request: generate(text) });
      input.push(line);
    }
    const { plan, rejected, chunkLines } = await prepare(input.map((line) => `${line}\r\n`).join(''), {
      maxLineBytes: 500,
    });

    const nonBlank = input.flatMap((line, index) => (line.trim() === '' ? [] : [index + 1]));
    const sent = chunkLines.flat();
    const sentLines = sent.map(({ request }) => {
      const parts =
        (request.contents as { parts: { text: string }[] }[] | undefined)?.[0]?.parts ??
        (request.content as { parts: { text: string }[] }).parts;
      return Number(/from line (\d+)/.exec(parts[0]?.text ?? '')?.[1]);
    });
    const rejectedLines = rejected.map((entry) => entry.line);
    const everywhere = [...sentLines, ...rejectedLines].sort((a, b) => a - b);

    expect(everywhere).toEqual(nonBlank); // each exactly once: no line lost, none twice
    expect(new Set(sent.map((line) => line.key)).size).toBe(sent.length); // no key sent twice
    expect(plan).toMatchObject({
      lineCount: nonBlank.length,
      acceptedCount: sent.length,
      rejectedCount: rejected.length,
    });
    // The generated file really is mixed: both kinds sent, and every kind of rejection present.
    expect(plan?.chunks.map((chunk) => chunk.kind)).toEqual(['generate', 'embed']);
    for (const reason of [
      /^duplicate key/,
      /^not valid JSON/,
      /^expected a JSON object/,
      /contents/,
      /"key"/,
      /body\.input/,
      /limit/,
    ]) {
      expect(rejected.some((entry) => reason.test(entry.reason))).toBe(true);
    }
  });

  it('throws EmptyInputError for an empty file, after writing plan.json and an empty rejected.jsonl', async () => {
    const { error, plan, store } = await prepare('');
    expect(error?.name).toBe('EmptyInputError');
    expect(error?.message).toContain('empty');
    expect(error?.message).toContain(`s3://${BUCKET}/${INPUT_KEY}`);
    expect(plan).toMatchObject({ lineCount: 0, acceptedCount: 0, rejectedCount: 0, chunks: [] });
    expect(store.text(BUCKET, REJECTED_KEY)).toBe('');
  });

  it('throws EmptyInputError for a file of blank and whitespace-only lines', async () => {
    const { error, plan, store } = await prepare('\n   \n\t\r\n\n');
    expect(error?.name).toBe('EmptyInputError');
    expect(error?.message).toContain('empty');
    expect(plan).toMatchObject({ lineCount: 0, acceptedCount: 0, rejectedCount: 0 });
    expect(store.text(BUCKET, REJECTED_KEY)).toBe('');
  });

  it('throws EmptyInputError naming rejected.jsonl when no line can be sent', async () => {
    const { error, plan, rejected } = await prepare('nope\n[1]\n{"key":"a","request":{}}\n');
    expect(error?.name).toBe('EmptyInputError');
    expect(error?.message).toContain('none of the 3 lines');
    expect(error?.message).toContain(`s3://${BUCKET}/${REJECTED_KEY}`);
    expect(plan).toMatchObject({ lineCount: 3, acceptedCount: 0, rejectedCount: 3, chunks: [] });
    expect(rejected.map((entry) => entry.line)).toEqual([1, 2, 3]);
  });

  describe('models', () => {
    const batchCapable = (id: string): ModelInfo => ({
      name: `models/${id}`,
      supportedGenerationMethods: ['generateContent', 'countTokens', ...Object.values(BATCH_METHODS)],
    });
    /** A fake that knows only these models (and every one supports both batch methods unless given). */
    const knowing = (...models: (string | ModelInfo)[]) => {
      const gemini = new FakeGemini();
      for (const model of models) {
        const info = typeof model === 'string' ? batchCapable(model) : model;
        gemini.models.set(info.name.replace(/^models\//, ''), info);
      }
      return gemini;
    };

    it('rejects each line of a model Gemini does not know, naming it and how to pick another, and sends the rest', async () => {
      const { rejected, chunkLines, plan } = await prepare(
        jsonl([
          { key: 'g1', request: generate('one') },
          { key: 'e1', request: embed('two') },
          { key: 'g2', request: generate('three') },
        ]),
        { gemini: knowing(MODELS.embed) },
      );
      const reason = `model "${MODELS.generate}" (the stack's generateModel) is unknown to Gemini (retired or misspelled): Gemini would accept its batch job and let it expire unanswered; choose a current batch-capable model with the stack's generateModel or the object metadata gemini-model`;
      expect(rejected.map(({ line, reason }) => ({ line, reason }))).toEqual([
        { line: 1, reason },
        { line: 3, reason },
      ]);
      expect(chunkLines.flat().map((line) => line.key)).toEqual(['e1']);
      expect(plan).toMatchObject({ acceptedCount: 1, rejectedCount: 2 });
    });

    it('rejects the lines of a model that lacks the batch method for their kind', async () => {
      const onlyInteractive = {
        name: 'models/gemini-live-x',
        supportedGenerationMethods: ['generateContent'],
      };
      const { rejected, chunkLines } = await prepare(
        jsonl([
          { key: 'e1', request: { ...embed('one'), model: 'models/gemini-live-x' } },
          { key: 'g1', request: generate('two') },
        ]),
        { gemini: knowing(MODELS.generate, onlyInteractive) },
      );
      expect(rejected).toEqual([
        {
          line: 1,
          reason:
            'model "gemini-live-x" (named by the line) cannot run embedding batches: Gemini lists no asyncBatchEmbedContent among its methods (generateContent); choose a current batch-capable model with the stack\'s embedModel, the object metadata gemini-embed-model or the request\'s own "model"',
          excerpt: expect.any(String),
        },
      ]);
      expect(chunkLines.flat().map((line) => line.key)).toEqual(['g1']);
    });

    it('checks a model per kind: a generation model is not thereby an embedding model', async () => {
      const generateOnly = { name: 'models/both', supportedGenerationMethods: [BATCH_METHODS.generate] };
      const { rejected } = await prepare(
        jsonl([
          { key: 'e1', request: { ...embed('one'), model: 'both' } },
          {
            custom_id: 'o1',
            method: 'POST',
            url: '/v1/chat/completions',
            body: { model: 'both', messages: [{ role: 'user', content: 'hi' }] },
          },
        ]),
        { gemini: knowing(generateOnly) },
      );
      expect(rejected.map((entry) => entry.line)).toEqual([1]);
    });

    it('names the object metadata when the model came from it', async () => {
      const store = new MemoryObjectStore();
      store.put(BUCKET, INPUT_KEY, jsonl([{ key: 'g', request: generate('one') }]), {
        [MODEL_METADATA.generate]: 'gemini-2.0-flash',
      });
      const error = await rejection(
        prepareRequests(runState(), {
          store,
          gemini: knowing(MODELS.generate),
          models: MODELS,
          inputPrefix: INPUT_PREFIX,
        }),
      );
      expect(error.name).toBe('EmptyInputError');
      const [entry] = store.jsonLines(BUCKET, REJECTED_KEY) as Prepared['rejected'];
      expect(entry?.reason).toMatch(
        /^model "gemini-2\.0-flash" \(from the object metadata gemini-model\) is unknown to Gemini/,
      );
    });

    it("points an OpenAI line at its body's model", async () => {
      const { rejected } = await prepare(
        jsonl([
          {
            custom_id: 'o1',
            method: 'POST',
            url: '/v1/embeddings',
            body: { model: 'text-embedding-3-small', input: 'hi' },
          },
        ]),
        { gemini: knowing(MODELS.generate, MODELS.embed) },
      );
      expect(rejected[0]?.reason).toBe(
        'model "text-embedding-3-small" (named by the line) is unknown to Gemini (retired or misspelled): Gemini would accept its batch job and let it expire unanswered; choose a current batch-capable model with the stack\'s embedModel, the object metadata gemini-embed-model or the body\'s "model"',
      );
    });

    it('asks the Models API once per distinct model, however many lines use it', async () => {
      const gemini = knowing(MODELS.generate, MODELS.embed);
      const lines = Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? { key: `o${i}`, request: { ...embed(`${i}`), model: 'own-embedder' } }
          : { key: `k${i}`, request: i % 3 === 1 ? generate(`${i}`) : embed(`${i}`) },
      );
      const { rejected } = await prepare(jsonl(lines), { gemini });
      expect(gemini.calls.getModel).toBe(3);
      expect(rejected).toHaveLength(10);
    });

    it('lets a later line use the key of a line rejected for its model', async () => {
      const { rejected, chunkLines } = await prepare(
        jsonl([
          { key: 'x', request: { ...embed('one'), model: 'gone' } },
          { key: 'x', request: embed('two') },
        ]),
        { gemini: knowing(MODELS.embed) },
      );
      expect(rejected.map((entry) => entry.line)).toEqual([1]);
      expect(chunkLines.flat().map((line) => line.key)).toEqual(['x']);
    });

    it('says in the empty-input error when every line names a model Gemini cannot batch', async () => {
      const { error } = await prepare(
        jsonl([
          { key: 'g1', request: generate('one') },
          { key: 'g2', request: generate('two') },
          { key: 'e1', request: embed('three') },
        ]),
        { gemini: knowing('gemini-3.8-flash') },
      );
      expect(error?.name).toBe('EmptyInputError');
      expect(error?.message).toBe(
        `none of the 3 lines of s3://${BUCKET}/${INPUT_KEY} could be sent: every line names a model Gemini cannot batch: 2 lines use ${MODELS.generate}, unknown to Gemini (retired or misspelled); 1 line uses ${MODELS.embed}, unknown to Gemini (retired or misspelled). Choose current batch-capable models with the stack's generateModel or the object metadata gemini-model for generation, the stack's embedModel or the object metadata gemini-embed-model for embeddings; s3://${BUCKET}/${REJECTED_KEY} gives each line's reason`,
      );
    });

    it('counts model rejections among others in the empty-input error', async () => {
      const { error } = await prepare(`not json\n${jsonl([{ key: 'g1', request: generate('one') }])}`, {
        gemini: knowing(MODELS.embed),
      });
      expect(error?.message).toContain(
        'could be sent: 1 of them name a model Gemini cannot batch: 1 line uses',
      );
    });

    it('fails the run, to be retried, when the Models API cannot be reached', async () => {
      const gemini = new FakeGemini().failNext(
        'getModel',
        new GeminiUnavailableError('Gemini is unreachable'),
      );
      const { error } = await prepare(jsonl([{ key: 'g', request: generate('one') }]), { gemini });
      expect(error?.name).toBe('GeminiUnavailableError');
    });
  });

  describe('the upload it reads', () => {
    const deps = (store: MemoryObjectStore): PrepareDeps => ({
      store,
      gemini: new FakeGemini(),
      models: MODELS,
      inputPrefix: INPUT_PREFIX,
      now: fixedNow,
    });
    const first = jsonl([{ key: 'old', request: generate('first upload') }]);
    const second = jsonl([{ key: 'new', request: generate('second upload') }]);

    it('fails with InputValidationError, reading nothing, when the file was replaced after the run started', async () => {
      const store = new MemoryObjectStore();
      const uploaded = store.put(BUCKET, INPUT_KEY, first);
      const replaced = store.put(BUCKET, INPUT_KEY, second);

      const error = await rejection(prepareRequests(runState({ etag: uploaded.etag }), deps(store)));

      expect(error.name).toBe('InputValidationError');
      expect(error.message).toBe(
        `s3://${BUCKET}/${INPUT_KEY} was replaced after this run started (the run is for ETag ${uploaded.etag}, the object now has ${replaced.etag}): the run reads only the upload that started it, so it processed nothing; the new upload starts its own run (enable versioning on the bucket to have each run read its own version instead)`,
      );
      expect(store.keys()).toEqual([`${BUCKET}/${INPUT_KEY}`]);
    });

    it('reads the file while it still has the ETag the run was started for', async () => {
      const store = new MemoryObjectStore();
      const { etag } = store.put(BUCKET, INPUT_KEY, first);
      await prepareRequests(runState({ etag: `"${etag}"` }), deps(store));
      expect(store.jsonLines(BUCKET, WORK.chunk(0))).toEqual([
        { key: 'old', request: generate('first upload') },
      ]);
    });

    it('reads the version the run was started for in a versioned bucket, with that version’s metadata', async () => {
      const store = new MemoryObjectStore();
      const uploaded = store.put(BUCKET, INPUT_KEY, first, { [MODEL_METADATA.generate]: 'gemini-2.5-pro' });
      store.put(BUCKET, INPUT_KEY, second, { [MODEL_METADATA.generate]: 'gemini-3.8-flash' });

      await prepareRequests(runState(uploaded), deps(store));

      const plan = await store.getJson<RunPlan>(BUCKET, WORK.plan);
      expect(plan?.chunks.map((chunk) => chunk.model)).toEqual(['gemini-2.5-pro']);
      expect(store.jsonLines(BUCKET, WORK.chunk(0))).toEqual([
        { key: 'old', request: generate('first upload') },
      ]);
    });

    it.each([
      [
        'gzip-compressed',
        gzipSync(first),
        'is gzip-compressed, not JSONL text: upload the uncompressed file (gunzip it, or upload it without Content-Encoding: gzip) to start a new run',
      ],
      [
        'zstd-compressed',
        Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from(first)]),
        'is zstd-compressed, not JSONL text: upload the uncompressed file to start a new run',
      ],
      [
        'UTF-16',
        Buffer.from(`\uFEFF${first}`, 'utf16le'),
        'is UTF-16 (little-endian) text, not UTF-8: save it as UTF-8 (for example `iconv -f UTF-16LE -t UTF-8 in.jsonl > out.jsonl`) and upload that to start a new run',
      ],
      [
        'big-endian UTF-16 without a BOM',
        Buffer.from(first, 'utf16le').swap16(),
        'is UTF-16 (big-endian) text, not UTF-8: save it as UTF-8 (for example `iconv -f UTF-16BE -t UTF-8 in.jsonl > out.jsonl`) and upload that to start a new run',
      ],
    ])(
      'fails a %s file with one InputValidationError saying what to do, writing nothing',
      async (_, content, says) => {
        const { error, store, plan } = await prepare(content);
        expect(error?.name).toBe('InputValidationError');
        expect(error?.message).toBe(`s3://${BUCKET}/${INPUT_KEY} ${says}; nothing was sent to Gemini`);
        expect(plan).toBeUndefined();
        expect(store.keys()).toEqual([`${BUCKET}/${INPUT_KEY}`]);
      },
    );

    it('reads a UTF-8 file with a byte order mark', async () => {
      const { chunkLines } = await prepare(`\uFEFF${first}`);
      expect(chunkLines).toEqual([[{ key: 'old', request: generate('first upload') }]]);
    });
  });

  it('numbers the lines of a file with CR-only line endings as an editor does', async () => {
    const lines = [1, 2, 3].map((n) => JSON.stringify({ key: `k${n}`, request: generate(`${n}`) }));
    const { store, rejected } = await prepare(`${lines[0]}\r${lines[1]}\r\rnot json\r${lines[2]}\r`);
    expect(store.jsonLines(BUCKET, WORK.chunkKeys(0))).toEqual([
      [1, 'k1'],
      [2, 'k2'],
      [5, 'k3'],
    ]);
    expect(rejected.map((entry) => entry.line)).toEqual([4]);
  });

  it('rejects a line nested 10,000 levels deep with its line number, and sends the rest', async () => {
    const deep = `{"key":"deep","request":{"contents":[{"parts":[{"functionCall":{"name":"f","args":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}}]}]}}`;
    const { rejected, chunkLines } = await prepare(
      `${jsonl([{ key: 'a', request: generate('x') }])}${deep}\n${jsonl([{ key: 'b', request: generate('y') }])}`,
    );
    expect(rejected).toEqual([
      {
        line: 2,
        reason: expect.stringMatching(/^JSON nested deeper than 95 levels/),
        excerpt: deep.slice(0, 200),
      },
    ]);
    expect(chunkLines.flat().map((line) => line.key)).toEqual(['a', 'b']);
  });

  it('rejects a line that comes out over the line limit once its key is added', async () => {
    const bare = JSON.stringify(generate('p'.repeat(60)));
    const limit = Buffer.byteLength(bare) + 5; // room for the line as written, not for {"key":"line-2",...}
    const { rejected, chunkLines } = await prepare(
      `${jsonl([{ key: 'a', request: generate('x') }])}${bare}\n`,
      {
        maxLineBytes: limit,
      },
    );
    const sent = JSON.stringify({ key: 'line-2', request: generate('p'.repeat(60)) });
    expect(rejected).toEqual([
      {
        line: 2,
        reason: `line is ${Buffer.byteLength(sent)} bytes as Gemini receives it (with its key and model), over the limit of ${limit} bytes`,
        excerpt: bare,
      },
    ]);
    expect(chunkLines.flat().map((line) => line.key)).toEqual(['a']);
  });

  it('fails when the input object does not exist', async () => {
    const store = new MemoryObjectStore();
    const error = await rejection(
      prepareRequests(runState(), {
        store,
        gemini: new FakeGemini(),
        models: MODELS,
        inputPrefix: INPUT_PREFIX,
      }),
    );
    expect(error.name).toBe('ObjectNotFoundError');
    expect(store.keys()).toEqual([]);
  });
});
