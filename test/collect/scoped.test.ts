import { RULES } from '../../rules';
import { auditSnapshot } from '../../shared/engine/audit';
import { FETCH_ALL } from '../../shared/collect/collect';
import { RoleNotFoundError, type CollectionScope } from '../../shared/collect/scope';
import { UsageError } from '../../shared/errors';
import type { Finding } from '../../shared/model';
import { parseSnapshot } from '../../shared/snapshot/load';
import type { Snapshot, SnapshotInput } from '../../shared/snapshot/schema';
import { buildCollectionFleet } from '../support/collection-fleet';
import { deniedError, type FakeAws } from '../support/fake-aws';
import { collectionHarness } from '../support/collection-harness';

const h = collectionHarness();

const key = (f: Finding) => `${f.resourceId} ${f.ruleId} ${f.status} ${f.reason} ${f.message}`;
const findingsOf = (snapshot: Snapshot) =>
  auditSnapshot(snapshot, { rules: RULES, now: new Date(snapshot.collectedAt), evaluatedAt: new Date(0) })
    .findings;

/** The whole-region audit's findings for just these resources: what a scoped audit must reproduce. */
function expectedFor(source: SnapshotInput, ids: (id: string) => boolean): string[] {
  return findingsOf(parseSnapshot(source))
    .filter((f) => f.resourceType !== 'Account' && ids(f.resourceId))
    .map(key)
    .sort();
}

async function collectScope(source: SnapshotInput, scope: CollectionScope, fail: Record<string, Error> = {}) {
  const fake = h.serve(source, { fail });
  const result = await h.collect(source, { scope });
  return { result, fake, findings: findingsOf(result.snapshot) };
}

const fleet = () => buildCollectionFleet({ instances: 300, profiles: 20, hybridNodes: 10 });
const instancesWhere = (
  source: SnapshotInput,
  predicate: (i: { VpcId?: string; IamInstanceProfile?: { Arn: string } }) => boolean,
) =>
  new Set(
    (source.ec2?.Reservations ?? []).flatMap((r) => r.Instances.filter(predicate).map((i) => i.InstanceId)),
  );

describe('scoped collection', () => {
  it('instances: only the named EC2 instance and hybrid node, with the findings a full audit gives them', async () => {
    const { snapshot: source } = fleet();
    const ids = ['i-00000000000000007', 'mi-00000000000000002'];
    const { findings, fake } = await collectScope(source, { kind: 'instances', instanceIds: ids });
    expect(findings.map(key).sort()).toEqual(expectedFor(source, (id) => ids.includes(id)));
    expect(new Set(findings.map((f) => f.resourceId))).toEqual(new Set(ids));
    expect(fake.inputs.get('ec2:DescribeInstances')).toEqual([
      {
        Filters: [{ Name: 'instance-id', Values: ['i-00000000000000007'] }],
        MaxResults: 1000,
        NextToken: undefined,
      },
    ]);
    expect(fake.inputs.get('ssm:DescribeInstanceInformation')).toEqual([
      {
        Filters: [{ Key: 'InstanceIds', Values: ['i-00000000000000007', 'mi-00000000000000002'] }],
        MaxResults: 50,
        NextToken: undefined,
      },
    ]);
    // The hybrid node's role, fetched with per-role calls, not the account's whole IAM.
    expect(fake.calls.get('iam:GetAccountAuthorizationDetails')).toBeUndefined();
    expect((fake.inputs.get('iam:GetRole') as { RoleName: string }[]).map((i) => i.RoleName).sort()).toEqual([
      'app-07-role',
      'hybrid-role',
    ]);
  });

  it('vpc: the instances of one VPC and only that VPC’s network objects', async () => {
    const { snapshot: source } = fleet();
    const vpcId = 'vpc-0e0d00000000000b2';
    const inVpc = instancesWhere(source, (i) => i.VpcId === vpcId);
    const { findings, fake, result } = await collectScope(source, { kind: 'vpc', vpcId });
    expect(findings.map(key).sort()).toEqual(expectedFor(source, (id) => inVpc.has(id)));
    expect(inVpc.size).toBe(100);
    for (const action of [
      'ec2:DescribeSubnets',
      'ec2:DescribeRouteTables',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeVpcEndpoints',
    ]) {
      expect(fake.inputs.get(action)).toEqual([
        expect.objectContaining({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
      ]);
    }
    // NAT and internet gateways by the ids its route tables use.
    expect(fake.inputs.get('ec2:DescribeNatGateways')).toEqual([
      expect.objectContaining({ Filter: [{ Name: 'nat-gateway-id', Values: ['nat-0e0d0000000000011'] }] }),
    ]);
    expect(result.snapshot.ec2?.Vpcs?.map((v) => v.VpcId)).toEqual([vpcId]);
    expect(fake.calls.get('ec2:DescribeVpcAttribute')).toBeUndefined(); // no SSM endpoints in this VPC
    expect(fake.calls.get('ssm:DescribeActivations')).toBeUndefined();
  });

  it('role: the instances whose profile carries the role, found through the profile ARN', async () => {
    const { snapshot: source } = fleet();
    const arn = 'arn:aws:iam::123456789012:instance-profile/app-03';
    const using = instancesWhere(source, (i) => i.IamInstanceProfile?.Arn === arn);
    const { findings, fake } = await collectScope(source, { kind: 'role', roleName: 'app-03-role' });
    expect(using.size).toBe(15);
    expect(findings.map(key).sort()).toEqual(expectedFor(source, (id) => using.has(id)));
    expect(fake.inputs.get('iam:ListInstanceProfilesForRole')).toEqual([
      { RoleName: 'app-03-role', Marker: undefined },
    ]);
    expect(fake.inputs.get('ec2:DescribeInstances')).toEqual([
      expect.objectContaining({ Filters: [{ Name: 'iam-instance-profile.arn', Values: [arn] }] }),
    ]);
  });

  it('role: a hybrid service role re-evaluates the hybrid nodes registered with it', async () => {
    const { snapshot: source } = fleet();
    const { findings, fake } = await collectScope(source, { kind: 'role', roleName: 'hybrid-role' });
    const hybrids = new Set(findings.map((f) => f.resourceId));
    expect(hybrids.size).toBe(10);
    expect([...hybrids].every((id) => id.startsWith('mi-'))).toBe(true);
    expect(findings.map(key).sort()).toEqual(expectedFor(source, (id) => hybrids.has(id)));
    expect(fake.calls.get('ec2:DescribeInstances')).toBeUndefined(); // no profile carries it
  });

  it('role: the DHMC role concerns every instance, so the scope widens to the region', async () => {
    const { snapshot: source } = fleet();
    const { findings, fake } = await collectScope(source, { kind: 'role', roleName: 'dhmc-role' });
    expect(fake.calls.get('iam:ListInstanceProfilesForRole')).toBeUndefined();
    expect(
      new Set(findings.filter((f) => f.resourceType === 'EC2Instance').map((f) => f.resourceId)).size,
    ).toBe(300);
  });

  it('role: when the profiles cannot be listed, it widens to the region and records the denial', async () => {
    const { snapshot: source } = fleet();
    const { findings, result } = await collectScope(
      source,
      { kind: 'role', roleName: 'app-03-role' },
      { 'iam:ListInstanceProfilesForRole': deniedError('iam:ListInstanceProfilesForRole') },
    );
    expect(result.snapshot.calls['iam:ListInstanceProfilesForRole']).toMatchObject({
      status: 'denied',
      error: 'AccessDenied',
    });
    const all = instancesWhere(source, () => true);
    expect(
      new Set(findings.filter((f) => f.resourceType === 'EC2Instance').map((f) => f.resourceId)),
    ).toEqual(all);
  });

  it('role: a role that does not exist says so (NoSuchEntity), instead of auditing the whole region', async () => {
    const { snapshot: source } = fleet();
    const fake = h.serve(source);
    const collecting = h.collect(source, { scope: { kind: 'role', roleName: 'does-not-exist' } });
    await expect(collecting).rejects.toThrow(RoleNotFoundError);
    await expect(collecting).rejects.toThrow(
      /^IAM role does-not-exist does not exist \(iam:ListInstanceProfilesForRole: NoSuchEntity\): no instance profile carries it and no hybrid node is registered with it/,
    );
    // A usage error: the CLI prints it and exits 2 (bad input).
    await expect(collecting).rejects.toBeInstanceOf(UsageError);
    expect(fake.calls.get('ec2:DescribeInstances')).toBeUndefined();
    expect(fake.calls.get('iam:GetAccountAuthorizationDetails')).toBeUndefined();
  });

  it('role: a deleted role that hybrid nodes are still registered with audits them: the role is not found', async () => {
    const { snapshot: source } = fleet();
    source.iam!.RoleDetailList = source.iam!.RoleDetailList!.filter((r) => r.RoleName !== 'hybrid-role');
    const { findings, fake, result } = await collectScope(source, { kind: 'role', roleName: 'hybrid-role' });
    const roleFindings = findings.filter((f) => f.ruleId === 'hybrid-service-role');
    expect(roleFindings).toHaveLength(10);
    expect(new Set(roleFindings.map((f) => f.reason))).toEqual(new Set(['HYBRID_ROLE_NOT_FOUND']));
    expect(fake.calls.get('ec2:DescribeInstances')).toBeUndefined();
    expect(result.snapshot.calls).toEqual({});
  });

  it('fetches the DHMC role when the profile denies registration on this instance (instance/*), as the rules decide', async () => {
    const { snapshot: source } = fleet();
    const role = source.iam!.RoleDetailList!.find((r) => r.RoleName === 'app-03-role')!;
    role.RolePolicyList = [
      ...(role.RolePolicyList ?? []),
      {
        PolicyName: 'no-registration-here',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Action: 'ssm:UpdateInstanceInformation',
              Resource: 'arn:aws:ec2:*:*:instance/*',
            },
          ],
        },
      },
    ];
    const { fake } = await collectScope(source, { kind: 'instances', instanceIds: ['i-00000000000000003'] });
    const roles = (fake.inputs.get('iam:GetRole') as { RoleName: string }[]).map((i) => i.RoleName);
    expect(roles).toContain('dhmc-role');
  });

  it('the collector asks the fetch plan (it never evaluates): without a plan it reads the DHMC role anyway', async () => {
    const { snapshot: source } = fleet();
    const scope: CollectionScope = { kind: 'instances', instanceIds: ['i-00000000000000003'] };
    const asked: { roles: string[]; instances: unknown }[] = [];
    h.serve(source);
    await h.collect(source, {
      scope,
      plan: {
        needsDhmcRole: (partial, instances) => {
          asked.push({ roles: (partial.iam?.RoleDetailList ?? []).map((r) => r.RoleName), instances });
          return false;
        },
      },
    });
    expect(asked).toEqual([
      {
        roles: ['app-03-role'],
        instances: [
          {
            instanceId: 'i-00000000000000003',
            profileArn: 'arn:aws:iam::123456789012:instance-profile/app-03',
          },
        ],
      },
    ]);
    const fake = h.serve(source);
    await h.collect(source, { scope, plan: FETCH_ALL });
    expect((fake.inputs.get('iam:GetRole') as { RoleName: string }[]).map((i) => i.RoleName)).toEqual([
      'app-03-role',
      'dhmc-role',
    ]);
  });

  it('fetches the DHMC role only when an instance in scope falls back to it', async () => {
    const { snapshot: source } = fleet();
    source.ec2!.Reservations![4]!.Instances[0]!.IamInstanceProfile = undefined; // i-...4: no profile
    const covered = await collectScope(source, { kind: 'instances', instanceIds: ['i-00000000000000003'] });
    const roles = (f: FakeAws) =>
      (f.inputs.get('iam:GetRole') as { RoleName: string }[]).map((i) => i.RoleName);
    expect(roles(covered.fake)).toEqual(['app-03-role']);
    const { findings, fake } = await collectScope(source, {
      kind: 'instances',
      instanceIds: ['i-00000000000000004'],
    });
    expect(roles(fake)).toEqual(['dhmc-role']);
    expect(findings.map(key).sort()).toEqual(expectedFor(source, (id) => id === 'i-00000000000000004'));
    expect(findings.find((f) => f.ruleId === 'instance-permissions')?.reason).toBe('DHMC_PATH_OK');
  });

  it('fetches each profile, role and policy once however many instances share it', async () => {
    const { snapshot: source } = fleet();
    // The DHMC role doubles as an instance profile role, and one instance falls back to DHMC.
    const dhmc = source.iam!.RoleDetailList!.find((r) => r.RoleName === 'dhmc-role')!;
    dhmc.InstanceProfileList = [
      { InstanceProfileName: 'dhmc-profile', Arn: 'arn:aws:iam::123456789012:instance-profile/dhmc-profile' },
    ];
    source.ec2!.Reservations![1]!.Instances[0]!.IamInstanceProfile = {
      Arn: 'arn:aws:iam::123456789012:instance-profile/dhmc-profile',
    };
    source.ec2!.Reservations![4]!.Instances[0]!.IamInstanceProfile = undefined;
    const { fake } = await collectScope(source, { kind: 'vpc', vpcId: 'vpc-0e0d00000000000b2' });
    for (const [action, field] of [
      ['iam:GetInstanceProfile', 'InstanceProfileName'],
      ['iam:GetRole', 'RoleName'],
      ['iam:ListAttachedRolePolicies', 'RoleName'],
      ['iam:GetPolicy', 'PolicyArn'],
      ['iam:GetPolicyVersion', 'PolicyArn'],
    ] as const) {
      const asked = (fake.inputs.get(action) as Record<string, string>[]).map((i) => i[field]);
      expect([action, asked.length]).toEqual([action, new Set(asked).size]);
    }
    expect(fake.calls.get('iam:GetInstanceProfile')).toBe(21); // 20 app profiles + dhmc-profile
    expect(
      (fake.inputs.get('iam:GetRole') as { RoleName: string }[]).filter((i) => i.RoleName === 'dhmc-role'),
    ).toHaveLength(1);
  });

  it('a scoped snapshot never yields account-level findings computed from part of the account', async () => {
    const { snapshot: source } = fleet();
    const { findings, result } = await collectScope(source, {
      kind: 'instances',
      instanceIds: ['i-00000000000000001'],
    });
    expect(result.snapshot.scope).toEqual({ kind: 'instances', instanceIds: ['i-00000000000000001'] });
    expect(findings.some((f) => f.resourceType === 'Account')).toBe(false);
    expect(result.snapshot.ssm?.ActivationList).toBeUndefined();
  });

  it('an instance that no longer exists gives an empty scope, not an error', async () => {
    const { snapshot: source } = fleet();
    const { findings, result, fake } = await collectScope(source, {
      kind: 'instances',
      instanceIds: ['i-0ffffffffffffffff'],
    });
    expect(findings).toEqual([]);
    expect(result.snapshot.calls).toEqual({});
    expect(fake.calls.get('ec2:DescribeVpcs')).toBeUndefined();
  });

  it('a denied DescribeInstances in an instance scope is reported, not silently empty', async () => {
    const { snapshot: source } = fleet();
    const { findings } = await collectScope(
      source,
      { kind: 'instances', instanceIds: ['i-00000000000000001'] },
      { 'ec2:DescribeInstances': deniedError('ec2:DescribeInstances') },
    );
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.status === 'ERROR' && f.message.includes('ec2:DescribeInstances'))).toBe(
      true,
    );
  });

  it.each<{ case: string; scope: CollectionScope; denied: string }>([
    {
      case: 'a VPC scope',
      scope: { kind: 'vpc', vpcId: 'vpc-0e0d00000000000b2' },
      denied: 'ec2:DescribeInstances',
    },
    {
      case: 'a role scope',
      scope: { kind: 'role', roleName: 'app-03-role' },
      denied: 'ec2:DescribeInstances',
    },
    {
      case: 'a role scope (hybrid nodes)',
      scope: { kind: 'role', roleName: 'hybrid-role' },
      denied: 'ssm:DescribeInstanceInformation',
    },
  ])('a denied listing in $case is reported, although no resource id is known', async ({ scope, denied }) => {
    const { snapshot: source } = fleet();
    const { findings } = await collectScope(source, scope, { [denied]: deniedError(denied) });
    const errors = findings.filter((f) => f.status === 'ERROR' && f.message.includes(denied));
    expect(errors.length).toBeGreaterThan(0);
    expect(findings.some((f) => f.status === 'PASS')).toBe(false);
  });
});
