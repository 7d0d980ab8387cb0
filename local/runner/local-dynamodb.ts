/**
 * The offline stand-in for DynamoDB: dynalite, an in-memory server that speaks DynamoDB's JSON
 * protocol, so the functions' own SDK client and the construct's key schema are what runs.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { ADMISSION_TABLE_KEY } from '../../lambdas/shared/admission/admission-table-layout.js';
import { LOCAL_ADMISSION_TABLE, LOCAL_CREDENTIALS, LOCAL_REGION } from './local-aws.js';
import { listenOnLoopback } from './loopback-server.js';

/** A running local DynamoDB with the admission table in it. */
export interface LocalDynamoDb {
  /** What the functions get as `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  readonly tableName: string;
  stop(): Promise<void>;
}

/** Starts dynalite on loopback (any free port) and creates the admission table as the stack does. */
export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0 });
  const listening = await listenOnLoopback(server);
  const endpoint = listening.url;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: LOCAL_ADMISSION_TABLE,
        KeySchema: [
          { AttributeName: ADMISSION_TABLE_KEY.partition, KeyType: 'HASH' },
          { AttributeName: ADMISSION_TABLE_KEY.sort, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: ADMISSION_TABLE_KEY.partition, AttributeType: 'S' },
          { AttributeName: ADMISSION_TABLE_KEY.sort, AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // The SDK's waiter polls every 20 s at least; dynalite makes the table ACTIVE on its next tick.
    for (let tries = 0; ; tries++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: LOCAL_ADMISSION_TABLE }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (tries > 100) throw new Error(`the local admission table stayed ${Table?.TableStatus}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    tableName: LOCAL_ADMISSION_TABLE,
    stop: () => listening.stop(),
  };
}
