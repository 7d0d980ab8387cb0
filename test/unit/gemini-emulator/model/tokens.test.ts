import { describe, expect, it } from 'vitest';
import { estimateTokens, textOf } from '../../../../local/gemini-emulator/model/index.js';

describe('estimateTokens', () => {
  it('counts one token per four characters, rounding up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('a')).toBe(1);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('x'.repeat(400))).toBe(100);
    expect(estimateTokens('x'.repeat(401))).toBe(101);
  });
});

describe('textOf', () => {
  it('concatenates the text of every text part in order', () => {
    expect(textOf({ role: 'user', parts: [{ text: 'Hello, ' }, { text: 'world' }] })).toBe('Hello, world');
  });

  it('ignores non-text parts', () => {
    const content = {
      parts: [
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
        { text: 'Describe this.' },
        { functionCall: { name: 'lookup', args: { q: 'x' } } },
      ],
    };
    expect(textOf(content)).toBe('Describe this.');
  });

  it('returns an empty string for anything that is not a Content', () => {
    expect(textOf(undefined)).toBe('');
    expect(textOf('text')).toBe('');
    expect(textOf({ parts: 'not a list' })).toBe('');
    expect(textOf({ role: 'user' })).toBe('');
  });
});
