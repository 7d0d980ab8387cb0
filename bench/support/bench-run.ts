/** What every benchmark run of the cores shares: one bucket, the stack's default models and prefix. */
import type { DefaultModels } from '../../lambdas/prepare-requests/parse-request-line.js';

export const BENCH_BUCKET = 'bench-bucket';
export const BENCH_INPUT_PREFIX = 'inputs/';
/** The stack's defaults (PIPELINE_DEFAULTS), repeated so workers need not load aws-cdk-lib. */
export const BENCH_MODELS: DefaultModels = { generate: 'gemini-2.5-flash', embed: 'gemini-embedding-001' };
