/**
 * Prepare as a whole, through its core: one file past 300 lines because each case is one call of the
 * whole core on one file, checking chunks, rejections, counts and the plan together, while the parts
 * of Prepare (line parsing, schema, models, limits, encoding) have their own files beside this one.
 */
import { describe, expect, it } from 'vitest';
import { EmptyInputError } from '../../../../lambdas/shared/errors.js';
import { BUCKET, fixedNow, INPUT_KEY, MODELS, RUN_ID, WORK } from '../run-fixtures.js';
import { embed, generate, jsonl, preparation, prepare, REJECTED_KEY } from './prepare-fixture.js';

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
        // A quarter token per character of each line as sent: ceil(79 / 4) + ceil(80 / 4).
        estimatedTokens: 40,
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
    const prepared = preparation('');
    const failure = prepared.run();
    await expect(failure).rejects.toThrow(EmptyInputError);
    await expect(failure).rejects.toThrow('empty');
    await expect(failure).rejects.toThrow(`s3://${BUCKET}/${INPUT_KEY}`);
    expect((await prepared.outputs()).plan).toMatchObject({
      lineCount: 0,
      acceptedCount: 0,
      rejectedCount: 0,
      chunks: [],
    });
    expect(prepared.store.text(BUCKET, REJECTED_KEY)).toBe('');
  });

  it('throws EmptyInputError for a file of blank and whitespace-only lines', async () => {
    const prepared = preparation('\n   \n\t\r\n\n');
    const failure = prepared.run();
    await expect(failure).rejects.toThrow(EmptyInputError);
    await expect(failure).rejects.toThrow('empty');
    expect((await prepared.outputs()).plan).toMatchObject({
      lineCount: 0,
      acceptedCount: 0,
      rejectedCount: 0,
    });
    expect(prepared.store.text(BUCKET, REJECTED_KEY)).toBe('');
  });

  it('throws EmptyInputError naming rejected.jsonl when no line can be sent', async () => {
    const prepared = preparation('nope\n[1]\n{"key":"a","request":{}}\n');
    const failure = prepared.run();
    await expect(failure).rejects.toThrow(EmptyInputError);
    await expect(failure).rejects.toThrow('none of the 3 lines');
    await expect(failure).rejects.toThrow(`s3://${BUCKET}/${REJECTED_KEY}`);
    const { plan, rejected } = await prepared.outputs();
    expect(plan).toMatchObject({ lineCount: 3, acceptedCount: 0, rejectedCount: 3, chunks: [] });
    expect(rejected.map((entry) => entry.line)).toEqual([1, 2, 3]);
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
});
