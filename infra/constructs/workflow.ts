import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ERROR_NAMES } from '../../lambdas/shared/errors.js';
import { STATE_NAMES } from '../names.js';
import { invokeTask } from './invoke-task.js';
import { acknowledge, acknowledgeWildcards } from './nag.js';

/** The error the execution fails with when the run failed; the manifest says why. */
const RUN_FAILED_ERROR = 'RunFailedError';

/** The functions the workflow invokes, one per Task state. */
export interface WorkflowFunctions {
  readonly prepareRequests: lambda.Function;
  readonly submitBatchJobs: lambda.Function;
  readonly pollBatchJobs: lambda.Function;
  readonly stopBatchJobs: lambda.Function;
  readonly collectResults: lambda.Function;
  readonly finalizeRun: lambda.Function;
}

/** Properties of a {@link PollUntilDone} fragment. */
export interface PollUntilDoneProps {
  /** The function that checks every chunk's job in one call and returns the next `$.poll`. */
  readonly pollFunction: lambda.Function;

  /** The first wait, before the first poll; the function computes the later ones. */
  readonly initialWait: Duration;
}

/**
 * The poll loop: `Start Polling` seeds `$.poll`, then `Wait For Jobs` (`$.poll.waitSeconds`) →
 * `Poll Batch Jobs` (writes the next `$.poll`) → `All Jobs Done?`, back to the wait until
 * `$.poll.allDone` is `true`. One Lambda call polls every job, so a 48-hour run stays far below
 * the 25,000-event history limit; the function grows `waitSeconds` (backoff with a cap).
 *
 * The Choice's only rule sends "not done yet" back to the wait; its default transition is the
 * way out, so it can be chained like any state (`new PollUntilDone(...).next(collect)`), and any
 * `allDone` other than `true` keeps polling rather than collecting early.
 */
export class PollUntilDone extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  /** The Task state that polls; the workflow adds its Catch. */
  public readonly pollTask: tasks.LambdaInvoke;

  constructor(scope: Construct, id: string, props: PollUntilDoneProps) {
    super(scope, id);
    const startPolling = new sfn.Pass(this, 'StartPolling', {
      stateName: STATE_NAMES.startPolling,
      result: sfn.Result.fromObject({
        attempt: 0,
        waitSeconds: props.initialWait.toSeconds(),
        allDone: false,
      }),
      resultPath: '$.poll',
    });
    const waitForJobs = new sfn.Wait(this, 'WaitForJobs', {
      stateName: STATE_NAMES.waitForJobs,
      time: sfn.WaitTime.secondsPath('$.poll.waitSeconds'),
    });
    this.pollTask = invokeTask(
      this,
      'PollBatchJobs',
      STATE_NAMES.pollBatchJobs,
      props.pollFunction,
      '$.poll',
    );
    const allJobsDone = new sfn.Choice(this, 'AllJobsDone', { stateName: STATE_NAMES.allJobsDone }).when(
      sfn.Condition.not(sfn.Condition.booleanEquals('$.poll.allDone', true)),
      waitForJobs,
    );
    startPolling.next(waitForJobs).next(this.pollTask).next(allJobsDone);

    this.startState = startPolling;
    this.endStates = allJobsDone.afterwards({ includeOtherwise: true }).endStates;
  }
}

/** Properties of a {@link PipelineWorkflow}. */
export interface PipelineWorkflowProps {
  /** The function behind each Task state. */
  readonly functions: WorkflowFunctions;

  /** The wait before the first poll. */
  readonly initialPollWait: Duration;

  /** The longest an execution may run before Step Functions stops it. */
  readonly executionTimeout: Duration;

  /** How long the state machine's log (errors only) is kept. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * The Standard state machine that carries one input file through Gemini's Batch API, in JSONPath
 * (the local runner's interpreter ignores JSONata and `Assign`):
 *
 * `Salvage Run?` → `Prepare Requests` → `Submit Batch Jobs` → poll loop ({@link PollUntilDone}) →
 * `Collect Results` → `Finalize Run` → `Run Failed?` → `Run Failed` | `Run Succeeded`.
 *
 * Nothing paid for is lost when a run ends early. A failure caught once jobs may exist (in Submit or
 * Poll) goes to `Stop Batch Jobs`, which cancels the jobs still running and records the ones that
 * ended, then to `Collect Results`, so every finished answer reaches results.jsonl and every other
 * key gets a line saying why. A timeout or a stop (how a run is cancelled) skips every Catch: the
 * execution's status-change event starts a salvage run of the same state machine, with `$.salvage`
 * set, which goes straight to `Stop Batch Jobs`. A run over its budget (`RunBudgetError` from
 * Prepare: chunks written, no job created) goes to `Stop Batch Jobs` too, so Collect answers each
 * of its keys with the reason. Any other failure in Prepare (no job exists yet), in Stop
 * or in Collect goes to `Finalize Run`, which writes the manifest (FAILED, with the reason).
 * The execution fails whenever the manifest says FAILED, so its status mirrors the run's; a
 * cancelled run's salvage ends `Run Succeeded` with the manifest saying CANCELLED. Finalize itself
 * is only retried: if it cannot finish, the execution fails loudly.
 *
 * It acknowledges its own cdk-nag findings (log level, the role's log-delivery and invoke
 * wildcards), each with its reason.
 */
export class PipelineWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;

  /** Where the state machine logs errors (never execution data). */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineWorkflowProps) {
    super(scope, id);
    const { functions } = props;

    const prepare = invokeTask(
      this,
      'PrepareRequests',
      STATE_NAMES.prepareRequests,
      functions.prepareRequests,
      '$.prepared',
    );
    const submit = invokeTask(
      this,
      'SubmitBatchJobs',
      STATE_NAMES.submitBatchJobs,
      functions.submitBatchJobs,
      '$.submitted',
    );
    const pollUntilDone = new PollUntilDone(this, 'PollUntilDone', {
      pollFunction: functions.pollBatchJobs,
      initialWait: props.initialPollWait,
    });
    const stop = invokeTask(
      this,
      'StopBatchJobs',
      STATE_NAMES.stopBatchJobs,
      functions.stopBatchJobs,
      '$.stopped',
    );
    const collect = invokeTask(
      this,
      'CollectResults',
      STATE_NAMES.collectResults,
      functions.collectResults,
      '$.collected',
    );
    const finalize = invokeTask(
      this,
      'FinalizeRun',
      STATE_NAMES.finalizeRun,
      functions.finalizeRun,
      '$.finalized',
    );

    // Once jobs may exist, a failure stops them and collects what finished; before (Prepare) and
    // after (Stop, Collect) that, it goes straight to Finalize. A run over its budget has chunks but
    // no job: through Stop (nothing to cancel, every chunk marked unsent) and Collect, each accepted
    // key gets an error line saying why. Listed first: a state's Catchers are tried in order.
    prepare.addCatch(stop, { errors: [ERROR_NAMES.runBudget], resultPath: '$.failure' });
    for (const task of [submit, pollUntilDone.pollTask]) {
      task.addCatch(stop, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    }
    for (const task of [prepare, stop, collect]) {
      task.addCatch(finalize, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    }
    stop.next(collect);

    const runFailed = new sfn.Choice(this, 'RunFailedChoice', { stateName: STATE_NAMES.runFailedChoice })
      .when(
        // Caught before Finalize, or judged FAILED by it (e.g. no request succeeded).
        sfn.Condition.or(
          sfn.Condition.isPresent('$.failure'),
          sfn.Condition.stringEquals('$.finalized.status', 'FAILED'),
        ),
        new sfn.Fail(this, 'RunFailed', {
          stateName: STATE_NAMES.runFailed,
          error: RUN_FAILED_ERROR,
          cause: 'see manifest.json',
        }),
      )
      .otherwise(new sfn.Succeed(this, 'RunSucceeded', { stateName: STATE_NAMES.runSucceeded }));

    prepare.next(submit).next(pollUntilDone).next(collect).next(finalize).next(runFailed);
    // A salvage run (started by the first execution's timeout or stop) goes straight to stopping.
    const definition = new sfn.Choice(this, 'SalvageRunChoice', { stateName: STATE_NAMES.salvageRun })
      .when(sfn.Condition.isPresent('$.salvage'), stop)
      .otherwise(prepare);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.executionTimeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });

    acknowledge(
      this,
      'AwsSolutions-SF1',
      'errors only, never execution data: states pass S3 pointers, and per-request outcomes are in manifest.json; ALL would log every state transition of runs that poll for up to 48 hours',
    );
    acknowledgeWildcards(
      this,
      { resources: ['*'] },
      'log delivery (logs:CreateLogDelivery and related) and X-Ray actions of the state machine role do not support resource-level permissions',
    );
    acknowledgeWildcards(
      this,
      { resources: Object.values(functions).map((fn) => `${fn.functionArn}:*`) },
      'lambda:InvokeFunction on the function and its versions/aliases (functionArn:*), as CDK grants it to a Task state',
    );
  }
}
