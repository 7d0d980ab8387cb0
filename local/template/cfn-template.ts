/** A synthesized CloudFormation template, as far as offline code reads it. */

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

/** The template's one resource of `type`, with its logical id; throws unless there is exactly one. */
export function singleResource(template: CfnTemplate, type: string): [string, CfnTemplateResource] {
  const found = Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
  if (found.length !== 1) throw new Error(`expected one ${type} in the template, found ${found.length}`);
  return found[0] as [string, CfnTemplateResource];
}
