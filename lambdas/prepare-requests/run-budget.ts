/**
 * The run's budget: what its accepted requests should cost at batch prices, estimated before any
 * job exists, and the cap it is held to (the stack's `maxRunCostUsd`, or the upload's
 * `gemini-max-cost-usd` object metadata).
 */
import { InputValidationError, RunBudgetError } from '../shared/errors.js';
import type { BatchKind, RequestFormat } from '../shared/gemini/gemini-batch-api.js';
import { estimateCost } from '../shared/pricing/cost-estimate.js';
import type { PriceTable } from '../shared/pricing/pricing.js';
import {
  emptyModelUsage,
  LONG_PROMPT_TOKENS,
  type ModelTokenEstimate,
  type ModelUsage,
  type RunCostEstimate,
} from '../shared/run/work-records.js';

/**
 * Object metadata that sets a file's cap over the stack's `maxRunCostUsd`, either way (higher or
 * lower), in USD: `aws s3 cp in.jsonl s3://bucket/inputs/ --metadata gemini-max-cost-usd=5`.
 */
export const MAX_COST_METADATA = 'gemini-max-cost-usd';

/**
 * Output tokens counted for a generate request that sets no output cap (`maxOutputTokens`,
 * `max_tokens`). Gemini bills thinking as output, and thinking runs by default: the 2.5 models'
 * automatic thinking budget goes "up to 8,192 tokens" (https://ai.google.dev/gemini-api/docs/thinking).
 * An assumption, not a bound: a request may produce up to its model's output limit (65,536 for
 * current models); setting `maxOutputTokens` makes the estimate an upper bound for that request.
 */
export const ASSUMED_OUTPUT_TOKENS = 8_192;

/** The cap a run is held to, and where it came from. */
export interface RunCostCap {
  readonly maxUsd: number;
  readonly source: 'metadata' | 'stack';
}

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * The file's cap: its {@link MAX_COST_METADATA} when the upload has one, else the stack's, else
 * none. Throws `InputValidationError` when the metadata is not a positive number of dollars.
 */
export function runCostCap(
  stackCap: number | undefined,
  metadata: Readonly<Record<string, string>>,
): RunCostCap | undefined {
  const value = metadata[MAX_COST_METADATA];
  if (value === undefined) return stackCap === undefined ? undefined : { maxUsd: stackCap, source: 'stack' };
  const usd = DECIMAL.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(usd > 0 && Number.isFinite(usd))) {
    throw new InputValidationError(
      `object metadata ${MAX_COST_METADATA} must be a positive number of US dollars such as 25 or 2.50, got '${value}'`,
    );
  }
  return { maxUsd: usd, source: 'metadata' };
}

const positiveInteger = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;

const objectAt = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

/**
 * The output (and thinking) tokens a request may be billed for: its output cap times its number
 * of candidates, or `undefined` when it sets no cap. An embedding has no output tokens. The
 * Gemini API caps thinking and answer together with `maxOutputTokens`
 * (https://github.com/googleapis/python-genai/issues/2062), and its JSON takes camelCase and
 * snake_case field names alike; the OpenAI layer takes `max_completion_tokens` or `max_tokens`, and `n`.
 */
export function requestOutputTokens(
  format: RequestFormat,
  kind: BatchKind,
  request: Readonly<Record<string, unknown>>,
): number | undefined {
  if (kind === 'embed') return 0;
  if (format === 'openai') {
    const cap = positiveInteger(request.max_completion_tokens) ?? positiveInteger(request.max_tokens);
    return cap === undefined ? undefined : cap * (positiveInteger(request.n) ?? 1);
  }
  const config = objectAt(request.generationConfig ?? request.generation_config);
  const cap = positiveInteger(config.maxOutputTokens ?? config.max_output_tokens);
  const candidates = positiveInteger(config.candidateCount ?? config.candidate_count) ?? 1;
  return cap === undefined ? undefined : cap * candidates;
}

interface ModelTally {
  readonly usage: ModelUsage;
  assumedOutputRequests: number;
}

/** Sums the accepted requests' token estimates per model, and prices them. */
export class RunCostTally {
  readonly #byModel = new Map<string, ModelTally>();

  /** Counts one accepted request: `outputTokens` undefined means it set no output cap. */
  add(model: string, inputTokens: number, outputTokens: number | undefined): void {
    let tally = this.#byModel.get(model);
    if (!tally) {
      tally = { usage: emptyModelUsage(), assumedOutputRequests: 0 };
      this.#byModel.set(model, tally);
    }
    const output = outputTokens ?? ASSUMED_OUTPUT_TOKENS;
    if (outputTokens === undefined) tally.assumedOutputRequests += 1;
    const { usage } = tally;
    usage.requestCount += 1;
    usage.promptTokens += inputTokens;
    usage.outputTokens += output;
    usage.totalTokens += inputTokens + output;
    // Billed whole at the long-prompt rates, as Finalize prices Gemini's reported usage.
    if (inputTokens > LONG_PROMPT_TOKENS) {
      usage.longPromptRequests += 1;
      usage.longPromptTokens += inputTokens;
      usage.longPromptOutputTokens += output;
    }
  }

  /** The estimate at the prices in force on `at`'s day (UTC), with the cap it is held to. */
  estimate(prices: PriceTable, at: Date, cap: RunCostCap | undefined): RunCostEstimate {
    const usageByModel = Object.fromEntries([...this.#byModel].map(([model, { usage }]) => [model, usage]));
    const cost = estimateCost(usageByModel, prices, { at });
    const byModel: Record<string, ModelTokenEstimate> = {};
    for (const [model, { usage, assumedOutputRequests }] of this.#byModel) {
      byModel[model] = {
        requests: usage.requestCount,
        inputTokens: usage.promptTokens,
        outputTokens: usage.outputTokens,
        assumedOutputRequests,
        usd: cost.byModel[model]?.total,
      };
    }
    const overBudget = cap && (cost.total > cap.maxUsd || cost.unpricedModels.length > 0);
    return {
      estimatedUsd: cost.total,
      byModel,
      outputTokensAssumed: ASSUMED_OUTPUT_TOKENS,
      pricedAt: cost.pricedAt,
      unpricedModels: cost.unpricedModels,
      ...(cap ? { maxUsd: cap.maxUsd, capSource: cap.source, overBudget: Boolean(overBudget) } : {}),
    };
  }
}

const CAP_NAMES = {
  metadata: `the upload's ${MAX_COST_METADATA} metadata`,
  stack: "the stack's maxRunCostUsd",
} as const;

const usd = (value: number): string => `$${value.toFixed(4).replace(/0{1,2}$/, '')}`;

/** The error that ends a run over its budget before any job exists, or undefined when it is within it. */
export function budgetProblem(estimate: RunCostEstimate): RunBudgetError | undefined {
  if (!estimate.overBudget || estimate.maxUsd === undefined || !estimate.capSource) return undefined;
  const cap = `${usd(estimate.maxUsd)} (${CAP_NAMES[estimate.capSource]})`;
  const day = estimate.pricedAt.slice(0, 10);
  if (estimate.unpricedModels.length > 0) {
    return new RunBudgetError(
      `the run cannot be held to its cap of ${cap}: the price table has no batch price on ${day} for ${estimate.unpricedModels.join(', ')}; add it with the stack's batchPrices, or remove the cap. No batch job was created`,
    );
  }
  const models = Object.values(estimate.byModel);
  const assumed = models.reduce((sum, model) => sum + model.assumedOutputRequests, 0);
  const assumption =
    assumed > 0
      ? `; ${assumed} requests set no maxOutputTokens and were counted at ${estimate.outputTokensAssumed} output tokens each`
      : '';
  return new RunBudgetError(
    `the run's estimated cost at batch prices, ${usd(estimate.estimatedUsd)}, is over its cap of ${cap}: ${models.reduce((sum, model) => sum + model.requests, 0)} requests, about ${models.reduce((sum, model) => sum + model.inputTokens, 0)} input and ${models.reduce((sum, model) => sum + model.outputTokens, 0)} output tokens${assumption}. No batch job was created; raise the cap, send fewer requests or set their maxOutputTokens`,
  );
}
