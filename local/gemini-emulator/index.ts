export type { GoogleErrorBody } from './api-error.js';
export { EmulatorClock } from './clock.js';
export { type GeminiEmulator, startGeminiEmulator } from './emulator.js';
export { ENDPOINTS, type Endpoint, type Fault, FaultInjector } from './faults.js';
export {
  DEFAULT_EMULATOR_API_KEY,
  DEFAULT_ENQUEUED_TOKEN_LIMITS,
  type EmulatorLimits,
  type GeminiEmulatorOptions,
  type JobTiming,
} from './options.js';
