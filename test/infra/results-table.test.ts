import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { resultKeys } from '../../lambdas/shared/run/bucket-layout.js';
import { flatten, logicalIdOf, type SynthesizedPipeline, synthPipeline } from './helpers.js';

type TableInput = {
  Name: string;
  Parameters: Record<string, unknown>;
  PartitionKeys?: { Name: string; Type: string }[];
  StorageDescriptor: {
    Columns: { Name: string; Type: string }[];
    Location: unknown;
    SerdeInfo: { SerializationLibrary: string; Parameters: Record<string, string> };
  };
};

function tableNamed(
  synth: SynthesizedPipeline,
  name: string,
): { DatabaseName: unknown; TableInput: TableInput } {
  const found = Object.values(synth.template.findResources('AWS::Glue::Table'))
    .map((resource) => resource.Properties as { DatabaseName: unknown; TableInput: TableInput })
    .filter((table) => table.TableInput.Name === name);
  expect(found, `tables named ${name}`).toHaveLength(1);
  return found[0] as { DatabaseName: unknown; TableInput: TableInput };
}

describe('GeminiBatchPipeline Glue tables with default props', () => {
  let synth: SynthesizedPipeline;
  let bucket: string;
  let databaseId: string;
  beforeAll(() => {
    synth = synthPipeline();
    bucket = `<${logicalIdOf(synth, synth.pipeline.bucket)}>`;
    synth.template.resourceCountIs('AWS::Glue::Database', 1);
    synth.template.resourceCountIs('AWS::Glue::Table', 2);
    databaseId = Object.keys(synth.template.findResources('AWS::Glue::Database'))[0] as string;
  });

  it('creates one database, removed with the stack (it holds metadata only)', () => {
    const [database] = Object.values(synth.template.findResources('AWS::Glue::Database'));
    expect(database?.DeletionPolicy).toBe('Delete');
  });

  it('projects the results table on input and run, both injected, into results/<input>/<run>/', () => {
    const table = tableNamed(synth, 'results');
    expect(table.DatabaseName).toEqual({ Ref: databaseId });
    expect(table.TableInput.PartitionKeys).toEqual([
      expect.objectContaining({ Name: 'input', Type: 'string' }),
      expect.objectContaining({ Name: 'run', Type: 'string' }),
    ]);
    const { Parameters } = table.TableInput;
    expect(Parameters['projection.enabled']).toBe('true');
    expect(Parameters['projection.input.type']).toBe('injected');
    expect(Parameters['projection.run.type']).toBe('injected');
    expect(flatten(Parameters['storage.location.template'])).toBe(
      `s3://${bucket}/results/\${input}/\${run}/`,
    );
    expect(flatten(table.TableInput.StorageDescriptor.Location)).toBe(`s3://${bucket}/results/`);
  });

  it("projects an input with slashes onto the folder the pipeline writes that input's run to", () => {
    const template = flatten(tableNamed(synth, 'results').TableInput.Parameters['storage.location.template']);
    const runId = '20260101T000000Z-0123456789abcdef';
    // What Athena does with `WHERE input = 'team/reviews' AND run = '<runId>'`.
    const location = template.replace(/\$\{input\}/, 'team/reviews').replace(/\$\{run\}/, runId);
    expect(location).toBe(`s3://${bucket}/${resultKeys('inputs/team/reviews.jsonl', runId).root}`);
  });

  it('reads the results lines with their key and the answer or error as JSON text', () => {
    const { StorageDescriptor } = tableNamed(synth, 'results').TableInput;
    expect(StorageDescriptor.Columns.map((c) => `${c.Name} ${c.Type}`)).toEqual([
      'key string',
      'response string',
      'error string',
      'custom_id string',
    ]);
  });

  it('reads the inputs under the input prefix, every file, with key and request as JSON text', () => {
    const table = tableNamed(synth, 'inputs');
    expect(table.DatabaseName).toEqual({ Ref: databaseId });
    expect(table.TableInput.PartitionKeys).toBeUndefined();
    expect(table.TableInput.Parameters['projection.enabled']).toBeUndefined();
    expect(flatten(table.TableInput.StorageDescriptor.Location)).toBe(`s3://${bucket}/inputs/`);
    expect(table.TableInput.StorageDescriptor.Columns.map((c) => `${c.Name} ${c.Type}`)).toEqual([
      'key string',
      'request string',
      'custom_id string',
      'body string',
    ]);
  });

  it.each(['results', 'inputs'])(
    'reads the %s table with the OpenX JSON SerDe, skipping lines that are not JSON (manifest.json)',
    (name) => {
      const { TableInput } = tableNamed(synth, name);
      expect(TableInput.StorageDescriptor.SerdeInfo).toEqual({
        SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
        Parameters: { 'ignore.malformed.json': 'true' },
      });
      // true would tell Athena the objects are client-side encrypted, which they never are.
      expect(TableInput.Parameters.has_encrypted_data).toBe(false);
    },
  );
});

describe('GeminiBatchPipeline Glue table props', () => {
  it('creates no database and no table when createGlueTables is false', () => {
    const synth = synthPipeline({ createGlueTables: false });
    synth.template.resourceCountIs('AWS::Glue::Database', 0);
    synth.template.resourceCountIs('AWS::Glue::Table', 0);
    expect(synth.pipeline.resultsTable).toBeUndefined();
    expect(synth.pipeline.inputsTable).toBeUndefined();
    expect(synth.pipeline.glueDatabase).toBeUndefined();
  });

  it('reads the inputs table under the given input prefix', () => {
    const synth = synthPipeline({ inputPrefix: 'uploads/batch/' });
    const bucket = `<${logicalIdOf(synth, synth.pipeline.bucket)}>`;
    expect(flatten(tableNamed(synth, 'inputs').TableInput.StorageDescriptor.Location)).toBe(
      `s3://${bucket}/uploads/batch/`,
    );
  });

  it('reads a given bucket', () => {
    let bucketId = '';
    const synth = synthPipeline((stack) => {
      const bucket = new s3.Bucket(stack, 'Given', { eventBridgeEnabled: true });
      bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
      return { bucket };
    });
    expect(flatten(tableNamed(synth, 'results').TableInput.Parameters['storage.location.template'])).toBe(
      `s3://<${bucketId}>/results/\${input}/\${run}/`,
    );
  });
});
