/**
 * The functions' CloudWatch metrics, through Powertools Metrics: EMF lines on stdout, which Lambda's
 * log pipeline turns into metrics in {@link METRICS_NAMESPACE} without a PutMetricData call
 * (https://docs.powertools.aws.dev/lambda/typescript/latest/features/metrics/). The skeleton
 * (`lambda-handler.ts`) flushes them when an invocation ends, returned or thrown.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricDimensions, RunMetrics } from '../run-metrics.js';
import { logger } from './logger.js';
import { METRIC_UNITS, METRICS_NAMESPACE, type MetricName } from './metric-names.js';

/**
 * Powertools' Metrics, quiet when an invocation added nothing: most invocations (Prepare, Submit,
 * Collect, Start) emit no metric, and Powertools would log a warning for each of them.
 */
class PipelineMetrics extends Metrics {
  override publishStoredMetrics(): this {
    if (this.hasStoredMetrics()) return super.publishStoredMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }
}

/**
 * The one Metrics instance of a function. The namespace is fixed in code (the dashboard reads the
 * same constant); the construct also sets `POWERTOOLS_METRICS_NAMESPACE` to it. The `service`
 * dimension is `POWERTOOLS_SERVICE_NAME`. Powertools' own warnings go through the logger, so they
 * are structured and follow `POWERTOOLS_LOG_LEVEL`.
 */
export const metrics = new PipelineMetrics({ namespace: METRICS_NAMESPACE, logger });

let invocationMetadata: Readonly<Record<string, string>> = {};

/**
 * Starts an invocation's metrics: `metadata` (the run id) goes on each of its EMF lines as a
 * property, searchable in the logs, never as a dimension.
 */
export function beginInvocationMetrics(metadata: Readonly<Record<string, string>>): void {
  invocationMetadata = metadata;
  for (const [key, value] of Object.entries(metadata)) metrics.addMetadata(key, value);
}

/**
 * The cores' `metrics` dependency. A value without dimensions joins the invocation's one EMF line; a
 * value with dimensions goes out at once on a line of its own (Powertools' `singleMetric`), because
 * every dimension of an EMF line applies to every metric on it: one run's `model` must not split its
 * `status` counts.
 */
export const runMetrics: RunMetrics = {
  add(name: MetricName, value: number, dimensions: MetricDimensions = {}) {
    const unit = METRIC_UNITS[name];
    const named = Object.entries(dimensions).filter((entry): entry is [string, string] => Boolean(entry[1]));
    if (named.length === 0) {
      metrics.addMetric(name, unit, value);
      return;
    }
    const single = metrics.singleMetric();
    for (const [dimension, dimensionValue] of named) single.addDimension(dimension, dimensionValue);
    for (const [key, metadataValue] of Object.entries(invocationMetadata))
      single.addMetadata(key, metadataValue);
    single.addMetric(name, unit, value);
  },
};
