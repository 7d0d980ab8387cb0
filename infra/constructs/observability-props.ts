import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * What the pipeline tells its operators, part of {@link GeminiBatchPipelineProps}: the alarms, the
 * dashboard and the Glue tables over the results, each on unless turned off.
 */
export interface ObservabilityProps {
  /**
   * Create CloudWatch alarms: executions failed, timed out or aborted; any message in the
   * dead-letter queue; a run older than `longRunThreshold`; errors and throttles of each function.
   * As in the Solutions Constructs (`createCloudWatchAlarms`), on unless turned off.
   *
   * @default true
   */
  readonly createCloudWatchAlarms?: boolean;

  /**
   * Where every alarm goes when it fires, e.g. `new cloudwatch_actions.SnsAction(topic)`. Ignored
   * when `createCloudWatchAlarms` is false.
   *
   * @default - no action: the alarms change state in CloudWatch and page no one
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * The age (since the upload) past which a run still polling its jobs raises the long-run alarm.
   * At least 1 hour and less than the execution timeout (a run that reaches that has its own alarm).
   *
   * @default Duration.hours(24) (Gemini's stated turnaround for a batch job)
   */
  readonly longRunThreshold?: Duration;

  /**
   * Create a CloudWatch dashboard: runs by status, requests done of total, tokens and estimated cost
   * per model, quota refusals, time per function, and the alarms.
   *
   * @default true
   */
  readonly createDashboard?: boolean;

  /**
   * Create a Glue database with two tables, so results can be queried in Athena without a crawler:
   * `results` over `results/` (partition projection on `input` and `run`) and `inputs` over the
   * input prefix, to join results back to their requests by key.
   *
   * @default true
   */
  readonly createGlueTables?: boolean;
}
