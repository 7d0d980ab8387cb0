import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll } from 'vitest';
import {
  GeminiBatchPipeline,
  type GeminiBatchPipelineProps,
  type PipelineFunctionName,
} from '../../infra/constructs/gemini-batch-pipeline.js';
import type { CfnTemplate } from '../../local/template/cfn-template.js';
import { SYNTH_ACCOUNT, SYNTH_REGION } from '../../local/template/synth-target.js';
import { cdkJsonContext } from '../../local/template/synthesize.js';

/**
 * Where this test process's apps write their cloud assemblies. Without an outdir CDK makes a new
 * temporary directory per synth and never removes it: hundreds per test run.
 */
const assemblies = mkdtempSync(join(tmpdir(), 'gemini-batch-infra-tests-'));
// Registered for every test file that imports this module (each file has its own copy of it).
afterAll(() => rmSync(assemblies, { recursive: true, force: true }));

/** A stack in an app with cdk.json's feature flags and bundling skipped, as every infra test uses. */
export function testStack(options: { bundling?: boolean } = {}): Stack {
  const context: Record<string, unknown> = { ...cdkJsonContext() };
  if (!options.bundling) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, outdir: mkdtempSync(join(assemblies, 'app-')) });
  return new Stack(app, 'Test', { env: { account: SYNTH_ACCOUNT, region: SYNTH_REGION } });
}

/** A synthesized pipeline and handles on it. */
export interface SynthesizedPipeline {
  readonly stack: Stack;
  readonly pipeline: GeminiBatchPipeline;
  readonly template: Template;
  readonly json: CfnTemplate;
  /** The logical id of a pipeline function. */
  logicalId(name: PipelineFunctionName): string;
}

/** Synthesizes a `GeminiBatchPipeline` with `props`, which may build on the stack (`stack => props`). */
export function synthPipeline(
  props: GeminiBatchPipelineProps | ((stack: Stack) => GeminiBatchPipelineProps) = {},
): SynthesizedPipeline {
  const stack = testStack();
  const pipeline = new GeminiBatchPipeline(
    stack,
    'Pipeline',
    typeof props === 'function' ? props(stack) : props,
  );
  const template = Template.fromStack(stack);
  return {
    stack,
    pipeline,
    template,
    json: template.toJSON() as CfnTemplate,
    logicalId: (name) => stack.getLogicalId(pipeline.functions[name].node.defaultChild as CfnElement),
  };
}

/** A policy statement, as synthesized. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** A resource's properties; throws when the template has no such resource. */
export function propertiesOf(json: CfnTemplate, logicalId: string): Readonly<Record<string, unknown>> {
  const resource = json.Resources[logicalId];
  if (!resource) throw new Error(`no resource '${logicalId}' in the template`);
  return resource.Properties ?? {};
}

/** Every statement of the IAM policies attached to the role with this logical id. */
export function statementsOfRole(json: CfnTemplate, roleLogicalId: string): Statement[] {
  const policies = Object.values(json.Resources).flatMap((resource) =>
    resource.Type === 'AWS::IAM::Policy' && resource.Properties ? [resource.Properties] : [],
  );
  return policies
    .filter((policy) => (policy.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => (policy.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The logical id of the role an ARN-valued property (`Role`, `RoleArn`) points at. */
export function roleOf(json: CfnTemplate, logicalId: string, property: 'Role' | 'RoleArn'): string {
  return (propertiesOf(json, logicalId)[property] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** Every statement of a pipeline function's execution role. */
export function statementsOfFunction(synth: SynthesizedPipeline, name: PipelineFunctionName): Statement[] {
  return statementsOfRole(synth.json, roleOf(synth.json, synth.logicalId(name), 'Role'));
}

/** A statement's actions, always as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** A statement's resources, always as an array. */
export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** A CloudFormation expression as one string: `Fn::GetAtt` as `<Id.Attr>`, `Ref` as `<Id>`, joins joined. */
export function flatten(node: unknown): string {
  if (typeof node === 'string') return node;
  const record = node as Record<string, unknown>;
  const join = record['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(flatten).join(join[0]);
  const getAtt = record['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
  if (typeof record.Ref === 'string') return `<${record.Ref}>`;
  return JSON.stringify(node);
}

/**
 * Every S3 permission in `statements`, one `<action> <resource>` per pair, sorted, with the
 * bucket's ARN (as synthesized) written `bucket`: `s3:GetObject bucket/inputs/*`, `s3:ListBucket bucket`.
 */
export function s3Permissions(statements: Statement[], bucketArn: unknown): string[] {
  const bucket = flatten(bucketArn);
  return statements
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap((statement) =>
      actionsOf(statement)
        .filter((action) => action.startsWith('s3:'))
        .flatMap((action) =>
          resourcesOf(statement)
            .map(flatten)
            .map(
              (resource) =>
                `${action} ${resource.startsWith(bucket) ? `bucket${resource.slice(bucket.length)}` : resource}`,
            ),
        ),
    )
    .sort();
}

/** The logical id of a construct's primary resource. */
export function logicalIdOf(
  synth: SynthesizedPipeline,
  construct: { node: { defaultChild?: unknown } },
): string {
  return synth.stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Every policy statement anywhere in the template (identity and resource policies), with its resource. */
export function allStatements(json: CfnTemplate): { owner: string; statement: Statement }[] {
  const found: { owner: string; statement: Statement }[] = [];
  const visit = (owner: string, node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(owner, item);
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (Array.isArray(record.Statement)) {
        for (const statement of record.Statement as Statement[]) found.push({ owner, statement });
      } else {
        for (const value of Object.values(record)) visit(owner, value);
      }
    }
  };
  for (const [id, resource] of Object.entries(json.Resources)) visit(id, resource.Properties);
  return found;
}

/** A Lambda function's environment variables, by logical id. */
export function environmentOf(json: CfnTemplate, logicalId: string): Record<string, unknown> {
  const env = json.Resources[logicalId]?.Properties?.Environment as
    | { Variables: Record<string, unknown> }
    | undefined;
  return env?.Variables ?? {};
}
