/**
 * Run tracking: each execution the stand-in for Step Functions starts runs on the local state
 * machine; when it ends, its end goes to the rules (a timed-out or stopped one starts a salvage
 * run), and its outcome is the manifest — the salvage run's, when there was one. Cancelling stops
 * an execution as `aws stepfunctions stop-execution` does.
 */
import {
  ExecutionAbortedError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { STATE_NAMES } from '../../infra/names.js';
import type { Manifest } from '../../lambdas/finalize-run/finalize-run.js';
import { resultKeys } from '../../lambdas/shared/run/bucket-layout.js';
import type { RunInput } from '../../lambdas/shared/run/state-payloads.js';
import type { ExecutionStatusChangeEvent } from '../../lambdas/start-run/start-run.js';
import type { AslDefinition } from '../template/state-machine-definition.js';
import { type EndedExecution, type ExecutionStatus, executionStatusChangeEvent } from './events.js';
import type { ExecutionInput, TaskHandlers } from './task-handlers.js';

/** How a run ended. */
export interface RunOutcome {
  readonly runId: string;
  /** How the run's (first) execution ended; the run's own status is in the manifest. */
  readonly execution: ExecutionStatus;
  readonly manifest: Manifest;
}

/** What runs are run with. */
export interface RunsInput {
  readonly definition: AslDefinition;
  readonly stateMachineArn: string;
  readonly handlers: TaskHandlers;
  /** Real time the poll loop's Wait state waits. */
  readonly pollWaitMs: number;
  /**
   * Times out a run's first execution after this many seconds instead of the definition's timeout;
   * its salvage run keeps the definition's, as the one state machine would give both in AWS.
   * @default - the definition's TimeoutSeconds
   */
  readonly firstExecutionTimeoutSeconds?: number;
  /** Delivers an execution's end to the rules; resolves to the salvage run it started, if any. */
  readonly announceEnd: (event: ExecutionStatusChangeEvent) => Promise<string | undefined>;
  /** Where runs write their results: start-run's input prefix. */
  readonly inputPrefix: string;
  readonly readObject: (key: string) => Promise<string | undefined>;
  /** Told when an execution ends, before its end goes to the rules. */
  readonly onEnded?: (name: string, status: ExecutionStatus) => void;
}

/** The runs of one local pipeline. */
export interface Runs {
  /** Starts the execution `name`, as Step Functions' StartExecution does. */
  start(name: string, input: RunInput): void;
  isRunning(name: string): boolean;
  /** Stops a running execution with `cause`; its ABORTED event starts the salvage run. */
  cancel(runId: string, cause: string): void;
  /** The run's outcome, once its execution (and its salvage run, if one started) has ended. */
  waitFor(runId: string): Promise<RunOutcome>;
  /** Resolves when every run started so far has ended, however. */
  settled(): Promise<void>;
}

/** Every 50 ms between retries of a Task, instead of the definition's seconds. */
const RETRY_PAUSE_MS = 50;

/** Tracks the executions of one local state machine. */
export function runs(input: RunsInput): Runs {
  const stateMachine = new StateMachine(input.definition as StateMachineDefinition);
  const firstRunMachine =
    input.firstExecutionTimeoutSeconds === undefined
      ? stateMachine
      : new StateMachine({
          ...input.definition,
          TimeoutSeconds: input.firstExecutionTimeoutSeconds,
        } as StateMachineDefinition);
  const retryPauses = Object.fromEntries(Object.keys(input.handlers).map((state) => [state, RETRY_PAUSE_MS]));
  const outcomes = new Map<string, Promise<RunOutcome>>();
  const executions = new Map<string, { abort: () => void }>();
  const stopCauses = new Map<string, string>();

  const outcomeOf = async (ended: EndedExecution): Promise<RunOutcome> => {
    const { name, input: runInput, status } = ended;
    const salvage = await input.announceEnd(executionStatusChangeEvent(ended));
    // The run's manifest comes from its salvage run, when one was started.
    const salvaged = salvage ? await outcomes.get(salvage) : undefined;
    if (salvaged) return { runId: name, execution: status, manifest: salvaged.manifest };
    const manifestKey = resultKeys(runInput.key, runInput.runId, input.inputPrefix).manifest;
    const manifestText = await input.readObject(manifestKey);
    if (!manifestText) throw new Error(`run ${name} ended (${status}) without writing manifest.json`);
    return { runId: name, execution: status, manifest: JSON.parse(manifestText) as Manifest };
  };

  return {
    start(name, runInput) {
      const machine = runInput.salvage ? stateMachine : firstRunMachine;
      const execution = machine.run(runInput as unknown as ExecutionInput, {
        overrides: {
          taskResourceLocalHandlers: input.handlers,
          waitTimeOverrides: { [STATE_NAMES.waitForJobs]: input.pollWaitMs },
          retryIntervalOverrides: retryPauses,
        },
      });
      executions.set(name, execution);
      const outcome = (async (): Promise<RunOutcome> => {
        let status: ExecutionStatus = 'SUCCEEDED';
        try {
          await execution.result;
        } catch (error) {
          status =
            error instanceof ExecutionAbortedError
              ? 'ABORTED'
              : error instanceof ExecutionTimeoutError
                ? 'TIMED_OUT'
                : 'FAILED';
        } finally {
          executions.delete(name);
        }
        input.onEnded?.(name, status);
        return outcomeOf({
          stateMachineArn: input.stateMachineArn,
          name,
          input: runInput,
          status,
          cause: stopCauses.get(name),
        });
      })();
      outcome.catch(() => undefined);
      outcomes.set(name, outcome);
    },
    isRunning: (name) => executions.has(name),
    cancel(runId, cause) {
      const execution = executions.get(runId);
      if (!execution) throw new Error(`run ${runId} is not running`);
      // As `aws stepfunctions stop-execution --cause`: the stop skips every Catch, and the
      // execution's ABORTED event starts the salvage run that cancels the jobs and writes the manifest.
      stopCauses.set(runId, cause);
      execution.abort();
    },
    async waitFor(runId) {
      const outcome = outcomes.get(runId);
      if (!outcome) throw new Error(`no run ${runId} was started`);
      return outcome;
    },
    async settled() {
      await Promise.allSettled([...outcomes.values()]);
    },
  };
}
