import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListAccountsCommand,
  ListParentsCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { Context, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as plan } from '../../functions/org-plan';
import { handler as work } from '../../functions/org-worker';
import { handler as scheduled } from '../../functions/scheduled-audit';
import { handler as onEvent } from '../../functions/event-audit';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resetRuntime } from '../../functions/lib/runtime';
import { sqsBatches } from '../../functions/lib/org';
import { jobBody, planJobs } from '../../shared/pipeline/org';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { FindingsStore } from '../../shared/store/findings-store';
import { OrgRunStore } from '../../shared/store/org-runs';
import { ensureTable } from '../../shared/store/table';
import { buildCollectionFleet } from '../support/collection-fleet';
import { awsError, deniedError, fakeAwsFromSnapshot, type FakeAws } from '../support/fake-aws';

/**
 * Organization mode through the deployed handlers: the planner (EventBridge schedule) reads a fake
 * Organization and queues one SQS FIFO job per account-region; the worker (SQS event) assumes the member
 * role, audits, stores on dynalite and alerts; the job that completes the run sends the digest.
 */

const NOW = new Date('2026-11-23T09:00:00Z');
const TOPIC = 'arn:aws:sns:eu-west-1:111111111111:ssm-readiness-alerts';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111111111111/ssm-audit-jobs.fifo';
const A = '222222222222';
const B = '333333333333';
const SUSPENDED = '444444444444';
const GONE = '555555555555';
const context = (id: string) =>
  ({
    awsRequestId: id,
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:ssm-readiness-auditor-orgWorker',
    getRemainingTimeInMillis: () => 600_000,
  }) as unknown as Context;

const organizations = mockClient(OrganizationsClient);
const sqs = mockClient(SQSClient);
const sns = mockClient(SNSClient);
let local: LocalDynamo;
let table: string;
let tables = 0;
let fake: FakeAws;
let sent: SendMessageBatchRequestEntry[];
let published: PublishBatchRequestEntry[];
let assumed: string[];
const saved = { ...process.env };

const scp = (id: string, name: string, statement: object) => ({
  PolicySummary: {
    Id: id,
    Arn: `arn:aws:organizations::111111111111:policy/o-abc/service_control_policy/${id}`,
    Name: name,
    Type: 'SERVICE_CONTROL_POLICY' as const,
    AwsManaged: id === 'p-FullAWSAccess',
  },
  Content: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
});
const FULL = scp('p-FullAWSAccess', 'FullAWSAccess', { Effect: 'Allow', Action: '*', Resource: '*' });

function fakeOrganization(options: { secondPageFails?: boolean } = {}) {
  organizations.reset();
  organizations.on(DescribeOrganizationCommand).resolves({
    Organization: { Id: 'o-abc', MasterAccountId: '111111111111' },
  });
  organizations.on(ListAccountsCommand, { NextToken: undefined }).resolves({
    Accounts: [
      { Id: A, Name: 'prod', State: 'ACTIVE' },
      { Id: SUSPENDED, Name: 'old', State: 'SUSPENDED' },
    ],
    NextToken: 'page-2',
  });
  if (options.secondPageFails)
    organizations
      .on(ListAccountsCommand, { NextToken: 'page-2' })
      .rejects(awsError('ServiceException', 'internal error', 500));
  else
    organizations
      .on(ListAccountsCommand, { NextToken: 'page-2' })
      .resolves({ Accounts: [{ Id: B, Name: 'dev', Status: 'ACTIVE' }] });
  organizations
    .on(ListParentsCommand, { ChildId: A })
    .resolves({ Parents: [{ Id: 'ou-abc-11111111', Type: 'ORGANIZATIONAL_UNIT' }] });
  organizations
    .on(ListParentsCommand, { ChildId: 'ou-abc-11111111' })
    .resolves({ Parents: [{ Id: 'r-abc', Type: 'ROOT' }] });
  organizations.on(ListParentsCommand, { ChildId: B }).resolves({ Parents: [{ Id: 'r-abc', Type: 'ROOT' }] });
  organizations.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-abc', Name: 'Root' }] });
  organizations
    .on(ListPoliciesForTargetCommand, { TargetId: 'r-abc' })
    .resolves({ Policies: [FULL.PolicySummary] });
  organizations
    .on(ListPoliciesForTargetCommand, { TargetId: 'ou-abc-11111111' })
    .resolves({ Policies: [FULL.PolicySummary] });
  organizations
    .on(ListPoliciesForTargetCommand, { TargetId: A })
    .resolves({ Policies: [FULL.PolicySummary] });
  organizations
    .on(ListPoliciesForTargetCommand, { TargetId: B })
    .resolves({ Policies: [FULL.PolicySummary] });
  organizations.on(DescribePolicyCommand, { PolicyId: 'p-FullAWSAccess' }).resolves({ Policy: FULL });
}

beforeAll(async () => {
  local = await startLocalDynamo('org-default');
});
afterAll(async () => {
  organizations.restore();
  sqs.restore();
  sns.restore();
  await local.stop();
  process.env = saved;
});

beforeEach(async () => {
  table = `org-${++tables}`;
  await ensureTable(local.client, table);
  process.env = {
    ...saved,
    FINDINGS_TABLE: table,
    ALERT_TOPIC_ARN: TOPIC,
    AWS_REGION: 'eu-west-1',
    AUDIT_REGIONS: 'eu-west-1,us-east-1',
    ORG_JOB_QUEUE_URL: QUEUE,
    ORG_MEMBER_ROLE_NAME: 'SsmReadinessAuditorMember',
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  resetRuntime({ clock: () => NOW });
  fakeOrganization();
  sent = [];
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
    sent.push(...input.Entries);
    return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] };
  });
  published = [];
  sns.reset();
  sns
    .on(PublishBatchCommand)
    .callsFake((input: { PublishBatchRequestEntries: PublishBatchRequestEntry[] }) => {
      published.push(...input.PublishBatchRequestEntries);
      return {
        Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
        Failed: [],
      };
    });
  fake = fakeAwsFromSnapshot(buildCollectionFleet({ instances: 12 }).snapshot);
  assumed = [];
  fake.mocks.sts.on(AssumeRoleCommand as never).callsFake((input: { RoleArn: string }) => {
    assumed.push(input.RoleArn);
    if (input.RoleArn.includes(`::${B}:`)) throw deniedError('sts:AssumeRole');
    return {
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLE',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(NOW.getTime() + 3_600_000),
      },
    };
  });
});
afterEach(() => fake.restore());

const records = (entries: SendMessageBatchRequestEntry[], receives = 1): SQSRecord[] =>
  entries.map(
    (e, i) =>
      ({
        messageId: `msg-${i}-${e.MessageGroupId}`,
        body: e.MessageBody,
        attributes: { ApproximateReceiveCount: String(receives), MessageGroupId: e.MessageGroupId },
        eventSource: 'aws:sqs',
      }) as unknown as SQSRecord,
  );
const digests = () => published.filter((p) => JSON.parse(p.Message!).default?.includes('ORG_DIGEST'));

describe('organization run', () => {
  it('plans one FIFO job per ACTIVE account and region, with the SCP chain of each account', async () => {
    const summary = await plan({}, context('run-1'));
    expect(summary).toMatchObject({
      runId: 'run-1',
      accounts: 2,
      jobs: 4,
      sent: 4,
      failedToSend: 0,
      listingComplete: true,
    });
    expect(sent.map((e) => [e.MessageGroupId, e.MessageDeduplicationId]).sort()).toEqual(
      [
        [`${A}#eu-west-1`, `run-1#${A}#eu-west-1`],
        [`${A}#us-east-1`, `run-1#${A}#us-east-1`],
        [`${B}#eu-west-1`, `run-1#${B}#eu-west-1`],
        [`${B}#us-east-1`, `run-1#${B}#us-east-1`],
      ].sort(),
    );
    const jobA = JSON.parse(sent.find((e) => e.MessageGroupId === `${A}#eu-west-1`)!.MessageBody!);
    expect(
      jobA.organizations.section.TargetChain.map(
        (t: { TargetId: string; Type: string }) => `${t.Type}:${t.TargetId}`,
      ),
    ).toEqual(['ROOT:r-abc', 'ORGANIZATIONAL_UNIT:ou-abc-11111111', `ACCOUNT:${A}`]);
    expect(jobA.organizations.section.Policies).toHaveLength(1);
    expect(jobA.organizations.section.ManagementAccountId).toBe('111111111111');
    // Each target and policy is read once per run, however many accounts share it.
    expect(organizations.commandCalls(DescribePolicyCommand)).toHaveLength(1);
    expect(organizations.commandCalls(ListPoliciesForTargetCommand, { TargetId: 'r-abc' })).toHaveLength(1);
    const run = await new OrgRunStore(local.doc, table).run('run-1');
    expect(run).toMatchObject({
      jobs: 4,
      accounts: 2,
      inactive: [SUSPENDED],
      listingComplete: true,
      shards: 1,
    });
  });

  it('workers audit with the member role; a denied AssumeRole is one ERROR finding for that account; one digest', async () => {
    await plan({}, context('run-2'));
    const out = await work({ Records: records(sent) } as never, context('w-1'));
    expect(out.batchItemFailures).toEqual([]);
    // One AssumeRole per account for both of its regions (credentials cached per account).
    expect(assumed.filter((arn) => arn.includes(`::${A}:`))).toEqual([
      `arn:aws:iam::${A}:role/SsmReadinessAuditorMember`,
    ]);

    const store = new FindingsStore({ client: local.doc, tableName: table });
    const inA = await store.inScope(A, 'eu-west-1');
    expect(inA.filter((f) => f.resourceType === 'EC2Instance').length).toBeGreaterThan(10);
    // One finding per account (recorded by the job of the run's first region), not one per region.
    expect(await store.inScope(B, 'us-east-1')).toEqual([]);
    const inB = await store.inScope(B, 'eu-west-1');
    expect(inB.map((f) => [f.resourceId, f.ruleId, f.status, f.reason])).toEqual([
      [`${B}:member-role`, 'member-access', 'ERROR', 'ASSUME_ROLE_DENIED'],
    ]);
    expect(inB[0]!.message).toContain(`arn:aws:iam::${B}:role/SsmReadinessAuditorMember`);
    expect(inB[0]!.remediation).toContain('create-stack-instances');

    expect(digests()).toHaveLength(1);
    const digest = JSON.parse(JSON.parse(digests()[0]!.Message!).default);
    expect(digest).toMatchObject({
      kind: 'ORG_DIGEST',
      runId: 'run-2',
      jobs: 4,
      counts: { audited: 2, 'access-denied': 2 },
    });
    expect(digest.failedAccounts.map((f: { accountId: string }) => f.accountId)).toEqual([B]);

    // SQS delivers at least once: a redelivered job is counted once and never sends a second digest.
    await work({ Records: records(sent.slice(0, 1), 2) } as never, context('w-2'));
    expect(digests()).toHaveLength(1);
  });

  it('once the member role works again, the ERROR finding of the account is closed', async () => {
    await plan({}, context('run-3'));
    await work({ Records: records(sent) } as never, context('w-1'));
    fake.mocks.sts.on(AssumeRoleCommand as never).callsFake(() => ({
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLE',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: new Date(NOW.getTime() + 3_600_000),
      },
    }));
    resetRuntime({ clock: () => new Date(NOW.getTime() + 60_000) });
    sent = [];
    await plan({}, context('run-4'));
    await work({ Records: records(sent) } as never, context('w-3'));
    const store = new FindingsStore({ client: local.doc, tableName: table });
    const inB = await store.inScope(B, 'eu-west-1');
    expect(inB.find((f) => f.ruleId === 'member-access')).toBeUndefined();
    expect(inB.filter((f) => f.resourceType === 'EC2Instance').length).toBeGreaterThan(10);
  });

  it('a region the account has not enabled is skipped: nothing stored, counted as such in the digest', async () => {
    fake.restore();
    const optIn = awsError(
      'AuthFailure',
      'AWS was not able to validate the provided access credentials',
      401,
    );
    fake = fakeAwsFromSnapshot(buildCollectionFleet({ instances: 3 }).snapshot, {
      fail: Object.fromEntries(
        [
          'ec2:DescribeInstances',
          'ec2:DescribeVpcs',
          'ec2:DescribeSubnets',
          'ssm:DescribeInstanceInformation',
          'ssm:GetServiceSetting',
          'ssm:DescribeActivations',
          'iam:GetAccountAuthorizationDetails',
          'ec2:DescribeRouteTables',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeNetworkAcls',
          'ec2:DescribeVpcEndpoints',
          'ec2:DescribeInternetGateways',
          'ec2:DescribeNatGateways',
        ].map((a) => [a, optIn]),
      ),
    });
    fake.mocks.sts.on(AssumeRoleCommand as never).callsFake(() => ({
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLE',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: new Date(NOW.getTime() + 3_600_000),
      },
    }));
    process.env.AUDIT_REGIONS = 'ap-east-1';
    process.env.ORG_ACCOUNTS = A;
    resetRuntime({ clock: () => NOW });
    await plan({}, context('run-5'));
    expect(sent).toHaveLength(1);
    await work({ Records: records(sent) } as never, context('w-4'));
    const store = new FindingsStore({ client: local.doc, tableName: table });
    expect(await store.inScope(A, 'ap-east-1')).toEqual([]);
    const digest = JSON.parse(JSON.parse(digests()[0]!.Message!).default);
    expect(digest.counts).toMatchObject({ 'region-not-enabled': 1, audited: 0 });
  });

  it('closes the findings of an account that left the Organization, only when the listing was complete', async () => {
    // A run that audited an account which has since left.
    process.env.ORG_ACCOUNTS = GONE;
    process.env.AUDIT_REGIONS = 'eu-west-1';
    resetRuntime({ clock: () => NOW });
    await plan({}, context('run-6'));
    await work({ Records: records(sent) } as never, context('w-5'));
    const store = new FindingsStore({ client: local.doc, tableName: table });
    const before = await store.inScope(GONE, 'eu-west-1');
    expect(before.length).toBeGreaterThan(0);

    delete process.env.ORG_ACCOUNTS;
    fakeOrganization({ secondPageFails: true });
    resetRuntime({ clock: () => new Date(NOW.getTime() + 60_000) });
    const partial = await plan({}, context('run-7'));
    expect(partial).toMatchObject({ listingComplete: false, closedAccounts: [] });
    expect(await store.inScope(GONE, 'eu-west-1')).toHaveLength(before.length);

    // The auditor's own account, audited by the single-account scheduled function: never closed by a run.
    const tick = JSON.parse(
      readFileSync(path.join(__dirname, '..', 'fixtures', 'events', 'scheduled-event.json'), 'utf8'),
    ) as Record<string, unknown>;
    await scheduled({ ...tick, account: '111111111111' }, context('own-1'));
    const own = await store.inScope('111111111111', 'eu-west-1');
    expect(own.length).toBeGreaterThan(0);

    fakeOrganization();
    resetRuntime({ clock: () => new Date(NOW.getTime() + 120_000) });
    const complete = await plan({}, context('run-8'));
    expect(complete.closedAccounts).toEqual([GONE]);
    expect(await store.inScope(GONE, 'eu-west-1')).toEqual([]);
    expect(await store.inScope('111111111111', 'eu-west-1')).toHaveLength(own.length);
  });

  it('a job that keeps failing is retried by SQS, then counted as failed on its last delivery', async () => {
    process.env.ORG_ACCOUNTS = A;
    process.env.AUDIT_REGIONS = 'eu-west-1';
    resetRuntime({ clock: () => NOW });
    await plan({}, context('run-9'));
    const broken = records(sent);
    // The store is unreachable for this job: the worker reports the item as failed.
    process.env.FINDINGS_TABLE = 'no-such-table';
    resetRuntime({ clock: () => NOW });
    const first = await work({ Records: broken } as never, context('w-6'));
    expect(first.batchItemFailures).toHaveLength(1);
    process.env.FINDINGS_TABLE = table;
    resetRuntime({ clock: () => NOW });
    expect(digests()).toHaveLength(0);
  });

  it('an event forwarded from a member account is audited there with its member role', async () => {
    const event = JSON.parse(
      readFileSync(path.join(__dirname, '..', 'fixtures', 'events', 'ec2-state-change-running.json'), 'utf8'),
    ) as Record<string, unknown>;
    event.account = A;
    event.resources = [`arn:aws:ec2:eu-west-1:${A}:instance/i-00000000000000003`];
    // A planner has run: the event audit judges with the SCPs it read (no flip to "not collected").
    await plan({}, context('run-e'));
    assumed = [];
    const result = await onEvent(event, context('e-1'));
    expect(result).toMatchObject({ action: 'audit' });
    expect(assumed).toEqual([`arn:aws:iam::${A}:role/SsmReadinessAuditorMember`]);
    const store = new FindingsStore({ client: local.doc, tableName: table });
    const stored = await store.findingsOfResource('i-00000000000000003');
    expect(stored.length).toBeGreaterThan(0);
    expect(new Set(stored.map((f) => f.accountId))).toEqual(new Set([A]));
    const permissions = stored.find((f) => f.ruleId === 'instance-permissions')!;
    expect(permissions.evidence.scp).toBeDefined();
    expect(permissions.evidence.scp).not.toBe('not collected');

    // The function's own account: its own credentials, no AssumeRole.
    assumed = [];
    event.account = '111111111111';
    await onEvent(event, context('e-2'));
    expect(assumed).toEqual([]);
  });

  it('a run whose last job never reported gets its digest from the next planner, saying so', async () => {
    process.env.ORG_ACCOUNTS = A;
    resetRuntime({ clock: () => NOW });
    await plan({}, context('run-10'));
    expect(sent).toHaveLength(2);
    // One job is processed; the other dies with its Lambda (never counted).
    await work({ Records: records(sent.slice(0, 1)) } as never, context('w-7'));
    expect(digests()).toHaveLength(0);
    sent = [];
    resetRuntime({ clock: () => new Date(NOW.getTime() + 3_600_000) });
    await plan({}, context('run-11'));
    expect(digests()).toHaveLength(1);
    const digest = JSON.parse(JSON.parse(digests()[0]!.Message!).default);
    expect(digest).toMatchObject({ runId: 'run-10', jobs: 2, unreported: 1, counts: { audited: 1 } });
    // Never twice: the planner after that leaves it alone.
    resetRuntime({ clock: () => new Date(NOW.getTime() + 7_200_000) });
    await plan({}, context('run-12'));
    expect(
      digests().filter((d) => JSON.parse(JSON.parse(d.Message!).default).runId === 'run-10'),
    ).toHaveLength(1);
  });

  it('sends jobs in batches SQS accepts: at most 10 and at most 250 KB of bodies each', () => {
    const bigScps = {
      section: { TargetChain: [], Policies: [{ Content: 'x'.repeat(60_000) }] },
      calls: {},
    };
    const jobs = planJobs(
      'run-x',
      Array.from({ length: 12 }, (_, i) => ({ id: String(100000000000 + i), organizations: bigScps })),
      ['eu-west-1'],
    );
    const batches = sqsBatches(jobs);
    expect(batches.flat()).toHaveLength(12);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((n, j) => n + Buffer.byteLength(jobBody(j)), 0)).toBeLessThanOrEqual(250_000);
    }
    expect(batches.map((b) => b.length)).toEqual([4, 4, 4]);
    const small = planJobs(
      'run-y',
      Array.from({ length: 25 }, (_, i) => ({ id: String(100000000000 + i) })),
      ['eu-west-1'],
    );
    expect(sqsBatches(small).map((b) => b.length)).toEqual([10, 10, 5]);
  });
});
