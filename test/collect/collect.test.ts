import { RULES } from '../../rules';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { auditSnapshot } from '../../shared/engine/audit';
import { AuditRetryStrategy, SDK_RETRY } from '../../shared/aws/clients';
import type { CollectOptions } from '../../shared/collect/collect';
import { CollectionContext } from '../../shared/collect/context';
import { describeInstances } from '../../shared/collect/ec2';
import type { Finding } from '../../shared/model';
import { parseSnapshot } from '../../shared/snapshot/load';
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { buildCollectionFleet } from '../support/collection-fleet';
import { awsError, deniedError, type FakeAws } from '../support/fake-aws';
import { collectionHarness, noSleep } from '../support/collection-harness';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'aws');
const readFixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
const demo = (): SnapshotInput =>
  JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'demo', 'demo-fleet.json'), 'utf8'));

const h = collectionHarness();
let fake: FakeAws;

const key = (f: Finding) => `${f.resourceId} ${f.ruleId} ${f.status} ${f.reason} ${f.message}`;
function auditAt(snapshot: Parameters<typeof auditSnapshot>[0]) {
  const now = new Date(snapshot.collectedAt);
  return auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now }).findings.map(key).sort();
}

const collect = (snapshot: SnapshotInput, options: Partial<CollectOptions> = {}) =>
  h.collect(snapshot, options);

describe('call budget', () => {
  it('collects 5,000 instances sharing 20 profiles in 3 VPCs with a fixed number of IAM and network calls', async () => {
    // Prepare
    const { snapshot, counts } = buildCollectionFleet({ instances: 5000, profiles: 20 });
    fake = h.serve(snapshot);
    // Act
    const result = await collect(snapshot);
    // Assess
    const registered = counts.managed + counts.hybridNodes;
    expect(Object.fromEntries(fake.calls)).toEqual({
      'ec2:DescribeInstances': Math.ceil(5000 / 1000),
      'ssm:DescribeInstanceInformation': Math.ceil(registered / 50),
      'ssm:GetServiceSetting': 2,
      'ssm:DescribeActivations': 1,
      'ec2:DescribeVpcs': 1,
      'ec2:DescribeVpcAttribute': 2, // DNS support + hostnames of the one VPC with SSM endpoints
      'ec2:DescribeSubnets': 1,
      'ec2:DescribeRouteTables': 1,
      'ec2:DescribeSecurityGroups': 1,
      'ec2:DescribeNetworkAcls': 1,
      'ec2:DescribeVpcEndpoints': 1,
      'ec2:DescribeInternetGateways': 1,
      'ec2:DescribeNatGateways': 1,
      'iam:GetAccountAuthorizationDetails': 1,
      'iam:GetPolicy': 1, // the one AWS managed policy without a built-in copy
      'iam:GetPolicyVersion': 1,
    });
    expect(result.stats.totalCalls).toBe(fake.totalCalls());
    expect(result.snapshot.calls).toEqual({});
    const pages = fake.inputs.get('ec2:DescribeInstances') as { MaxResults?: number }[];
    expect(pages.every((p) => p.MaxResults === 1000)).toBe(true);
    const infoPages = fake.inputs.get('ssm:DescribeInstanceInformation') as { MaxResults?: number }[];
    expect(infoPages.every((p) => p.MaxResults === 50)).toBe(true);
  });

  it('spends the same IAM and network calls on 500 instances as on 5,000', async () => {
    const callsFor = async (instances: number) => {
      const { snapshot } = buildCollectionFleet({ instances });
      const f = h.serve(snapshot);
      await collect(snapshot);
      return Object.fromEntries(
        [...f.calls].filter(
          ([action]) => !['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'].includes(action),
        ),
      );
    };
    expect(await callsFor(500)).toEqual(await callsFor(5000));
  });

  it.each([
    { case: 'an instance in a VPC with SSM endpoints', instance: 'i-00000000000000003' },
    { case: 'an instance behind a NAT gateway', instance: 'i-00000000000000001' },
    { case: 'a public instance behind an internet gateway', instance: 'i-0000000000000000b' },
  ])('collects $case within 15 calls', async ({ instance }) => {
    const { snapshot } = buildCollectionFleet({ instances: 5000 });
    fake = h.serve(snapshot);
    const result = await collect(snapshot, { scope: { kind: 'instances', instanceIds: [instance] } });
    expect(fake.totalCalls()).toBeLessThanOrEqual(15);
    expect(result.snapshot.ec2?.Reservations?.flatMap((r) => r.Instances.map((i) => i.InstanceId))).toEqual([
      instance,
    ]);
    expect(fake.calls.get('ssm:DescribeActivations')).toBeUndefined();
    expect(fake.calls.get('iam:GetAccountAuthorizationDetails')).toBeUndefined();
  });
});

describe('round trip', () => {
  it.each([
    { case: 'the demo fleet', snapshot: demo },
    {
      case: 'a 2,500-instance fleet (multi-page)',
      snapshot: () => buildCollectionFleet({ instances: 2500 }).snapshot,
    },
  ])(
    'collecting $case from a fake account gives the findings of the account itself',
    async ({ snapshot }) => {
      const source = snapshot();
      fake = h.serve(source);
      const result = await collect(source);
      expect(auditAt(result.snapshot)).toEqual(auditAt(parseSnapshot(source)));
      // The written document reads back to the same snapshot.
      expect(parseSnapshot(JSON.parse(JSON.stringify(result.document)))).toEqual(result.snapshot);
    },
  );

  it('writes timestamps as ISO strings and keeps IAM documents URL-encoded as AWS returns them', async () => {
    const source = demo();
    fake = h.serve(source);
    const { document } = await collect(source);
    const ec2 = document.ec2 as { Reservations: { Instances: { LaunchTime: unknown }[] }[] };
    expect(typeof ec2.Reservations[0]!.Instances[0]!.LaunchTime).toBe('string');
    const iam = document.iam as { RoleDetailList: { AssumeRolePolicyDocument: unknown }[] };
    expect(String(iam.RoleDetailList[0]!.AssumeRolePolicyDocument)).toMatch(/^%7B/);
  });
});

describe('pagination', () => {
  it('follows NextToken across DescribeInstances pages in their raw AWS shape', async () => {
    // Prepare: two real-shaped pages (test/fixtures/aws), the first with a NextToken.
    const page = readFixture('ec2-describe-instances.json');
    const second = JSON.parse(JSON.stringify(page));
    second.Reservations[0].Instances[0].InstanceId = 'i-0fedcba9876543210';
    const ec2 = mockClient(EC2Client);
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({ ...page, NextToken: 'page-2' })
      .resolvesOnce(second);
    const ctx = new CollectionContext();
    // Act
    const reservations = await describeInstances(h.clients.ec2, ctx);
    // Assess
    const ids = (p: { Reservations: { Instances: { InstanceId: string }[] }[] }) =>
      p.Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId));
    expect(reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId))).toEqual([
      ...ids(page),
      ...ids(second),
    ]);
    expect(ids(second)).toContain('i-0fedcba9876543210');
    const sent = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([
      { MaxResults: 1000, NextToken: undefined, Filters: undefined },
      { MaxResults: 1000, NextToken: 'page-2', Filters: undefined },
    ]);
    ec2.restore();
  });

  it('uses a half-read list never: a failing second page makes the section unavailable', async () => {
    const page = readFixture('ec2-describe-instances.json');
    const ec2 = mockClient(EC2Client);
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({ ...page, NextToken: 'page-2' })
      .rejects(deniedError('ec2:DescribeInstances'));
    const ctx = new CollectionContext({ backoff: noSleep });
    expect(await describeInstances(h.clients.ec2, ctx)).toBeUndefined();
    expect(ctx.failures['ec2:DescribeInstances']).toMatchObject({
      status: 'denied',
      error: 'UnauthorizedOperation',
    });
    ec2.restore();
  });
});

describe('faults', () => {
  const SECTION_ACTIONS = [
    'ec2:DescribeInstances',
    'ec2:DescribeVpcs',
    'ec2:DescribeVpcAttribute',
    'ec2:DescribeSubnets',
    'ec2:DescribeRouteTables',
    'ec2:DescribeSecurityGroups',
    'ec2:DescribeNetworkAcls',
    'ec2:DescribeVpcEndpoints',
    'ec2:DescribeInternetGateways',
    'ec2:DescribeNatGateways',
    'ssm:DescribeInstanceInformation',
    'ssm:GetServiceSetting',
    'ssm:DescribeActivations',
    'iam:GetAccountAuthorizationDetails',
    'iam:GetPolicy',
    'iam:GetPolicyVersion',
  ];

  it.each(SECTION_ACTIONS)(
    'a denied %s completes the run, is recorded, and yields ERROR findings naming it',
    async (action) => {
      const { snapshot } = buildCollectionFleet({ instances: 30 });
      fake = h.serve(snapshot, { fail: { [action]: deniedError(action) } });
      const result = await collect(snapshot);
      expect(result.snapshot.calls[action]?.status).toBe('denied');
      const findings = auditSnapshot(result.snapshot, {
        rules: RULES,
        now: new Date(snapshot.collectedAt),
      }).findings;
      const errors = findings.filter((f) => f.status === 'ERROR' && f.message.includes(action));
      expect(errors.length).toBeGreaterThan(0);
      // Every other call was still made.
      expect(fake.calls.get('ec2:DescribeVpcEndpoints') ?? 0).toBeGreaterThan(0);
      expect(fake.calls.get('ssm:DescribeActivations') ?? 0).toBeGreaterThan(0);
    },
  );

  it.each([
    'iam:GetInstanceProfile',
    'iam:GetRole',
    'iam:ListAttachedRolePolicies',
    'iam:ListRolePolicies',
    'iam:GetRolePolicy',
  ])('a denied %s in a scoped audit gives ERROR, never a PASS or FAIL from half the IAM', async (action) => {
    const { snapshot } = buildCollectionFleet({ instances: 30 });
    fake = h.serve(snapshot, { fail: { [action]: deniedError(action) } });
    // i-...0 uses app-00, which has an inline policy, so GetRolePolicy is called too.
    const result = await collect(snapshot, {
      scope: { kind: 'instances', instanceIds: ['i-00000000000000000'] },
    });
    const findings = auditSnapshot(result.snapshot, {
      rules: RULES,
      now: new Date(snapshot.collectedAt),
    }).findings;
    const permissions = findings.find(
      (f) => f.ruleId === 'instance-permissions' && f.resourceId === 'i-00000000000000000',
    );
    expect(permissions).toMatchObject({ status: 'ERROR', reason: 'API_CALL_DENIED' });
    expect(permissions?.message).toContain(action);
  });

  it('records an unexpected server error as "error", not "denied"', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 30 });
    fake = h.serve(snapshot, {
      fail: { 'ec2:DescribeNetworkAcls': awsError('InternalError', 'An internal error has occurred', 500) },
    });
    const result = await collect(snapshot);
    expect(result.snapshot.calls['ec2:DescribeNetworkAcls']).toEqual({
      status: 'error',
      error: 'HTTP 500 InternalError',
      message: 'An internal error has occurred',
    });
    const findings = auditSnapshot(result.snapshot, {
      rules: RULES,
      now: new Date(snapshot.collectedAt),
    }).findings;
    expect(
      findings
        .filter((f) => f.ruleId === 'network-path' && f.resourceType === 'EC2Instance')
        .map((f) => f.reason),
    ).toEqual(Array(30).fill('API_CALL_FAILED'));
  });

  it('retries throttled pages with backoff and then succeeds', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 2500 });
    fake = h.serve(snapshot, {
      throttleFirst: {
        'ec2:DescribeInstances': 2,
        'iam:GetAccountAuthorizationDetails': 1,
        'ssm:DescribeInstanceInformation': 3,
      },
    });
    const sleeps: number[] = [];
    const result = await collect(snapshot, {
      backoff: { sleep: async (ms) => void sleeps.push(ms), random: () => 1, baseDelayMs: 100 },
    });
    expect(result.snapshot.calls).toEqual({});
    expect(fake.calls.get('ec2:DescribeInstances')).toBe(3 + 2);
    expect(fake.calls.get('iam:GetAccountAuthorizationDetails')).toBe(1 + 1);
    expect(sleeps.length).toBe(6);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(5000);
    expect(result.snapshot.ec2?.Reservations?.flatMap((r) => r.Instances)).toHaveLength(2500);
  });

  it('gives up on a call that stays throttled, records it, and finishes the run', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 30 });
    fake = h.serve(snapshot, { throttleFirst: { 'ec2:DescribeVpcEndpoints': 1000 } });
    const result = await collect(snapshot, { backoff: { ...noSleep, retries: 3 } });
    expect(fake.calls.get('ec2:DescribeVpcEndpoints')).toBe(4);
    expect(result.snapshot.calls['ec2:DescribeVpcEndpoints']).toMatchObject({
      status: 'error',
      error: 'RequestLimitExceeded',
    });
    expect(result.snapshot.ec2?.VpcEndpoints).toBeUndefined();
    expect(result.snapshot.ec2?.Subnets).toHaveLength(6);
  });

  it('treats a service setting that was never changed as its default, not an error', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 3 });
    snapshot.ssm!.ServiceSettings = [];
    fake = h.serve(snapshot);
    const result = await collect(snapshot);
    expect(result.snapshot.calls).toEqual({});
    expect(result.snapshot.ssm?.ServiceSettings?.map((s) => [s.SettingId, s.SettingValue])).toEqual([
      ['/ssm/managed-instance/default-ec2-instance-management-role', '$None'],
      ['/ssm/managed-instance/activation-tier', 'standard'],
    ]);
  });

  it('reports an instance profile that no longer exists as a fact (FAIL), not a failed call', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 3 });
    snapshot.ec2!.Reservations![0]!.Instances[0]!.IamInstanceProfile = {
      Arn: 'arn:aws:iam::123456789012:instance-profile/deleted-profile',
      Id: 'AIPAEXAMPLE0000000009',
    };
    snapshot.ssm!.ServiceSettings = [];
    fake = h.serve(snapshot);
    const result = await collect(snapshot, {
      scope: { kind: 'instances', instanceIds: ['i-00000000000000000'] },
    });
    expect(fake.calls.get('iam:GetInstanceProfile')).toBe(1);
    expect(result.snapshot.calls).toEqual({});
    const finding = auditSnapshot(result.snapshot, {
      rules: RULES,
      now: new Date(snapshot.collectedAt),
    }).findings.find((f) => f.ruleId === 'instance-permissions');
    expect(finding?.status).toBe('FAIL');
    expect(finding?.message).toContain('deleted-profile');
  });

  it('takes the account id from STS only when nothing else names it', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 0, hybridNodes: 0 });
    snapshot.ssm!.ServiceSettings = [];
    fake = h.serve(snapshot);
    const result = await collect(snapshot);
    expect(result.snapshot.accountId).toBe('123456789012');
    expect(fake.calls.get('sts:GetCallerIdentity')).toBe(1);
  });
});

describe('SDK configuration and IAM concurrency', () => {
  it('configures the SDK retry strategy on every client', async () => {
    for (const client of Object.values(h.clients)) {
      expect(await client.config.maxAttempts()).toBe(SDK_RETRY.maxAttempts);
      const strategy = await client.config.retryStrategy();
      // The SDK's adaptive strategy, wrapped so that denials and timeouts are not retried.
      expect(strategy).toBeInstanceOf(AuditRetryStrategy);
      expect((strategy as AuditRetryStrategy).inner.constructor.name).toBe('AdaptiveRetryStrategy');
      expect((strategy as { mode?: string }).mode).toBe('adaptive');
      expect(await client.config.retryStrategy()).toBe(strategy);
    }
  });

  it('never has more IAM calls in flight than the limit', async () => {
    const ctx = new CollectionContext({ iamConcurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    const slow = () =>
      ctx.call('iam:GetRole', async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return 1;
      });
    const results = await Promise.all(Array.from({ length: 25 }, slow));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(peak).toBe(3);
    expect(ctx.counts.get('iam:GetRole')).toBe(25);
  });
});
