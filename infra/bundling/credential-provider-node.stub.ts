/**
 * Stands in for `@aws-sdk/credential-provider-node` in the bundles: the AWS SDK clients' default
 * credential chain, cut to its first link. In Lambda the execution role's keys are always in
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * and the local runner sets the same variables (local/runner/function-environment.ts), so the
 * chain's `fromEnv` always answers and the links after it (SSO, ini files, process, web identity,
 * ECS/EC2 metadata, with the STS and SSO clients they bring) never run. The one way the real chain
 * skips `fromEnv` is `AWS_PROFILE`: that fails here by name instead of reading a profile.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { StubbedModuleError } from './never-called.js';

export function defaultProvider(init: Parameters<typeof fromEnv>[0] = {}): ReturnType<typeof fromEnv> {
  if (process.env.AWS_PROFILE) {
    throw new StubbedModuleError('@aws-sdk/credential-provider-node', 'defaultProvider with AWS_PROFILE');
  }
  return fromEnv(init);
}
