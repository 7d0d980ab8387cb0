/**
 * The deployable stack's template, synthesized in-process, and the parts offline code needs from
 * it: the state machine definition and the trigger rule's event pattern. The local runner runs
 * exactly what would be deployed, and the infra tests check these same helpers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { type PipelineConfig, pipelineConfig } from '../../infra/config.js';
import { FUNCTION_FOLDER_METADATA, REPO_ROOT } from '../../infra/constructs/pipeline-function.js';
import { GeminiBatchPipelineStack } from '../../infra/gemini-batch-pipeline-stack.js';
import type { EventPattern } from './event-pattern.js';

export { type EventPattern, matchesEventPattern } from './event-pattern.js';

/** The account every in-process synth uses, so templates are deterministic. */
export const SYNTH_ACCOUNT = '000000000000';
/** The region every in-process synth uses. */
export const SYNTH_REGION = 'us-east-1';

/** A CloudFormation template, as far as these helpers read it. */
export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnTemplateResource>>;
  readonly Outputs?: Readonly<Record<string, { readonly Value: unknown; readonly Description?: string }>>;
  readonly [section: string]: unknown;
}

/** One resource of a {@link CfnTemplate}. */
export interface CfnTemplateResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Metadata?: Readonly<Record<string, unknown>>;
  readonly [attribute: string]: unknown;
}

/** A state of an Amazon States Language definition (JSONPath), loosely typed. */
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
  readonly [field: string]: unknown;
}

/** A Retry entry. */
export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: string;
}

/** A Catch entry. */
export interface AslCatcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath?: string | null;
  readonly Next: string;
}

/** An Amazon States Language definition. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly TimeoutSeconds?: number;
  readonly QueryLanguage?: string;
  readonly Comment?: string;
}

/** Options of {@link synthesizePipelineTemplate}: the deployable stack's config, any part of it. */
export type SynthesizeOptions = Partial<PipelineConfig>;

/** The context `cdk.json` gives the app (feature flags): in-process synths use the same. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * The deployable stack's template, synthesized in-process with `cdk.json`'s feature flags, a fixed
 * account and region, and bundling skipped (`aws:cdk:bundling-stacks: []`): no esbuild, no Docker,
 * and the handler files need not exist. Takes well under a few seconds.
 */
export function synthesizePipelineTemplate(options: SynthesizeOptions = {}): CfnTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'gemini-batch-pipeline-synth-'));
  try {
    return synthesize(outdir, options, { bundle: false });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The cloud assembly `cdk deploy` would upload, written to `outdir`: the template and every
 * function's bundle (`asset.<hash>/index.mjs`), built by the local esbuild exactly as `cdk synth`
 * builds them. Takes some seconds per function.
 */
export function synthesizeCloudAssembly(outdir: string, options: SynthesizeOptions = {}): CfnTemplate {
  return synthesize(outdir, options, { bundle: true });
}

function synthesize(
  outdir: string,
  options: SynthesizeOptions,
  { bundle }: { bundle: boolean },
): CfnTemplate {
  const app = new App({
    outdir,
    context: {
      ...cdkJsonContext(),
      // With bundling, the template names each function's bundle (`aws:asset:path`), as under the CLI.
      ...(bundle ? { 'aws:cdk:enable-asset-metadata': true } : { 'aws:cdk:bundling-stacks': [] }),
    },
    analyticsReporting: false,
  });
  const stack = new GeminiBatchPipelineStack(app, 'GeminiBatchPipeline', {
    env: { account: SYNTH_ACCOUNT, region: SYNTH_REGION },
    config: pipelineConfig(options),
  });
  // Read while the assembly directory still exists: the artifact loads its template lazily.
  return app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
}

/** One function of a synthesized template, as far as running it offline needs. */
export interface TemplateFunction {
  /** Its folder under `lambdas/` (`prepare-requests`), from the function's metadata. */
  readonly folder: string;
  readonly logicalId: string;
  /** The plain (non-token) environment variables: the function's configuration. */
  readonly environment: Readonly<Record<string, string>>;
  /** Variables whose value CloudFormation fills in at deploy time (a secret's ARN, the state machine's). */
  readonly deployTimeVariables: readonly string[];
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /** `index.handler`: the module (in the bundle) and its export. */
  readonly handler: string;
  /** The bundle's directory in the cloud assembly, when the template was synthesized with bundling. */
  readonly assetPath?: string;
}

/** Every pipeline function of the template, by its `lambdas/` folder. */
export function templateFunctions(template: CfnTemplate): ReadonlyMap<string, TemplateFunction> {
  const functions = new Map<string, TemplateFunction>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const folder = resource.Metadata?.[FUNCTION_FOLDER_METADATA];
    if (resource.Type !== 'AWS::Lambda::Function' || typeof folder !== 'string') continue;
    const properties = (resource.Properties ?? {}) as {
      readonly Environment?: { readonly Variables?: Readonly<Record<string, unknown>> };
      readonly Timeout?: number;
      readonly MemorySize?: number;
      readonly Handler?: string;
    };
    const variables = Object.entries(properties.Environment?.Variables ?? {});
    const environment = Object.fromEntries(
      variables.filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    const deployTimeVariables = variables
      .filter(([, value]) => typeof value !== 'string')
      .map(([name]) => name);
    const assetPath = resource.Metadata?.['aws:asset:path'];
    functions.set(folder, {
      folder,
      logicalId,
      environment,
      deployTimeVariables,
      timeoutSeconds: properties.Timeout ?? 3,
      memorySizeMb: properties.MemorySize ?? 128,
      handler: properties.Handler ?? 'index.handler',
      ...(typeof assetPath === 'string' ? { assetPath } : {}),
    });
  }
  return functions;
}

/** `Prepare Requests` → `prepare-requests`: a Task state's function folder under `lambdas/`. */
export function kebabCase(stateName: string): string {
  return stateName
    .trim()
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

/** The placeholder ARN a definition's Task gets for the function named `name`. */
export function functionArnPlaceholder(name: string): string {
  return `arn:aws:lambda:${SYNTH_REGION}:${SYNTH_ACCOUNT}:function:${name}`;
}

/** Options of {@link stateMachineDefinition}. */
export interface DefinitionOptions {
  /**
   * How placeholder function ARNs are named: after the Task state that invokes the function,
   * kebab-cased (`Prepare Requests` → `...:function:prepare-requests`, the function's folder), or
   * after the function's logical id in the template.
   *
   * @default 'state'
   */
  readonly functionNames?: 'state' | 'logicalId';
}

/**
 * The template's state machine definition, parsed. Function ARNs become
 * {@link functionArnPlaceholder}s: by default named after the Task state that invokes them
 * (`...:function:prepare-requests` for `Prepare Requests`), after the function's logical id
 * elsewhere. Pseudo parameters become the synth account and region; any other token throws.
 */
export function stateMachineDefinition(
  template: CfnTemplate,
  options: DefinitionOptions = {},
): AslDefinition {
  const [, machine] = singleResource(template, 'AWS::StepFunctions::StateMachine');
  const raw = machine.Properties?.DefinitionString;
  const placeholderIds = new Map<string, string>();

  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (isRecord(part) && Array.isArray(part['Fn::GetAtt'])) {
      const [logicalId, attribute] = part['Fn::GetAtt'] as [string, string];
      if (template.Resources[logicalId]?.Type === 'AWS::Lambda::Function' && attribute === 'Arn') {
        const arn = functionArnPlaceholder(logicalId);
        placeholderIds.set(arn, logicalId);
        return arn;
      }
    }
    if (isRecord(part) && typeof part.Ref === 'string') {
      const pseudo = PSEUDO_PARAMETERS[part.Ref];
      if (pseudo !== undefined) return pseudo;
    }
    throw new Error(`unsupported token in the state machine definition: ${JSON.stringify(part)}`);
  };

  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else if (isRecord(raw) && Array.isArray(raw['Fn::Join'])) {
    const [delimiter, parts] = raw['Fn::Join'] as [string, unknown[]];
    text = parts.map(render).join(delimiter);
  } else {
    throw new Error(`unexpected DefinitionString: ${JSON.stringify(raw)}`);
  }

  const definition = JSON.parse(text) as AslDefinition;
  if ((options.functionNames ?? 'state') === 'logicalId') return definition;
  const states: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    const named = state.Type === 'Task' && state.Resource !== undefined && placeholderIds.has(state.Resource);
    states[name] = named ? { ...state, Resource: functionArnPlaceholder(kebabCase(name)) } : state;
  }
  return { ...definition, States: states };
}

/** What a rule's event pattern refers to, as this machine names it. */
export interface PatternReferences {
  /** The name the pipeline's bucket has here. */
  readonly bucketName: string;
  /** The ARN the state machine has here (needed for the rule on its executions). */
  readonly stateMachineArn?: string;
}

/**
 * The trigger rule's event pattern (the rule on S3 events), with the bucket's `Ref` replaced by
 * `bucketName`, ready for {@link matchesEventPattern}.
 */
export function inputRuleEventPattern(template: CfnTemplate, references: PatternReferences): EventPattern {
  return ruleEventPattern(template, 'aws.s3', references);
}

/**
 * The event pattern of the rule on the state machine's own executions (source `aws.states`): the
 * one that starts a salvage run when an execution times out or is stopped.
 */
export function executionRuleEventPattern(
  template: CfnTemplate,
  references: Required<PatternReferences>,
): EventPattern {
  return ruleEventPattern(template, 'aws.states', references);
}

function ruleEventPattern(
  template: CfnTemplate,
  source: string,
  references: PatternReferences,
): EventPattern {
  const rules = Object.entries(template.Resources).filter(([, resource]) => {
    const pattern = resource.Properties?.EventPattern;
    return (
      resource.Type === 'AWS::Events::Rule' && isRecord(pattern) && asArray(pattern.source).includes(source)
    );
  });
  if (rules.length !== 1) {
    throw new Error(`expected one rule on ${source} events in the template, found ${rules.length}`);
  }
  const [[, rule]] = rules as [[string, CfnTemplateResource]];

  const substitute = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(substitute);
    if (!isRecord(node)) return node;
    if (typeof node.Ref === 'string' && Object.keys(node).length === 1) {
      const type = template.Resources[node.Ref]?.Type;
      if (type === 'AWS::S3::Bucket') return references.bucketName;
      if (type === 'AWS::StepFunctions::StateMachine' && references.stateMachineArn) {
        return references.stateMachineArn;
      }
      throw new Error(`unsupported reference in the event pattern: ${JSON.stringify(node)}`);
    }
    if (Object.keys(node).some((key) => key.startsWith('Fn::'))) {
      throw new Error(`unsupported token in the event pattern: ${JSON.stringify(node)}`);
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, substitute(value)]));
  };
  return substitute(rule.Properties?.EventPattern) as EventPattern;
}

const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': SYNTH_REGION,
  'AWS::AccountId': SYNTH_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

function singleResource(template: CfnTemplate, type: string): [string, CfnTemplateResource] {
  const found = Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
  if (found.length !== 1) throw new Error(`expected one ${type} in the template, found ${found.length}`);
  return found[0] as [string, CfnTemplateResource];
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
