import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DEFAULT_INPUT_PREFIX } from '../shared/run/bucket-layout.js';
import { ENV, requireEnv } from '../shared/runtime/env.js';
import { logger } from '../shared/runtime/logger.js';
import {
  type ExecutionStatusChangeEvent,
  type ObjectCreatedEvent,
  type StartRunDeps,
  startRun,
  startSalvage,
} from './start-run.js';

const stateMachineArn = requireEnv(ENV.stateMachineArn);
const inputPrefix = process.env[ENV.inputPrefix] ?? DEFAULT_INPUT_PREFIX;
const sfn = new SFNClient({});

const startExecution: StartRunDeps['startExecution'] = async (name, input) => {
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return true;
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) return false;
    throw error;
  }
};

/** An upload starts a run; an execution that timed out or was stopped starts its salvage run. */
export const handler = async (event: ObjectCreatedEvent | ExecutionStatusChangeEvent) => {
  if (event['detail-type'] === 'Step Functions Execution Status Change') {
    const outcome = await startSalvage(event, { startExecution });
    logger.info('start-run: salvage', {
      ...outcome,
      execution: event.detail.name,
      status: event.detail.status,
    });
    return outcome;
  }
  const outcome = await startRun(event, { inputPrefix, startExecution });
  logger.info('start-run', { ...outcome, bucket: event.detail.bucket.name, key: event.detail.object.key });
  return outcome;
};
