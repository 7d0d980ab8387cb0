import { describe, expect, it } from 'vitest';
import {
  type GenerateContentResponseJson,
  generateContent,
} from '../../../../local/gemini-emulator/model/index.js';
import { compileJsonSchema, geminiToJsonSchema, validationErrors } from './json-schema-validator.js';

const MODEL = 'gemini-2.5-flash';

function jsonRequest(prompt: string, generationConfig: Record<string, unknown>): Record<string, unknown> {
  return {
    contents: [{ role: 'user', parts: [{ text: prompt }] }],
    generationConfig: { responseMimeType: 'application/json', ...generationConfig },
  };
}

function parsedCandidates(response: GenerateContentResponseJson): unknown[] {
  return response.candidates.map((candidate) =>
    JSON.parse(candidate.content.parts.map((p) => p.text).join('')),
  );
}

function firstParsed(response: GenerateContentResponseJson): Record<string, unknown> {
  const [value] = parsedCandidates(response);
  if (typeof value !== 'object' || value === null) throw new Error('expected a JSON object');
  return value as Record<string, unknown>;
}

/** A Gemini OpenAPI-subset schema with nesting, enums, bounded integers, nullable and ordering. */
const RECIPE_SCHEMA = {
  type: 'OBJECT',
  description: 'A recipe',
  properties: {
    title: { type: 'STRING', minLength: 3, maxLength: 40 },
    difficulty: { type: 'STRING', format: 'enum', enum: ['easy', 'medium', 'hard'] },
    servings: { type: 'INTEGER', minimum: 2, maximum: 6 },
    rating: { type: 'NUMBER', minimum: 0, maximum: 5 },
    vegetarian: { type: 'BOOLEAN' },
    notes: { type: 'STRING', nullable: true },
    published: { type: 'STRING', format: 'date-time' },
    ingredients: {
      type: 'ARRAY',
      minItems: 2,
      maxItems: 5,
      items: {
        type: 'OBJECT',
        properties: {
          name: { type: 'STRING' },
          grams: { type: 'INTEGER', minimum: 1, maximum: 1000 },
          unit: { type: 'STRING', enum: ['g', 'ml'] },
        },
        required: ['name', 'grams'],
        propertyOrdering: ['unit', 'grams', 'name'],
      },
    },
    source: { anyOf: [{ type: 'STRING', format: 'date-time' }, { type: 'INTEGER' }] },
  },
  required: ['title', 'difficulty', 'servings', 'ingredients'],
  propertyOrdering: [
    'title',
    'servings',
    'difficulty',
    'ingredients',
    'rating',
    'vegetarian',
    'notes',
    'published',
    'source',
  ],
};

/** A JSON Schema with $defs/$ref, type arrays, anyOf, formats, bounds and a recursive definition. */
const TICKET_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    person: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 20 },
        email: { type: 'string', format: 'email' },
      },
      required: ['name', 'email'],
      additionalProperties: false,
    },
    comment: {
      type: 'object',
      properties: {
        author: { $ref: '#/$defs/person' },
        body: { type: 'string', maxLength: 5 },
        replies: { type: 'array', items: { $ref: '#/$defs/comment' } },
      },
      required: ['author', 'body', 'replies'],
    },
  },
  properties: {
    id: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 3 },
    createdAt: { type: 'string', format: 'date-time' },
    assignee: { type: ['object', 'null'], $ref: '#/$defs/person' },
    priority: { type: ['string', 'null'], enum: ['low', 'high', null] },
    estimate: { anyOf: [{ type: 'null' }, { type: 'number', minimum: 0.5, maximum: 0.75 }] },
    tags: { type: 'array', items: { type: 'string', minLength: 12 }, minItems: 3, uniqueItems: true },
    thread: { $ref: '#/$defs/comment' },
    homepage: { type: 'string', format: 'uri' },
  },
  required: ['id', 'createdAt', 'assignee', 'thread'],
  additionalProperties: false,
};

describe('generateContent in JSON mode', () => {
  it('returns a labelled JSON object carrying the text when there is no schema', () => {
    const response = generateContent(MODEL, jsonRequest('List three rivers', {}));
    expect(firstParsed(response)).toEqual({
      emulated: true,
      response: '[emulated gemini-2.5-flash] Response to: "List three rivers"',
    });
  });

  it('never truncates JSON output, even when it exceeds maxOutputTokens', () => {
    const response = generateContent(MODEL, jsonRequest('List three rivers', { maxOutputTokens: 1 }));
    expect(() => parsedCandidates(response)).not.toThrow();
    expect(response.candidates[0]?.finishReason).toBe('STOP');
  });

  it('produces a value that validates against a Gemini responseSchema', () => {
    const validate = compileJsonSchema(geminiToJsonSchema(RECIPE_SCHEMA) as object);
    for (let i = 0; i < 10; i++) {
      const response = generateContent(
        MODEL,
        jsonRequest(`Recipe number ${i}`, { responseSchema: RECIPE_SCHEMA }),
      );
      const value = firstParsed(response);
      expect(validationErrors(validate, value)).toBe('');
      // Every property is present, and a nullable field still carries a real value.
      expect(Object.keys(value)).toHaveLength(9);
      expect(value.notes).toEqual(expect.any(String));
    }
  });

  it('respects propertyOrdering for key order at every level', () => {
    const value = firstParsed(
      generateContent(MODEL, jsonRequest('Pancakes', { responseSchema: RECIPE_SCHEMA })),
    );
    expect(Object.keys(value)).toEqual(RECIPE_SCHEMA.propertyOrdering);
    const ingredients = value.ingredients as Array<Record<string, unknown>>;
    expect(ingredients.length).toBeGreaterThanOrEqual(2);
    for (const ingredient of ingredients) expect(Object.keys(ingredient)).toEqual(['unit', 'grams', 'name']);
  });

  it('varies enum, integer and boolean picks with the prompt', () => {
    const seen = {
      difficulty: new Set<unknown>(),
      servings: new Set<unknown>(),
      vegetarian: new Set<unknown>(),
    };
    for (let i = 0; i < 30; i++) {
      const value = firstParsed(
        generateContent(MODEL, jsonRequest(`Dish ${i}`, { responseSchema: RECIPE_SCHEMA })),
      );
      seen.difficulty.add(value.difficulty);
      seen.servings.add(value.servings);
      seen.vegetarian.add(value.vegetarian);
    }
    expect(seen.difficulty.size).toBeGreaterThan(1);
    expect(seen.servings.size).toBeGreaterThan(1);
    expect(seen.vegetarian).toEqual(new Set([true, false]));
  });

  it('produces a value that validates against a responseJsonSchema with $defs, $ref, type arrays and anyOf', () => {
    const validate = compileJsonSchema(TICKET_JSON_SCHEMA);
    for (let i = 0; i < 10; i++) {
      const response = generateContent(
        MODEL,
        jsonRequest(`Ticket ${i}`, { responseJsonSchema: TICKET_JSON_SCHEMA, candidateCount: 2 }),
      );
      for (const value of parsedCandidates(response)) expect(validationErrors(validate, value)).toBe('');
    }
  });

  it('fills formats, lengths and nullable types from a responseJsonSchema with real values', () => {
    const value = firstParsed(
      generateContent(MODEL, jsonRequest('Printer is on fire', { responseJsonSchema: TICKET_JSON_SCHEMA })),
    );
    expect(value.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(value.homepage).toBe('https://example.com/emulated');
    expect(value.assignee).toEqual({
      name: expect.stringMatching(/^emulated name/),
      email: 'emulated@example.com',
    });
    expect(((value.assignee as Record<string, string>).name ?? '').length).toBeGreaterThanOrEqual(20);
    expect(value.priority).not.toBeNull();
    expect(value.estimate).toEqual(expect.any(Number));
    expect(value.tags).toHaveLength(3);
  });

  it('prefers responseJsonSchema over responseSchema when both are given', () => {
    const value = firstParsed(
      generateContent(
        MODEL,
        jsonRequest('Both', {
          responseSchema: { type: 'OBJECT', properties: { fromGemini: { type: 'STRING' } } },
          responseJsonSchema: { type: 'object', properties: { fromJson: { type: 'string' } } },
        }),
      ),
    );
    expect(value).toEqual({ fromJson: 'emulated fromJson' });
  });

  it('counts the JSON text as candidate tokens', () => {
    const response = generateContent(MODEL, jsonRequest('Pancakes', { responseSchema: RECIPE_SCHEMA }));
    const text = response.candidates[0]?.content.parts[0]?.text ?? '';
    expect(response.usageMetadata.candidatesTokenCount).toBe(Math.ceil(text.length / 4));
  });
});
