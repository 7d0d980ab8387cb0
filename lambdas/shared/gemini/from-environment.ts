import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ENV } from '../runtime/env.js';
import type { GeminiBatchApi } from './gemini-batch-api.js';
import { GenaiBatchApi } from './genai-batch-api.js';

/** Keep the key for five minutes: few Secrets Manager calls, and a rotated key is picked up soon. */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * The Gemini client for this invocation. In AWS the key comes from Secrets Manager (the function
 * only knows the secret's ARN); offline it comes from `GEMINI_API_KEY`, with `GEMINI_BASE_URL`
 * pointing at the emulator. The key is never logged.
 */
export async function geminiFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<GeminiBatchApi> {
  const secretArn = env[ENV.apiKeySecretArn];
  const baseUrl = env[ENV.baseUrl] || undefined;
  if (secretArn) {
    const apiKey = await getSecret(secretArn, { maxAge: SECRET_MAX_AGE_SECONDS });
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new Error(
        `the secret ${secretArn} holds no Gemini API key: store the key as the secret's plain-text value`,
      );
    }
    return new GenaiBatchApi({ apiKey: apiKey.trim(), ...(baseUrl ? { baseUrl } : {}) });
  }
  const apiKey = env[ENV.apiKey];
  if (!apiKey) {
    throw new Error(
      `set ${ENV.apiKeySecretArn} (in AWS) or ${ENV.apiKey} (offline) so the pipeline can call Gemini`,
    );
  }
  return new GenaiBatchApi({ apiKey, ...(baseUrl ? { baseUrl } : {}) });
}
