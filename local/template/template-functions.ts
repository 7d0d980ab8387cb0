/** The pipeline's functions as a synthesized template declares them: what running one offline needs. */
import { FUNCTION_FOLDER_METADATA } from '../../infra/names.js';
import type { CfnTemplate } from './cfn-template.js';

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
      assetPath: typeof assetPath === 'string' ? assetPath : undefined,
    });
  }
  return functions;
}
