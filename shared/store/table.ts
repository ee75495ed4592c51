import {
  CreateTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { errorName } from '../aws/faults';
import definition from './findings-table.json';

/**
 * The findings table, defined once in findings-table.json: serverless.yml uses that file as the
 * CloudFormation `AWS::DynamoDB::Table` Properties, and the local table of the demo and the tests is
 * created from the same file here. CloudFormation-only settings (TTL, point-in-time recovery) are not
 * part of CreateTable; the deployed table gets them from the template.
 */
export const FINDINGS_TABLE_DEFINITION = definition;

export const DEFAULT_TABLE_NAME = 'ssm-audit-findings';

export function createTableInput(tableName: string): CreateTableCommandInput {
  const { TimeToLiveSpecification: _ttl, PointInTimeRecoverySpecification: _pitr, ...create } = definition;
  return { ...(create as Omit<CreateTableCommandInput, 'TableName'>), TableName: tableName };
}

/** Creates the table unless it exists, and waits until it is ACTIVE (the local table of demo and tests). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (err) {
    if (errorName(err) !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
