/**
 * What offline code reads from the deployable stack, in one import: its synthesized template
 * (`synthesize.ts`), the state machine definition in it (`state-machine-definition.ts`), its
 * functions (`template-functions.ts`) and its rules' event patterns (`rule-event-pattern.ts`,
 * matched by `event-pattern.ts`). The local runner runs exactly what would be deployed, and the
 * infra tests, the bundle test and the benchmarks check and use these same readers.
 */
export type { CfnTemplate, CfnTemplateResource } from './cfn-template.js';
export { type EventPattern, matchesEventPattern } from './event-pattern.js';
export {
  executionRuleEventPattern,
  inputRuleEventPattern,
  type PatternReferences,
} from './rule-event-pattern.js';
export {
  type AslCatcher,
  type AslDefinition,
  type AslRetrier,
  type AslState,
  type DefinitionOptions,
  functionArnPlaceholder,
  kebabCase,
  stateMachineDefinition,
} from './state-machine-definition.js';
export {
  cdkJsonContext,
  cloudAssemblyTemplateFile,
  SYNTH_ACCOUNT,
  SYNTH_REGION,
  type SynthesizeOptions,
  synthesizeCloudAssembly,
  synthesizePipelineTemplate,
} from './synthesize.js';
export { type TemplateFunction, templateFunctions } from './template-functions.js';
