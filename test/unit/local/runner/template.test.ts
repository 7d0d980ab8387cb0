import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTION_FOLDER_METADATA } from '../../../../infra/names.js';
import { functionCode, runnerTemplate } from '../../../../local/runner/template.js';
import type { CfnTemplate } from '../../../../local/template/cfn-template.js';
import { synthesizePipelineTemplate } from '../../../../local/template/synthesize.js';
import type { TemplateFunction } from '../../../../local/template/template-functions.js';

const PREPARE: TemplateFunction = {
  folder: 'prepare-requests',
  logicalId: 'PipelinePrepareRequests0123ABCD',
  environment: {},
  deployTimeVariables: [],
  timeoutSeconds: 900,
  memorySizeMb: 1024,
  handler: 'index.handler',
};

/** The template with the function in `folder` no longer marked as a pipeline function. */
function withoutFunction(template: CfnTemplate, folder: string): CfnTemplate {
  const resources = Object.entries(template.Resources).map(([id, resource]) =>
    resource.Metadata?.[FUNCTION_FOLDER_METADATA] === folder
      ? [id, { ...resource, Metadata: {} }]
      : [id, resource],
  );
  return { ...template, Resources: Object.fromEntries(resources) };
}

describe('runnerTemplate', () => {
  const template = synthesizePipelineTemplate({ inputPrefix: 'drop/' });

  it('maps every Task state to a function whose source exists under lambdas/', () => {
    const { taskStates } = runnerTemplate(template);

    expect(taskStates.map(({ state }) => state)).toContain('Prepare Requests');
    for (const { folder } of taskStates) {
      expect(existsSync(functionCode({ ...PREPARE, folder }, undefined).file)).toBe(true);
    }
  });

  it("reads the input prefix from start-run's configuration", () => {
    expect(runnerTemplate(template).inputPrefix).toBe('drop/');
  });

  it('refuses a template that lacks a function the state machine invokes', () => {
    expect(() => runnerTemplate(withoutFunction(template, 'collect-results'))).toThrow(
      'the state machine invokes collect-results, but the template has no such function',
    );
  });

  it('refuses a template that lacks start-run', () => {
    expect(() => runnerTemplate(withoutFunction(template, 'start-run'))).toThrow(
      'the rules start start-run, but the template has no such function',
    );
  });
});

describe('functionCode', () => {
  it('runs the source handler when there is no cloud assembly', () => {
    expect(functionCode(PREPARE, undefined)).toEqual({
      file: expect.stringMatching(/\/lambdas\/prepare-requests\/handler\.ts$/),
      exportName: 'handler',
    });
  });

  it("runs the bundle the template names, with the template's handler", () => {
    const bundled = { ...PREPARE, handler: 'main.run', assetPath: 'asset.abc123' };

    expect(functionCode(bundled, '/tmp/cdk.out')).toEqual({
      file: '/tmp/cdk.out/asset.abc123/main.mjs',
      exportName: 'run',
    });
  });

  it('refuses a function the cloud assembly has no bundle for', () => {
    expect(() => functionCode(PREPARE, '/tmp/cdk.out')).toThrow(
      'the cloud assembly has no bundle for function prepare-requests',
    );
  });
});
