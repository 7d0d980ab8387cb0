import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import pLimit from 'p-limit';
import {
  type AdmissionGate,
  type AdmissionQueue,
  type AdmissionTicket,
  type QueuedTicket,
  ticketOrderKey,
} from './admission-queue.js';
import { ADMISSION_TABLE_KEY, ADMISSION_TTL_ATTRIBUTE } from './admission-table-layout.js';

const QUEUE = { S: 'queue' };
const GATE_KEY = {
  [ADMISSION_TABLE_KEY.partition]: { S: 'gate' },
  [ADMISSION_TABLE_KEY.sort]: { S: 'gate' },
};
/** Puts at once while enqueueing a run's chunks: DynamoDB on demand takes far more; the Lambda's sockets are the bound. */
const ENQUEUE_CONCURRENCY = 8;

/**
 * The admission queue in one DynamoDB table (on-demand). Tickets are items of partition `queue`
 * whose sort key is {@link ticketOrderKey}, so a Query in key order reads the queue's head; the gate
 * is the one item of partition `gate`. Reads are strongly consistent: a head read just after a
 * remove must not see the removed ticket
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html).
 * One partition is enough: a Query of the head costs one read unit per 4 KB, and the queue holds
 * at most a few thousand waiting chunks.
 */
export class DynamoDbAdmissionQueue implements AdmissionQueue {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#table = tableName;
  }

  async enqueue(tickets: readonly AdmissionTicket[], seenAt: Date): Promise<void> {
    const limit = pLimit(ENQUEUE_CONCURRENCY);
    await Promise.all(
      tickets.map((ticket) =>
        limit(() =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.#table,
              Item: {
                [ADMISSION_TABLE_KEY.partition]: QUEUE,
                [ADMISSION_TABLE_KEY.sort]: { S: ticketOrderKey(ticket) },
                runId: { S: ticket.runId },
                uploadedAt: { S: ticket.uploadedAt },
                chunk: { N: String(ticket.chunk) },
                seenAt: { S: seenAt.toISOString() },
                [ADMISSION_TTL_ATTRIBUTE]: { N: String(Math.ceil(ticket.expiresAt.getTime() / 1000)) },
              },
            }),
          ),
        ),
      ),
    );
  }

  async head(limit: number): Promise<QueuedTicket[]> {
    const { Items = [] } = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: '#pk = :queue',
        ExpressionAttributeNames: { '#pk': ADMISSION_TABLE_KEY.partition },
        ExpressionAttributeValues: { ':queue': QUEUE },
        ScanIndexForward: true,
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return Items.map((item) => ({
      runId: item.runId?.S ?? '',
      uploadedAt: item.uploadedAt?.S ?? '',
      chunk: Number(item.chunk?.N),
      seenAt: new Date(item.seenAt?.S ?? 0),
      expiresAt: new Date(Number(item[ADMISSION_TTL_ATTRIBUTE]?.N ?? 0) * 1000),
    }));
  }

  async remove(ticket: Pick<AdmissionTicket, 'runId' | 'uploadedAt' | 'chunk'>): Promise<void> {
    await this.#client.send(
      new DeleteItemCommand({
        TableName: this.#table,
        Key: {
          [ADMISSION_TABLE_KEY.partition]: QUEUE,
          [ADMISSION_TABLE_KEY.sort]: { S: ticketOrderKey(ticket) },
        },
      }),
    );
  }

  async readGate(): Promise<AdmissionGate> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: GATE_KEY, ConsistentRead: true }),
    );
    const closedUntil = Item?.closedUntil?.S;
    const backoffSeconds = Item?.backoffSeconds?.N;
    return {
      ...(closedUntil ? { closedUntil: new Date(closedUntil) } : {}),
      ...(backoffSeconds ? { backoffSeconds: Number(backoffSeconds) } : {}),
    };
  }

  async closeGate(until: Date, backoffSeconds: number): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: GATE_KEY,
        UpdateExpression: 'SET closedUntil = :until, backoffSeconds = :backoff',
        ExpressionAttributeValues: {
          ':until': { S: until.toISOString() },
          ':backoff': { N: String(backoffSeconds) },
        },
      }),
    );
  }

  async openGate(): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: GATE_KEY,
        UpdateExpression: 'REMOVE closedUntil, backoffSeconds',
      }),
    );
  }
}
