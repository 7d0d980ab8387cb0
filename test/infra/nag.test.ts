import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, type IApplyRule, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineConfig } from '../../infra/config.js';
import { GeminiBatchPipeline } from '../../infra/constructs/gemini-batch-pipeline.js';
import { GeminiBatchPipelineStack } from '../../infra/gemini-batch-pipeline-stack.js';
import { SYNTH_ACCOUNT, SYNTH_REGION } from '../../local/template/synth-target.js';
import { cdkJsonContext } from '../../local/template/synthesize.js';

/** AwsSolutions with acknowledgements ignored: records every finding the rules raise. */
class RawAwsSolutionsFindings extends AwsSolutionsChecks {
  public readonly findings: { path: string; id: string }[] = [];

  protected override applyRule(params: IApplyRule): void {
    const ruleId = `${this.readPackName}-${params.ruleSuffixOverride ?? params.rule.name}`;
    const path = params.node.node.path;
    let result: unknown;
    try {
      result = params.rule(params.node);
    } catch {
      this.findings.push({ path, id: ruleId });
      return;
    }
    if (result === NagRuleCompliance.NON_COMPLIANT) this.findings.push({ path, id: ruleId });
    if (Array.isArray(result))
      for (const finding of result) this.findings.push({ path, id: `${ruleId}[${finding}]` });
  }
}

/** Every acknowledgement in the tree: where it was made, and the rule id. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^[^:]+::/, ''),
          reason,
        })),
      ),
  );
}

const isUnder = (path: string, ancestor: string) => path === ancestor || path.startsWith(`${ancestor}/`);

describe('cdk-nag AwsSolutions on a pipeline with its own bucket, secret and bus', () => {
  it('reports nothing unacknowledged', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'gemini-batch-pipeline-nag-'));
    try {
      const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Existing', { env: { account: SYNTH_ACCOUNT, region: SYNTH_REGION } });
      new GeminiBatchPipeline(stack, 'Pipeline', {
        bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'my-existing-bucket'),
        apiKeySecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'team/gemini-key'),
        eventBus: events.EventBus.fromEventBusName(stack, 'Bus', 'runs'),
        inputPrefix: 'uploads/',
      });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).not.toThrow();
      const raw = new RawAwsSolutionsFindings(app);
      raw.validateScope(app);
      const acks = acknowledgements(app);
      expect(
        raw.findings.filter((f) => !acks.some((ack) => ack.id === f.id && isUnder(f.path, ack.path))),
      ).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('cdk-nag AwsSolutions on the deployable stack', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'gemini-batch-pipeline-nag-'));
  let app: App;

  beforeAll(() => {
    app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    new GeminiBatchPipelineStack(app, 'GeminiBatchPipeline', {
      env: { account: SYNTH_ACCOUNT, region: SYNTH_REGION },
      config: pipelineConfig(),
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // A validation failure throws here, failing every test below with cdk-nag's findings.
    app.synth();
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('reports no unacknowledged error or warning', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
    };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  describe('acknowledgements', () => {
    let findings: { path: string; id: string }[];
    let acks: { path: string; id: string; reason: string }[];
    beforeAll(() => {
      const raw = new RawAwsSolutionsFindings(app);
      raw.validateScope(app);
      findings = raw.findings;
      acks = acknowledgements(app);
    });

    it('acknowledge every finding the rules raise', () => {
      const unacknowledged = findings.filter(
        (finding) => !acks.some((ack) => ack.id === finding.id && isUnder(finding.path, ack.path)),
      );
      expect(unacknowledged).toEqual([]);
    });

    it('each match a finding: none is stale', () => {
      const stale = acks.filter(
        (ack) => !findings.some((finding) => finding.id === ack.id && isUnder(finding.path, ack.path)),
      );
      expect(stale).toEqual([]);
    });

    it('each give a reason', () => {
      for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(30);
    });

    it('cover only these rules', () => {
      expect([...new Set(findings.map((finding) => finding.id.replace(/\[.*$/, '')))].sort()).toEqual([
        'AwsSolutions-IAM5',
        'AwsSolutions-SF1',
        'AwsSolutions-SMG4',
        'AwsSolutions-SQS3',
      ]);
    });

    it("acknowledge '*' resources only for the functions' X-Ray and the state machine's logs and X-Ray", () => {
      const star = findings
        .filter((finding) => finding.id === 'AwsSolutions-IAM5[Resource::*]')
        .map((finding) => finding.path)
        .sort();
      expect(star).toEqual(
        [
          'CollectResults',
          'FinalizeRun',
          'PollBatchJobs',
          'PrepareRequests',
          'StartRun',
          'StopBatchJobs',
          'SubmitBatchJobs',
        ]
          .map((fn) => `GeminiBatchPipeline/Pipeline/${fn}/ServiceRole/DefaultPolicy/Resource`)
          .concat('GeminiBatchPipeline/Pipeline/Workflow/Resource/Role/DefaultPolicy/Resource')
          .sort(),
      );
    });

    it('acknowledge wildcard S3 resources only on the pipeline prefixes', () => {
      const s3Resources = findings
        .filter((finding) => finding.id.startsWith('AwsSolutions-IAM5[Resource::<PipelineBucket'))
        .map((finding) => finding.id.replace(/^.*Arn>/, '').replace(/\]$/, ''));
      expect([...new Set(s3Resources)].sort()).toEqual(['/inputs/*', '/results/*', '/work/*']);
    });
  });
});
