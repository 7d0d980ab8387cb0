/**
 * The names the stack and its readers agree on: the local runner, the `gemini-batch` CLI and the
 * bench find states, functions and the stack by them. Kept apart from the constructs so that a
 * reader does not load aws-cdk-lib (about 65 MiB, and a second of start-up) for a constant.
 */
import { fileURLToPath } from 'node:url';

/**
 * The state names: part of the workflow's contract. The local runner maps a Task state to its
 * function folder by kebab-casing the name (`Prepare Requests` → `lambdas/prepare-requests/`) and
 * shortens the Wait state by name. Choices end with `?`.
 */
export const STATE_NAMES = {
  salvageRun: 'Salvage Run?',
  prepareRequests: 'Prepare Requests',
  submitBatchJobs: 'Submit Batch Jobs',
  startPolling: 'Start Polling',
  waitForJobs: 'Wait For Jobs',
  pollBatchJobs: 'Poll Batch Jobs',
  allJobsDone: 'All Jobs Done?',
  stopBatchJobs: 'Stop Batch Jobs',
  collectResults: 'Collect Results',
  finalizeRun: 'Finalize Run',
  runFailedChoice: 'Run Failed?',
  runFailed: 'Run Failed',
  runSucceeded: 'Run Succeeded',
} as const;

/**
 * Template metadata naming the `lambdas/` folder a function's code comes from: how the local runner
 * finds each function of a synthesized template, and its bundle in the cloud assembly.
 */
export const FUNCTION_FOLDER_METADATA = 'gemini-batch-pipeline:function';

/** The default stack id (and CloudFormation stack name). */
export const DEFAULT_STACK_ID = 'GeminiBatchPipeline';

/** The repository root: `lambdas/`, `package-lock.json` and `tsconfig.json` live here. */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
