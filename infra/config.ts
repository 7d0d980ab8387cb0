import {
  type DefaultedProp,
  type GeminiBatchPipelineProps,
  PIPELINE_DEFAULTS,
} from './constructs/gemini-batch-pipeline.js';
import { DEFAULT_STACK_ID } from './names.js';

/**
 * What the deployable stack is built from: the construct's props that have a default (documented
 * on {@link GeminiBatchPipelineProps}), all set, and the name of an existing API-key secret. Built
 * by {@link appConfig} from the environment and context that `infra/app.ts` hands it (the only
 * place that reads them); the construct validates the values again, with actionable messages.
 */
export interface PipelineConfig extends Required<Pick<GeminiBatchPipelineProps, DefaultedProp>> {
  /**
   * The name of an existing Secrets Manager secret holding the Gemini API key (context
   * `geminiApiKeySecretName`).
   *
   * @default - the stack creates a secret with a placeholder value, to be replaced after deploying
   */
  readonly apiKeySecretName?: string;
}

/** The deployable app: where the stack goes and what it holds. */
export interface AppConfig {
  /** The stack's construct id, which is also its CloudFormation stack name. */
  readonly stackId: string;

  /**
   * The account and region, from `CDK_DEFAULT_ACCOUNT` and `CDK_DEFAULT_REGION` (set by the CDK CLI
   * from your AWS profile). Left undefined, the stack is environment-agnostic.
   */
  readonly env: { readonly account?: string; readonly region?: string };

  /** The pipeline's settings. */
  readonly pipeline: PipelineConfig;
}

/** The deployable stack's defaults: the construct's own, so the two cannot drift apart. */
export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = {
  inputPrefix: PIPELINE_DEFAULTS.inputPrefix,
  generateModel: PIPELINE_DEFAULTS.generateModel,
  embedModel: PIPELINE_DEFAULTS.embedModel,
  pollSchedule: PIPELINE_DEFAULTS.pollSchedule,
  executionTimeout: PIPELINE_DEFAULTS.executionTimeout,
  workExpiration: PIPELINE_DEFAULTS.workExpiration,
  logRetention: PIPELINE_DEFAULTS.logRetention,
};

/** The pipeline settings: the defaults with `overrides` on top. */
export function pipelineConfig(overrides: Partial<PipelineConfig> = {}): PipelineConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_PIPELINE_CONFIG, ...defined };
}

/** The context keys the app reads (`cdk deploy -c geminiApiKeySecretName=my/gemini-key`). */
export const CONTEXT_KEYS = {
  apiKeySecretName: 'geminiApiKeySecretName',
  inputPrefix: 'inputPrefix',
  generateModel: 'generateModel',
  embedModel: 'embedModel',
  stackId: 'stackName',
} as const;

/** Where {@link appConfig} reads from: handed over by `infra/app.ts`. */
export interface ConfigSources {
  /** The process environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A context lookup (`app.node.tryGetContext`). */
  readonly context: (key: string) => unknown;
}

/** Builds the app's typed config from the environment and context; rejects mistyped context. */
export function appConfig(sources: ConfigSources): AppConfig {
  const text = (key: string): string | undefined => {
    const value = sources.context(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new Error(`context '${key}' must be a non-empty string, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    stackId: text(CONTEXT_KEYS.stackId) ?? DEFAULT_STACK_ID,
    env: { account: sources.env.CDK_DEFAULT_ACCOUNT, region: sources.env.CDK_DEFAULT_REGION },
    pipeline: pipelineConfig({
      inputPrefix: text(CONTEXT_KEYS.inputPrefix),
      generateModel: text(CONTEXT_KEYS.generateModel),
      embedModel: text(CONTEXT_KEYS.embedModel),
      apiKeySecretName: text(CONTEXT_KEYS.apiKeySecretName),
    }),
  };
}
