/**
 * The template's state machine definition, parsed, with each Task's function ARN replaced by a
 * placeholder named after the function: what offline code runs and what the workflow tests read.
 */
import { type CfnTemplate, singleResource } from './cfn-template.js';
import { isRecord } from './json-value.js';
import { SYNTH_ACCOUNT, SYNTH_REGION } from './synth-target.js';

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

const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': SYNTH_REGION,
  'AWS::AccountId': SYNTH_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};
