import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../../../local/template/cfn-template.js';
import { kebabCase, stateMachineDefinition } from '../../../../local/template/state-machine-definition.js';

describe('stateMachineDefinition', () => {
  it('rejects tokens it cannot stand in for', () => {
    const template: CfnTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString: { 'Fn::Join': ['', ['{"StartAt":"', { Ref: 'SomeParameter' }, '"}']] },
          },
        },
      },
    };
    expect(() => stateMachineDefinition(template)).toThrow(
      'unsupported token in the state machine definition: {"Ref":"SomeParameter"}',
    );
  });
});

describe('kebabCase', () => {
  it.each([
    ['Prepare Requests', 'prepare-requests'],
    ['Submit Batch Jobs', 'submit-batch-jobs'],
    ['All Jobs Done?', 'all-jobs-done'],
  ])('turns %s into %s', (name, kebab) => {
    expect(kebabCase(name)).toBe(kebab);
  });
});
