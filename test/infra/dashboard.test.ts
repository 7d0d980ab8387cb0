import { beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_FUNCTION_NAMES } from '../../infra/constructs/gemini-batch-pipeline.js';
import { flatten, type SynthesizedPipeline, synthPipeline } from './helpers.js';

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly metrics?: unknown[][];
    readonly alarms?: string[];
  };
}

/** The dashboard's widgets, with every reference written `<LogicalId>` or `<LogicalId.Attr>`. */
function widgetsOf(synth: SynthesizedPipeline): Widget[] {
  const dashboards = Object.values(synth.template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  return (JSON.parse(flatten(dashboards[0]?.Properties?.DashboardBody)) as { widgets: Widget[] }).widgets;
}

function widgetTitled(widgets: Widget[], start: string): Widget {
  const widget = widgets.find((w) => w.properties.title?.startsWith(start));
  if (!widget) throw new Error(`no widget titled '${start}…'`);
  return widget;
}

/** A metric line's namespace, name and dimensions, without its rendering options. */
const identity = (line: unknown[]) => line.filter((part) => typeof part === 'string');
/** A metric line's math expression, if it is one. */
const expressionOf = (line: unknown[]) => (line[0] as { expression?: string }).expression;

describe('GeminiBatchPipeline dashboard with default props', () => {
  let synth: SynthesizedPipeline;
  let widgets: Widget[];
  beforeAll(() => {
    synth = synthPipeline();
    widgets = widgetsOf(synth);
  });

  it('shows finished runs by each status from the GeminiBatchPipeline namespace, beside the executions', () => {
    const lines = widgetTitled(widgets, 'Runs by status').properties.metrics ?? [];
    for (const status of ['SUCCEEDED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED']) {
      expect(lines.map(identity)).toContainEqual([
        'GeminiBatchPipeline',
        'RunsFinished',
        'service',
        'gemini-batch-pipeline',
        'status',
        status,
      ]);
    }
    const stateMachineId = synth.stack.getLogicalId(synth.pipeline.stateMachine.node.defaultChild as never);
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
    ]) {
      expect(lines.map(identity)).toContainEqual([
        'AWS/States',
        metric,
        'StateMachineArn',
        `<${stateMachineId}>`,
      ]);
    }
  });

  it('shows requests done of total as Poll emits them', () => {
    const lines = widgetTitled(widgets, 'Requests done of total').properties.metrics ?? [];
    expect(lines.map(identity)).toEqual([
      ['GeminiBatchPipeline', 'RequestsCompleted', 'service', 'gemini-batch-pipeline'],
      ['GeminiBatchPipeline', 'RequestsTotal', 'service', 'gemini-batch-pipeline'],
    ]);
  });

  it.each([
    ['Tokens per model', ['InputTokens', 'OutputTokens']],
    ['Estimated cost per model', ['EstimatedCostUsd']],
  ])('shows %s by searching every model the functions emitted', (title, metricNames) => {
    const expressions = (widgetTitled(widgets, title).properties.metrics ?? []).map(expressionOf);
    expect(expressions).toEqual(
      metricNames.map(
        (name) =>
          `SEARCH('{GeminiBatchPipeline,model,service} MetricName="${name}" service="gemini-batch-pipeline"', 'Sum', 3600)`,
      ),
    );
  });

  it('sums the requests of finished runs over every run status', () => {
    const expressions = (widgetTitled(widgets, 'Requests of finished runs').properties.metrics ?? []).map(
      expressionOf,
    );
    expect(expressions).toEqual(
      ['RequestsSucceeded', 'RequestsFailed', 'RequestsRejected'].map(
        (name) =>
          `SUM(SEARCH('{GeminiBatchPipeline,service,status} MetricName="${name}" service="gemini-batch-pipeline"', 'Sum', 3600))`,
      ),
    );
  });

  it('shows jobs created and creates refused for quota', () => {
    const lines = widgetTitled(widgets, 'Gemini jobs created').properties.metrics ?? [];
    expect(lines.map(identity)).toEqual([
      ['GeminiBatchPipeline', 'JobsCreated', 'service', 'gemini-batch-pipeline'],
      ['GeminiBatchPipeline', 'CreatesRefused', 'service', 'gemini-batch-pipeline'],
    ]);
  });

  it("shows each function's duration as its state's time", () => {
    const lines = widgetTitled(widgets, 'Time per state').properties.metrics ?? [];
    expect(lines.map(identity)).toEqual(
      PIPELINE_FUNCTION_NAMES.map((name) => [
        'AWS/Lambda',
        'Duration',
        'FunctionName',
        `<${synth.logicalId(name)}>`,
      ]),
    );
  });

  it('shows the status of every alarm', () => {
    const alarms = widgetTitled(widgets, 'Alarms').properties.alarms ?? [];
    const alarmIds = Object.keys(synth.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((arn) => /^<(.+)\.Arn>$/.exec(arn)?.[1]).sort()).toEqual(alarmIds.sort());
  });
});

describe('GeminiBatchPipeline dashboard props', () => {
  it('creates no dashboard when createDashboard is false', () => {
    const synth = synthPipeline({ createDashboard: false });
    synth.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(synth.pipeline.dashboard).toBeUndefined();
  });

  it('shows no alarm widget when the alarms are turned off', () => {
    const widgets = widgetsOf(synthPipeline({ createCloudWatchAlarms: false }));
    expect(widgets.some((w) => w.type === 'alarm')).toBe(false);
    expect(widgets.length).toBeGreaterThan(0);
  });
});
