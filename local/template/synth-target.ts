/**
 * Where an in-process synth puts the stack (`synthesize.ts`), for the readers of what it wrote: the
 * local runner and the bench, which must not load aws-cdk-lib to learn a name.
 */
import { join } from 'node:path';
import { DEFAULT_STACK_ID } from '../../infra/names.js';

/** The account every in-process synth uses, so templates are deterministic. */
export const SYNTH_ACCOUNT = '000000000000';
/** The region every in-process synth uses. */
export const SYNTH_REGION = 'us-east-1';

/** The template of a cloud assembly written by `synthesizeCloudAssembly`. */
export function cloudAssemblyTemplateFile(assemblyDir: string): string {
  return join(assemblyDir, `${DEFAULT_STACK_ID}.template.json`);
}
