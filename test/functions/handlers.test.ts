import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { handler as adhoc } from '../../functions/adhoc-audit';
import { handler as onEvent } from '../../functions/event-audit';
import { handler as scheduled } from '../../functions/scheduled-audit';
import { resetRuntime } from '../../functions/lib/runtime';
import { FindingsStore } from '../../shared/store/findings-store';
import { ensureTable } from '../../shared/store/table';
import { buildCollectionFleet } from '../support/collection-fleet';
import { fakeAwsFromSnapshot, type FakeAws } from '../support/fake-aws';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';

/**
 * The deployed handlers, invoked as Lambda invokes them, with real-shaped EventBridge events
 * (test/fixtures/events): EC2/SSM/IAM answered by the snapshot-backed fake account, SNS mocked, and the
 * findings table on dynalite reached through the SDK's standard AWS_ENDPOINT_URL_DYNAMODB.
 */

const EVENTS = path.join(__dirname, '..', 'fixtures', 'events');
const event = (name: string) =>
  JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as Record<string, unknown>;
const context = {
  functionName: 'ssm-readiness-auditor-test-eventAudit',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ssm-readiness-auditor-test-eventAudit',
  awsRequestId: 'req-1',
  memoryLimitInMB: '1024',
  functionVersion: '$LATEST',
} as unknown as Context;

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ssm-readiness-alerts';
/**
 * Every collection in these tests happens at this fixed time (the fixtures' events are later), so the
 * tests pass on any date: an audit is as of its collection, and a close is as of its event.
 */
const AUDIT_TIME = new Date('2026-11-23T09:00:00Z');
const clock = () => AUDIT_TIME;
const sns = mockClient(SNSClient);
let local: LocalDynamo;
let tables = 0;
let table: string;
let store: FindingsStore;
let fake: FakeAws;
const saved = { ...process.env };

beforeAll(async () => {
  local = await startLocalDynamo('handlers-default');
});
afterAll(async () => {
  sns.restore();
  await local.stop();
});

beforeEach(async () => {
  table = `handlers-${++tables}`;
  await ensureTable(local.client, table);
  store = new FindingsStore({ client: local.doc, tableName: table });
  Object.assign(process.env, {
    FINDINGS_TABLE: table,
    ALERT_TOPIC_ARN: TOPIC,
    AWS_REGION: 'eu-west-1',
    AUDIT_REGIONS: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  resetRuntime({ clock });
  sns.reset();
  sns
    .on(PublishBatchCommand)
    .callsFake((input: { PublishBatchRequestEntries: PublishBatchRequestEntry[] }) => ({
      Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
      Failed: [],
    }));
  fake = fakeAwsFromSnapshot(buildCollectionFleet({ instances: 60 }).snapshot);
});
afterEach(() => {
  fake.restore();
  process.env = { ...saved };
  resetRuntime({ clock });
});

const published = () =>
  sns.commandCalls(PublishBatchCommand).flatMap((c) => c.args[0].input.PublishBatchRequestEntries ?? []);
const storedResources = async () =>
  new Set((await store.inScope('123456789012', 'eu-west-1')).map((f) => f.resourceId));

describe('event audit', () => {
  it('an instance state change re-evaluates only that instance', async () => {
    const result = await onEvent(event('ec2-state-change-running.json'), context);
    expect(result).toMatchObject({ action: 'audit', reason: 'i-00000000000000003 is running' });
    expect(fake.inputs.get('ec2:DescribeInstances')).toEqual([
      expect.objectContaining({ Filters: [{ Name: 'instance-id', Values: ['i-00000000000000003'] }] }),
    ]);
    expect(fake.calls.get('ssm:DescribeActivations')).toBeUndefined();
    expect(fake.calls.get('iam:GetAccountAuthorizationDetails')).toBeUndefined();
    expect(fake.totalCalls()).toBeLessThanOrEqual(15);
    expect(await storedResources()).toEqual(new Set(['i-00000000000000003']));
  });

  it('accepts the published quirks: an upper-case state and a space-padded instance id', async () => {
    const result = await onEvent(event('ec2-state-change-quirks.json'), context);
    expect(result).toMatchObject({ action: 'audit', reason: 'i-00000000000000003 is running' });
    expect(await storedResources()).toEqual(new Set(['i-00000000000000003']));
  });

  it('rejects a malformed event with an error naming the field, touching nothing', async () => {
    const bad = event('ec2-state-change-running.json');
    (bad.detail as Record<string, unknown>)['instance-id'] = 'i-zz';
    await expect(onEvent(bad, context)).rejects.toThrow(
      /event\.detail\.instance-id: must be an EC2 instance id/,
    );
    const noTime = event('ec2-state-change-running.json');
    delete noTime.time;
    await expect(onEvent(noTime, context)).rejects.toThrow(/event\.time/);
    expect(fake.totalCalls()).toBe(0);
    expect(await storedResources()).toEqual(new Set());
  });

  it('an AttachRolePolicy event (us-east-1) re-evaluates the instances using that role in the audited regions', async () => {
    const result = (await onEvent(event('cloudtrail-attach-role-policy.json'), context)) as {
      regions: { region: string }[];
    };
    expect(result).toMatchObject({ action: 'audit', reason: 'iam:AttachRolePolicy on role app-03-role' });
    expect(result.regions.map((r) => r.region)).toEqual(['eu-west-1']);
    expect(fake.inputs.get('iam:ListInstanceProfilesForRole')).toEqual([
      { RoleName: 'app-03-role', Marker: undefined },
    ]);
    expect(fake.inputs.get('ec2:DescribeInstances')).toEqual([
      expect.objectContaining({
        Filters: [
          { Name: 'iam-instance-profile.arn', Values: ['arn:aws:iam::123456789012:instance-profile/app-03'] },
        ],
      }),
    ]);
    // app-03 is the profile of every 20th instance: 3, 23, 43.
    expect(await storedResources()).toEqual(
      new Set(['i-00000000000000003', 'i-00000000000000017', 'i-0000000000000002b']),
    );
  });

  it('an IAM event on a role that does not exist says so, audits nothing and succeeds', async () => {
    const deleted = event('cloudtrail-attach-role-policy.json');
    (deleted.detail as { requestParameters: Record<string, unknown> }).requestParameters.roleName =
      'does-not-exist';
    const result = (await onEvent(deleted, context)) as { regions: { region: string; note?: string }[] };
    expect(result).toMatchObject({ action: 'audit', reason: 'iam:AttachRolePolicy on role does-not-exist' });
    expect(result.regions).toEqual([
      expect.objectContaining({
        region: 'eu-west-1',
        findings: {},
        note: expect.stringMatching(
          /^IAM role does-not-exist does not exist \(iam:ListInstanceProfilesForRole: NoSuchEntity\)/,
        ),
      }),
    ]);
    // Not the whole region instead.
    expect(fake.calls.get('ec2:DescribeInstances')).toBeUndefined();
    expect(await storedResources()).toEqual(new Set());
  });

  it('an UpdateServiceSetting event re-evaluates the whole region', async () => {
    const result = await onEvent(event('cloudtrail-update-service-setting.json'), context);
    expect(result).toMatchObject({ action: 'audit', reason: 'ssm:UpdateServiceSetting' });
    expect(fake.inputs.get('ec2:DescribeInstances')).toEqual([
      expect.objectContaining({ Filters: undefined }),
    ]);
    expect(fake.calls.get('ssm:DescribeActivations')).toBe(1);
    expect(fake.calls.get('iam:GetAccountAuthorizationDetails')).toBe(1);
    expect((await storedResources()).size).toBe(60 + 10 + 3); // instances, hybrid nodes, account + 2 activations
  });

  it('a security group change re-evaluates the instances of that group’s VPC', async () => {
    const result = await onEvent(event('cloudtrail-authorize-security-group-egress.json'), context);
    expect(result).toMatchObject({
      action: 'audit',
      reason: 'ec2:AuthorizeSecurityGroupEgress (vpc-0e0d00000000000b2)',
    });
    expect(fake.inputs.get('ec2:DescribeSecurityGroups')?.[0]).toEqual({
      GroupIds: ['sg-0e0d0000000000011'],
    });
    expect(fake.inputs.get('ec2:DescribeInstances')).toEqual([
      expect.objectContaining({ Filters: [{ Name: 'vpc-id', Values: ['vpc-0e0d00000000000b2'] }] }),
    ]);
    expect((await storedResources()).size).toBe(20);
  });

  it('ignores a CloudTrail call that failed (errorCode present)', async () => {
    const result = await onEvent(event('cloudtrail-modify-metadata-options-failed.json'), context);
    expect(result).toEqual({
      action: 'ignore',
      reason: 'ec2:ModifyInstanceMetadataOptions failed (Client.InvalidParameterValue)',
    });
    expect(fake.totalCalls()).toBe(0);
  });

  it('a terminated instance closes its findings without any AWS call, and its failures resolve', async () => {
    await scheduled(event('scheduled-event.json'), context);
    const id = 'i-00000000000000005';
    const before = await store.findingsOfResource(id);
    expect(before.length).toBeGreaterThan(0);
    const failing = before.filter((f) => f.status === 'FAIL').length;
    fake.calls.clear();
    sns.resetHistory();
    const result = await onEvent(event('ec2-state-change-terminated.json'), context);
    expect(result).toMatchObject({ action: 'close', closed: before.length });
    expect(fake.totalCalls()).toBe(0);
    expect(await store.findingsOfResource(id)).toEqual([]);
    expect((await store.historyOf(id)).filter((h) => h.toStatus === 'CLOSED')).toHaveLength(before.length);
    const resolved = published().filter((e) => e.MessageAttributes?.kind?.StringValue === 'RESOLVED');
    expect(resolved).toHaveLength(failing);
  });

  it('the same event delivered twice produces no duplicate alert', async () => {
    // i-...1 is never registered (80 % of 60 are): its managed-status fails, so the first delivery alerts.
    const twice = event('ec2-state-change-running.json');
    (twice.detail as Record<string, unknown>)['instance-id'] = 'i-0000000000000003b';
    await onEvent(twice, context);
    const first = published().filter((e) => e.MessageAttributes?.kind?.StringValue !== 'DIGEST');
    expect(first.length).toBeGreaterThan(0);
    sns.resetHistory();
    await onEvent(twice, context);
    expect(published()).toEqual([]);
  });

  it('the same event delivered twice at once: one alert per transition and one digest', async () => {
    const twice = event('ec2-state-change-running.json');
    (twice.detail as Record<string, unknown>)['instance-id'] = 'i-0000000000000003b';
    await Promise.all([onEvent(twice, context), onEvent(twice, context)]);
    const kinds = published().map((e) => e.MessageAttributes?.kind?.StringValue);
    expect(kinds.filter((k) => k === 'DIGEST')).toHaveLength(1);
    const alertIds = published()
      .filter((e) => e.MessageAttributes?.kind?.StringValue !== 'DIGEST')
      .map((e) => (JSON.parse(JSON.parse(e.Message!).default) as { alertId: string }).alertId);
    expect(alertIds.length).toBeGreaterThan(0);
    expect(new Set(alertIds).size).toBe(alertIds.length);
  });
});

describe('scheduled audit', () => {
  it('audits every configured region and records the run', async () => {
    const result = (await scheduled(event('scheduled-event.json'), context)) as {
      regions: { region: string; scope: string }[];
    };
    expect(result.regions).toEqual([
      expect.objectContaining({ region: 'eu-west-1', scope: 'the whole region' }),
    ]);
    const runs = await store.runs('123456789012', 'eu-west-1');
    expect(runs).toHaveLength(1);
    expect(published().some((e) => e.MessageAttributes?.kind?.StringValue === 'DIGEST')).toBe(true);
  });

  it('a region that fails does not stop the others, and the invocation fails so the alarm fires', async () => {
    process.env.AUDIT_REGIONS = 'eu-west-1,eu-central-1';
    resetRuntime({ clock });
    // The fake account answers every region; make the second region's table writes fail.
    const original = FindingsStore.prototype.loadRegion;
    const spy = jest.spyOn(FindingsStore.prototype, 'loadRegion').mockImplementation(async function (
      this: FindingsStore,
      account: string,
      region: string,
    ) {
      if (region === 'eu-central-1')
        throw Object.assign(new Error('Service unavailable'), { name: 'InternalServerError' });
      return original.call(this, account, region);
    });
    try {
      await expect(scheduled(event('scheduled-event.json'), context)).rejects.toThrow(
        /audit failed in eu-central-1: InternalServerError: Service unavailable/,
      );
    } finally {
      spy.mockRestore();
    }
    expect(await store.runs('123456789012', 'eu-west-1')).toHaveLength(1);
  });
});

describe('ad-hoc audit', () => {
  it('dryRun returns the findings and writes nothing, sends nothing', async () => {
    const result = await adhoc({ instanceIds: ['i-00000000000000003'], dryRun: true }, context);
    expect(result).toMatchObject({ region: 'eu-west-1', dryRun: true, accountId: '123456789012' });
    expect(result.findings.length).toBe(5);
    expect(new Set(result.findings.map((f) => f.resourceId))).toEqual(new Set(['i-00000000000000003']));
    expect(await storedResources()).toEqual(new Set());
    expect(await store.scopes()).toEqual([]);
    expect(published()).toEqual([]);
  });

  it('stores the findings of the rules asked for', async () => {
    const result = await adhoc(
      { instanceIds: ['i-00000000000000003'], ruleIds: ['network-path', 'managed-status'] },
      context,
    );
    expect(new Set(result.findings.map((f) => f.ruleId))).toEqual(
      new Set(['network-path', 'managed-status']),
    );
    expect((await store.findingsOfResource('i-00000000000000003')).map((f) => f.ruleId).sort()).toEqual([
      'managed-status',
      'network-path',
    ]);
  });

  it.each([
    {
      case: 'an unknown rule id (listing the valid ones)',
      input: { ruleIds: ['network-paths'] },
      expected:
        /invalid ruleIds: unknown rule id network-paths; valid ids: instance-permissions, network-path,/,
    },
    {
      case: 'a malformed instance id',
      input: { instanceIds: ['i-123'] },
      expected: /invalid instanceIds\.0: must be an instance id/,
    },
    {
      case: 'a misspelt field',
      input: { instanceId: 'i-00000000000000003' },
      expected: /unknown field instanceId; expected instanceIds, ruleIds, region, dryRun/,
    },
    {
      case: 'a bad region',
      input: { region: 'europe' },
      expected: /invalid region: must be an AWS region name/,
    },
    { case: 'dryRun not a boolean', input: { dryRun: 'yes' }, expected: /invalid dryRun/ },
  ])('rejects $case, touching nothing', async ({ input, expected }) => {
    await expect(adhoc(input, context)).rejects.toThrow(expected);
    expect(fake.totalCalls()).toBe(0);
    expect(await store.scopes()).toEqual([]);
  });
});

describe('logs and metrics', () => {
  it('logs a structured summary, never the event or credentials, and emits findings, duration and API-error metrics', async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    resetRuntime({ clock });
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await onEvent(event('cloudtrail-attach-role-policy.json'), context);
    } finally {
      spy.mockRestore();
    }
    const output = lines.join('');
    const records = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => r.message === 'event received')).toMatchObject({
      level: 'INFO',
      eventId: '3e5c3cbd-7a5b-4f0f-8d2b-6b1e2a3f9c11',
      eventName: 'AttachRolePolicy',
      action: 'audit',
    });
    expect(records.find((r) => r.message === 'audit finished')).toMatchObject({
      region: 'eu-west-1',
      scope: 'instances using IAM role app-03-role',
    });
    for (const secret of [
      'ASIAEXAMPLEKEYID0001',
      'AKIAIOSFODNN7EXAMPLE',
      'wJalrXUtnFEMI',
      'userIdentity',
      '198.51.100.23',
    ]) {
      expect(output).not.toContain(secret);
    }
    const emf = records.filter((r) => r._aws !== undefined);
    const names = emf.flatMap((r) =>
      (r._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!.Metrics.map(
        (m) => m.Name,
      ),
    );
    expect(names).toEqual(
      expect.arrayContaining(['Findings', 'AuditDuration', 'ApiErrors', 'EventsHandled']),
    );
    expect(emf.some((r) => r.Status === 'FAIL' || r.Status === 'PASS')).toBe(true);
  });
});

describe('Security Hub export (securityHub=true)', () => {
  const hub = mockClient(SecurityHubClient);
  afterAll(() => hub.restore());

  it('the scheduled audit imports the region once in full, then only what changed; a terminated instance is archived', async () => {
    process.env.SECURITY_HUB = 'true';
    resetRuntime({ clock });
    hub.reset();
    hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: { Id: string }[] }) => ({
      SuccessCount: input.Findings.length,
      FailedCount: 0,
      FailedFindings: [],
    }));
    const imported = () =>
      hub.commandCalls(BatchImportFindingsCommand).flatMap((c) => c.args[0].input.Findings ?? []);
    await scheduled(event('scheduled-event.json'), context);
    const open = await store.inScope('123456789012', 'eu-west-1');
    expect(imported()).toHaveLength(open.length);
    expect(new Set(imported().map((f) => f.ProductArn))).toEqual(
      new Set(['arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default']),
    );
    hub.resetHistory();
    await scheduled(event('scheduled-event.json'), context);
    expect(imported()).toEqual([]);
    await onEvent(event('ec2-state-change-terminated.json'), context);
    const archived = imported();
    expect(archived.length).toBeGreaterThan(0);
    expect(new Set(archived.map((f) => f.RecordState))).toEqual(new Set(['ARCHIVED']));
    expect(new Set(archived.map((f) => f.Resources?.[0]?.Id))).toEqual(
      new Set(['arn:aws:ec2:eu-west-1:123456789012:instance/i-00000000000000005']),
    );
  });
});

describe('the HTML report (reportBucket=true)', () => {
  const s3 = mockClient(S3Client);
  afterAll(() => s3.restore());

  it('the scheduled audit puts the report (run object and latest) and each digest links it', async () => {
    process.env.REPORT_BUCKET = 'ssm-audit-reports-abc';
    resetRuntime({ clock });
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    const result = (await scheduled(event('scheduled-event.json'), context)) as {
      report: { url: string; key: string; bytes: number };
    };
    const key = `reports/123456789012/${AUDIT_TIME.toISOString().replace(/[:.]/g, '-')}.html`;
    expect(result.report).toMatchObject({
      key,
      url: `https://console.aws.amazon.com/s3/object/ssm-audit-reports-abc?region=eu-west-1&prefix=${encodeURIComponent(key)}`,
    });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([key, 'reports/123456789012/latest.html']);
    expect(puts[0]!.ContentType).toBe('text/html; charset=utf-8');
    expect(String(puts[0]!.Body)).toMatch(/cannot be managed|can be managed/);
    const digest = published().find((e) => e.MessageAttributes?.kind?.StringValue === 'DIGEST')!;
    expect(JSON.parse(JSON.parse(digest.Message!).default).reportUrl).toBe(result.report.url);
  });

  it('a report that cannot be written is said in the result; the audit and its digest stand', async () => {
    process.env.REPORT_BUCKET = 'ssm-audit-reports-abc';
    resetRuntime({ clock });
    s3.reset();
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const result = (await scheduled(event('scheduled-event.json'), context)) as {
      regions: unknown[];
      report: { error: string };
    };
    expect(result.regions).toHaveLength(1);
    expect(result.report.error).toBe('AccessDenied: Access Denied');
    expect((await store.inScope('123456789012', 'eu-west-1')).length).toBeGreaterThan(0);
  });
});
