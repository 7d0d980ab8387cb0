/**
 * How a core reports a metric, as a dependency: the handler passes the Powertools-backed
 * `runMetrics` (`lambdas/shared/runtime/metrics.ts`), tests pass a recorder or nothing, and the
 * core never imports Powertools itself. Names, units and dimensions are the dashboard's contract
 * (`lambdas/shared/runtime/metric-names.ts`).
 */
import type { MetricDimension, MetricName } from './runtime/metric-names.js';

/** The dimensions one value is reported under; none means the function's own total. */
export type MetricDimensions = Readonly<Partial<Record<MetricDimension, string>>>;

/** Reports values to CloudWatch, for the invocation under way. */
export interface RunMetrics {
  /**
   * Adds `value` to `name` under `dimensions`. Keep dimension values few (a status, a model):
   * every distinct value is a billed custom metric, so never a run id or a key.
   */
  add(name: MetricName, value: number, dimensions?: MetricDimensions): void;
}

/** Reports nothing: the default where a core's caller passes no `metrics`. */
export const noMetrics: RunMetrics = { add: () => undefined };
