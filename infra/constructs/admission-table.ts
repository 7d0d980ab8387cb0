import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import {
  ADMISSION_TABLE_KEY,
  ADMISSION_TTL_ATTRIBUTE,
} from '../../lambdas/shared/admission/admission-table-layout.js';

/**
 * The DynamoDB table every run of the pipeline shares in front of Gemini's quota: the admission
 * queue of waiting chunks and its gate (`lambdas/shared/admission/`). On demand, since load comes
 * in bursts of uploads; no physical name; expired tickets deleted by DynamoDB's TTL; point-in-time
 * recovery on (cdk-nag AwsSolutions-DDB3). It holds only transient state, whose loss costs a run
 * its place in the queue and nothing else, so it is destroyed with the stack.
 */
export function admissionTable(scope: Construct): dynamodb.Table {
  return new dynamodb.Table(scope, 'AdmissionTable', {
    partitionKey: { name: ADMISSION_TABLE_KEY.partition, type: dynamodb.AttributeType.STRING },
    sortKey: { name: ADMISSION_TABLE_KEY.sort, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: ADMISSION_TTL_ATTRIBUTE,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
