/**
 * Stands in for `semver` in the bundles. `aws-xray-sdk-core` (under Powertools Tracer) calls it only
 * in `captureAWS`, to check an AWS SDK v2 version; the functions capture v3 clients
 * (`captureAWSv3Client`, lambdas/shared/runtime/tracer.ts), which never do.
 */
import { StubbedModuleError } from './never-called.js';

export function gte(): never {
  throw new StubbedModuleError('semver', 'gte');
}
