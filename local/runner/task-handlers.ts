/**
 * How the state machine's Task states call their functions offline: each Task invokes the function
 * in its folder, through the test's wrapper if one is given, and reports its progress.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import type { RunState } from '../../lambdas/shared/run/state-payloads.js';
import type { LocalFunction } from '../lambda/local-function.js';

/** aws-local-stepfunctions types inputs as JSON values but does not export that type. */
export type ExecutionInput = Parameters<StateMachine['run']>[0];

/** What one Task did, for live progress. */
export type ProgressEvent =
  | { readonly runId: string; readonly state: string; readonly phase: 'started' }
  | { readonly runId: string; readonly state: string; readonly phase: 'succeeded'; readonly result: unknown }
  | { readonly runId: string; readonly state: string; readonly phase: 'failed'; readonly error: Error };

/** A Task's work: its input to its output. */
export type TaskHandler = (input: RunState) => Promise<unknown>;

/** One local handler per Task state, as aws-local-stepfunctions takes them. */
export type TaskHandlers = Record<string, (input: ExecutionInput) => Promise<ExecutionInput>>;

/** What the Task handlers are made of. */
export interface TaskHandlersInput {
  /** The Task states, each with the function it invokes. */
  readonly tasks: readonly { readonly state: string; readonly fn: LocalFunction }[];
  /** Wraps a Task's handler: how tests inject crashes between steps. */
  readonly wrapTask?: (state: string, handler: TaskHandler) => TaskHandler;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** The Task states' handlers: each invokes its function and reports what it did. */
export function taskHandlers(input: TaskHandlersInput): TaskHandlers {
  const { wrapTask, onProgress } = input;
  const handlers: TaskHandlers = {};
  for (const { state, fn } of input.tasks) {
    const invoke: TaskHandler = (taskInput) => fn.invoke(taskInput);
    const handler = wrapTask ? wrapTask(state, invoke) : invoke;
    handlers[state] = async (taskInput) => {
      const runState = taskInput as unknown as RunState;
      const { runId } = runState;
      onProgress?.({ runId, state, phase: 'started' });
      try {
        const result = await handler(runState);
        onProgress?.({ runId, state, phase: 'succeeded', result });
        return result as ExecutionInput;
      } catch (error) {
        onProgress?.({ runId, state, phase: 'failed', error: error as Error });
        throw error;
      }
    };
  }
  return handlers;
}
