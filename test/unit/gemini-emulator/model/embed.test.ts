import { describe, expect, it } from 'vitest';
import { embedContent, InvalidRequestError } from '../../../../local/gemini-emulator/model/index.js';

function embed(text: string, extra: Record<string, unknown> = {}): number[] {
  return embedContent({ content: { parts: [{ text }] }, ...extra }).embedding.values;
}

function norm(vector: number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0) / (norm(a) * norm(b));
}

describe('embedContent', () => {
  it('returns a 3072-dimensional unit vector by default', () => {
    const values = embed('The quick brown fox jumps over the lazy dog');
    expect(values).toHaveLength(3072);
    expect(Math.abs(norm(values) - 1)).toBeLessThan(1e-6);
  });

  it('returns the requested dimensionality in either spelling', () => {
    const camel = embed('hello world', { outputDimensionality: 8 });
    expect(camel).toHaveLength(8);
    expect(Math.abs(norm(camel) - 1)).toBeLessThan(1e-6);
    expect(embed('hello world', { output_dimensionality: 8 })).toEqual(camel);
  });

  it('rounds components to 8 decimal places', () => {
    for (const value of embed('rounding check for the vector', { outputDimensionality: 16 })) {
      expect(Math.abs(value * 1e8 - Math.round(value * 1e8))).toBeLessThan(1e-6);
    }
  });

  it('is deterministic', () => {
    expect(embed('same text every time')).toEqual(embed('same text every time'));
  });

  it('gives different vectors for different texts', () => {
    expect(embed('apples')).not.toEqual(embed('oranges'));
  });

  it('ignores case and punctuation when splitting words', () => {
    expect(embed('Hello, WORLD!')).toEqual(embed('hello world'));
  });

  it('makes texts that share words more similar than unrelated texts', () => {
    const query = embed('how do I reset my account password');
    const related = embed('reset your account password from the settings page');
    const unrelated = embed('bananas grow in tropical climates near the equator');
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.2);
  });

  it('maps empty text to the first basis vector', () => {
    const values = embed('', { outputDimensionality: 4 });
    expect(values).toEqual([1, 0, 0, 0]);
    expect(embedContent({ content: { parts: [] } }).embedding.values[0]).toBe(1);
  });

  it('reports tokenCount as a decimal string of ceil(characters / 4)', () => {
    const response = embedContent({
      content: { parts: [{ text: 'abcdefghi' }] },
      taskType: 'RETRIEVAL_QUERY',
    });
    expect(response.tokenCount).toBe('3');
  });

  it('accepts and ignores taskType, title and model', () => {
    const plain = embedContent({ content: { parts: [{ text: 'doc' }] } });
    const decorated = embedContent({
      model: 'models/gemini-embedding-001',
      content: { role: 'user', parts: [{ text: 'doc' }] },
      taskType: 'RETRIEVAL_DOCUMENT',
      title: 'A document',
    });
    expect(decorated).toEqual(plain);
  });

  describe('validation', () => {
    const cases: Array<[string, unknown, string]> = [
      ['the request is not an object', 42, '* EmbedContentRequest: request must be a JSON object'],
      ['content is missing', {}, '* EmbedContentRequest.content: content is not specified'],
      [
        'content is not an object',
        { content: 'text' },
        '* EmbedContentRequest.content: content is not specified',
      ],
      [
        'content has no parts list',
        { content: { role: 'user' } },
        '* EmbedContentRequest.content.parts: content.parts must not be empty',
      ],
    ];

    it.each(cases)('rejects a request when %s', (_label, request, message) => {
      expect(() => embedContent(request)).toThrow(new InvalidRequestError(message));
    });

    it.each([0, -1, 3073, 2.5, 'eight', true])('rejects outputDimensionality %j', (outputDimensionality) => {
      const call = () => embedContent({ content: { parts: [{ text: 'x' }] }, outputDimensionality });
      expect(call).toThrow(InvalidRequestError);
      expect(call).toThrow(
        /^\* EmbedContentRequest\.output_dimensionality: must be an integer from 1 to 3072/,
      );
    });
  });
});
