import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function; correlation keys (runId, chunk, batchName) go on each line. */
export const logger = new Logger({ serviceName: 'gemini-batch-pipeline' });

/** The cores' `log` dependency: one INFO line, carrying the invocation's keys. */
export const logInfo = (message: string, fields: Record<string, unknown>): void =>
  logger.info(message, fields);
