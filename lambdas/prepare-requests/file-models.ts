/**
 * Which models a file's lines run on when they name none: the stack's defaults, unless the upload's
 * object metadata picks others.
 */
import { InputValidationError } from '../shared/errors.js';
import type { BatchKind } from '../shared/gemini/gemini-batch-api.js';
import type { ModelSource } from './model-check.js';
import type { DefaultModels } from './parse-request-line.js';

/**
 * Object metadata that picks a file's models over the stack's defaults, e.g.
 * `aws s3 cp in.jsonl s3://bucket/inputs/ --metadata gemini-model=gemini-2.5-pro`. A line that names
 * its own model (an embedding request's `model`, an OpenAI body's `model`) still wins.
 */
export const MODEL_METADATA = { generate: 'gemini-model', embed: 'gemini-embed-model' } as const;

/** A file's default models, and where a line's model came from: what a person changes to pick another. */
export interface FileModels {
  readonly models: DefaultModels;
  sourceOf(kind: BatchKind, model: string): ModelSource;
}

/**
 * The file's models: each kind's from its {@link MODEL_METADATA} entry when the upload has one,
 * else the stack's. Throws `InputValidationError` when the metadata is not a model name.
 */
export function fileModels(defaults: DefaultModels, metadata: Readonly<Record<string, string>>): FileModels {
  const pick = (kind: BatchKind) => {
    const value = metadata[MODEL_METADATA[kind]];
    if (value === undefined) return defaults[kind];
    const model = value.trim().replace(/^models\//, '');
    if (model === '' || /\s/.test(model)) {
      throw new InputValidationError(
        `object metadata ${MODEL_METADATA[kind]} must be a model name such as ${defaults[kind]}, got '${value}'`,
      );
    }
    return model;
  };
  const models = { generate: pick('generate'), embed: pick('embed') };
  return {
    models,
    sourceOf: (kind, model) =>
      model !== models[kind] ? 'line' : metadata[MODEL_METADATA[kind]] !== undefined ? 'metadata' : 'stack',
  };
}
