import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTableInput, FINDINGS_TABLE_DEFINITION } from '../../shared/store/table';

/** One table definition: serverless.yml's CloudFormation resource and the local table come from one file. */

it('serverless.yml takes the table properties from the one definition file', () => {
  const yml = readFileSync(path.join(__dirname, '..', '..', 'serverless.yml'), 'utf8');
  expect(yml).toMatch(
    /FindingsTable:\n\s+Type: AWS::DynamoDB::Table[\s\S]*Properties: \$\{file\(\.\/shared\/store\/findings-table\.json\)\}/,
  );
});

it('the local table is created from the same file, minus the CloudFormation-only settings', () => {
  const input = createTableInput('t1');
  expect(input).toMatchObject({
    TableName: 't1',
    BillingMode: FINDINGS_TABLE_DEFINITION.BillingMode,
    KeySchema: FINDINGS_TABLE_DEFINITION.KeySchema,
    GlobalSecondaryIndexes: FINDINGS_TABLE_DEFINITION.GlobalSecondaryIndexes,
    SSESpecification: FINDINGS_TABLE_DEFINITION.SSESpecification,
  });
  expect(input).not.toHaveProperty('TimeToLiveSpecification');
  expect(input).not.toHaveProperty('PointInTimeRecoverySpecification');
});

it('every key attribute used by an index is defined, and nothing else is', () => {
  const used = new Set([
    ...FINDINGS_TABLE_DEFINITION.KeySchema.map((k) => k.AttributeName),
    ...FINDINGS_TABLE_DEFINITION.GlobalSecondaryIndexes.flatMap((i) =>
      i.KeySchema.map((k) => k.AttributeName),
    ),
  ]);
  expect(new Set(FINDINGS_TABLE_DEFINITION.AttributeDefinitions.map((a) => a.AttributeName))).toEqual(used);
});
