import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ERROR_NAMES } from '../../lambdas/shared/errors.js';

/** Errors of the Lambda service itself (not of our code): always worth a quick retry. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * What Step Functions reports when a function crashed (out of memory, runtime exit) or overran its
 * task timeout. Every function is idempotent — ledgers, deterministic keys, outputs rewritten whole —
 * so running it again is safe, and for Submit it is what makes display-name recovery reachable.
 */
const CRASH_ERRORS = ['Lambda.Unknown', 'States.Timeout'] as const;

/** How each kind of failure is retried, in the order a Task lists its retriers. */
const RETRY = {
  lambdaService: {
    errors: [...LAMBDA_SERVICE_ERRORS],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    jitterStrategy: sfn.JitterType.FULL,
  },
  crash: { errors: [...CRASH_ERRORS], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 2 },
  geminiUnavailable: {
    errors: [ERROR_NAMES.geminiUnavailable],
    interval: Duration.seconds(10),
    backoffRate: 2,
    maxAttempts: 6,
  },
  // Quotas free up as running jobs finish: wait long, spread out, at most 15 minutes apart.
  geminiRateLimited: {
    errors: [ERROR_NAMES.geminiRateLimit],
    interval: Duration.seconds(60),
    backoffRate: 2,
    maxAttempts: 10,
    maxDelay: Duration.minutes(15),
    jitterStrategy: sfn.JitterType.FULL,
  },
} as const satisfies Record<string, sfn.RetryProps>;

/**
 * A Task that invokes a pipeline function with the whole state as its event and stores the
 * function's return value (not the Invoke envelope) under `resultPath`.
 *
 * `payloadResponseOnly` renders `Resource` as the function ARN, which is what the local runner
 * replaces. No `payload` is set: with `payloadResponseOnly`, `TaskInput.fromJsonPathAt('$')`
 * renders `"Parameters": "$"`, which is not valid ASL, while no `Parameters` at all passes the
 * state input unchanged, which is the whole state.
 */
export function invokeTask(
  scope: Construct,
  id: string,
  stateName: string,
  fn: lambda.Function,
  resultPath: string,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    stateName,
    lambdaFunction: fn,
    payloadResponseOnly: true,
    resultPath,
    // Replaced below by the explicit policy (which also covers TooManyRequests, with jitter).
    retryOnServiceExceptions: false,
    // A safety net above the function's own timeout; also what the local runner enforces.
    taskTimeout: sfn.Timeout.duration((fn.timeout ?? Duration.seconds(3)).plus(Duration.minutes(1))),
  });
  // Every function calls Gemini (Prepare asks the Models API), and Gemini answers 429 on reads as
  // well as on create: a quota answer is a wait, never a failed run by itself.
  for (const retry of Object.values(RETRY)) task.addRetry(retry);
  return task;
}
