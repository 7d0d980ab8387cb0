import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../log.js';

/**
 * One structured logger per function; correlation keys (runId, chunk, batchName) go on each line.
 * Its service name and level come from `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_LOG_LEVEL`, which
 * the construct sets on every function.
 */
export const logger = new Logger();

/** The cores' `log` dependency: one INFO line, carrying the invocation's keys. */
export const logInfo: Log = (message, fields) => logger.info(message, fields);
