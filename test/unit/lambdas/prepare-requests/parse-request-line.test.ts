/**
 * Every shape of input line `parseRequestLine` accepts or rejects, with the exact reason a user reads: one table of
 * cases for one function, longer than 300 lines because each rejection reason is pinned word for word.
 */
import { describe, expect, it } from 'vitest';
import {
  type ParsedRequestLine,
  parseRequestLine,
} from '../../../../lambdas/prepare-requests/parse-request-line.js';
import { MODELS } from '../run-fixtures.js';

const LINE = 7;
const CONTENTS = [{ role: 'user', parts: [{ text: 'Say hello' }] }];
const CONTENT = { parts: [{ text: 'embed me' }] };

function parse(value: unknown): ParsedRequestLine {
  return parseRequestLine(typeof value === 'string' ? value : JSON.stringify(value), LINE, MODELS);
}

function reasonFor(value: unknown): string {
  const parsed = parse(value);
  if (parsed.ok) throw new Error(`expected a rejection, got key ${parsed.key}`);
  return parsed.reason;
}

describe('parseRequestLine', () => {
  describe('refuses', () => {
    it('a line that is not JSON, with the parser message', () => {
      expect(reasonFor('{"key": "a", "request": ')).toMatch(/^not valid JSON: .+/);
      expect(reasonFor('hello')).toMatch(/^not valid JSON: .+/);
    });

    /** A generate line whose function-call arguments nest `levels` arrays: the line itself is `levels + 8` deep. */
    const withArgsNested = (levels: number) =>
      `{"key":"d","request":{"contents":[{"role":"user","parts":[{"functionCall":{"name":"f","args":{"a":${'['.repeat(levels)}${']'.repeat(levels)}}}}]}]}}`;

    it('a line nested deeper than 95 levels, saying why, and accepts one at the limit', () => {
      expect(parse(withArgsNested(95 - 8))).toMatchObject({ ok: true, key: 'd' });
      expect(reasonFor(withArgsNested(95 - 7))).toBe(
        'JSON nested deeper than 95 levels: Gemini refuses requests nested past 100 levels, and an inline batch job adds 5 around each request; flatten the request',
      );
    });

    it('a line nested 10,000 levels deep, without overflowing the stack', () => {
      expect(reasonFor(withArgsNested(10_000))).toMatch(/^JSON nested deeper than 95 levels/);
    });

    it('as deep before it is parsed: a deep line that is not valid JSON', () => {
      expect(reasonFor(`{"key":"x","request":${'['.repeat(500)}`)).toMatch(/^JSON nested deeper/);
    });

    it('a string holding a lone surrogate, naming where it is', () => {
      expect(reasonFor('{"key":"s","request":{"contents":[{"parts":[{"text":"cut \\ud83d off"}]}]}}')).toBe(
        'request.contents[0].parts[0].text holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair), which is not Unicode text and cannot be sent to Gemini: keep both halves of the pair, or remove it',
      );
      expect(
        reasonFor('{"custom_id":"\\udc00","method":"POST","url":"/v1/embeddings","body":{"input":"x"}}'),
      ).toMatch(/^custom_id holds a lone UTF-16 surrogate/);
    });

    it('JSON that is not an object, naming what it is', () => {
      expect(reasonFor('[1,2]')).toBe('expected a JSON object, got an array');
      expect(reasonFor('"text"')).toBe('expected a JSON object, got a string');
      expect(reasonFor('null')).toBe('expected a JSON object, got null');
      expect(reasonFor('42')).toBe('expected a JSON object, got a number');
    });

    it.each([
      [
        { custom_id: '', method: 'POST', url: '/v1/embeddings', body: { input: 'x' } },
        '"custom_id" must be a non-empty string, got an empty string',
      ],
      [
        { custom_id: 'r1', method: 'GET', url: '/v1/embeddings', body: { input: 'x' } },
        '"method" must be "POST", got "GET"',
      ],
      [
        { custom_id: 'r1', method: 'POST', url: '/v1/responses', body: {} },
        '"url" must be "/v1/chat/completions" or "/v1/embeddings"',
      ],
      [
        { custom_id: 'r1', method: 'POST', url: '/v1/embeddings', body: 'x' },
        '"body" must be a JSON object, got a string',
      ],
      [
        { custom_id: 'r1', method: 'POST', url: '/v1/chat/completions', body: { messages: [] } },
        '"body.messages" must be a non-empty array',
      ],
      [
        { custom_id: 'r1', method: 'POST', url: '/v1/embeddings', body: { text: 'x' } },
        '"body.input" must be a string or a non-empty array',
      ],
    ])('an OpenAI batch line with a field Gemini cannot use: %j', (line, reason) => {
      expect(reasonFor(line)).toContain(reason);
    });

    it('a request that is not an object', () => {
      expect(reasonFor({ key: 'a', request: 'hello' })).toBe('"request" must be a JSON object, got a string');
      expect(reasonFor({ key: 'a', request: [CONTENTS] })).toBe(
        '"request" must be a JSON object, got an array',
      );
      expect(reasonFor({ key: 'a', request: null })).toBe('"request" must be a JSON object, got null');
    });

    it('an empty or blank key', () => {
      expect(reasonFor({ key: '', request: { contents: CONTENTS } })).toBe(
        '"key" must be a non-empty string, got an empty string',
      );
      expect(reasonFor({ key: '   ', request: { contents: CONTENTS } })).toBe(
        '"key" must be a non-empty string, got an empty string',
      );
    });

    it('a key that is not a string', () => {
      expect(reasonFor({ key: 12, request: { contents: CONTENTS } })).toBe(
        '"key" must be a non-empty string, got a number',
      );
      expect(reasonFor({ key: null, request: { contents: CONTENTS } })).toBe(
        '"key" must be a non-empty string, got null',
      );
      expect(reasonFor({ key: ['a'], request: { contents: CONTENTS } })).toBe(
        '"key" must be a non-empty string, got an array',
      );
    });

    it('a key longer than 256 characters, but not one of exactly that length', () => {
      const tooLong = 'k'.repeat(257);
      expect(reasonFor({ key: tooLong, request: { contents: CONTENTS } })).toBe(
        '"key" is 257 characters long; the limit is 256',
      );
      expect(parse({ key: 'k'.repeat(256), request: { contents: CONTENTS } }).ok).toBe(true);
    });

    it('contents that are empty or not an array', () => {
      const reason = '"request.contents" must be a non-empty array of Content objects';
      expect(reasonFor({ key: 'a', request: { contents: [] } })).toBe(reason);
      expect(reasonFor({ key: 'a', request: { contents: 'Say hello' } })).toBe(reason);
      expect(reasonFor({ key: 'a', request: { contents: { parts: [] } } })).toBe(reason);
      expect(reasonFor({ contents: [] })).toBe(reason);
    });

    it('a contents item without a parts array, naming its index', () => {
      expect(reasonFor({ key: 'a', request: { contents: [...CONTENTS, { role: 'user', text: 'x' }] } })).toBe(
        '"request.contents[1]" must be an object with a "parts" array',
      );
      expect(reasonFor({ key: 'a', request: { contents: ['hello'] } })).toBe(
        '"request.contents[0]" must be an object with a "parts" array',
      );
    });

    it('an embedding content without a parts array', () => {
      const reason = '"request.content" must be an object with a "parts" array';
      expect(reasonFor({ key: 'a', request: { content: { text: 'x' } } })).toBe(reason);
      expect(reasonFor({ key: 'a', request: { content: 'embed me' } })).toBe(reason);
    });

    it('a wrapped request with neither contents nor content', () => {
      expect(reasonFor({ key: 'a', request: { prompt: 'hi' } })).toBe(
        '"request" has neither "contents" (text generation) nor "content" (embedding)',
      );
    });

    it('a bare line with neither contents nor content, saying what a line should look like', () => {
      expect(reasonFor({ prompt: 'hi' })).toBe(
        'no request: expected {"key": "...", "request": {...}} or a bare request with "contents" or "content"',
      );
    });

    it('a request with neither, pointing at the misspelling of contents or content', () => {
      expect(reasonFor({ key: 'a', request: { contnets: CONTENTS } })).toBe(
        '"request" has neither "contents" (text generation) nor "content" (embedding) (did you mean "contents" instead of "contnets"?)',
      );
      expect(reasonFor({ contnet: CONTENT })).toMatch(/\(did you mean "content" instead of "contnet"\?\)$/);
    });

    it('a generate request with a misspelled field, naming it and the field meant', () => {
      expect(
        reasonFor({ key: 'a', request: { contents: CONTENTS, generationConfg: { temperature: 0 } } }),
      ).toBe(
        'unknown field "generationConfg" in the request (did you mean "generationConfig"?): Gemini refuses requests with unknown fields',
      );
    });

    it('a misspelled field deep in the request, by its path', () => {
      const request = { contents: [{ role: 'user', parts: [{ text: 'a' }, { txt: 'b' }] }] };
      expect(reasonFor({ key: 'a', request })).toBe(
        'unknown field "contents[0].parts[1].txt" in the request (did you mean "text"?): Gemini refuses requests with unknown fields',
      );
      expect(
        reasonFor({
          contents: CONTENTS,
          generationConfig: { responseSchema: { type: 'OBJECT', properties: { city: { tyep: 'STRING' } } } },
        }),
      ).toBe(
        'unknown field "generationConfig.responseSchema.properties.city.tyep" in the request (did you mean "type"?): Gemini refuses requests with unknown fields',
      );
    });

    it('an unknown field with nothing close, without a guess', () => {
      expect(reasonFor({ key: 'a', request: { contents: CONTENTS, flavour: 'vanilla' } })).toBe(
        'unknown field "flavour" in the request: Gemini refuses requests with unknown fields',
      );
    });

    it('several unknown fields, naming three and counting the rest', () => {
      expect(reasonFor({ contents: CONTENTS, temperature: 1, topp: 1 })).toBe(
        'unknown fields "temperature" (did you mean "generationConfig.temperature"?) and "topp" (did you mean "generationConfig.topP"?) in the request: Gemini refuses requests with unknown fields',
      );
      expect(reasonFor({ contents: CONTENTS, a1: 1, a2: 2, a3: 3, a4: 4, a5: 5 })).toBe(
        'unknown fields "a1", "a2", "a3" and 2 more in the request: Gemini refuses requests with unknown fields',
      );
    });

    it('an embed request with a misspelled field, in snake_case when written so', () => {
      expect(reasonFor({ key: 'e', request: { content: CONTENT, output_dimensionalty: 8 } })).toBe(
        'unknown field "output_dimensionalty" in the request (did you mean "output_dimensionality"?): Gemini refuses requests with unknown fields',
      );
    });
  });

  describe('accepts', () => {
    /** What parseRequestLine returns for a Gemini-format line: the line Gemini receives is {key, request}. */
    const gemini = (
      key: string,
      kind: 'generate' | 'embed',
      model: string,
      request: Record<string, unknown>,
      verbatim = false,
    ) => ({
      ok: true,
      format: 'gemini',
      key,
      kind,
      model,
      request,
      line: { key, request },
      verbatim,
      inlineMedia: false,
    });

    it('a keyed generate request with the default generate model', () => {
      const request = { contents: CONTENTS };
      expect(parse({ key: 'review-1', request })).toEqual(
        gemini('review-1', 'generate', MODELS.generate, request, true),
      );
    });

    it('a request with inline media, flagged so its base64 is not estimated as text', () => {
      const parts = [{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }];
      expect(parse({ key: 'm', request: { contents: [{ parts }] } })).toMatchObject({
        ok: true,
        inlineMedia: true,
      });
    });

    it('a whole character written as an escaped surrogate pair', () => {
      const parsed = parse('{"key":"e","request":{"contents":[{"parts":[{"text":"\\ud83d\\ude00"}]}]}}');
      expect(parsed).toMatchObject({ ok: true, key: 'e', verbatim: true });
    });

    it('camelCase and snake_case fields, passed through untouched', () => {
      const request = {
        contents: CONTENTS,
        systemInstruction: { parts: [{ text: 'Be terse' }] },
        generation_config: {
          temperature: 0.2,
          response_mime_type: 'application/json',
          responseSchema: { type: 'OBJECT' },
        },
        tools: [{ functionDeclarations: [{ name: 'lookup' }] }],
        cached_content: 'cachedContents/abc',
        safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
      };
      const parsed = parse({ key: 'k', request });
      expect(parsed).toMatchObject({ ok: true, kind: 'generate' });
      expect(parsed.ok && parsed.request).toEqual(request);
      expect(parsed.ok && parsed.line).toEqual({ key: 'k', request });
    });

    it('a keyed embed request, taking the model from request.model without "models/"', () => {
      const request = { model: 'models/gemini-embedding-exp', content: CONTENT, output_dimensionality: 8 };
      expect(parse({ key: 'e-1', request })).toEqual(
        gemini('e-1', 'embed', 'gemini-embedding-exp', request, true),
      );
    });

    it('a keyed embed request without a model, with the default embed model', () => {
      const request = { content: CONTENT, outputDimensionality: 8, taskType: 'RETRIEVAL_DOCUMENT' };
      expect(parse({ key: 'e-2', request })).toEqual(gemini('e-2', 'embed', MODELS.embed, request, true));
    });

    it('a bare generate request, keyed by its line number', () => {
      const bare = { contents: CONTENTS, generationConfig: { maxOutputTokens: 10 } };
      expect(parse(bare)).toEqual(gemini(`line-${LINE}`, 'generate', MODELS.generate, bare));
    });

    it('a bare request that carries a key, using the key and not sending it to Gemini', () => {
      expect(parse({ key: 'own-key', contents: CONTENTS })).toEqual(
        gemini('own-key', 'generate', MODELS.generate, { contents: CONTENTS }),
      );
    });

    it('a bare embed request, keyed by its line number', () => {
      const bare = { content: CONTENT };
      expect(parse(bare)).toEqual(gemini(`line-${LINE}`, 'embed', MODELS.embed, bare));
    });

    it('an OpenAI chat line, keyed by custom_id, with the model from its body', () => {
      const body = {
        model: 'models/gemini-2.5-pro',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 20,
      };
      expect(parse({ custom_id: 'c1', method: 'POST', url: '/v1/chat/completions', body })).toEqual({
        ok: true,
        format: 'openai',
        key: 'c1',
        kind: 'generate',
        model: 'gemini-2.5-pro',
        request: body,
        line: {
          custom_id: 'c1',
          method: 'POST',
          url: '/v1/chat/completions',
          body: { ...body, model: 'gemini-2.5-pro' },
        },
        verbatim: false,
        inlineMedia: false,
      });
    });

    it('an OpenAI embeddings line without a model, given the default embed model', () => {
      const parsed = parse({
        custom_id: 'e1',
        method: 'POST',
        url: '/v1/embeddings',
        body: { input: ['a', 'b'] },
      });
      expect(parsed).toMatchObject({
        ok: true,
        format: 'openai',
        key: 'e1',
        kind: 'embed',
        model: MODELS.embed,
      });
      expect(parsed.ok && parsed.line.body).toEqual({ input: ['a', 'b'], model: MODELS.embed });
    });

    it('a keyed line with fields besides key and request, which is rewritten rather than sent as written', () => {
      const request = { contents: CONTENTS };
      expect(parse({ key: 'k', request, note: 'mine' })).toEqual(
        gemini('k', 'generate', MODELS.generate, request, false),
      );
    });

    it('a wrapped request without a key, keyed by its line number', () => {
      const request = { contents: CONTENTS };
      expect(parse({ request })).toEqual(gemini(`line-${LINE}`, 'generate', MODELS.generate, request));
    });
  });
});
