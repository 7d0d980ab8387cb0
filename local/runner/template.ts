/**
 * What the local runner reads from the synthesized template: the state machine, the two rules'
 * patterns, the functions and where each one's code is. Configuration (models, prefix, poll
 * schedule) comes from here, so a local run is configured exactly as a deployed one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/names.js';
import { ENV } from '../../lambdas/shared/runtime/env.js';
import type { CfnTemplate } from '../template/cfn-template.js';
import type { EventPattern } from '../template/event-pattern.js';
import { executionRuleEventPattern, inputRuleEventPattern } from '../template/rule-event-pattern.js';
import {
  type AslDefinition,
  kebabCase,
  stateMachineDefinition,
} from '../template/state-machine-definition.js';
import { cloudAssemblyTemplateFile } from '../template/synth-target.js';
import { type TemplateFunction, templateFunctions } from '../template/template-functions.js';
import { LOCAL_BUCKET, LOCAL_STATE_MACHINE_ARN } from './local-aws.js';
import { synthesizeApart } from './synthesize-apart.js';

/** The function that turns events into executions: the rules' one target. */
export const START_RUN_FUNCTION = 'start-run';

/** Which code the functions run, and from where. */
export interface CodeSource {
  /** @default 'source' */
  readonly code?: 'source' | 'bundled';
  /** For `bundled`: a cloud assembly already synthesized with bundling. @default - synthesized into `scratch` */
  readonly assemblyDir?: string;
}

/** The template and, for bundled code, the cloud assembly holding the bundles. */
export interface PipelineCode {
  readonly template: CfnTemplate;
  readonly assemblyDir?: string;
}

/**
 * Synthesizes the template (and the bundles, for bundled code) in a child process
 * (`synthesize-apart.ts`), or reads an assembly's.
 */
export async function pipelineCode(source: CodeSource, scratch: string): Promise<PipelineCode> {
  if ((source.code ?? 'source') === 'source') return { template: await synthesizeApart() };
  if (source.assemblyDir) {
    const text = await readFile(cloudAssemblyTemplateFile(source.assemblyDir), 'utf8');
    return { template: JSON.parse(text) as CfnTemplate, assemblyDir: source.assemblyDir };
  }
  const assemblyDir = join(scratch, 'cdk.out');
  return { template: await synthesizeApart({ assemblyDir }), assemblyDir };
}

/** Where a function's code is: its bundle in the assembly, or its source file. */
export function functionCode(
  fn: TemplateFunction,
  assemblyDir: string | undefined,
): { readonly file: string; readonly exportName: string } {
  if (assemblyDir === undefined) {
    return { file: join(REPO_ROOT, 'lambdas', fn.folder, 'handler.ts'), exportName: 'handler' };
  }
  const [module = 'index', exportName = 'handler'] = fn.handler.split('.');
  if (!fn.assetPath) throw new Error(`the cloud assembly has no bundle for function ${fn.folder}`);
  return { file: join(assemblyDir, fn.assetPath, `${module}.mjs`), exportName };
}

/** The parts of the template the runner runs. */
export interface RunnerTemplate {
  readonly definition: AslDefinition;
  /** The Task states, each invoking the function in the folder named like it. */
  readonly taskStates: readonly { readonly state: string; readonly folder: string }[];
  readonly inputPattern: EventPattern;
  readonly executionPattern: EventPattern;
  readonly functions: ReadonlyMap<string, TemplateFunction>;
  /** Where uploads start runs: start-run's configuration. */
  readonly inputPrefix: string;
}

/** Reads what the runner runs from `template`, as the local bucket and state machine name it. */
export function runnerTemplate(template: CfnTemplate): RunnerTemplate {
  const definition = stateMachineDefinition(template);
  const functions = templateFunctions(template);
  const taskStates = Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([state]) => ({ state, folder: kebabCase(state) }));
  for (const { folder } of taskStates) {
    if (!functions.has(folder)) {
      throw new Error(`the state machine invokes ${folder}, but the template has no such function`);
    }
  }
  if (!functions.has(START_RUN_FUNCTION)) {
    throw new Error(`the rules start ${START_RUN_FUNCTION}, but the template has no such function`);
  }
  const references = { bucketName: LOCAL_BUCKET, stateMachineArn: LOCAL_STATE_MACHINE_ARN };
  return {
    definition,
    taskStates,
    inputPattern: inputRuleEventPattern(template, { bucketName: LOCAL_BUCKET }),
    executionPattern: executionRuleEventPattern(template, references),
    functions,
    inputPrefix: functions.get(START_RUN_FUNCTION)?.environment[ENV.inputPrefix] ?? 'inputs/',
  };
}
