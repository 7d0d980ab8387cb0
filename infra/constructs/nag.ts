import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledgements of cdk-nag findings, one finding per call, each with its reason.
 *
 * cdk-nag 3 reads acknowledgements from construct metadata (`Validations.of(x).acknowledge`), so
 * the construct records them without depending on cdk-nag: an app that does not run cdk-nag pays
 * nothing. An acknowledgement covers the construct it is made on and everything below it.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges `AwsSolutions-IAM5` findings, one per wildcard action or resource. Resources are
 * tokens (a bucket ARN plus a key pattern, a function ARN plus `:*`) rendered the way cdk-nag
 * names them in a finding (`Resource::<BucketF68F3FF0.Arn>/work/*`), so the acknowledgement matches
 * exactly that finding and no other.
 */
export function acknowledgeWildcards(
  scope: IConstruct,
  wildcards: { readonly actions?: readonly string[]; readonly resources?: readonly string[] },
  reason: string,
): void {
  for (const action of wildcards.actions ?? []) {
    acknowledge(scope, `AwsSolutions-IAM5[Action::${action}]`, reason);
  }
  for (const resource of wildcards.resources ?? []) {
    acknowledge(scope, `AwsSolutions-IAM5[Resource::${nagResourceName(scope, resource)}]`, reason);
  }
}

/**
 * A resource as cdk-nag prints it in a finding id: the resolved CloudFormation expression flattened,
 * `Fn::GetAtt` as `<LogicalId.Attr>`, `Ref` as `<LogicalId>`, joins concatenated.
 */
export function nagResourceName(scope: IConstruct, resource: string): string {
  return flatten(Stack.of(scope).resolve(resource));
}

function flatten(node: unknown): string {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, parts] = join as [string, unknown[]];
      return parts.map(flatten).join(delimiter);
    }
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flatten(getAtt[0])}.${flatten(getAtt[1])}>`;
    if ('Ref' in record) return `<${flatten(record.Ref)}>`;
  }
  return JSON.stringify(node);
}
