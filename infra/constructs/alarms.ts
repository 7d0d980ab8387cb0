import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../lambdas/shared/runtime/metric-names.js';
import type { PipelineFunctionName } from './functions.js';
import { POWERTOOLS_SERVICE_NAME } from './pipeline-function.js';

/** What the alarms watch, and where they go. */
export interface PipelineAlarmsProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly deadLetterQueue: sqs.IQueue;
  readonly functions: Readonly<Record<PipelineFunctionName, lambda.IFunction>>;
  /** The run age past which the long-run alarm fires. */
  readonly longRunThreshold: Duration;
  /** The longest wait between two polls: a running run emits its age at least this often. */
  readonly maxPollWait: Duration;
  /**
   * Where every alarm goes.
   *
   * @default - none
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** Every alarm counts events over this period: short enough to page soon, long enough to be cheap. */
export const ALARM_PERIOD = Duration.minutes(5);

/** The metric the functions emit under Powertools' `service` dimension, in the pipeline's namespace. */
export function pipelineMetric(
  metricName: string,
  options: cloudwatch.MetricOptions & { readonly dimensions?: Readonly<Record<string, string>> } = {},
): cloudwatch.Metric {
  const { dimensions, ...rest } = options;
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    ...rest,
    dimensionsMap: { service: POWERTOOLS_SERVICE_NAME, ...dimensions },
  });
}

/**
 * The pipeline's alarms, each on a count that is zero when all is well (no data is treated as
 * fine: no execution, no message, no invocation). A construct of its own (id `Alarms`), so turning
 * the alarms off removes exactly these resources.
 */
export class PipelineAlarms extends Construct {
  /** Every alarm, by what it watches: `ExecutionsFailed`, `DeadLetterMessages`, `<function>Errors` … */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const add = (
      name: string,
      description: string,
      metric: cloudwatch.IMetric,
      options: Omit<cloudwatch.CreateAlarmOptions, 'alarmDescription'>,
    ) => {
      const alarm = new cloudwatch.Alarm(this, name, {
        metric,
        alarmDescription: `gemini-batch-pipeline: ${description}`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      if (props.alarmAction) alarm.addAlarmAction(props.alarmAction);
      alarms[name] = alarm;
    };
    const atLeastOne = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };
    const count = { period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM };

    const { stateMachine } = props;
    add(
      'ExecutionsFailed',
      'a run failed (its manifest says why)',
      stateMachine.metricFailed(count),
      atLeastOne,
    );
    add(
      'ExecutionsTimedOut',
      'a run reached the execution timeout (its salvage run writes the manifest)',
      stateMachine.metricTimedOut(count),
      atLeastOne,
    );
    add(
      'ExecutionsAborted',
      'a run was stopped (its salvage run writes the manifest)',
      stateMachine.metricAborted(count),
      atLeastOne,
    );
    // Maximum, not Sum: the queue's depth is a level, sampled every minute.
    add(
      'DeadLetterMessages',
      'an upload or salvage event could not start a run: see the dead-letter queue',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      {
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );

    // AWS/States reports how long an execution took only once it has ended, and metric math cannot
    // shift a series in time, so no AWS metric says "a run has been going for N hours". Poll emits
    // the age of the run it polls on every poll instead; a period one minute longer than the longest
    // poll wait holds a datapoint for each running run, and 1 of 2 periods keeps a slow poll (a
    // retried Gemini read) from clearing the alarm between two polls.
    add(
      'LongRun',
      `a run has been going for more than ${props.longRunThreshold.toHumanString()}`,
      pipelineMetric(METRIC_NAMES.runAgeSeconds, {
        period: Duration.minutes(Math.ceil(props.maxPollWait.toSeconds() / 60) + 1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      {
        threshold: props.longRunThreshold.toSeconds(),
        evaluationPeriods: 2,
        datapointsToAlarm: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );

    for (const [name, fn] of Object.entries(props.functions)) {
      const prefix = pascalCase(name);
      // Errors a Task's Retry later absorbs count too (a Gemini read refused with 429, a crash
      // recovered by display name): each one is worth a look in the function's logs.
      add(
        `${prefix}Errors`,
        `${name} failed an invocation (see its logs)`,
        fn.metricErrors(count),
        atLeastOne,
      );
      add(
        `${prefix}Throttles`,
        `${name} was throttled (the account's Lambda concurrency is exhausted)`,
        fn.metricThrottles(count),
        atLeastOne,
      );
    }
    this.alarms = alarms;
  }
}

/** `poll-batch-jobs` → `PollBatchJobs`, as the functions' construct ids. */
export function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}
