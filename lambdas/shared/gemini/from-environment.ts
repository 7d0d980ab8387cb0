import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV, requireEnv } from '../runtime/env.js';
import { tracedAwsClient, tracedPort } from '../runtime/tracer.js';
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
 * Reads, once per cold start, which Secrets Manager secret holds the Gemini API key: the function
 * knows only the secret's ARN, in AWS and offline alike (the local runner serves the secret from its
 * Secrets Manager stand-in), so the key is in no environment variable and never logged.
 * `GEMINI_BASE_URL`, set offline only, points the client at the emulator.
 */
export function geminiFromEnvironment(env: NodeJS.ProcessEnv = process.env): GeminiForInvocation {
  const secretArn = requireEnv(ENV.apiKeySecretArn, env);
  const baseUrl = env[ENV.baseUrl] || undefined;
  // A client of our own, so that its calls are traced like every other AWS call of the function.
  const secrets = new SecretsProvider({ awsSdkV3Client: tracedAwsClient(new SecretsManagerClient({})) });
  return async () => {
    const apiKey = await secrets.get(secretArn, { maxAge: SECRET_MAX_AGE_SECONDS });
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new Error(
        `the secret ${secretArn} holds no Gemini API key: store the key as the secret's plain-text value`,
      );
    }
    return tracedPort('Gemini', new GenaiBatchApi({ apiKey: apiKey.trim(), baseUrl }));
  };
}
