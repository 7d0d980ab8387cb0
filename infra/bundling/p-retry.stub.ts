/**
 * Stands in for `p-retry` in the bundles. `@google/genai` retries a call through it only when the
 * client is given `httpOptions.retryOptions` (3.1 `ApiClient.apiCall`); the pipeline gives none
 * (lambdas/shared/gemini/genai/clients.ts): retries belong to the state machine.
 */
import { StubbedModuleError } from './never-called.js';

export default function pRetry(): never {
  throw new StubbedModuleError('p-retry', 'pRetry');
}
