/**
 * The emulator's synthetic model: deterministic, plainly-labelled fake outputs for Gemini requests.
 */
export type { EmbedContentResponseJson } from './embed.js';
export { embedContent } from './embed.js';
export { InvalidRequestError } from './errors.js';
export type {
  CandidateJson,
  FinishReason,
  GenerateContentResponseJson,
  UsageMetadataJson,
} from './generate.js';
export { generateContent } from './generate.js';
export { sampleFromSchema } from './schema-sample.js';
export { estimateTokens, promptTokens, textOf } from './tokens.js';
