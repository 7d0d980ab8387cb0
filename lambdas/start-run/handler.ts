import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ENV, requireEnv } from '../shared/runtime/env.js';
import { lambdaHandler } from '../shared/runtime/lambda-handler.js';
import { tracedAwsClient } from '../shared/runtime/tracer.js';
import {
  type ExecutionStatusChangeEvent,
  type ObjectCreatedEvent,
  type StartRunDeps,
  startRun,
  startSalvage,
} from './start-run.js';

const stateMachineArn = requireEnv(ENV.stateMachineArn);
const sfn = tracedAwsClient(new SFNClient({}));

const deps: StartRunDeps = {
  inputPrefix: requireEnv(ENV.inputPrefix),
  startExecution: async (name, input) => {
    try {
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return true;
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return false;
      throw error;
    }
  },
};

type StartRunEvent = ObjectCreatedEvent | ExecutionStatusChangeEvent;

const endedExecution = (event: StartRunEvent): event is ExecutionStatusChangeEvent =>
  event['detail-type'] === 'Step Functions Execution Status Change';

/** An upload starts a run; an execution that timed out or was stopped starts its salvage run. */
export const handler = lambdaHandler({
  outcome: 'start-run',
  keys: (event: StartRunEvent) =>
    endedExecution(event)
      ? { execution: event.detail.name, status: event.detail.status }
      : { bucket: event.detail.bucket.name, key: event.detail.object.key },
  run: (event) => (endedExecution(event) ? startSalvage(event, deps) : startRun(event, deps)),
});
