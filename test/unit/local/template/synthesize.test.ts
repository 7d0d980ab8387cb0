import { describe, expect, it } from 'vitest';
import { inputRuleEventPattern } from '../../../../local/template/rule-event-pattern.js';
import { synthesizePipelineTemplate } from '../../../../local/template/synthesize.js';

const BUCKET = 'my-pipeline-bucket';

describe('synthesizePipelineTemplate', () => {
  it('synthesizes the deployable stack without bundling', () => {
    const template = synthesizePipelineTemplate();
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(7);
    for (const fn of functions) expect(fn.Properties?.Code).toHaveProperty('ZipFile');
    expect(Object.keys(template.Outputs ?? {})).toContain('UploadCommand');
  });

  it('applies the options it is given', () => {
    const template = synthesizePipelineTemplate({ inputPrefix: 'drop/', generateModel: 'gemini-2.5-pro' });
    expect(inputRuleEventPattern(template, { bucketName: BUCKET })).toMatchObject({
      detail: { object: { key: [{ wildcard: 'drop/*.jsonl' }] } },
    });
    const prepare = Object.entries(template.Resources).find(([id]) =>
      /^PipelinePrepareRequests[0-9A-F]{8}$/.test(id),
    );
    expect(prepare?.[1].Properties?.Environment).toMatchObject({
      Variables: { GENERATE_MODEL: 'gemini-2.5-pro' },
    });
  });
});
