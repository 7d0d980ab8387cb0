/**
 * The local state machine's executions as Step Functions keeps them: name, input, status, start and
 * stop dates, for the stand-in that answers DescribeExecution, ListExecutions and StopExecution.
 * The runner records each start and end here; nothing else changes an execution.
 */
import type { ExecutionStatus } from './events.js';
import { executionArnOf } from './local-aws.js';

/** One execution, as DescribeExecution describes it. */
export interface ExecutionRecord {
  readonly name: string;
  readonly executionArn: string;
  /** The execution's input, as the JSON string StartExecution was given. */
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus | 'RUNNING';
  stopDate?: Date;
}

/** The executions of one local state machine. */
export interface Executions {
  readonly stateMachineArn: string;
  started(name: string, input: string): void;
  ended(name: string, status: ExecutionStatus): void;
  byArn(executionArn: string): ExecutionRecord | undefined;
  /** Newest first, as ListExecutions returns them. */
  list(): readonly ExecutionRecord[];
}

/** An empty record of executions for `stateMachineArn`. */
export function executions(stateMachineArn: string): Executions {
  const records = new Map<string, ExecutionRecord>();
  return {
    stateMachineArn,
    started(name, input) {
      const executionArn = executionArnOf(stateMachineArn, name);
      records.set(executionArn, { name, executionArn, input, startDate: new Date(), status: 'RUNNING' });
    },
    ended(name, status) {
      const record = records.get(executionArnOf(stateMachineArn, name));
      if (!record) return;
      record.status = status;
      record.stopDate = new Date();
    },
    byArn: (executionArn) => records.get(executionArn),
    // A Map keeps insertion order: the newest start is the last one in.
    list: () => [...records.values()].reverse(),
  };
}
