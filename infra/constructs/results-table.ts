import { RemovalPolicy } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RESULTS_PREFIX } from '../../lambdas/shared/run/bucket-layout.js';

/** Where the tables read. */
export interface ResultsTablesProps {
  readonly bucket: s3.IBucket;
  readonly inputPrefix: string;
}

/** The partition columns of the results table, in the order of the path `results/<input>/<run>/`. */
export const RESULTS_PARTITIONS = { input: 'input', run: 'run' } as const;

/**
 * The SerDe both tables read with, and why:
 * - OpenX's JSON SerDe (`glue.DataFormat.JSON`) returns a nested object read into a `string`
 *   column as its JSON text (its `JavaStringJsonObjectInspector` calls `toString()`,
 *   github.com/rcongiu/Hive-JSON-Serde), so `response`, `error` and `request` keep every shape
 *   Gemini and the input formats use, for `json_extract` to read;
 * - `ignore.malformed.json`: a run's folder also holds `manifest.json`, pretty-printed over many
 *   lines, which would otherwise fail every query on that partition (Athena's OpenX SerDe page);
 *   queries keep `results.jsonl` rows with `"$path"`, as the README's show.
 */
const SERDE_PARAMETERS = { 'ignore.malformed.json': 'true' };

/**
 * A Glue database with the `results` and `inputs` tables, so results can be queried in Athena
 * with no crawler and no partition to add (made as one construct, id `GlueTables`).
 *
 * The results table is partitioned by `input` (the input's path inside the input prefix, without
 * `.jsonl`: it may hold slashes) and `run`, both of Athena's `injected` projection type: neither
 * can be enumerated, and a query names the values it reads (`WHERE input = 'team/reviews' AND run
 * = '…'`), from which Athena builds the location from `storage.location.template` with no
 * metadata lookup. A value with slashes lands in the template as it is, as `yyyy/MM/dd` dates do in
 * Athena's own examples (docs.aws.amazon.com/athena/latest/ug/partition-projection-dynamic-id-partitioning.html,
 * …/partition-projection-kinesis-firehose-example-choosing-partition-keys.html).
 */
export class ResultsTables extends Construct {
  public readonly database: glue.Database;

  /** `results/<input>/<run>/`: one row per line of every file in the run's folder. */
  public readonly resultsTable: glue.S3Table;

  /** The input prefix, every file under it: one row per request line. */
  public readonly inputsTable: glue.S3Table;

  constructor(scope: Construct, id: string, props: ResultsTablesProps) {
    super(scope, id);
    const { bucket, inputPrefix } = props;
    this.database = new glue.Database(this, 'Database', {
      description: 'gemini-batch-pipeline: results and inputs, for Athena',
      // Metadata only: the data stays in the bucket, which is retained on its own.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const json = { type: glue.Schema.STRING };

    // Fixed table names inside a database whose name is generated (unique per stack): what a query
    // names, and what the README shows.
    this.resultsTable = new glue.S3Table(this, 'Results', {
      database: this.database,
      tableName: 'results',
      description: `gemini-batch-pipeline results: s3://<bucket>/${RESULTS_PREFIX}<input>/<run>/results.jsonl`,
      storage: glue.S3TableStorage.fromBucket(bucket),
      s3Prefix: RESULTS_PREFIX,
      dataFormat: glue.DataFormat.JSON,
      columns: [
        { name: 'key', ...json, comment: 'the input line key (custom_id for OpenAI-format lines)' },
        { name: 'response', ...json, comment: "Gemini's answer as JSON text, when it answered" },
        { name: 'error', ...json, comment: 'the error as JSON text ({code, message} or {status, message})' },
        { name: 'custom_id', ...json, comment: 'OpenAI-format lines: the key' },
      ],
      partitionKeys: [
        {
          name: RESULTS_PARTITIONS.input,
          ...json,
          comment: 'the input path inside the input prefix, without .jsonl',
        },
        { name: RESULTS_PARTITIONS.run, ...json, comment: 'the run id (the execution name)' },
      ],
      partitionProjection: {
        [RESULTS_PARTITIONS.input]: glue.PartitionProjectionConfiguration.injected(),
        [RESULTS_PARTITIONS.run]: glue.PartitionProjectionConfiguration.injected(),
      },
      parameters: {
        // A plain join, not Fn::Sub: CloudFormation leaves `${input}` for Athena to fill in.
        'storage.location.template': `s3://${bucket.bucketName}/${RESULTS_PREFIX}\${${RESULTS_PARTITIONS.input}}/\${${RESULTS_PARTITIONS.run}}/`,
      },
      // S3-managed (or KMS) encryption is at rest, read transparently: `has_encrypted_data` means
      // client-side encryption to Athena, which the pipeline never uses.
      hasEncryptedData: false,
    });

    // Athena reads every object under a table's location, subfolders included
    // (docs.aws.amazon.com/athena/latest/ug/tables-location-format.html): one table over the whole
    // input prefix, narrowed to one file by `"$path"`. Input files are not in folders of their own,
    // so no partition location could name just one.
    this.inputsTable = new glue.S3Table(this, 'Inputs', {
      database: this.database,
      tableName: 'inputs',
      description: `gemini-batch-pipeline inputs: s3://<bucket>/${inputPrefix}**.jsonl`,
      storage: glue.S3TableStorage.fromBucket(bucket),
      s3Prefix: inputPrefix,
      dataFormat: glue.DataFormat.JSON,
      columns: [
        { name: 'key', ...json, comment: 'the line key' },
        { name: 'request', ...json, comment: 'the Gemini request as JSON text' },
        { name: 'custom_id', ...json, comment: 'OpenAI-format lines: the key' },
        { name: 'body', ...json, comment: 'OpenAI-format lines: the request body as JSON text' },
      ],
      hasEncryptedData: false,
    });
    for (const table of [this.resultsTable, this.inputsTable]) {
      (table.node.defaultChild as glue.CfnTable).addPropertyOverride(
        'TableInput.StorageDescriptor.SerdeInfo.Parameters',
        SERDE_PARAMETERS,
      );
    }
  }
}
