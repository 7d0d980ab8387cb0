import { describe, expect, it } from 'vitest';
import {
  type GenerateContentResponseJson,
  generateContent,
  InvalidRequestError,
} from '../../../../local/gemini-emulator/model/index.js';

const MODEL = 'gemini-2.5-flash';

function userRequest(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { contents: [{ role: 'user', parts: [{ text }] }], ...extra };
}

function textsOf(response: GenerateContentResponseJson): string[] {
  return response.candidates.map((candidate) => candidate.content.parts.map((part) => part.text).join(''));
}

function firstText(response: GenerateContentResponseJson): string {
  const [text] = textsOf(response);
  if (text === undefined) throw new Error('response has no candidates');
  return text;
}

describe('generateContent', () => {
  it('returns a Gemini GenerateContentResponse with one model candidate by default', () => {
    const response = generateContent(MODEL, userRequest('What is the capital of France?'));
    expect(response.candidates).toHaveLength(1);
    expect(response.candidates[0]).toMatchObject({
      content: { role: 'model', parts: [{ text: expect.any(String) }] },
      finishReason: 'STOP',
      index: 0,
    });
    expect(response.modelVersion).toBe(MODEL);
    expect(response.responseId).toMatch(/^[0-9a-f]{16,24}$/);
  });

  it('labels the text as emulated and quotes the prompt', () => {
    const text = firstText(generateContent(MODEL, userRequest('What is the capital of France?')));
    expect(text).toBe('[emulated gemini-2.5-flash] Response to: "What is the capital of France?"');
  });

  it('strips the models/ prefix from the model name', () => {
    const response = generateContent(`models/${MODEL}`, userRequest('hi'));
    expect(response.modelVersion).toBe(MODEL);
    expect(firstText(response)).toContain('[emulated gemini-2.5-flash]');
  });

  it('collapses whitespace and quotes only the first 160 characters of a long prompt', () => {
    const prompt = `Line one\n\n\tline   two ${'z'.repeat(300)}`;
    const text = firstText(generateContent(MODEL, userRequest(prompt)));
    const quoted = `Line one line two ${'z'.repeat(300)}`.slice(0, 160);
    expect(text).toContain(`"${quoted}...`);
    expect(text).not.toContain('z'.repeat(200));
  });

  it('quotes the last user turn of a conversation', () => {
    const request = {
      contents: [
        { role: 'user', parts: [{ text: 'first question' }] },
        { role: 'model', parts: [{ text: 'first answer' }] },
        { role: 'user', parts: [{ text: 'follow-up ' }, { text: 'question' }] },
      ],
    };
    const text = firstText(generateContent(MODEL, request));
    expect(text).toContain('"follow-up question"');
    expect(text).not.toContain('first');
  });

  it('mentions the system instruction briefly', () => {
    const request = userRequest('Hello', {
      systemInstruction: { parts: [{ text: 'You are a terse assistant who answers in French, always.' }] },
    });
    expect(firstText(generateContent(MODEL, request))).toBe(
      '[emulated gemini-2.5-flash] Response to: "Hello" (system: "You are a terse assistant who answers in...")',
    );
  });

  it('gives identical results for camelCase and snake_case spellings of the same request', () => {
    const camel = {
      contents: [{ role: 'user', parts: [{ text: 'Summarise the report.' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { candidateCount: 2, maxOutputTokens: 6, temperature: 0.2 },
    };
    const snake = {
      contents: [{ role: 'user', parts: [{ text: 'Summarise the report.' }] }],
      system_instruction: { parts: [{ text: 'Be brief.' }] },
      generation_config: { candidate_count: 2, max_output_tokens: 6, temperature: 0.2 },
    };
    const fromCamel = generateContent(MODEL, camel);
    expect(fromCamel.candidates).toHaveLength(2);
    expect(fromCamel.candidates[0]?.finishReason).toBe('MAX_TOKENS');
    expect(firstText(fromCamel)).toBe('[emulated gemini-2.5-fla');
    expect(generateContent(MODEL, snake)).toEqual(fromCamel);
  });

  it('gives identical results for camelCase and snake_case JSON-mode requests', () => {
    const schema = { type: 'OBJECT', properties: { answer: { type: 'STRING' }, score: { type: 'INTEGER' } } };
    const camel = userRequest('Rate this.', {
      generationConfig: { responseMimeType: 'application/json', responseSchema: schema },
    });
    const snake = userRequest('Rate this.', {
      generation_config: { response_mime_type: 'application/json', response_schema: schema },
    });
    const fromCamel = generateContent(MODEL, camel);
    expect(Object.keys(JSON.parse(firstText(fromCamel)))).toEqual(['answer', 'score']);
    expect(generateContent(MODEL, snake)).toEqual(fromCamel);
  });

  it('is deterministic: the same input gives an identical response', () => {
    const build = () => userRequest('Tell me a joke', { generationConfig: { candidateCount: 3 } });
    expect(generateContent(MODEL, build())).toEqual(generateContent(MODEL, build()));
  });

  it('gives a different text and response id for a different prompt or model', () => {
    const a = generateContent(MODEL, userRequest('Tell me a joke'));
    const b = generateContent(MODEL, userRequest('Tell me a story'));
    const c = generateContent('gemini-2.5-pro', userRequest('Tell me a joke'));
    expect(firstText(a)).not.toBe(firstText(b));
    expect(a.responseId).not.toBe(b.responseId);
    expect(firstText(a)).not.toBe(firstText(c));
    expect(a.responseId).not.toBe(c.responseId);
  });

  it('accepts and ignores tools, safety settings, caching, thinking config, labels and unknown fields', () => {
    const plain = generateContent(MODEL, userRequest('What time is it?'));
    const decorated = generateContent(
      MODEL,
      userRequest('What time is it?', {
        tools: [{ functionDeclarations: [{ name: 'now', description: 'current time' }] }],
        toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
        safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
        cachedContent: 'cachedContents/abc',
        labels: { team: 'search' },
        generationConfig: { temperature: 1, topP: 0.9, thinkingConfig: { thinkingBudget: 0 } },
        somethingNew: { nested: true },
      }),
    );
    expect(decorated).toEqual(plain);
  });

  it('returns candidateCount distinct candidates indexed from zero', () => {
    const response = generateContent(
      MODEL,
      userRequest('Name a colour', { generationConfig: { candidateCount: 3 } }),
    );
    expect(response.candidates.map((candidate) => candidate.index)).toEqual([0, 1, 2]);
    const texts = textsOf(response);
    expect(new Set(texts).size).toBe(3);
    expect(texts[1]).toMatch(/\(candidate 2\)$/);
    for (const text of texts) expect(text).toContain('"Name a colour"');
  });

  it('clamps candidateCount to the range 1..8', () => {
    const count = (candidateCount: unknown) =>
      generateContent(MODEL, userRequest('x', { generationConfig: { candidateCount } })).candidates.length;
    expect(count(20)).toBe(8);
    expect(count(0)).toBe(1);
    expect(count(-3)).toBe(1);
  });

  it('truncates to maxOutputTokens * 4 characters and reports MAX_TOKENS', () => {
    const response = generateContent(
      MODEL,
      userRequest('Write a long essay about rivers', { generationConfig: { maxOutputTokens: 5 } }),
    );
    expect(firstText(response)).toBe('[emulated gemini-2.5');
    expect(response.candidates[0]?.finishReason).toBe('MAX_TOKENS');
    expect(response.usageMetadata.candidatesTokenCount).toBe(5);
  });

  it('keeps the full text and STOP when it fits within maxOutputTokens', () => {
    const response = generateContent(
      MODEL,
      userRequest('Short', { generationConfig: { maxOutputTokens: 1000 } }),
    );
    expect(firstText(response)).toBe('[emulated gemini-2.5-flash] Response to: "Short"');
    expect(response.candidates[0]?.finishReason).toBe('STOP');
  });

  it('counts tokens as ceil(characters / 4) and adds them up', () => {
    const prompt = 'abcdefghij'; // 10 characters -> 3 tokens
    const system = 'abcde'; // 5 characters -> 2 tokens
    const response = generateContent(
      MODEL,
      userRequest(prompt, {
        systemInstruction: { parts: [{ text: system }] },
        generationConfig: { candidateCount: 2 },
      }),
    );
    const { usageMetadata } = response;
    expect(usageMetadata.promptTokenCount).toBe(5);
    const expectedCandidates = textsOf(response).reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    expect(usageMetadata.candidatesTokenCount).toBe(expectedCandidates);
    expect(usageMetadata.totalTokenCount).toBe(5 + expectedCandidates);
    expect(usageMetadata.promptTokensDetails).toEqual([{ modality: 'TEXT', tokenCount: 5 }]);
  });

  it('counts prompt tokens over every turn of the conversation', () => {
    const request = {
      contents: [
        { role: 'user', parts: [{ text: 'x'.repeat(8) }] },
        { role: 'model', parts: [{ text: 'y'.repeat(12) }] },
        {
          role: 'user',
          parts: [{ text: 'z'.repeat(4) }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }],
        },
      ],
    };
    expect(generateContent(MODEL, request).usageMetadata.promptTokenCount).toBe(2 + 3 + 1);
  });

  it('answers a prompt without text with a labelled placeholder', () => {
    const request = { contents: [{ role: 'user', parts: [{ fileData: { fileUri: 'gs://b/cat.png' } }] }] };
    expect(firstText(generateContent(MODEL, request))).toBe(
      '[emulated gemini-2.5-flash] Response to: a prompt without text',
    );
  });

  it('answers in text/x.enum mode with one of the enum values', () => {
    const options = ['positive', 'negative', 'neutral'];
    const answers = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const response = generateContent(
        MODEL,
        userRequest(`Classify review ${i}`, {
          generationConfig: {
            responseMimeType: 'text/x.enum',
            responseSchema: { type: 'STRING', enum: options },
          },
        }),
      );
      answers.add(firstText(response));
    }
    for (const answer of answers) expect(options).toContain(answer);
    expect(answers.size).toBeGreaterThan(1);
  });

  describe('validation', () => {
    const cases: Array<[string, unknown, string]> = [
      ['the request is not an object', 'hello', '* GenerateContentRequest: request must be a JSON object'],
      ['the request is an array', [], '* GenerateContentRequest: request must be a JSON object'],
      ['contents is missing', {}, '* GenerateContentRequest.contents: contents is not specified'],
      ['contents is empty', { contents: [] }, '* GenerateContentRequest.contents: contents is not specified'],
      [
        'contents is not a list',
        { contents: { parts: [{ text: 'x' }] } },
        '* GenerateContentRequest.contents: contents must be a list of Content objects',
      ],
      [
        'a content item is not an object',
        { contents: [{ parts: [{ text: 'x' }] }, 'text'] },
        '* GenerateContentRequest.contents[1]: content must be a Content object',
      ],
      [
        'a content item has no parts',
        { contents: [{ parts: [{ text: 'x' }] }, { role: 'user' }] },
        '* GenerateContentRequest.contents[1].parts: contents.parts must not be empty',
      ],
      [
        'a content item has an empty parts list',
        { contents: [{ role: 'user', parts: [] }] },
        '* GenerateContentRequest.contents[0].parts: contents.parts must not be empty',
      ],
    ];

    it.each(cases)('rejects a request when %s', (_label, request, message) => {
      const call = () => generateContent(MODEL, request);
      expect(call).toThrow(new InvalidRequestError(message));
      expect(call).toThrow(expect.objectContaining({ name: 'InvalidRequestError' }));
    });
  });
});
