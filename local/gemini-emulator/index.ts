export type { GoogleErrorBody } from './api-error.js';
export { EmulatorClock } from './clock.js';
export { type GeminiEmulator, startGeminiEmulator } from './emulator.js';
export { ENDPOINTS, type Endpoint, type Fault, FaultInjector } from './faults.js';
export { type OpenAiBatchStatus, STATUS_BY_STATE } from './openai/batch-object.js';
export { OPENAI_BATCH_ENDPOINTS, type OpenAiBatchEndpoint } from './openai/lines.js';
export {
  DEFAULT_EMULATOR_API_KEY,
  DEFAULT_ENQUEUED_TOKEN_LIMITS,
  type EmulatorLimits,
  type GeminiEmulatorOptions,
  type JobTiming,
  type OpenAiCompatOptions,
} from './options.js';
