/**
 * The deployable stack, synthesized in-process with `cdk.json`'s feature flags and a fixed account
 * and region: the template alone (no bundling), or the whole cloud assembly `cdk deploy` uploads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { type PipelineConfig, pipelineConfig } from '../../infra/config.js';
import { GeminiBatchPipelineStack } from '../../infra/gemini-batch-pipeline-stack.js';
import { DEFAULT_STACK_ID, REPO_ROOT } from '../../infra/names.js';
import type { CfnTemplate } from './cfn-template.js';
import { SYNTH_ACCOUNT, SYNTH_REGION } from './synth-target.js';

/** Options of {@link synthesizePipelineTemplate}: the deployable stack's config, any part of it. */
export type SynthesizeOptions = Partial<PipelineConfig>;

/** The context `cdk.json` gives the app (feature flags): in-process synths use the same. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * The deployable stack's template, synthesized in-process with `cdk.json`'s feature flags, a fixed
 * account and region, and bundling skipped (`aws:cdk:bundling-stacks: []`): no esbuild, no Docker,
 * and the handler files need not exist. Takes well under a few seconds.
 */
export function synthesizePipelineTemplate(options: SynthesizeOptions = {}): CfnTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'gemini-batch-pipeline-synth-'));
  try {
    return synthesize(outdir, options, { bundle: false });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The cloud assembly `cdk deploy` would upload, written to `outdir`: the template and every
 * function's bundle (`asset.<hash>/index.mjs`), built by the local esbuild exactly as `cdk synth`
 * builds them. Takes some seconds per function.
 */
export function synthesizeCloudAssembly(outdir: string, options: SynthesizeOptions = {}): CfnTemplate {
  return synthesize(outdir, options, { bundle: true });
}

function synthesize(
  outdir: string,
  options: SynthesizeOptions,
  { bundle }: { bundle: boolean },
): CfnTemplate {
  const app = new App({
    outdir,
    context: {
      ...cdkJsonContext(),
      // With bundling, the template names each function's bundle (`aws:asset:path`), as under the CLI.
      ...(bundle ? { 'aws:cdk:enable-asset-metadata': true } : { 'aws:cdk:bundling-stacks': [] }),
    },
    analyticsReporting: false,
  });
  const stack = new GeminiBatchPipelineStack(app, DEFAULT_STACK_ID, {
    env: { account: SYNTH_ACCOUNT, region: SYNTH_REGION },
    config: pipelineConfig(options),
  });
  // Read while the assembly directory still exists: the artifact loads its template lazily.
  return app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
}
