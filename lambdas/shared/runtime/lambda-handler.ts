/**
 * The one skeleton every function's handler is built on, with Powertools' Logger, Metrics and Tracer
 * as Middy middleware, as Powertools documents them: each line carries the Lambda context (request
 * id, cold start) and the invocation's correlation keys, the keys are removed when the invocation
 * ends (a warm container must not log one run's keys on the next), and the outcome is logged once.
 * The metrics the core added are flushed as EMF when the invocation ends, returned or thrown, with
 * the run id as metadata; the invocation is a traced subsegment.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './logger.js';
import { RUN_ID_METADATA } from './metric-names.js';
import { beginInvocationMetrics, metrics } from './metrics.js';
import { tracer } from './tracer.js';

/** What a function's handler is made of, beside its module-scope deps. */
export interface LambdaHandlerSpec<Event, Result extends object> {
  /** The outcome line's message, in the past tense: `collected results`. */
  readonly outcome: string;
  /** The invocation's correlation keys, put on every line it logs. */
  readonly keys: (event: Event) => LogAttributes;
  /**
   * What goes on the invocation's EMF lines as metadata (the run id): searchable, never a dimension.
   *
   * @default - nothing
   */
  readonly metricsMetadata?: (event: Event) => Readonly<Record<string, string>>;
  /** Calls the core with the function's deps; what it returns is the function's result. */
  readonly run: (event: Event) => Promise<Result>;
}

/** The function as Lambda calls it. */
export type LambdaHandler<Event, Result> = (event: Event, context: Context) => Promise<Result>;

/**
 * A Lambda handler from its spec. Errors pass through as they are thrown: Step Functions' Retry and
 * Catch match on their names.
 */
export function lambdaHandler<Event, Result extends object>(
  spec: LambdaHandlerSpec<Event, Result>,
): LambdaHandler<Event, Result> {
  return (
    middy(
      async (event: Event) => {
        logger.appendKeys(spec.keys(event));
        beginInvocationMetrics(spec.metricsMetadata?.(event) ?? {});
        const result = await spec.run(event);
        logger.info(spec.outcome, result as LogAttributes);
        return result;
      },
      // Middy would otherwise fail the invocation as `TimeoutError` just before Lambda's timeout while
      // the core runs on; Lambda's own timeout is what the workflow's retriers expect.
      { timeoutEarlyInMillis: 0 },
    )
      .use(captureLambdaHandler(tracer))
      .use(injectLambdaContext(logger, { resetKeys: true }))
      // Flushes on error too (its `onError`), so a failed invocation's metrics still count. An
      // invocation may add none; the cold start is one metric per function, by `function_name`.
      .use(logMetrics(metrics, { throwOnEmptyMetrics: false, captureColdStartMetric: true }))
  );
}

/** A Task of the run's workflow: its input carries the runId, which goes on every line. */
export function taskHandler<Input extends { readonly runId: string }, Result extends object>(
  outcome: string,
  run: (input: Input) => Promise<Result>,
): LambdaHandler<Input, Result> {
  return lambdaHandler({
    outcome,
    keys: (input) => ({ runId: input.runId }),
    metricsMetadata: (input) => ({ [RUN_ID_METADATA]: input.runId }),
    run,
  });
}
