/** The Models API, over raw REST: the SDK's Model renames `supportedGenerationMethods` to `supportedActions`. */
import type { ModelInfo } from '../gemini-batch-api.js';
import type { GeminiRest } from './clients.js';
import { isHttpStatus } from './pipeline-errors.js';

/** The model as `GET models/{model}` describes it, or undefined when Gemini answers 404. */
export async function getModel(rest: GeminiRest, model: string): Promise<ModelInfo | undefined> {
  const id = model.replace(/^models\//, '');
  try {
    const found = (await (await rest.fetch(`models/${encodeURIComponent(id)}`)).json()) as Partial<ModelInfo>;
    return {
      name: found.name ?? `models/${id}`,
      supportedGenerationMethods: found.supportedGenerationMethods ?? [],
      inputTokenLimit: found.inputTokenLimit,
      outputTokenLimit: found.outputTokenLimit,
    };
  } catch (error) {
    if (isHttpStatus(error, 404)) return undefined;
    throw error;
  }
}
