/**
 * The v1beta request schema check: known fields, misspellings with their suggestion, free-form values left
 * alone; one file for one check, longer than 300 lines because each message is pinned word for word.
 */
import { describe, expect, it } from 'vitest';
import {
  lastRequestHasInlineMedia,
  type UnknownField,
  unknownFieldMessage,
  unknownRequestFields,
} from '../../../../lambdas/prepare-requests/request-schema.js';
import { REQUEST_MESSAGES, REQUEST_ROOTS } from '../../../../lambdas/prepare-requests/request-schema-data.js';
import { FULL_GENERATE, snakeCased } from './full-requests.js';

const contents = (part: Record<string, unknown>) => [{ role: 'user', parts: [part] }];
const paths = (fields: readonly UnknownField[]) => fields.map((field) => field.path);
const generatePaths = (request: unknown) => paths(unknownRequestFields('generate', request));

describe('unknownRequestFields', () => {
  it('finds nothing in a request that uses every known message, camelCase', () => {
    expect(unknownRequestFields('generate', FULL_GENERATE)).toEqual([]);
  });

  it('finds nothing in the same request spelled in snake_case, as proto3 JSON accepts', () => {
    const snake = snakeCased(FULL_GENERATE) as Record<string, unknown>;
    expect(snake).toHaveProperty('generation_config.response_mime_type', 'application/json');
    expect(snake).toHaveProperty('contents.0.parts.1.inline_data.mime_type', 'image/png');
    expect(unknownRequestFields('generate', snake)).toEqual([]);
  });

  it('accepts both spellings mixed in one request, even in one object', () => {
    expect(
      generatePaths({
        contents: contents({ text: 'x' }),
        generation_config: { maxOutputTokens: 5, response_mime_type: 'text/plain' },
        safetySettings: [{ category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_NONE' }],
      }),
    ).toEqual([]);
  });

  it('names a misspelled top-level field with an empty location', () => {
    const fields = unknownRequestFields('generate', {
      contents: contents({ text: 'x' }),
      generationConfg: {},
    });
    expect(fields).toEqual([
      { name: 'generationConfg', path: 'generationConfg', location: '', message: 'GenerateContentRequest' },
    ]);
  });

  it.each([
    [
      { contents: [{ role: 'user', parts: [{ txt: 'x' }] }] },
      'contents[0].parts[0].txt',
      'contents[0].parts[0]',
      'Part',
    ],
    [{ contents: [{ rol: 'user', parts: [] }] }, 'contents[0].rol', 'contents[0]', 'Content'],
    [
      { contents: contents({ inlineData: { mimetype: 'a', data: 'b' } }) },
      'contents[0].parts[0].inlineData.mimetype',
      'contents[0].parts[0].inline_data',
      'Blob',
    ],
    [
      { contents: contents({ functionResponse: { name: 'f', response: {}, part: [] } }) },
      'contents[0].parts[0].functionResponse.part',
      'contents[0].parts[0].function_response',
      'FunctionResponse',
    ],
    [
      { contents: contents({ text: 'x' }), systemInstruction: { parts: [{ text: 'a', bold: true }] } },
      'systemInstruction.parts[0].bold',
      'system_instruction.parts[0]',
      'Part',
    ],
    [
      { contents: contents({ text: 'x' }), generationConfig: { maxTokens: 3 } },
      'generationConfig.maxTokens',
      'generation_config',
      'GenerationConfig',
    ],
    [
      { contents: contents({ text: 'x' }), generationConfig: { thinkingConfig: { budget: 3 } } },
      'generationConfig.thinkingConfig.budget',
      'generation_config.thinking_config',
      'ThinkingConfig',
    ],
    [
      {
        contents: contents({ text: 'x' }),
        generationConfig: { speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voice: 'K' } } } },
      },
      'generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voice',
      'generation_config.speech_config.voice_config.prebuilt_voice_config',
      'PrebuiltVoiceConfig',
    ],
    [
      {
        contents: contents({ text: 'x' }),
        tools: [{ googleSearch: {} }, { function_declarations: [{ name: 'f', params: {} }] }],
      },
      'tools[1].function_declarations[0].params',
      'tools[1].function_declarations[0]',
      'FunctionDeclaration',
    ],
    [
      {
        contents: contents({ text: 'x' }),
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowed: [] } },
      },
      'toolConfig.functionCallingConfig.allowed',
      'tool_config.function_calling_config',
      'FunctionCallingConfig',
    ],
    [
      {
        contents: contents({ text: 'x' }),
        safetySettings: [{ category: 'X', threshold: 'Y', method: 'SEVERITY' }],
      },
      'safetySettings[0].method',
      'safety_settings[0]',
      'SafetySetting',
    ],
  ])('names an unknown field at every nesting level: %j', (request, path, location, message) => {
    const fields = unknownRequestFields('generate', request);
    expect(fields.map(({ path, location, message }) => ({ path, location, message }))).toEqual([
      { path, location, message },
    ]);
  });

  it('walks schemas through properties (a map of arbitrary names), items and anyOf', () => {
    const fields = unknownRequestFields('generate', {
      contents: contents({ text: 'x' }),
      generationConfig: {
        responseSchema: {
          type: 'OBJECT',
          properties: {
            // Property names are the user's: never unknown, whatever they are called.
            generationConfg: { type: 'STRING' },
            'with space': { type: 'STRING', additionalProperties: false },
            list: { type: 'ARRAY', items: { type: 'STRING', const: 'a' } },
            either: { anyOf: [{ type: 'STRING' }, { $ref: '#/x' }] },
          },
        },
      },
    });
    expect(fields).toEqual([
      {
        name: 'additionalProperties',
        path: 'generationConfig.responseSchema.properties["with space"].additionalProperties',
        location: 'generation_config.response_schema.properties[1].value',
        message: 'Schema',
      },
      {
        name: 'const',
        path: 'generationConfig.responseSchema.properties.list.items.const',
        location: 'generation_config.response_schema.properties[2].value.items',
        message: 'Schema',
      },
      {
        name: '$ref',
        path: 'generationConfig.responseSchema.properties.either.anyOf[1].$ref',
        location: 'generation_config.response_schema.properties[3].value.any_of[1]',
        message: 'Schema',
      },
    ]);
  });

  it('does not look inside free-form values: function args and responses, JSON schemas, part metadata', () => {
    const odd = { generationConfg: 1, txt: { rol: 2 } };
    expect(
      generatePaths({
        contents: [
          { role: 'model', parts: [{ functionCall: { name: 'f', args: odd } }, { partMetadata: odd }] },
          { role: 'user', parts: [{ functionResponse: { name: 'f', response: odd } }] },
        ],
        tools: [
          { functionDeclarations: [{ name: 'f', parametersJsonSchema: odd, responseJsonSchema: odd }] },
        ],
        generationConfig: {
          responseJsonSchema: odd,
          _responseJsonSchema: odd,
          response_json_schema_ordered: odd,
        },
      }),
    ).toEqual([]);
  });

  it('follows the proto JSON renames of responseJsonSchema: responseJsonSchemaOrdered is not a name', () => {
    expect(
      generatePaths({
        contents: contents({ text: 'x' }),
        generationConfig: { responseJsonSchemaOrdered: {} },
      }),
    ).toEqual(['generationConfig.responseJsonSchemaOrdered']);
  });

  it('reports every unknown field of a request in order, across array items', () => {
    expect(
      generatePaths({
        contents: [
          { role: 'user', parts: [{ text: 'a' }, { txt: 'b' }] },
          { role: 'user', parts: [{ txt: 'c', extra: 1 }] },
        ],
        generationConfg: {},
      }),
    ).toEqual([
      'contents[0].parts[1].txt',
      'contents[1].parts[0].txt',
      'contents[1].parts[0].extra',
      'generationConfg',
    ]);
  });

  it('does not confuse the two request kinds', () => {
    expect(generatePaths({ content: { parts: [{ text: 'x' }] } })).toEqual(['content']);
    expect(paths(unknownRequestFields('embed', { contents: contents({ text: 'x' }) }))).toEqual(['contents']);
  });

  it('checks embedding requests: content, taskType, title, outputDimensionality, model, both spellings', () => {
    const good = [
      {
        content: { parts: [{ text: 'x' }] },
        taskType: 'RETRIEVAL_DOCUMENT',
        title: 't',
        outputDimensionality: 768,
        model: 'models/gemini-embedding-2',
      },
      {
        content: { role: 'user', parts: [{ text: 'x' }] },
        task_type: 'CLUSTERING',
        output_dimensionality: 3,
      },
    ];
    for (const request of good) expect(unknownRequestFields('embed', request)).toEqual([]);
    expect(
      paths(
        unknownRequestFields('embed', {
          content: { parts: [{ txt: 'x' }] },
          outputDimension: 3,
          taskType: 'X',
        }),
      ),
    ).toEqual(['content.parts[0].txt', 'outputDimension']);
  });

  it('leaves values of the wrong type to Gemini: only names are checked', () => {
    expect(
      generatePaths({
        contents: 'hello',
        generationConfig: [1, 'x', null, { temperature: 1 }],
        tools: null,
        toolConfig: 3,
      }),
    ).toEqual([]);
    expect(unknownRequestFields('generate', 'not an object')).toEqual([]);
    expect(unknownRequestFields('generate', null)).toEqual([]);
  });

  it('stops after the limit, by default 100 fields', () => {
    const many = Object.fromEntries(Array.from({ length: 105 }, (_, i) => [`f${i}`, i]));
    expect(unknownRequestFields('generate', many)).toHaveLength(100);
    expect(unknownRequestFields('generate', many, 2).map((field) => field.name)).toEqual(['f0', 'f1']);
  });

  it('survives nesting far deeper than any real request without overflowing the stack', () => {
    let schema: Record<string, unknown> = { type: 'STRING' };
    for (let i = 0; i < 50_000; i++) schema = { type: 'ARRAY', items: schema };
    const deep = { contents: contents({ text: 'x' }), generationConfig: { responseSchema: schema }, tyop: 1 };
    expect(generatePaths(deep)).toEqual(['tyop']);
  });

  it('returns one shared empty array when nothing is unknown, and never keeps an earlier result', () => {
    const first = unknownRequestFields('generate', { contents: contents({ text: 'x' }) });
    const bad = unknownRequestFields('generate', { contents: contents({ txt: 'x' }) });
    const second = unknownRequestFields('generate', { contents: contents({ text: 'y' }) });
    expect(first).toBe(second);
    expect(bad).toHaveLength(1);
    expect(second).toEqual([]);
  });

  it('reports __proto__ as an unknown name rather than walking the prototype', () => {
    const request = JSON.parse('{"contents":[{"parts":[{"text":"x"}]}],"__proto__":{"temperature":1}}');
    expect(generatePaths(request)).toEqual(['__proto__']);
  });
});

describe('the schema data', () => {
  it('names only messages it defines, and has both request kinds as roots', () => {
    const names = new Set(Object.keys(REQUEST_MESSAGES));
    for (const root of Object.values(REQUEST_ROOTS)) expect(names.has(root)).toBe(true);
    for (const [message, fields] of Object.entries(REQUEST_MESSAGES)) {
      for (const [field, spec] of Object.entries(fields)) {
        const type = typeof spec === 'object' && 'json' in spec ? spec.type : spec;
        const target = typeof type === 'object' ? type.map : type;
        if (target !== 'value' && target !== 'free')
          expect(names.has(target), `${message}.${field} → ${target}`).toBe(true);
        expect(field, `${message}.${field} is a proto (snake_case) name`).toMatch(/^[a-z][a-z0-9_]*$/);
      }
    }
  });
});

describe('unknownFieldMessage', () => {
  const [nested] = unknownRequestFields('generate', { contents: contents({ txt: 'x' }) });
  const [top] = unknownRequestFields('generate', { contents: contents({ text: 'x' }), generationConfg: {} });

  it("words Google's message, with the location prefix before the field's own location", () => {
    expect(unknownFieldMessage(top as UnknownField, 'requests[0].request')).toBe(
      `Invalid JSON payload received. Unknown name "generationConfg" at 'requests[0].request': Cannot find field.`,
    );
    expect(unknownFieldMessage(nested as UnknownField, 'requests[3].request')).toBe(
      `Invalid JSON payload received. Unknown name "txt" at 'requests[3].request.contents[0].parts[0]': Cannot find field.`,
    );
  });

  it('leaves the location out for a top-level field of a request that is the whole body', () => {
    expect(unknownFieldMessage(top as UnknownField)).toBe(
      'Invalid JSON payload received. Unknown name "generationConfg": Cannot find field.',
    );
    expect(unknownFieldMessage(nested as UnknownField)).toBe(
      `Invalid JSON payload received. Unknown name "txt" at 'contents[0].parts[0]': Cannot find field.`,
    );
  });
});

describe('lastRequestHasInlineMedia', () => {
  const mediaAfterWalking = (request: unknown) => {
    unknownRequestFields('generate', request);
    return lastRequestHasInlineMedia();
  };
  const image = { mime_type: 'image/png', data: 'AAAA' };

  it('is true for a part with inline media, in either spelling', () => {
    expect(mediaAfterWalking({ contents: contents({ inline_data: image }) })).toBe(true);
    expect(mediaAfterWalking({ contents: contents({ inlineData: image }) })).toBe(true);
  });

  it('is true for inline media in a function response part', () => {
    const functionResponse = { name: 'f', response: {}, parts: [{ inlineData: image }] };
    expect(mediaAfterWalking({ contents: contents({ functionResponse }) })).toBe(true);
  });

  it('is false for a request that only mentions inlineData in its text, and resets for each request', () => {
    expect(mediaAfterWalking({ contents: contents({ inline_data: image }) })).toBe(true);
    expect(mediaAfterWalking({ contents: contents({ text: 'what is "inlineData"?' }) })).toBe(false);
  });
});
