import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as scheduled } from '../../functions/scheduled-audit';
import { resetRuntime } from '../../functions/lib/runtime';
import { FindingsStore } from '../../shared/store/findings-store';
import { SuppressionStore } from '../../shared/store/suppressions';
import { ensureTable } from '../../shared/store/table';
import { buildCollectionFleet } from '../support/collection-fleet';
import { fakeAwsFromSnapshot, type FakeAws } from '../support/fake-aws';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';

/**
 * The deployed scheduled audit reads the table's suppression entries once per audit (audit-target):
 * entries in force suppress, findings are stored with their entry, and nothing alerts for them.
 */

const EVENTS = path.join(__dirname, '..', 'fixtures', 'events');
const scheduledEvent = JSON.parse(readFileSync(path.join(EVENTS, 'scheduled-event.json'), 'utf8')) as unknown;
const context = {
  functionName: 'ssm-readiness-auditor-test-scheduledAudit',
  invokedFunctionArn:
    'arn:aws:lambda:eu-west-1:123456789012:function:ssm-readiness-auditor-test-scheduledAudit',
  awsRequestId: 'req-1',
} as unknown as Context;
const AUDIT_TIME = new Date('2026-11-23T09:00:00Z');
const sns = mockClient(SNSClient);
let local: LocalDynamo;
let fake: FakeAws;
let tables = 0;
let table: string;
const saved = { ...process.env };

beforeAll(async () => {
  local = await startLocalDynamo('suppress-lambda-default');
});
afterAll(async () => {
  sns.restore();
  await local.stop();
});
beforeEach(async () => {
  table = `suppress-lambda-${++tables}`;
  await ensureTable(local.client, table);
  Object.assign(process.env, {
    FINDINGS_TABLE: table,
    ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ssm-readiness-alerts',
    AWS_REGION: 'eu-west-1',
    AUDIT_REGIONS: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  resetRuntime({ clock: () => AUDIT_TIME });
  sns.reset();
  sns
    .on(PublishBatchCommand)
    .callsFake((input: { PublishBatchRequestEntries: PublishBatchRequestEntry[] }) => ({
      Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
      Failed: [],
    }));
  fake = fakeAwsFromSnapshot(buildCollectionFleet({ instances: 20 }).snapshot);
});
afterEach(() => {
  fake.restore();
  process.env = { ...saved };
  resetRuntime();
});

const kinds = () =>
  sns
    .commandCalls(PublishBatchCommand)
    .flatMap((c) => c.args[0].input.PublishBatchRequestEntries ?? [])
    .map((e) => e.MessageAttributes?.kind?.StringValue);

describe('scheduled audit with suppressions in the table', () => {
  it('an entry for the whole account suppresses every finding: stored with it, no failure alert, counted apart', async () => {
    const entries = new SuppressionStore(local.doc, table);
    await entries.add(
      {
        id: 'whole-account',
        match: { accountId: '123456789012' },
        reason: 'account being decommissioned',
        owner: 'cloud-team',
        expiresAt: '2026-12-31T00:00:00.000Z',
      },
      AUDIT_TIME,
    );
    // An expired entry changes nothing.
    await entries.add(
      {
        id: 'old',
        match: { ruleId: 'network-path' },
        reason: 'old',
        owner: 'x',
        expiresAt: '2026-11-01T00:00:00.000Z',
      },
      AUDIT_TIME,
    );
    const result = (await scheduled(scheduledEvent, context)) as {
      regions: { findings: Record<string, number>; suppressed?: number; changes?: Record<string, number> }[];
    };
    const region = result.regions[0]!;
    expect(region.findings).toEqual({});
    expect(region.suppressed).toBeGreaterThan(0);
    expect(region.changes?.suppressed).toBe(region.suppressed);
    expect(kinds().filter((k) => k !== 'DIGEST')).toEqual([]);
    const store = new FindingsStore({ client: local.doc, tableName: table });
    const stored = await store.inScope('123456789012', 'eu-west-1');
    expect(stored.length).toBe(region.suppressed);
    expect(
      stored.every((f) => (f as { suppressed?: { id: string } }).suppressed?.id === 'whole-account'),
    ).toBe(true);
  });

  it('without entries the same fleet alerts its failures (the control)', async () => {
    await scheduled(scheduledEvent, context);
    expect(kinds().some((k) => k === 'NEW_FAILURE')).toBe(true);
  });
});
