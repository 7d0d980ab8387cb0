/** Requests that use every message of the request schema, for the schema's tests. */

/** A request using every message of the schema at least once, in camelCase. */
export const FULL_GENERATE = {
  model: 'models/gemini-3.8-flash',
  systemInstruction: { role: 'system', parts: [{ text: 'Be brief.' }] },
  contents: [
    {
      role: 'user',
      parts: [
        { text: 'hello', thought: false, thoughtSignature: 'c2ln', partMetadata: { any: { thing: 1 } } },
        {
          inlineData: { mimeType: 'image/png', data: 'AAAA', displayName: 'a.png' },
          mediaResolution: { level: 'MEDIA_RESOLUTION_HIGH' },
        },
        {
          fileData: { mimeType: 'video/mp4', fileUri: 'files/abc' },
          videoMetadata: { startOffset: '1s', endOffset: '2s', fps: 1 },
        },
        { executableCode: { language: 'PYTHON', code: 'print(1)' } },
        { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1' } },
      ],
    },
    {
      role: 'model',
      parts: [
        { functionCall: { id: 'c1', name: 'lookup', args: { city: 'Zürich', nested: { deeper: [1] } } } },
        { toolCall: { id: 't1', toolType: 'GOOGLE_SEARCH', args: { q: 'x' } } },
      ],
    },
    {
      role: 'user',
      parts: [
        {
          functionResponse: {
            id: 'c1',
            name: 'lookup',
            response: { temperature: 3, anything: { goes: true } },
            parts: [
              { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
              { fileData: { fileUri: 'files/x' } },
            ],
            willContinue: false,
            scheduling: 'SILENT',
          },
        },
        { toolResponse: { id: 't1', toolType: 'GOOGLE_SEARCH', response: { results: [] } } },
      ],
    },
  ],
  tools: [
    {
      functionDeclarations: [
        {
          name: 'lookup',
          description: 'Looks a city up',
          parameters: {
            type: 'OBJECT',
            properties: {
              city: { type: 'STRING', description: 'the city', enum: ['a'], nullable: true },
              tags: { type: 'ARRAY', items: { type: 'STRING', minLength: '1' }, maxItems: '3' },
              choice: { anyOf: [{ type: 'STRING' }, { type: 'INTEGER', minimum: 0, maximum: 9 }] },
            },
            required: ['city'],
            propertyOrdering: ['city', 'tags'],
          },
          parametersJsonSchema: { type: 'object', additionalProperties: false, $defs: {} },
          response: { type: 'STRING' },
          responseJsonSchema: { const: 1 },
          behavior: 'BLOCKING',
        },
      ],
    },
    { googleSearch: { timeRangeFilter: { startTime: 'a', endTime: 'b' }, searchTypes: { webSearch: {} } } },
    { googleSearchRetrieval: { dynamicRetrievalConfig: { mode: 'MODE_DYNAMIC', dynamicThreshold: 0.5 } } },
    { codeExecution: {} },
    { urlContext: {} },
    { computerUse: { environment: 'ENVIRONMENT_BROWSER', excludedPredefinedFunctions: ['x'] } },
    { fileSearch: { fileSearchStoreNames: ['s'], metadataFilter: 'a=b', topK: 3 } },
    { googleMaps: { enableWidget: true } },
    { mcpServers: [{ name: 'm', streamableHttpTransport: { url: 'https://x', headers: { 'X-Any': 'y' } } }] },
  ],
  toolConfig: {
    functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['lookup'] },
    retrievalConfig: { latLng: { latitude: 1, longitude: 2 }, languageCode: 'en' },
  },
  safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
  generationConfig: {
    candidateCount: 1,
    stopSequences: ['x'],
    maxOutputTokens: 10,
    temperature: 0.5,
    topP: 0.9,
    topK: 3,
    seed: 7,
    responseMimeType: 'application/json',
    responseSchema: { type: 'OBJECT', properties: { answer: { type: 'STRING' } } },
    responseJsonSchema: {
      type: 'object',
      properties: { answer: { type: 'string' } },
      additionalProperties: false,
    },
    _responseJsonSchema: { anything: true },
    presencePenalty: 0,
    frequencyPenalty: 0,
    responseLogprobs: false,
    logprobs: 1,
    enableEnhancedCivicAnswers: false,
    responseModalities: ['TEXT'],
    speechConfig: {
      voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } },
      multiSpeakerVoiceConfig: {
        speakerVoiceConfigs: [{ speaker: 'A', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } }],
      },
      languageCode: 'en-US',
    },
    thinkingConfig: { includeThoughts: true, thinkingBudget: 128, thinkingLevel: 'LOW' },
    imageConfig: { aspectRatio: '1:1', imageSize: '1K' },
    mediaResolution: 'MEDIA_RESOLUTION_LOW',
  },
  cachedContent: 'cachedContents/abc',
};

/** `FULL_GENERATE` with every field name in its proto (snake_case) spelling; free-form values kept. */
export function snakeCased(value: unknown, freeForm = false): unknown {
  if (Array.isArray(value)) return value.map((item) => snakeCased(item, freeForm));
  if (typeof value !== 'object' || value === null || freeForm) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      const free = [
        'args',
        'response',
        'partMetadata',
        'parametersJsonSchema',
        'responseJsonSchema',
        'headers',
        '_responseJsonSchema',
        'properties',
      ].includes(key);
      const name =
        key === '_responseJsonSchema'
          ? 'response_json_schema'
          : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      // Property names under `properties` are the user's own: keep them, snake-case the schemas inside.
      if (key === 'properties' && typeof item === 'object' && item !== null) {
        return [
          name,
          Object.fromEntries(Object.entries(item).map(([prop, schema]) => [prop, snakeCased(schema)])),
        ];
      }
      return [name, snakeCased(item, free && key !== 'response')];
    }),
  );
}
