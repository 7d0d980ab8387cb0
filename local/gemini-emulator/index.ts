export { type GoogleErrorBody, QUOTA_EXCEEDED_MESSAGE } from './api-error.js';
export type { CreateAttempt } from './batch-store.js';
export { EmulatorClock } from './clock.js';
export { type GeminiEmulator, startGeminiEmulator } from './emulator.js';
export { FaultInjector } from './fault-injector.js';
export {
  DEFAULT_REFUSED_MIME_TYPE,
  ENDPOINTS,
  type Endpoint,
  type Fault,
  type RefuseMimeTypeFault,
  type UploadNoFileFault,
  type UploadNotFinalFault,
} from './faults.js';
export {
  type CatalogueModel,
  DEFAULT_ENQUEUED_TOKENS,
  type EmbeddingUsage,
  GEMINI_MODELS,
  modelResource,
  RETIRED_MODELS,
  type RetiredModel,
} from './model-catalogue.js';
export { type OpenAiBatchStatus, STATUS_BY_STATE } from './openai/batch-object.js';
export { OPENAI_BATCH_ENDPOINTS, type OpenAiBatchEndpoint } from './openai/lines.js';
export {
  DEFAULT_EMULATOR_API_KEY,
  DEFAULT_ENQUEUED_TOKEN_LIMITS,
  type EmulatorLimits,
  type GeminiEmulatorOptions,
  type JobTiming,
  type OpenAiCompatOptions,
  type RoughnessOptions,
} from './options.js';
export { ROUGH_GEMINI } from './presets.js';
