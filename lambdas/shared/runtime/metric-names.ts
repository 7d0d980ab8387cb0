/**
 * The pipeline's CloudWatch metrics: one namespace, emitted by the functions as EMF through
 * Powertools, read by the construct's dashboard and alarms. The names are a contract between the two,
 * like the error names: change one and both sides change with it.
 *
 * Dimensions stay low-cardinality (a status, a model, a function), never a run id or a key: every
 * distinct dimension value is a billed custom metric.
 */
export const METRICS_NAMESPACE = 'GeminiBatchPipeline';

/** Metric names, with the dimensions each carries besides Powertools' `service`. */
export const METRIC_NAMES = {
  /** Finalize: one per run, by `status` (SUCCEEDED, COMPLETED_WITH_ERRORS, FAILED, CANCELLED). */
  runsFinished: 'RunsFinished',
  /** Finalize: requests of the run by outcome, by `status`. */
  requestsSucceeded: 'RequestsSucceeded',
  requestsFailed: 'RequestsFailed',
  requestsRejected: 'RequestsRejected',
  /** Poll: requests Gemini reports done, and in all, across the run's jobs (no dimension). */
  requestsCompleted: 'RequestsCompleted',
  requestsTotal: 'RequestsTotal',
  /**
   * Poll: seconds since the upload of the run it polls (no dimension), once per poll. The long-run
   * alarm reads its Maximum: AWS/States has no metric for how long running executions have run.
   */
  runAgeSeconds: 'RunAgeSeconds',
  /** Finalize: tokens used and the estimated cost at batch prices, by `model`. */
  inputTokens: 'InputTokens',
  outputTokens: 'OutputTokens',
  estimatedCostUsd: 'EstimatedCostUsd',
  /** Submit and Poll: creates Gemini refused for quota (429), and jobs created. */
  createsRefused: 'CreatesRefused',
  jobsCreated: 'JobsCreated',
} as const;

/** The dimension names used above. */
export const METRIC_DIMENSIONS = { status: 'status', model: 'model' } as const;

/** A metric the functions emit: one of {@link METRIC_NAMES}. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** A dimension a metric may carry besides `service`: one of {@link METRIC_DIMENSIONS}. */
export type MetricDimension = (typeof METRIC_DIMENSIONS)[keyof typeof METRIC_DIMENSIONS];

/**
 * Each metric's CloudWatch unit, fixed here so an emitter cannot give one metric two units (CloudWatch
 * keeps them apart and the dashboard would read only one). A cost is `None`: CloudWatch has no currency unit.
 */
export const METRIC_UNITS: Readonly<Record<MetricName, 'Count' | 'Seconds' | 'None'>> = {
  RunsFinished: 'Count',
  RequestsSucceeded: 'Count',
  RequestsFailed: 'Count',
  RequestsRejected: 'Count',
  RequestsCompleted: 'Count',
  RequestsTotal: 'Count',
  RunAgeSeconds: 'Seconds',
  InputTokens: 'Count',
  OutputTokens: 'Count',
  EstimatedCostUsd: 'None',
  CreatesRefused: 'Count',
  JobsCreated: 'Count',
};

/** The EMF metadata key that carries the run id: searchable in the logs, never a dimension. */
export const RUN_ID_METADATA = 'runId';
