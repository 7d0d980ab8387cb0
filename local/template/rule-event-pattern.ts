/**
 * The event patterns of the template's two rules, with their references replaced by this machine's
 * names, ready for `matchesEventPattern`: the trigger on S3 uploads, and the rule on the state
 * machine's own executions that starts a salvage run.
 */
import type { CfnTemplate, CfnTemplateResource } from './cfn-template.js';
import type { EventPattern } from './event-pattern.js';
import { asArray, isRecord } from './json-value.js';

/** What a rule's event pattern refers to, as this machine names it. */
export interface PatternReferences {
  /** The name the pipeline's bucket has here. */
  readonly bucketName: string;
  /** The ARN the state machine has here (needed for the rule on its executions). */
  readonly stateMachineArn?: string;
}

/**
 * The trigger rule's event pattern (the rule on S3 events), with the bucket's `Ref` replaced by
 * `bucketName`, ready for `matchesEventPattern`.
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
