import { Duration } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_FUNCTION_NAMES } from '../../infra/constructs/gemini-batch-pipeline.js';
import { logicalIdOf, type SynthesizedPipeline, synthPipeline } from './helpers.js';

type Properties = Record<string, unknown>;

/** The properties of the one alarm on `namespace`/`metricName` whose dimensions include `dimension`. */
function alarmOn(
  synth: SynthesizedPipeline,
  namespace: string,
  metricName: string,
  dimension?: { Name: string; Value: unknown },
): Properties {
  const found = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'))
    .map((resource) => resource.Properties as Properties)
    .filter((alarm) => alarm.Namespace === namespace && alarm.MetricName === metricName)
    .filter(
      (alarm) =>
        !dimension ||
        (alarm.Dimensions as unknown[]).some((d) => JSON.stringify(d) === JSON.stringify(dimension)),
    );
  expect(found, `alarms on ${namespace} ${metricName}`).toHaveLength(1);
  return found[0] as Properties;
}

const atLeastOneIn5Minutes = {
  Statistic: 'Sum',
  Period: 300,
  Threshold: 1,
  EvaluationPeriods: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  TreatMissingData: 'notBreaching',
};

describe('GeminiBatchPipeline alarms with default props', () => {
  let synth: SynthesizedPipeline;
  let stateMachine: { Name: string; Value: unknown };
  beforeAll(() => {
    synth = synthPipeline();
    stateMachine = {
      Name: 'StateMachineArn',
      Value: { Ref: logicalIdOf(synth, synth.pipeline.stateMachine) },
    };
  });

  it('creates 19 alarms: 3 on executions, the dead-letter queue, long runs, and 2 per function', () => {
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 19);
    expect(Object.keys(synth.pipeline.alarms)).toHaveLength(19);
  });

  it.each(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])(
    'alarms on any %s of this state machine in 5 minutes',
    (metricName) => {
      const alarm = alarmOn(synth, 'AWS/States', metricName);
      expect(alarm).toMatchObject({ ...atLeastOneIn5Minutes, Dimensions: [stateMachine] });
      expect(alarm.AlarmActions).toBeUndefined();
    },
  );

  it('alarms on any message visible in the dead-letter queue', () => {
    const alarm = alarmOn(synth, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    expect(alarm).toMatchObject({
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(synth, synth.pipeline.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 0,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on a run older than 24 hours, read from the age Poll emits, over periods longer than a poll wait', () => {
    const alarm = alarmOn(synth, 'GeminiBatchPipeline', 'RunAgeSeconds');
    expect(alarm).toMatchObject({
      Dimensions: [{ Name: 'service', Value: 'gemini-batch-pipeline' }],
      Statistic: 'Maximum',
      // The longest poll wait is 720 s by default: 13 minutes hold one poll of every running run.
      Period: 780,
      Threshold: 86400,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it.each(
    PIPELINE_FUNCTION_NAMES.flatMap((name) => [
      [name, 'Errors'],
      [name, 'Throttles'],
    ]),
  )('alarms on any %s %s in 5 minutes', (name, metricName) => {
    const alarm = alarmOn(synth, 'AWS/Lambda', metricName, {
      Name: 'FunctionName',
      Value: { Ref: synth.logicalId(name) },
    });
    expect(alarm).toMatchObject(atLeastOneIn5Minutes);
  });
});

describe('GeminiBatchPipeline alarm props', () => {
  it('sends every alarm to the alarm action', () => {
    let topicId = '';
    const synth = synthPipeline((stack) => {
      const topic = new sns.Topic(stack, 'Pager');
      topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
      return { alarmAction: new cloudwatchActions.SnsAction(topic) };
    });
    const alarms = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(19);
    for (const alarm of alarms) expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('creates no alarm when createCloudWatchAlarms is false', () => {
    const synth = synthPipeline({ createCloudWatchAlarms: false });
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(synth.pipeline.alarms).toEqual({});
  });

  it('takes the long-run threshold, and sizes its period on the longest poll wait', () => {
    const synth = synthPipeline({
      longRunThreshold: Duration.hours(6),
      pollSchedule: { initial: Duration.seconds(30), max: Duration.seconds(120), backoffRate: 2 },
    });
    expect(alarmOn(synth, 'GeminiBatchPipeline', 'RunAgeSeconds')).toMatchObject({
      Threshold: 21600,
      Period: 180,
    });
  });

  it.each([
    [
      { longRunThreshold: Duration.minutes(30) },
      'long run threshold must be at least 1 hour and less than the execution timeout (72 hours), got 0.5 hours',
    ],
    [
      { longRunThreshold: Duration.hours(60), executionTimeout: Duration.hours(60) },
      'long run threshold must be at least 1 hour and less than the execution timeout (60 hours), got 60 hours',
    ],
  ])('refuses a long-run threshold %j', (props, message) => {
    expect(() => synthPipeline(props)).toThrow(message);
  });
});
