/**
 * The synthesized state machine, state by state: retries, catches and the poll loop; one file because they
 * share one synthesized definition.
 */
import { existsSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { handlerEntry } from '../../infra/constructs/pipeline-function.js';
import type { CfnTemplate } from '../../local/template/cfn-template.js';
import {
  type AslDefinition,
  type AslState,
  functionArnPlaceholder,
  stateMachineDefinition,
} from '../../local/template/state-machine-definition.js';
import { synthesizePipelineTemplate } from '../../local/template/synthesize.js';
import { synthPipeline } from './helpers.js';

/** The Task states and the function folder each invokes: the local runner maps one to the other. */
const TASK_FOLDERS = {
  'Prepare Requests': 'prepare-requests',
  'Submit Batch Jobs': 'submit-batch-jobs',
  'Poll Batch Jobs': 'poll-batch-jobs',
  'Stop Batch Jobs': 'stop-batch-jobs',
  'Collect Results': 'collect-results',
  'Finalize Run': 'finalize-run',
} as const;
const TASKS = Object.keys(TASK_FOLDERS) as (keyof typeof TASK_FOLDERS)[];

const LAMBDA_RETRY = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 6,
  JitterStrategy: 'FULL',
};
const CRASH_RETRY = {
  ErrorEquals: ['Lambda.Unknown', 'States.Timeout'],
  IntervalSeconds: 5,
  BackoffRate: 2,
  MaxAttempts: 2,
};
const UNAVAILABLE_RETRY = {
  ErrorEquals: ['GeminiUnavailableError'],
  IntervalSeconds: 10,
  BackoffRate: 2,
  MaxAttempts: 6,
};
const RATE_LIMIT_RETRY = {
  ErrorEquals: ['GeminiRateLimitError'],
  IntervalSeconds: 60,
  BackoffRate: 2,
  MaxAttempts: 10,
  MaxDelaySeconds: 900,
  JitterStrategy: 'FULL',
};

/** Where a state can go next: `Next`, a Choice's rules and default, and Catch targets. */
function transitions(state: AslState): string[] {
  const targets = new Set<string>();
  if (state.Next) targets.add(state.Next);
  for (const choice of (state.Choices as { Next: string }[] | undefined) ?? []) targets.add(choice.Next);
  if (typeof state.Default === 'string') targets.add(state.Default);
  for (const handler of state.Catch ?? []) targets.add(handler.Next);
  return [...targets].sort();
}

describe('pipeline workflow definition', () => {
  let template: CfnTemplate;
  let definition: AslDefinition;
  const state = (name: string): AslState => {
    const found = definition.States[name];
    if (!found) throw new Error(`no state '${name}'`);
    return found;
  };
  beforeAll(() => {
    template = synthesizePipelineTemplate();
    definition = stateMachineDefinition(template);
  });

  it('is JSONPath: no JSONata, Assign, Arguments or Output anywhere', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const each of Object.values(definition.States)) {
      expect(each.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
      expect(each).not.toHaveProperty('Assign');
      expect(each).not.toHaveProperty('Arguments');
      expect(each).not.toHaveProperty('Output');
    }
    expect(JSON.stringify(definition)).not.toContain('{%');
  });

  it('starts by asking whether this is a salvage run: straight to Stop Batch Jobs if so, else Prepare', () => {
    expect(definition.StartAt).toBe('Salvage Run?');
    expect(state('Salvage Run?')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.salvage', IsPresent: true, Next: 'Stop Batch Jobs' }],
      Default: 'Prepare Requests',
    });
  });

  it('has exactly the contracted states', () => {
    expect(Object.keys(definition.States).sort()).toEqual(
      [
        'Salvage Run?',
        'Prepare Requests',
        'Submit Batch Jobs',
        'Start Polling',
        'Wait For Jobs',
        'Poll Batch Jobs',
        'All Jobs Done?',
        'Stop Batch Jobs',
        'Collect Results',
        'Finalize Run',
        'Run Failed?',
        'Run Failed',
        'Run Succeeded',
      ].sort(),
    );
  });

  it('moves between states as designed: failures once jobs exist stop them and collect, all end in Finalize Run', () => {
    const graph = Object.fromEntries(
      Object.entries(definition.States).map(([name, s]) => [name, transitions(s)]),
    );
    expect(graph).toEqual({
      'Salvage Run?': ['Prepare Requests', 'Stop Batch Jobs'],
      'Prepare Requests': ['Finalize Run', 'Stop Batch Jobs', 'Submit Batch Jobs'],
      'Submit Batch Jobs': ['Start Polling', 'Stop Batch Jobs'],
      'Start Polling': ['Wait For Jobs'],
      'Wait For Jobs': ['Poll Batch Jobs'],
      'Poll Batch Jobs': ['All Jobs Done?', 'Stop Batch Jobs'],
      'All Jobs Done?': ['Collect Results', 'Wait For Jobs'],
      'Stop Batch Jobs': ['Collect Results', 'Finalize Run'],
      'Collect Results': ['Finalize Run'],
      'Finalize Run': ['Run Failed?'],
      'Run Failed?': ['Run Failed', 'Run Succeeded'],
      'Run Failed': [],
      'Run Succeeded': [],
    });
  });

  it('seeds the poll state before the first wait', () => {
    expect(state('Start Polling')).toMatchObject({
      Type: 'Pass',
      Result: { attempt: 0, waitSeconds: 30, allDone: false },
      ResultPath: '$.poll',
    });
  });

  it('waits for $.poll.waitSeconds', () => {
    expect(state('Wait For Jobs')).toEqual({
      Type: 'Wait',
      SecondsPath: '$.poll.waitSeconds',
      Next: 'Poll Batch Jobs',
    });
  });

  it('collects only when $.poll.allDone is true, and otherwise waits again', () => {
    expect(state('All Jobs Done?')).toEqual({
      Type: 'Choice',
      Choices: [{ Not: { Variable: '$.poll.allDone', BooleanEquals: true }, Next: 'Wait For Jobs' }],
      Default: 'Collect Results',
    });
  });

  it('stores each Task result under its own path', () => {
    expect(Object.fromEntries(TASKS.map((name) => [name, state(name).ResultPath]))).toEqual({
      'Prepare Requests': '$.prepared',
      'Submit Batch Jobs': '$.submitted',
      'Poll Batch Jobs': '$.poll',
      'Stop Batch Jobs': '$.stopped',
      'Collect Results': '$.collected',
      'Finalize Run': '$.finalized',
    });
  });

  it.each(TASKS)('invokes the %s function directly, with the whole state as its event', (name) => {
    const task = state(name);
    expect(task.Type).toBe('Task');
    expect(task.Resource).toBe(functionArnPlaceholder(TASK_FOLDERS[name]));
    expect(existsSync(handlerEntry(TASK_FOLDERS[name]))).toBe(true);
    expect(task).not.toHaveProperty('Parameters');
    expect(task).not.toHaveProperty('InputPath');
    expect(task).not.toHaveProperty('OutputPath');
  });

  it('invokes, for each Task, the function built from the folder of the same name', () => {
    const byLogicalId = stateMachineDefinition(template, { functionNames: 'logicalId' });
    for (const name of TASKS) {
      const pascal = name.replace(/ /g, '');
      expect(byLogicalId.States[name]?.Resource).toMatch(
        new RegExp(`:function:Pipeline${pascal}[0-9A-F]{8}$`),
      );
    }
  });

  it('gives every Task a timeout above its function timeout', () => {
    const functionTimeout = (name: string): number => {
      const id = (
        stateMachineDefinition(template, { functionNames: 'logicalId' }).States[name]?.Resource ?? ''
      )
        .split(':')
        .pop() as string;
      return template.Resources[id]?.Properties?.Timeout as number;
    };
    for (const name of TASKS) {
      expect(state(name).TimeoutSeconds).toBe(functionTimeout(name) + 60);
    }
  });

  it('retries Lambda service errors, crashes, Gemini outages and Gemini quota answers on every Task', () => {
    // Every function calls Gemini, and Gemini answers 429 on reads too: a quota answer is a wait.
    const policy = [LAMBDA_RETRY, CRASH_RETRY, UNAVAILABLE_RETRY, RATE_LIMIT_RETRY];
    expect(Object.fromEntries(TASKS.map((name) => [name, state(name).Retry]))).toEqual(
      Object.fromEntries(TASKS.map((name) => [name, policy])),
    );
  });

  it.each(['Submit Batch Jobs', 'Poll Batch Jobs'])(
    'catches every error of %s, once jobs may exist, into $.failure and goes to Stop Batch Jobs',
    (name) => {
      expect(state(name).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Stop Batch Jobs' },
      ]);
    },
  );

  it('sends a run over its budget from Prepare Requests to Stop Batch Jobs, before the catch-all to Finalize Run', () => {
    expect(state('Prepare Requests').Catch).toEqual([
      { ErrorEquals: ['RunBudgetError'], ResultPath: '$.failure', Next: 'Stop Batch Jobs' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Finalize Run' },
    ]);
  });

  it.each(['Stop Batch Jobs', 'Collect Results'])(
    'catches every error of %s into $.failure and goes to Finalize Run',
    (name) => {
      expect(state(name).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Finalize Run' },
      ]);
    },
  );

  it('collects after stopping the jobs', () => {
    expect(state('Stop Batch Jobs').Next).toBe('Collect Results');
  });

  it('does not catch errors of Finalize Run, so a failing Finalize fails the execution', () => {
    expect(state('Finalize Run').Catch).toBeUndefined();
  });

  it('ends failed when $.failure is present or Finalize judged the run FAILED, and succeeded otherwise', () => {
    expect(state('Run Failed?')).toEqual({
      Type: 'Choice',
      Choices: [
        {
          Or: [
            { Variable: '$.failure', IsPresent: true },
            { Variable: '$.finalized.status', StringEquals: 'FAILED' },
          ],
          Next: 'Run Failed',
        },
      ],
      Default: 'Run Succeeded',
    });
    expect(state('Run Failed')).toEqual({
      Type: 'Fail',
      Error: 'RunFailedError',
      Cause: 'see manifest.json',
    });
    expect(state('Run Succeeded')).toEqual({ Type: 'Succeed' });
  });

  it('times out an execution after 72 hours', () => {
    expect(definition.TimeoutSeconds).toBe(259200);
  });

  it('is a Standard workflow, traced, logging errors without execution data', () => {
    const machines = Object.values(template.Resources).filter(
      (resource) => resource.Type === 'AWS::StepFunctions::StateMachine',
    );
    expect(machines).toHaveLength(1);
    expect(machines[0]?.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
    });
  });
});

describe('pipeline workflow definition with props overridden', () => {
  it('waits the initial poll wait of a custom poll schedule first', () => {
    const synth = synthPipeline({
      pollSchedule: { initial: Duration.seconds(5), max: Duration.minutes(2), backoffRate: 2 },
    });
    expect(stateMachineDefinition(synth.json).States['Start Polling']?.Result).toEqual({
      attempt: 0,
      waitSeconds: 5,
      allDone: false,
    });
  });

  it('times an execution out after a custom execution timeout', () => {
    const synth = synthPipeline({ executionTimeout: Duration.hours(50) });
    expect(stateMachineDefinition(synth.json).TimeoutSeconds).toBe(50 * 3600);
  });
});
