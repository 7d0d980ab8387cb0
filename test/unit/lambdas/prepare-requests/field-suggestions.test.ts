import { describe, expect, it } from 'vitest';
import { closestKnownField } from '../../../../lambdas/prepare-requests/field-suggestions.js';
import { unknownRequestFields } from '../../../../lambdas/prepare-requests/request-schema.js';

const contents = (part: Record<string, unknown>) => [{ role: 'user', parts: [part] }];

describe('closestKnownField', () => {
  const suggestion = (request: Record<string, unknown>, kind: 'generate' | 'embed' = 'generate') => {
    const [field] = unknownRequestFields(kind, request);
    if (!field) throw new Error('expected an unknown field');
    return closestKnownField(field);
  };
  const base = { contents: contents({ text: 'x' }) };

  it('suggests the known name a few edits away, in the spelling style used', () => {
    expect(suggestion({ ...base, generationConfg: {} })).toBe('generationConfig');
    expect(suggestion({ ...base, generation_confg: {} })).toBe('generation_config');
    expect(suggestion({ contents: contents({ txt: 'x' }) })).toBe('text');
    expect(suggestion({ contnets: [] })).toBe('contents');
    expect(suggestion({ ...base, generationConfig: { tempurature: 1 } })).toBe('temperature');
    expect(suggestion({ ...base, generationConfig: { responseMimetype: 'a' } })).toBe('responseMimeType');
    expect(suggestion({ ...base, generationConfig: { responseJsonSchem: {} } })).toBe('responseJsonSchema');
    expect(suggestion({ content: { parts: [] }, outputDimension: 3 }, 'embed')).toBe('outputDimensionality');
  });

  it('suggests the one longer name that contains it', () => {
    expect(suggestion({ ...base, generationConfig: { thinkingConfig: { budget: 1 } } })).toBe(
      'thinkingBudget',
    );
    expect(suggestion({ ...base, generationConfig: { mimeType: 'a' } })).toBe('responseMimeType');
  });

  it('suggests the nested field a setting belongs to when it was written a level too high', () => {
    expect(suggestion({ ...base, temperature: 0.2 })).toBe('generationConfig.temperature');
    expect(suggestion({ ...base, max_output_tokens: 5 })).toBe('generation_config.max_output_tokens');
  });

  it('suggests nothing when no name is close or two are equally close', () => {
    expect(suggestion({ ...base, flavour: 'vanilla' })).toBeUndefined();
    // `schema` is in responseSchema and responseJsonSchema alike.
    expect(suggestion({ ...base, generationConfig: { schema: {} } })).toBeUndefined();
  });
});
