import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Manifest } from '../../lambdas/finalize-run/finalize-run.js';
import {
  METRIC_DIMENSIONS,
  METRIC_NAMES,
  METRICS_NAMESPACE,
} from '../../lambdas/shared/runtime/metric-names.js';
import { pipelineMetric } from './alarms.js';
import type { PipelineFunctionName } from './functions.js';
import { POWERTOOLS_SERVICE_NAME } from './pipeline-function.js';

/** What the dashboard shows. */
export interface PipelineDashboardProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly functions: Readonly<Record<PipelineFunctionName, lambda.IFunction>>;
  /**
   * The alarms to show in an alarm status widget.
   *
   * @default - no alarm widget
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
}

/** The run statuses Finalize counts `RunsFinished` by, in the order the dashboard shows them. */
export const RUN_STATUSES = [
  'SUCCEEDED',
  'COMPLETED_WITH_ERRORS',
  'FAILED',
  'CANCELLED',
] as const satisfies readonly Manifest['status'][];

/** Runs and requests are counted per hour: batch runs take hours, and a finer graph is mostly empty. */
const HOUR = Duration.hours(1);

/**
 * Per model: every `model` value the functions emitted, found by a SEARCH expression, so a model
 * nobody configured (named on a line) still shows. The schema lists all the metric's dimensions
 * (in sorted order, as the console writes them).
 */
function perModel(metricName: string, label: string): cloudwatch.MathExpression {
  const schema = `{${METRICS_NAMESPACE},${METRIC_DIMENSIONS.model},service}`;
  return new cloudwatch.MathExpression({
    expression: `SEARCH('${schema} MetricName="${metricName}" service="${POWERTOOLS_SERVICE_NAME}"', 'Sum', ${HOUR.toSeconds()})`,
    label,
    period: HOUR,
  });
}

/** Summed over every run status: Finalize emits the request counts by the run's status. */
function allStatuses(metricName: string, label: string): cloudwatch.MathExpression {
  const schema = `{${METRICS_NAMESPACE},service,${METRIC_DIMENSIONS.status}}`;
  return new cloudwatch.MathExpression({
    expression: `SUM(SEARCH('${schema} MetricName="${metricName}" service="${POWERTOOLS_SERVICE_NAME}"', 'Sum', ${HOUR.toSeconds()}))`,
    label,
    period: HOUR,
  });
}

/**
 * One dashboard for the pipeline, made directly in `scope` (id `Dashboard`): runs by status,
 * requests done of total, tokens and estimated cost per model, quota refusals, time per function.
 */
export function pipelineDashboard(scope: Construct, props: PipelineDashboardProps): cloudwatch.Dashboard {
  const { stateMachine, functions } = props;
  const hourly = { period: HOUR, statistic: cloudwatch.Stats.SUM };
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    defaultInterval: Duration.days(7),
  });
  const fns = Object.entries(functions);

  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Runs by status (per hour)',
      width: 12,
      left: RUN_STATUSES.map((status) =>
        pipelineMetric(METRIC_NAMES.runsFinished, { ...hourly, dimensions: { status }, label: status }),
      ),
      right: [
        stateMachine.metricStarted({ ...hourly, label: 'executions started' }),
        stateMachine.metricFailed({ ...hourly, label: 'executions failed' }),
        stateMachine.metricTimedOut({ ...hourly, label: 'executions timed out' }),
        stateMachine.metricAborted({ ...hourly, label: 'executions aborted' }),
      ],
    }),
    // Poll emits the counts of the run it polls; without a run dimension (one metric per run would
    // be billed per run) the graph shows the largest run in flight.
    new cloudwatch.GraphWidget({
      title: 'Requests done of total (largest run polling)',
      width: 12,
      left: [
        pipelineMetric(METRIC_NAMES.requestsCompleted, {
          period: Duration.minutes(15),
          statistic: cloudwatch.Stats.MAXIMUM,
          label: 'done',
        }),
        pipelineMetric(METRIC_NAMES.requestsTotal, {
          period: Duration.minutes(15),
          statistic: cloudwatch.Stats.MAXIMUM,
          label: 'total',
        }),
      ],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Requests of finished runs by outcome (per hour)',
      width: 8,
      left: [
        allStatuses(METRIC_NAMES.requestsSucceeded, 'succeeded'),
        allStatuses(METRIC_NAMES.requestsFailed, 'failed'),
        allStatuses(METRIC_NAMES.requestsRejected, 'rejected'),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Tokens per model (per hour)',
      width: 8,
      left: [perModel(METRIC_NAMES.inputTokens, 'input')],
      right: [perModel(METRIC_NAMES.outputTokens, 'output')],
    }),
    new cloudwatch.GraphWidget({
      title: 'Estimated cost per model, USD at batch prices (per hour)',
      width: 8,
      left: [perModel(METRIC_NAMES.estimatedCostUsd, 'USD')],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Gemini jobs created, and creates refused for quota (per hour)',
      width: 8,
      left: [
        pipelineMetric(METRIC_NAMES.jobsCreated, { ...hourly, label: 'jobs created' }),
        pipelineMetric(METRIC_NAMES.createsRefused, { ...hourly, label: 'creates refused (429)' }),
      ],
    }),
    // Each state is one function, so a function's duration is its state's time (Wait For Jobs
    // aside, which waits by the poll schedule).
    new cloudwatch.GraphWidget({
      title: 'Time per state: function duration (p90, ms)',
      width: 8,
      left: fns.map(([name, fn]) =>
        fn.metricDuration({ period: HOUR, statistic: cloudwatch.Stats.percentile(90), label: name }),
      ),
    }),
    new cloudwatch.GraphWidget({
      title: 'Function errors and throttles (per hour)',
      width: 8,
      left: fns.map(([name, fn]) => fn.metricErrors({ ...hourly, label: `${name} errors` })),
      right: fns.map(([name, fn]) => fn.metricThrottles({ ...hourly, label: `${name} throttles` })),
    }),
  );
  if (props.alarms && props.alarms.length > 0) {
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: [...props.alarms] }),
    );
  }
  return dashboard;
}
