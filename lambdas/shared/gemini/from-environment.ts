import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ENV } from '../runtime/env.js';
import { tracedPort } from '../runtime/tracer.js';
import type { GeminiBatchApi } from './gemini-batch-api.js';
import { GenaiBatchApi } from './genai-batch-api.js';

/** Keep the key for five minutes: few Secrets Manager calls, and a rotated key is picked up soon. */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Gives the Gemini client for one invocation. The key is looked up per invocation, not per cold
 * start, so a warm function picks up a rotated key once its cached copy expires.
 */
export type GeminiForInvocation = () => Promise<GeminiBatchApi>;

/**
 * Reads, once per cold start, where the Gemini API key comes from, and fails by name if from nowhere.
 * In AWS the key is in Secrets Manager (the function only knows the secret's ARN); offline it is
 * `GEMINI_API_KEY` itself, with `GEMINI_BASE_URL` pointing at the emulator. The key is never logged.
 */
export function geminiFromEnvironment(env: NodeJS.ProcessEnv = process.env): GeminiForInvocation {
  const secretArn = env[ENV.apiKeySecretArn];
  const offlineKey = env[ENV.apiKey];
  const baseUrl = env[ENV.baseUrl] || undefined;
  if (secretArn) {
    return async () => {
      const apiKey = await getSecret(secretArn, { maxAge: SECRET_MAX_AGE_SECONDS });
      if (typeof apiKey !== 'string' || apiKey.trim() === '') {
        throw new Error(
          `the secret ${secretArn} holds no Gemini API key: store the key as the secret's plain-text value`,
        );
      }
      return tracedPort('Gemini', new GenaiBatchApi({ apiKey: apiKey.trim(), baseUrl }));
    };
  }
  if (!offlineKey) {
    throw new Error(
      `set ${ENV.apiKeySecretArn} (in AWS) or ${ENV.apiKey} (offline) so the pipeline can call Gemini`,
    );
  }
  return async () => tracedPort('Gemini', new GenaiBatchApi({ apiKey: offlineKey, baseUrl }));
}
