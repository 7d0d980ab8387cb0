import { asNumber, isRecord, type JsonObject, readField } from '../json-fields.js';
import { InvalidRequestError } from './errors.js';
import { sha256Hex } from './hash.js';
import { sampleFromSchema } from './schema-sample.js';
import { estimateTokens, promptTokens, textOf } from './tokens.js';

export { InvalidRequestError } from './errors.js';

/** Why a candidate stopped, as the Gemini REST API spells it. */
export type FinishReason = 'STOP' | 'MAX_TOKENS';

/** One `Candidate` of a Gemini `GenerateContentResponse`, as plain JSON. */
export interface CandidateJson {
  content: { role: 'model'; parts: Array<{ text: string }> };
  finishReason: FinishReason;
  index: number;
}

/** `UsageMetadata` of a Gemini `GenerateContentResponse`, as plain JSON. */
export interface UsageMetadataJson {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  promptTokensDetails: Array<{ modality: 'TEXT'; tokenCount: number }>;
}

/** A Gemini REST `GenerateContentResponse`, as plain JSON. */
export interface GenerateContentResponseJson {
  candidates: CandidateJson[];
  usageMetadata: UsageMetadataJson;
  modelVersion: string;
  responseId: string;
}

/** Google rejects larger values; the emulator clamps instead so that it never fails on them. */
const MAX_CANDIDATES = 8;
const PROMPT_EXCERPT_CHARS = 160;
const SYSTEM_EXCERPT_CHARS = 40;

/**
 * Produces a deterministic, plainly-labelled fake response to a Gemini `GenerateContentRequest`.
 *
 * The request may use camelCase or snake_case field names. Only `contents`, `systemInstruction` and
 * the `generationConfig` fields `responseMimeType`, `responseSchema`, `responseJsonSchema`,
 * `maxOutputTokens` and `candidateCount` influence the output; everything else (tools, safety
 * settings, cached content, thinking config, unknown fields) is accepted and ignored.
 *
 * With `responseMimeType: "application/json"` the text is JSON that validates against the response
 * schema (or a small labelled object when there is none); with `"text/x.enum"` and an enum schema it
 * is one of the enum values. Otherwise it is a one-line text naming the model and quoting the prompt.
 * The result is a pure function of `model` and `request`.
 *
 * @param model - Model name, with or without the `models/` prefix.
 * @param request - Parsed JSON request body (or batch line `request`).
 * @throws {InvalidRequestError} when `request` is not an object or `contents` is malformed.
 */
export function generateContent(model: string, request: unknown): GenerateContentResponseJson {
  const { contents, systemInstruction, config } = validate(request);
  const modelName = model.replace(/^models\//, '');

  const systemText = textOf(systemInstruction);
  const contentTexts = contents.map((content) => textOf(content));
  const promptTokenCount = promptTokens(request);

  // The seed covers only what the output depends on, so camelCase and snake_case spellings of the same
  // request (and requests differing only in ignored fields) produce identical responses.
  const seed = sha256Hex(JSON.stringify({ model: modelName, systemText, contentTexts }));
  const baseText = describePrompt(modelName, lastUserText(contents), systemText);
  const mimeType = String(readField(config, 'responseMimeType') ?? '')
    .trim()
    .toLowerCase();
  const schema = readField(config, 'responseJsonSchema') ?? readField(config, 'responseSchema');
  const maxOutputTokens = positiveInteger(readField(config, 'maxOutputTokens'));
  const candidateCount = Math.min(MAX_CANDIDATES, positiveInteger(readField(config, 'candidateCount')) ?? 1);

  const candidates: CandidateJson[] = [];
  for (let index = 0; index < candidateCount; index++) {
    const plainText = index === 0 ? baseText : `${baseText} (candidate ${index + 1})`;
    const candidateSeed = `${seed}:${index}`;
    let text: string;
    let finishReason: FinishReason = 'STOP';
    if (mimeType.startsWith('application/json')) {
      // Never truncated for maxOutputTokens: cut-off JSON would not parse, which helps nobody testing
      // a pipeline that expects structured output.
      const value =
        schema === undefined
          ? { emulated: true, response: plainText }
          : sampleFromSchema(schema, candidateSeed);
      text = JSON.stringify(value);
    } else if (mimeType === 'text/x.enum' && isRecord(schema)) {
      // Enum mode answers with a bare member; truncating it would yield a non-member.
      text = String(sampleFromSchema(schema, candidateSeed));
    } else {
      text = plainText;
      if (maxOutputTokens !== undefined && estimateTokens(text) > maxOutputTokens) {
        text = text.slice(0, maxOutputTokens * 4);
        finishReason = 'MAX_TOKENS';
      }
    }
    candidates.push({ content: { role: 'model', parts: [{ text }] }, finishReason, index });
  }

  const candidatesTokenCount = candidates.reduce(
    (sum, candidate) => sum + estimateTokens(candidate.content.parts.map((part) => part.text).join('')),
    0,
  );
  const responseId = sha256Hex(
    JSON.stringify({ seed, candidates: candidates.map((c) => [c.content.parts, c.finishReason]) }),
  ).slice(0, 20);
  return {
    candidates,
    usageMetadata: {
      promptTokenCount,
      candidatesTokenCount,
      totalTokenCount: promptTokenCount + candidatesTokenCount,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }],
    },
    modelVersion: modelName,
    responseId,
  };
}

interface ValidRequest {
  contents: JsonObject[];
  systemInstruction: unknown;
  config: JsonObject;
}

function validate(request: unknown): ValidRequest {
  if (!isRecord(request)) {
    throw new InvalidRequestError('* GenerateContentRequest: request must be a JSON object');
  }
  const contents = request.contents;
  if (contents === undefined || contents === null || (Array.isArray(contents) && contents.length === 0)) {
    throw new InvalidRequestError('* GenerateContentRequest.contents: contents is not specified');
  }
  if (!Array.isArray(contents)) {
    throw new InvalidRequestError(
      '* GenerateContentRequest.contents: contents must be a list of Content objects',
    );
  }
  contents.forEach((content: unknown, index) => {
    if (!isRecord(content)) {
      throw new InvalidRequestError(
        `* GenerateContentRequest.contents[${index}]: content must be a Content object`,
      );
    }
    if (!Array.isArray(content.parts) || content.parts.length === 0) {
      throw new InvalidRequestError(
        `* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty`,
      );
    }
  });
  const config = readField(request, 'generationConfig');
  return {
    contents: contents as JsonObject[],
    systemInstruction: readField(request, 'systemInstruction'),
    config: isRecord(config) ? config : {},
  };
}

/** The text of the latest user turn that has any; a role-less content counts as a user turn. */
function lastUserText(contents: JsonObject[]): string {
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i];
    if (content === undefined || (content.role !== undefined && content.role !== 'user')) continue;
    const text = collapse(textOf(content));
    if (text !== '') return text;
  }
  return '';
}

function describePrompt(modelName: string, userText: string, systemText: string): string {
  const prompt = userText === '' ? 'a prompt without text' : `"${excerpt(userText, PROMPT_EXCERPT_CHARS)}"`;
  const system = collapse(systemText);
  const systemNote = system === '' ? '' : ` (system: "${excerpt(system, SYSTEM_EXCERPT_CHARS)}")`;
  return `[emulated ${modelName}] Response to: ${prompt}${systemNote}`;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cuts on code points so that an excerpt never ends in half a surrogate pair. */
function excerpt(text: string, limit: number): string {
  const chars = Array.from(text);
  return chars.length <= limit ? text : `${chars.slice(0, limit).join('')}...`;
}

/** A positive integer setting, or undefined when absent or unusable (the field is then ignored). */
function positiveInteger(value: unknown): number | undefined {
  const number = asNumber(value);
  return number !== undefined && number >= 1 ? Math.floor(number) : undefined;
}
