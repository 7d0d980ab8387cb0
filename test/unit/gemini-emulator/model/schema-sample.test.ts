import type { ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { sampleFromSchema } from '../../../../local/gemini-emulator/model/index.js';
import { compileJsonSchema, geminiToJsonSchema, validationErrors } from './json-schema-validator.js';

const compiled = new WeakMap<object, ValidateFunction>();

function expectValid(schema: object, seed = 'seed'): unknown {
  const validate = compiled.get(schema) ?? compileJsonSchema(schema);
  compiled.set(schema, validate);
  const value = sampleFromSchema(schema, seed);
  expect(validationErrors(validate, value)).toBe('');
  return value;
}

function depthOf(node: unknown): number {
  if (typeof node !== 'object' || node === null) return 0;
  return 1 + Math.max(0, ...Object.values(node).map(depthOf));
}

describe('sampleFromSchema', () => {
  it('is deterministic for the same schema and seed', () => {
    const schema = { type: 'object', properties: { n: { type: 'number' }, b: { type: 'boolean' } } };
    expect(sampleFromSchema(schema, 'abc')).toEqual(sampleFromSchema(schema, 'abc'));
  });

  it('returns a string for the empty schema', () => {
    expect(sampleFromSchema({}, 'seed')).toBe('emulated value');
  });

  it('labels strings with their property name, or the schema title at the root', () => {
    expect(sampleFromSchema({ type: 'object', properties: { city: { type: 'string' } } }, 's')).toEqual({
      city: 'emulated city',
    });
    expect(sampleFromSchema({ type: 'string', title: 'summary' }, 's')).toBe('emulated summary');
  });

  it('honours const', () => {
    expect(sampleFromSchema({ type: 'object', properties: { kind: { const: 'ticket' } } }, 's')).toEqual({
      kind: 'ticket',
    });
  });

  it('pads to minLength and truncates to maxLength', () => {
    expect(expectValid({ type: 'string', minLength: 30 })).toHaveLength(30);
    expect(expectValid({ type: 'string', maxLength: 4 })).toBe('emul');
  });

  it('emits fixed values for common string formats', () => {
    expect(expectValid({ type: 'string', format: 'date-time' })).toBe('2024-01-01T00:00:00Z');
    expect(expectValid({ type: 'string', format: 'date' })).toBe('2024-01-01');
    expect(expectValid({ type: 'string', format: 'email' })).toBe('emulated@example.com');
    expect(expectValid({ type: 'string', format: 'uri' })).toBe('https://example.com/emulated');
    expectValid({ type: 'string', format: 'uuid' });
  });

  it('keeps integers within inclusive and exclusive bounds and on multipleOf', () => {
    const schemas = [
      { type: 'integer', minimum: -3, maximum: 3 },
      { type: 'integer', exclusiveMinimum: 10, exclusiveMaximum: 12 },
      { type: 'integer', minimum: 0, maximum: 100, multipleOf: 7 },
      { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 0.01 },
      { type: 'number', minimum: 1e6 },
    ];
    for (const schema of schemas) {
      for (let i = 0; i < 25; i++) expectValid(schema, `seed ${i}`);
    }
    expect(sampleFromSchema({ type: 'integer', exclusiveMinimum: 10, exclusiveMaximum: 12 }, 'x')).toBe(11);
  });

  it('picks different enum members, numbers and booleans for different seeds', () => {
    const schema = {
      type: 'object',
      properties: {
        colour: { enum: ['red', 'green', 'blue', 'yellow'] },
        size: { type: 'integer', minimum: 0, maximum: 1000 },
        flag: { type: 'boolean' },
      },
    };
    const values = Array.from(
      { length: 20 },
      (_, i) => sampleFromSchema(schema, `seed ${i}`) as Record<string, unknown>,
    );
    expect(new Set(values.map((v) => v.colour)).size).toBeGreaterThan(1);
    expect(new Set(values.map((v) => v.size)).size).toBeGreaterThan(1);
    expect(new Set(values.map((v) => v.flag))).toEqual(new Set([true, false]));
  });

  it('sizes arrays by minItems (default one) capped by maxItems', () => {
    expect(expectValid({ type: 'array', items: { type: 'string' } })).toEqual(['emulated value 1']);
    expect(expectValid({ type: 'array', items: { type: 'integer' }, minItems: 4 })).toHaveLength(4);
    expect(expectValid({ type: 'array', items: { type: 'integer' }, maxItems: 0 })).toEqual([]);
    expect(
      expectValid({
        type: 'array',
        prefixItems: [{ type: 'integer' }, { type: 'boolean' }],
        items: false,
        minItems: 2,
      }),
    ).toEqual([expect.any(Number), expect.any(Boolean)]);
  });

  it('keeps array items unique when uniqueItems is set', () => {
    for (let i = 0; i < 10; i++) {
      expectValid(
        { type: 'array', items: { enum: ['a', 'b', 'c', 'd'] }, minItems: 3, uniqueItems: true },
        `s${i}`,
      );
    }
  });

  it('produces a non-null value for nullable types and null-first unions', () => {
    expect(sampleFromSchema({ type: 'STRING', nullable: true }, 's')).toBe('emulated value');
    expect(expectValid({ type: ['null', 'integer'] })).toEqual(expect.any(Number));
    expect(expectValid({ anyOf: [{ type: 'null' }, { type: 'boolean' }] })).toEqual(expect.any(Boolean));
    expect(expectValid({ type: 'null' })).toBeNull();
  });

  it('merges allOf branches', () => {
    const value = expectValid({
      $defs: { named: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
      allOf: [
        { $ref: '#/$defs/named' },
        {
          type: 'object',
          properties: { age: { type: 'integer', minimum: 18, maximum: 99 } },
          required: ['age'],
        },
      ],
    });
    expect(Object.keys(value as object)).toEqual(['name', 'age']);
  });

  it('resolves $ref into definitions as well as $defs', () => {
    const schema = {
      definitions: { point: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
      type: 'object',
      properties: { origin: { $ref: '#/definitions/point' } },
    };
    expect(sampleFromSchema(schema, 's')).toEqual({ origin: { x: expect.any(Number) } });
  });

  it('terminates on recursive schemas with a valid, bounded value', () => {
    const tree = {
      $defs: {
        node: {
          type: 'object',
          properties: {
            label: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/node' } },
            parent: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] },
          },
          required: ['label', 'parent'],
        },
      },
      $ref: '#/$defs/node',
    };
    const value = expectValid(tree);
    expect(depthOf(value)).toBeLessThanOrEqual(12);
  });

  it('honours snake_case Gemini keywords and uppercase types', () => {
    const schema = {
      type: 'OBJECT',
      properties: {
        b: { type: 'ARRAY', items: { type: 'INTEGER', minimum: 5, maximum: 5 }, min_items: '2' },
        a: { type: 'STRING', max_length: 3 },
      },
      property_ordering: ['a', 'b'],
    };
    expect(sampleFromSchema(schema, 's')).toEqual({ a: 'emu', b: [5, 5] });
  });

  it('validates a converted Gemini schema without a type on the root', () => {
    const schema = { properties: { ok: { type: 'BOOLEAN' } }, required: ['ok'] };
    const value = sampleFromSchema(schema, 's');
    expect(validationErrors(compileJsonSchema(geminiToJsonSchema(schema) as object), value)).toBe('');
  });

  it('keeps a property named __proto__ as an ordinary key', () => {
    const schema = JSON.parse('{"type":"object","properties":{"__proto__":{"type":"integer"}}}') as object;
    const value = sampleFromSchema(schema, 's') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});
