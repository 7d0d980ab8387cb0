import { describe, expect, it } from 'vitest';
import { synthesizeApart } from '../../../../local/runner/synthesize-apart.js';
import { synthesizePipelineTemplate } from '../../../../local/template/synthesize.js';

describe('synthesizeApart', () => {
  it('gives the template an in-process synth gives, from a child process', async () => {
    expect(await synthesizeApart()).toEqual(synthesizePipelineTemplate());
  });

  it('synthesizes the template once per process and hands each caller its own copy', async () => {
    const [first, second] = await Promise.all([synthesizeApart(), synthesizeApart()]);
    expect(first).toEqual(second);
    expect(first).not.toBe(second);
  });
});
