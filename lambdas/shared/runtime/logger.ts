import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function; correlation keys (runId, chunk, batchName) go on each line. */
export const logger = new Logger({ serviceName: 'gemini-batch-pipeline' });
