import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ENV, requireEnv } from '../shared/env.js';
import { DEFAULT_INPUT_PREFIX } from '../shared/layout.js';
import { logger } from '../shared/logger.js';
import { type ObjectCreatedEvent, startRun } from './start-run.js';

const stateMachineArn = requireEnv(ENV.stateMachineArn);
const inputPrefix = process.env[ENV.inputPrefix] ?? DEFAULT_INPUT_PREFIX;
const sfn = new SFNClient({});

export const handler = async (event: ObjectCreatedEvent) => {
  const outcome = await startRun(event, {
    inputPrefix,
    startExecution: async (name, input) => {
      try {
        await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return true;
      } catch (error) {
        if (error instanceof ExecutionAlreadyExists) return false;
        throw error;
      }
    },
  });
  logger.info('start-run', { ...outcome, bucket: event.detail.bucket.name, key: event.detail.object.key });
  return outcome;
};
