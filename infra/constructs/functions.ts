import { Duration, Size } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/runtime/env.js';
import { PipelineFunction, type PipelineFunctionProps } from './pipeline-function.js';
import type { PipelineSettings } from './validate-props.js';

/** The pipeline's functions, by folder name under `lambdas/`. */
export const PIPELINE_FUNCTION_NAMES = [
  'start-run',
  'prepare-requests',
  'submit-batch-jobs',
  'poll-batch-jobs',
  'stop-batch-jobs',
  'collect-results',
  'finalize-run',
] as const;

/** The name of one of the pipeline's functions (its folder under `lambdas/`). */
export type PipelineFunctionName = (typeof PIPELINE_FUNCTION_NAMES)[number];

/** One {@link PipelineFunction} per function folder. */
export type PipelineFunctions = Readonly<Record<PipelineFunctionName, PipelineFunction>>;

/** What the functions' environments are built from, besides the settings. */
export interface FunctionResources {
  /** The secret holding the Gemini API key: functions get its ARN, never the key. */
  readonly apiKeySecretArn: string;
  /** Where Finalize Run puts the run-finished event. */
  readonly eventBusName: string;
  /** The admission queue's table, shared by Submit and Poll. */
  readonly admissionTableName: string;
}

/** The variables whose value is set, as strings: a limit left unset leaves the function's default. */
function setVariables(values: Readonly<Record<string, string | number | boolean | undefined>>) {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) set[name] = String(value);
  return set;
}

/**
 * The seven functions, each with its size and exactly the environment its handler reads (start-run
 * gets the state machine's ARN from the trigger, which is built after the workflow). Made directly
 * in `scope`, the pipeline, so their construct ids (and logical ids) are the pipeline's own.
 */
export function pipelineFunctions(
  scope: Construct,
  settings: PipelineSettings,
  resources: FunctionResources,
): PipelineFunctions {
  const { inputPrefix, generateModel, embedModel, pollSchedule, jobLimits, logRetention } = settings;
  const { apiKeySecretArn, admissionTableName } = resources;
  const make = (id: string, props: Omit<PipelineFunctionProps, 'logRetention'>) =>
    new PipelineFunction(scope, id, { ...props, logRetention });
  // Memory sizes are set from the cost bench's measurements (docs/benchmarks.md, "Memory sizes"):
  // Lambda gives 1769 MB one vCPU and a smaller size that share of one. Prepare and Collect are
  // about half CPU even on a loaded machine (1.8 of 3.7 s and 9.7 of 18.7 s for 100k requests at
  // load 10), and below 1769 MB the CPU part bills the same GB-s, only slower: 1024 MB would save
  // 20-30% of their GB-s (under $0.0002 a run) and stretch them by up to a third, and their
  // throughput is a target that gates the whole run. Their peaks (204 and 185 MiB
  // at 2 GiB, memory section) rule out less than 512 MB in any case.
  const bigWorker = { timeout: Duration.minutes(15), memorySize: 1769 };
  // Poll and Collect download Gemini's result files to /tmp (a retry scan, the answers by key);
  // Prepare and Submit stream between S3 and Gemini and keep Lambda's free 512 MB.
  const stagesResultFiles = { ephemeralStorageSize: Size.gibibytes(10) };
  // Submit and Poll wait on Gemini and S3: 1.7-2.3 s of CPU in a 12-33 s Submit, 0.2-0.3 s in a
  // 1.2-3.8 s poll, with every service on loopback (more waiting against Google). Priced from the
  // same run, 1024 MB bills about a third less than 1769 MB, the CPU part stretched to 0.58 vCPU;
  // 512 MB would not hold their measured peak: the process's RSS rose up to 376 MiB during Submit
  // (four chunks read and uploaded at once), on top of an idle Node's 59 MiB.
  const ioBoundMemorySize = 1024;
  // Submit and Poll both create jobs, so both choose between inline and file jobs.
  const inlineChoice = setVariables({
    [ENV.inlineMaxBytes]: jobLimits.inlineMaxBytes,
    [ENV.inlineMaxAnswerBytes]: jobLimits.inlineMaxAnswerBytes,
    [ENV.inlineEmbeddings]: jobLimits.inlineEmbeddings,
  });

  return {
    'start-run': make('StartRun', {
      name: 'start-run',
      description: 'starts one run per uploaded input file',
      timeout: Duration.seconds(30),
      environment: { [ENV.inputPrefix]: inputPrefix },
    }),
    'prepare-requests': make('PrepareRequests', {
      name: 'prepare-requests',
      description: 'validates, normalises and splits an input file into chunks',
      ...bigWorker,
      environment: {
        [ENV.inputPrefix]: inputPrefix,
        [ENV.generateModel]: generateModel,
        [ENV.embedModel]: embedModel,
        // Prepare asks the Models API about each model before anything is uploaded or paid for.
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        ...setVariables({
          [ENV.maxChunkBytes]: jobLimits.maxChunkBytes,
          [ENV.maxChunkRequests]: jobLimits.maxChunkRequests,
          [ENV.maxTokensPerJob]: jobLimits.maxTokensPerJob,
          [ENV.maxLineBytes]: settings.maxLineBytes,
          [ENV.maxRunCostUsd]: settings.maxRunCostUsd,
          // The run's estimate uses the table Finalize prices the run with.
          [ENV.batchPricesJson]: settings.batchPrices && JSON.stringify(settings.batchPrices),
        }),
      },
    }),
    'submit-batch-jobs': make('SubmitBatchJobs', {
      name: 'submit-batch-jobs',
      description: 'creates one Gemini batch job per chunk, idempotently',
      ...bigWorker,
      memorySize: ioBoundMemorySize,
      environment: {
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        [ENV.admissionTableName]: admissionTableName,
        ...inlineChoice,
      },
    }),
    // Poll also submits chunks Gemini refused for now (429), so it is sized to upload like Submit.
    'poll-batch-jobs': make('PollBatchJobs', {
      name: 'poll-batch-jobs',
      description: "checks every chunk's batch job in one call, submitting chunks that were waiting",
      ...bigWorker,
      ...stagesResultFiles,
      memorySize: ioBoundMemorySize,
      environment: {
        ...inlineChoice,
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        [ENV.pollInitialSeconds]: String(pollSchedule.initial.toSeconds()),
        [ENV.pollMaxSeconds]: String(pollSchedule.max.toSeconds()),
        [ENV.pollBackoffRate]: String(pollSchedule.backoffRate),
        [ENV.submitDeadlineSeconds]: String(settings.submitDeadline.toSeconds()),
        [ENV.lineRetryRounds]: String(settings.lineRetryRounds),
        [ENV.expiredResubmitRounds]: String(settings.expiredResubmitRounds),
        [ENV.pendingTimeoutSeconds]: String(settings.pendingTimeout.toSeconds()),
        [ENV.retryCutoffSeconds]: String(settings.retryCutoffSeconds),
        [ENV.admissionTableName]: admissionTableName,
      },
    }),
    // Stop reads and cancels jobs only: no uploads, no /tmp; sized like Finalize.
    'stop-batch-jobs': make('StopBatchJobs', {
      name: 'stop-batch-jobs',
      description: 'cancels the jobs of a run that ends early and records the ones that finished',
      timeout: Duration.minutes(15),
      memorySize: 512,
      environment: { [ENV.apiKeySecretArn]: apiKeySecretArn },
    }),
    'collect-results': make('CollectResults', {
      name: 'collect-results',
      description: 'turns batch results into keyed results.jsonl',
      ...bigWorker,
      ...stagesResultFiles,
      environment: { [ENV.apiKeySecretArn]: apiKeySecretArn, [ENV.inputPrefix]: inputPrefix },
    }),
    'finalize-run': make('FinalizeRun', {
      name: 'finalize-run',
      description: 'writes manifest.json, announces the run and cleans up Gemini files',
      timeout: Duration.minutes(5),
      // Measured: about a second a run, 0.2 s of it CPU, RSS rise 6 MiB. 256 MB would hold it and
      // save about 0.1 GB-s a run (the smaller share of a vCPU stretches its CPU part): not worth it.
      memorySize: 512,
      environment: {
        [ENV.apiKeySecretArn]: apiKeySecretArn,
        [ENV.eventBusName]: resources.eventBusName,
        [ENV.inputPrefix]: inputPrefix,
        ...setVariables({
          [ENV.batchPricesJson]: settings.batchPrices && JSON.stringify(settings.batchPrices),
        }),
      },
    }),
  };
}
