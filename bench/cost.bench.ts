/**
 * Figure 8: what the pipeline costs to run in AWS per million requests, beside the Gemini batch bill
 * it manages for the same million (1k prompt + 300 output tokens each on the stack's default
 * generate model, priced by the pipeline's own table and estimator).
 *
 * Measured, in one local end-to-end run through the synthesized stack: each Task state's duration
 * and invocations, its function's CPU time and the process's RSS rise, and the functions' S3
 * requests by billing class as the local S3 received them. Read from the synthesized stack: each
 * function's memory and /tmp size, which functions read the Gemini key from Secrets Manager, the
 * poll loop's states and schedule. Assumed (said in the table): the run's wall time in a Task is
 * Lambda's billed duration at one vCPU, its CPU part stretched by the smaller share below (`billedMs`); the jobs
 * take {@link ASSUMED_JOB_SECONDS}; every invocation of a key-reading function calls Secrets
 * Manager (its five-minute cache can only lower that); start-run's duration. The million requests
 * arrive as files the size of the measured one.
 */
import { join } from 'node:path';
import { STATE_NAMES } from '../infra/names.js';
import { DEFAULT_BATCH_PRICES } from '../lambdas/shared/pricing/batch-prices.js';
import { estimateCost } from '../lambdas/shared/pricing/cost-estimate.js';
import { emptyModelUsage } from '../lambdas/shared/run/work-records.js';
import { ENV } from '../lambdas/shared/runtime/env.js';
import { deployedPollLoop } from './poll.bench.js';
import { AWS_PRICES, type AwsPrice } from './support/aws-prices.js';
import { resultOf, runWorker } from './support/child.js';
import { writeGenerateRequests } from './support/generate.js';
import { type BenchRow, count, mib, percent, seconds } from './support/table.js';
import { LOCAL_STACK_NODE_ARGS } from './support/workspace.js';
import type { E2eWorkerInput, E2eWorkerResult } from './workers/e2e-worker.js';

const MILLION = 1_000_000;
const PROMPT_TOKENS = 1000;
const OUTPUT_TOKENS = 300;
/** How long the Gemini jobs are assumed to run: it sets the polls, the only part that grows with it. */
const ASSUMED_JOB_SECONDS = 60 * 60;
/** start-run is invoked by the rule, not a Task, so the run does not time it: one short call. */
const ASSUMED_START_RUN_MS = 300;
const FREE_EPHEMERAL_MB = 512;
const POLL_STATE = STATE_NAMES.pollBatchJobs;
const POLL_WAIT_MS = 100;

/** Dollars to the cent, or to three significant digits below a dollar (most AWS lines are cents). */
const usd = (amount: number): string =>
  amount >= 1 ? `$${amount.toFixed(2)}` : `$${Number(amount.toPrecision(3))}`;

interface FunctionSize {
  readonly memoryMb: number;
  readonly ephemeralMb: number;
  readonly readsSecret: boolean;
}

/** Each function's configured sizes, by its `lambdas/` folder, and the Task states that invoke them. */
async function deployedFunctions() {
  const { synthesizePipelineTemplate } = await import('../local/template/synthesize.js');
  const { runnerTemplate } = await import('../local/runner/template.js');
  const template = synthesizePipelineTemplate();
  const runner = runnerTemplate(template);
  const sizes = new Map<string, FunctionSize>();
  for (const fn of runner.functions.values()) {
    const properties = template.Resources[fn.logicalId]?.Properties as
      | { EphemeralStorage?: { Size?: number } }
      | undefined;
    sizes.set(fn.folder, {
      memoryMb: fn.memorySizeMb,
      ephemeralMb: properties?.EphemeralStorage?.Size ?? FREE_EPHEMERAL_MB,
      readsSecret: fn.deployTimeVariables.includes(ENV.apiKeySecretArn),
    });
  }
  const generateModel = runner.functions.get('prepare-requests')?.environment[ENV.generateModel];
  if (!generateModel) throw new Error('the template sets no default generate model on prepare-requests');
  return { sizes, taskStates: runner.taskStates, generateModel };
}

/** Lambda gives a function one vCPU at this size, and that share of one below it (developer guide, `configuration-memory`). */
const ONE_VCPU_MB = 1769;

/**
 * What a Task that took `wallMs` here, `cpuMs` of it on the CPU, is billed for at `memoryMb`: the
 * local sandbox runs at a whole core whatever its size, so the CPU part is stretched by the share
 * of a vCPU the size gets (the functions are single-threaded: more than one vCPU does not shorten them).
 */
export function billedMs(memoryMb: number, wallMs: number, cpuMs: number): number {
  const cpu = Math.min(cpuMs, wallMs);
  return wallMs - cpu + cpu * Math.max(1, ONE_VCPU_MB / memoryMb);
}

/** One Lambda's bill for `invocations` calls billed `ms` in all. */
function lambdaCost(size: FunctionSize, invocations: number, ms: number) {
  const gbSeconds = (size.memoryMb / 1024) * (ms / 1000);
  const ephemeralGbSeconds = (Math.max(0, size.ephemeralMb - FREE_EPHEMERAL_MB) / 1024) * (ms / 1000);
  return {
    gbSeconds,
    usd:
      gbSeconds * AWS_PRICES.lambdaArmGbSecond.usd +
      ephemeralGbSeconds * AWS_PRICES.lambdaEphemeralGbSecond.usd +
      invocations * AWS_PRICES.lambdaRequest.usd,
  };
}

/** The Gemini batch bill for a million requests of the stated size, by the pipeline's own estimator. */
function geminiBill(model: string) {
  const usage = {
    ...emptyModelUsage(),
    requestCount: MILLION,
    promptTokens: MILLION * PROMPT_TOKENS,
    outputTokens: MILLION * OUTPUT_TOKENS,
    totalTokens: MILLION * (PROMPT_TOKENS + OUTPUT_TOKENS),
  };
  const estimate = estimateCost({ [model]: usage }, DEFAULT_BATCH_PRICES, { at: new Date() });
  if (estimate.unpricedModels.length > 0) throw new Error(`the price table has no price for ${model} today`);
  return estimate;
}

const unconfirmed = (prices: readonly AwsPrice[]) => prices.filter((price) => !price.confirmedOnAwsPage);

/**
 * Per function: its wall time, its sandbox's CPU time and their ratio, and the RSS rise, the
 * figures its memory size is chosen from (docs/benchmarks.md, "Memory sizes"): below 1769 MB Lambda
 * gives a function that share of a vCPU, so only the time it waits on I/O bills less at a smaller size.
 */
function cpuAndMemoryByFunction(
  run: E2eWorkerResult,
  taskStates: readonly { state: string; folder: string }[],
) {
  return taskStates
    .filter(({ state }) => (run.stateCalls[state] ?? 0) > 0)
    .map(({ state, folder }) => {
      const wallMs = run.stateMs[state] ?? 0;
      const cpuMs = run.tasks?.cpuMs[state];
      const cpu =
        cpuMs === undefined ? 'CPU not measured' : `CPU ${seconds(cpuMs)} = ${percent(cpuMs / wallMs)}`;
      return `${folder} ${seconds(wallMs)} wall, ${cpu}, RSS +${mib(run.tasks?.rssRiseBytes[state] ?? 0)}`;
    })
    .join('; ');
}

export async function benchCost(dir: string, requests: number): Promise<BenchRow[]> {
  const file = await writeGenerateRequests(join(dir, `cost-${requests}.jsonl`), { requests });
  const input: E2eWorkerInput = { path: file.path, pollWaitMs: POLL_WAIT_MS, measureCost: true };
  const outcome = await runWorker<E2eWorkerResult>('e2e-worker', input, {
    pinCpu: false,
    nodeArgs: LOCAL_STACK_NODE_ARGS,
  });
  const run = resultOf(outcome, 'cost run');
  if (run.status !== 'SUCCEEDED') throw new Error(`the measured run ended ${run.status}`);
  const { sizes, taskStates, generateModel } = await deployedFunctions();
  const poll = (await deployedPollLoop()).transitionsFor(ASSUMED_JOB_SECONDS);
  const runsPerMillion = MILLION / file.lines;

  // Per run: each Task's measured time, the poll loop's at the assumed job length.
  let gbSeconds = 0;
  let lambdaUsd = 0;
  let invocations = 0;
  let secretCalls = 0;
  const byFunction: string[] = [];
  /** Bills `calls` invocations that took `wallMs` here, `cpuMs` of it on the CPU, in all. */
  const bill = (folder: string, calls: number, wallMs: number, cpuMs: number) => {
    const size = sizes.get(folder);
    if (!size) throw new Error(`the template has no function ${folder}`);
    const cost = lambdaCost(size, calls, billedMs(size.memoryMb, wallMs, cpuMs));
    gbSeconds += cost.gbSeconds;
    lambdaUsd += cost.usd;
    invocations += calls;
    if (size.readsSecret) secretCalls += calls;
    // The same measured run priced at one vCPU: what the configured size saves, compared within one run.
    const atOneVcpu = lambdaCost({ ...size, memoryMb: ONE_VCPU_MB }, calls, wallMs).gbSeconds;
    const alternative =
      size.memoryMb === ONE_VCPU_MB ? '' : ` (${atOneVcpu.toFixed(1)} at ${ONE_VCPU_MB} MB)`;
    byFunction.push(`${folder} ${size.memoryMb} MB ${cost.gbSeconds.toFixed(1)} GB-s${alternative}`);
  };
  bill('start-run', 1, ASSUMED_START_RUN_MS, 0);
  for (const { state, folder } of taskStates) {
    const measuredCalls = run.stateCalls[state] ?? 0;
    if (measuredCalls === 0) continue;
    const calls = state === POLL_STATE ? poll.polls : measuredCalls;
    const perCall = (measured: number) => (measured / measuredCalls) * calls;
    // Without a CPU figure (off Linux) all of the time is taken as waiting: a lower bound below 1769 MB.
    bill(folder, calls, perCall(run.stateMs[state] ?? 0), perCall(run.tasks?.cpuMs[state] ?? 0));
  }
  const s3 = run.s3Requests ?? {};
  const s3Usd = (s3.put ?? 0) * AWS_PRICES.s3PutRequest.usd + (s3.get ?? 0) * AWS_PRICES.s3GetRequest.usd;
  const sfnUsd = poll.transitions * AWS_PRICES.stepFunctionsTransition.usd;
  const secretsUsd = secretCalls * AWS_PRICES.secretsManagerCall.usd;
  const perMillion = (perRun: number) => perRun * runsPerMillion;
  const awsUsd = perMillion(lambdaUsd + sfnUsd + s3Usd + secretsUsd);

  const gemini = geminiBill(generateModel);
  const price = gemini.prices[0];
  const prices = Object.values(AWS_PRICES) as AwsPrice[];
  const files = `${count(runsPerMillion)} files of ${count(file.lines)}`;
  return [
    {
      figure: `AWS cost per million requests (${files}; jobs assumed ${ASSUMED_JOB_SECONDS / 60} min)`,
      value:
        `${usd(awsUsd)}: Lambda ${usd(perMillion(lambdaUsd))} (${count(Math.round(perMillion(gbSeconds)))} GB-s, ${count(perMillion(invocations))} invocations), ` +
        `Step Functions ${usd(perMillion(sfnUsd))} (${count(perMillion(poll.transitions))} transitions), ` +
        `S3 ${usd(perMillion(s3Usd))} (${count(perMillion(s3.put ?? 0))} PUT/LIST, ${count(perMillion(s3.get ?? 0))} GET/HEAD), ` +
        `Secrets Manager ${usd(perMillion(secretsUsd))} (≤ ${count(perMillion(secretCalls))} calls)`,
      reference:
        `Gemini batch bill for the same million (${PROMPT_TOKENS} prompt + ${OUTPUT_TOKENS} output tokens, ${generateModel}): ` +
        `${usd(gemini.total)}; AWS is ${(100 * (awsUsd / gemini.total)).toPrecision(2)}% of it (1 : ${count(Math.round(gemini.total / awsUsd))})`,
      target: 'none (reported)',
    },
    {
      figure:
        'AWS cost, per run: where the Lambda GB-seconds go (configured memory × measured time, its CPU part stretched below one vCPU)',
      value: byFunction.join(', '),
      reference:
        `measured in one local run of ${count(file.lines)} requests: Task durations and invocations, S3 requests as the local S3 received them (${count(s3.put ?? 0)} PUT/LIST, ${count(s3.get ?? 0)} GET/HEAD, ${count(s3.free ?? 0)} DELETE); ` +
        `assumed: local time = billed time at one vCPU (below 1769 MB its CPU part × 1769 / MB), ${poll.polls} polls for a ${ASSUMED_JOB_SECONDS / 60}-min job (the local run polled ${run.stateCalls[POLL_STATE] ?? 0}×), ` +
        `one Secrets Manager call per key-reading invocation (the 5-min cache only lowers it), start-run ${ASSUMED_START_RUN_MS} ms`,
      target: 'none',
    },
    {
      figure: "AWS cost, per run: each function's CPU time against its wall time, and its memory",
      value: cpuAndMemoryByFunction(run, taskStates),
      reference:
        "CPU: the function's sandbox thread (/proc/self/task), its share of the Task's wall time on this machine " +
        "(load inflates wall time, so a CPU-bound share reads low); RSS: the whole process's rise during the Task, " +
        'servers included (an upper bound); Prepare and Collect peaks in their own processes: memory section',
      target: 'none',
    },
    {
      figure: 'AWS cost: the prices (us-east-1, on-demand, no free tier)',
      value:
        `Lambda arm64 $${AWS_PRICES.lambdaArmGbSecond.usd}/GB-s + $0.20/M requests, Step Functions $25/M transitions, ` +
        `S3 $5/M PUT, $0.40/M GET, Secrets Manager $5/M calls; Gemini: ${price?.source ?? gemini.basis}`,
      reference:
        `read ${AWS_PRICES.stepFunctionsTransition.read}; confirmed on AWS's page: ${prices.filter((p) => p.confirmedOnAwsPage).length} of ${prices.length}; ` +
        `from third-party quotes: ${unconfirmed(prices)
          .map((p) => p.per.split(' (')[0])
          .join('; ')} (bench/support/aws-prices.ts has each source)`,
      target: 'none',
    },
  ];
}
