/**
 * Stands in for `google-auth-library` in the bundles. `@google/genai`'s Node client imports
 * `GoogleAuth` but constructs it only when no API key is given (Vertex AI's credentials); the
 * pipeline always passes `apiKey` (lambdas/shared/gemini/genai/clients.ts), so `NodeAuth` returns
 * before reaching it. Stubbing it drops gaxios, node-fetch, gcp-metadata and web-streams-polyfill.
 */
import { StubbedModuleError } from './never-called.js';

export class GoogleAuth {
  constructor() {
    throw new StubbedModuleError('google-auth-library', 'GoogleAuth');
  }
}
