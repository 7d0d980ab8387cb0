import { beforeAll, describe, expect, it } from 'vitest';
import type { PipelineFunctionName } from '../../infra/constructs/gemini-batch-pipeline.js';
import {
  actionsOf,
  environmentOf,
  flatten,
  logicalIdOf,
  resourcesOf,
  type SynthesizedPipeline,
  statementsOfFunction,
  synthPipeline,
} from './helpers.js';

/** The functions that create jobs, so stand in the admission queue, and the functions that do not. */
const ADMITTING: readonly PipelineFunctionName[] = ['submit-batch-jobs', 'poll-batch-jobs'];
const OTHERS: readonly PipelineFunctionName[] = [
  'start-run',
  'prepare-requests',
  'stop-batch-jobs',
  'collect-results',
  'finalize-run',
];

let synth: SynthesizedPipeline;
let tableId: string;
beforeAll(() => {
  synth = synthPipeline();
  tableId = logicalIdOf(synth, synth.pipeline.admissionTable);
});

const dynamoStatements = (name: PipelineFunctionName) =>
  statementsOfFunction(synth, name).filter((statement) =>
    actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
  );

describe('the admission table', () => {
  it('is one on-demand table keyed by pk and sk, without a physical name', () => {
    synth.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const table = synth.json.Resources[tableId];
    expect(table?.Type).toBe('AWS::DynamoDB::Table');
    const props = table?.Properties as Record<string, unknown>;
    expect(props.TableName).toBeUndefined();
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(props.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
  });

  it('lets DynamoDB delete expired tickets (TTL on expiresAt) and keeps point-in-time recovery', () => {
    const props = synth.json.Resources[tableId]?.Properties as Record<string, unknown>;
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('is deleted with the stack: it holds only tickets and the gate', () => {
    expect(synth.json.Resources[tableId]?.DeletionPolicy).toBe('Delete');
  });

  it.each(ADMITTING)('is named to %s, which queues chunks, by reference', (name) => {
    const fnId = logicalIdOf(synth, synth.pipeline.functions[name]);
    expect(environmentOf(synth.json, fnId).ADMISSION_TABLE_NAME).toEqual({ Ref: tableId });
  });
});

describe('the admission table grants', () => {
  it.each(ADMITTING)('give %s exactly the five item actions its queue calls, on the table only', (name) => {
    expect(
      dynamoStatements(name).map((statement) => ({
        actions: actionsOf(statement).sort(),
        resources: resourcesOf(statement).map(flatten),
      })),
    ).toEqual([
      {
        actions: [
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        resources: [`<${tableId}.Arn>`],
      },
    ]);
  });

  it.each(OTHERS)('give %s no DynamoDB action', (name) => {
    expect(dynamoStatements(name)).toEqual([]);
  });
});
