import { RULES } from '../rules';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACCOUNT,
  aManagedPolicy,
  aNetwork,
  anInstance,
  aRole,
  aSnapshot,
  allow,
  deny,
  instanceInfo,
  managedPolicyArn,
  MANAGEMENT_ACCOUNT,
  NET,
  ORG_ID,
  OU_ID,
  ROOT_ID,
  anOrganization,
  policy,
  REGION,
  trustFor,
  type PolicyDoc,
} from './support/builders';
import { auditSnapshot } from '../shared/engine/audit';
import { SnapshotValidationError } from '../shared/errors';
import { buildInventory } from '../shared/snapshot/inventory';
import { CORE_AGENT_ACTIONS, DHMC_SETTING_ID } from '../shared/knowledge/ssm-requirements';
import { loadSnapshotFile, parseSnapshot } from '../shared/snapshot/load';
import type { SnapshotInput } from '../shared/snapshot/schema';
import { audit, findingOf, NOW } from './support/helpers';

/** DESIGN §2: the snapshot format, its loader (schema + JSON paths) and the normalizer (inventory). */

const MINIMAL = {
  schemaVersion: 1,
  accountId: ACCOUNT,
  region: REGION,
  collectedAt: '2026-11-23T10:00:00Z',
};
const INSTANCE = 'i-0123456789abcdef0';

/** A deep copy of a valid snapshot with one change applied, for the "bad field" rows. */
function withChange(change: (s: Record<string, any>) => void): unknown {
  const copy = JSON.parse(JSON.stringify(aSnapshot({ instances: [anInstance({ id: INSTANCE })] })));
  change(copy);
  return copy;
}

function validationErrorOf(action: () => unknown): SnapshotValidationError {
  try {
    action();
  } catch (err) {
    if (err instanceof SnapshotValidationError) return err;
    throw err;
  }
  throw new Error('expected a SnapshotValidationError, nothing was thrown');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-audit-load-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseSnapshot', () => {
  it('accepts a minimal snapshot and fills the defaults', () => {
    // Act
    const snapshot = parseSnapshot(MINIMAL);
    // Assess
    expect(snapshot).toMatchObject({ ...MINIMAL, partition: 'aws', calls: {} });
    expect(snapshot.ec2).toBeUndefined();
  });

  it('accepts a full snapshot built in AWS shapes', () => {
    // Act
    const snapshot = parseSnapshot(aSnapshot({ instances: [anInstance({ id: INSTANCE })], ec2: aNetwork() }));
    // Assess
    expect(snapshot.ec2?.Reservations?.[0]?.Instances[0]?.InstanceId).toBe(INSTANCE);
  });

  it.each([
    {
      case: 'wrong schemaVersion',
      given: withChange((s) => (s.schemaVersion = 2)),
      expected: { path: '$.schemaVersion' },
    },
    {
      case: 'an instance without State',
      given: withChange((s) => delete s.ec2.Reservations[0].Instances[0].State),
      expected: { path: '$.ec2.Reservations[0].Instances[0].State', problem: /missing required field/ },
    },
    {
      case: 'a malformed instance id',
      given: withChange((s) => (s.ec2.Reservations[0].Instances[0].InstanceId = 'i-not-an-id')),
      expected: { path: '$.ec2.Reservations[0].Instances[0].InstanceId', problem: /EC2 instance id/ },
    },
    {
      case: 'an account id that is not 12 digits',
      given: withChange((s) => (s.accountId = '12345')),
      expected: { path: '$.accountId', problem: /12-digit/ },
    },
    {
      case: 'an unknown call status',
      given: withChange(
        (s) => (s.calls = { 'ec2:DescribeVpcs': { status: 'forbidden', error: 'UnauthorizedOperation' } }),
      ),
      expected: { path: '$.calls["ec2:DescribeVpcs"].status' },
    },
  ])('rejects $case with the JSON path of the bad field', ({ given, expected }) => {
    // Act
    const error = validationErrorOf(() => parseSnapshot(given));
    // Assess
    expect(error.path).toBe(expected.path);
    expect(error.message).toContain(expected.path);
    if (expected.problem) expect(error.problem).toMatch(expected.problem);
  });
});

describe('loadSnapshotFile', () => {
  it('reads and validates a snapshot file', async () => {
    // Prepare
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(MINIMAL));
    // Act
    const snapshot = await loadSnapshotFile(file);
    // Assess
    expect(snapshot.accountId).toBe(ACCOUNT);
  });

  it('rejects a file that is not JSON, naming the file', async () => {
    // Prepare
    const file = join(dir, 'not-json.json');
    writeFileSync(file, '{"schemaVersion": 1, "accountId": ');
    // Act
    const promise = loadSnapshotFile(file);
    // Assess
    await expect(promise).rejects.toBeInstanceOf(SnapshotValidationError);
    await expect(promise).rejects.toThrow(/not valid JSON/);
    await expect(promise).rejects.toThrow(file);
  });

  it('rejects a missing file with "file not found"', async () => {
    // Act
    const promise = loadSnapshotFile(join(dir, 'nope.json'));
    // Assess
    await expect(promise).rejects.toBeInstanceOf(SnapshotValidationError);
    await expect(promise).rejects.toThrow(/file not found/);
  });

  it('names the JSON path of a bad field in a file', async () => {
    // Prepare
    const file = join(dir, 'bad-state.json');
    writeFileSync(file, JSON.stringify(withChange((s) => delete s.ec2.Reservations[0].Instances[0].State)));
    // Act / Assess
    await expect(loadSnapshotFile(file)).rejects.toThrow('$.ec2.Reservations[0].Instances[0].State');
  });
});

describe('policy documents: URL-encoded (raw IAM API) and objects (AWS CLI) decide the same', () => {
  const ROLE = 'SSMServiceRole';
  const MI = 'mi-0123456789abcdef0';
  const CUSTOMER_POLICY = managedPolicyArn('SsmAgentCore');
  const agentPolicy = policy(allow([...CORE_AGENT_ACTIONS]));
  const noDataChannel = policy(deny('ssmmessages:OpenDataChannel'));

  function snapshotWith(encode: boolean): SnapshotInput {
    const doc = (d: PolicyDoc) => (encode ? encodeURIComponent(JSON.stringify(d)) : d);
    return aSnapshot({
      infos: [instanceInfo({ id: MI, iamRole: ROLE })],
      roles: [
        aRole({
          name: ROLE,
          trust: doc(trustFor('ssm.amazonaws.com')),
          managed: [CUSTOMER_POLICY],
          inline: { 'no-data-channel': doc(noDataChannel) },
        }),
      ],
      policies: [aManagedPolicy(CUSTOMER_POLICY, agentPolicy, { encode })],
    });
  }

  it('gives the same finding for both forms', () => {
    // Act
    const [encoded, objects] = [true, false].map((encode) =>
      findingOf(audit(snapshotWith(encode), { ruleIds: ['hybrid-service-role'] }), 'hybrid-service-role', MI),
    );
    // Assess: a real decision (the inline Deny is found in both forms), not an ERROR.
    expect(encoded).toMatchObject({
      status: 'FAIL',
      reason: 'HYBRID_ROLE_MISSING_ACTIONS',
      evidence: { deniedActions: ['ssmmessages:OpenDataChannel'] },
    });
    expect(objects).toEqual(encoded);
  });

  it('a trust policy that is valid both ways yields a trusted role both ways', () => {
    // Prepare
    const trust = trustFor('ssm.amazonaws.com');
    const roleWith = (t: PolicyDoc | string) =>
      buildInventory(parseSnapshot(aSnapshot({ roles: [aRole({ name: ROLE, trust: t })] }))).roles.get(
        ROLE.toLowerCase(),
      )?.trust;
    // Act
    const fromEncoded = roleWith(encodeURIComponent(JSON.stringify(trust)));
    const fromObject = roleWith(trust);
    // Assess
    expect(fromEncoded).toEqual(fromObject);
    expect(fromObject?.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'ssm.amazonaws.com' },
    });
  });

  it.each([
    {
      case: 'a truncated URL-encoded inline policy',
      given: '%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B',
      expected: { path: '$.iam.RoleDetailList[0].RolePolicyList[0].PolicyDocument' },
    },
    {
      case: 'an invalid percent-escape in an inline policy',
      given: '%7B%22Version%22%3A%E0%A4%A',
      expected: { path: '$.iam.RoleDetailList[0].RolePolicyList[0].PolicyDocument' },
    },
  ])('buildInventory rejects $case with its JSON path', ({ given, expected }) => {
    // Prepare: valid for the schema (a non-empty string), broken for IAM.
    const snapshot = parseSnapshot(
      aSnapshot({
        roles: [aRole({ name: ROLE, trust: trustFor('ssm.amazonaws.com'), inline: { broken: given } })],
      }),
    );
    // Act
    const error = validationErrorOf(() => buildInventory(snapshot));
    // Assess
    expect(error.path).toBe(expected.path);
    expect(error.message).toContain(expected.path);
  });

  it('names the path of a malformed trust policy and of a managed policy version', () => {
    // Prepare
    const badTrust = parseSnapshot(aSnapshot({ roles: [aRole({ name: ROLE, trust: '%7Bnot-json' })] }));
    const badManaged = parseSnapshot(
      aSnapshot({
        policies: [
          {
            Arn: CUSTOMER_POLICY,
            DefaultVersionId: 'v1',
            PolicyVersionList: [{ Document: '%7B%22Statement', VersionId: 'v1', IsDefaultVersion: true }],
          },
        ],
      }),
    );
    // Act / Assess
    expect(validationErrorOf(() => buildInventory(badTrust)).path).toBe(
      '$.iam.RoleDetailList[0].AssumeRolePolicyDocument',
    );
    expect(validationErrorOf(() => buildInventory(badManaged)).path).toBe(
      '$.iam.Policies[0].PolicyVersionList[0].Document',
    );
  });
});

describe('buildInventory', () => {
  const inventoryOf = (input: SnapshotInput) => buildInventory(parseSnapshot(input));

  it.each([
    {
      case: 'a subnet with an explicit association uses that table',
      given: { subnetId: NET.appSubnet },
      expected: { routeTableId: NET.appRouteTable },
    },
    {
      case: 'a subnet without an association uses the VPC main table',
      given: { subnetId: NET.endpointSubnet },
      expected: { routeTableId: 'rtb-0main000000000001' },
    },
    {
      case: 'an unknown subnet has no route table',
      given: { subnetId: 'subnet-0ffffffffffffffff' },
      expected: { routeTableId: undefined },
    },
  ])('route table: $case', ({ given, expected }) => {
    // Prepare
    const inventory = inventoryOf(aSnapshot({ ec2: aNetwork() }));
    // Act
    const table = inventory.routeTableForSubnet(given.subnetId);
    // Assess
    expect(table?.RouteTableId).toBe(expected.routeTableId);
  });

  it.each([
    { case: '{Value: true} (describe-vpc-attribute)', given: { Value: true }, expected: true },
    { case: '{Value: false}', given: { Value: false }, expected: false },
    { case: 'a bare true', given: true, expected: true },
    { case: 'a bare false', given: false, expected: false },
    { case: 'absent', given: undefined, expected: undefined },
  ])('EnableDnsSupport / EnableDnsHostnames given as $case', ({ given, expected }) => {
    // Prepare
    const network = aNetwork();
    const vpc = { ...network.Vpcs![0]!, EnableDnsSupport: given, EnableDnsHostnames: given };
    // Act
    const view = inventoryOf(aSnapshot({ ec2: { ...network, Vpcs: [vpc] } })).vpcs.get(NET.vpcId);
    // Assess
    expect({ support: view?.dnsSupport, hostnames: view?.dnsHostnames }).toEqual({
      support: expected,
      hostnames: expected,
    });
  });

  it('a failed call makes its section unavailable even when the data is present', () => {
    // Prepare
    const inventory = inventoryOf(
      aSnapshot({
        ec2: aNetwork({ endpoints: ['ssm', 'ssmmessages', 'ec2messages'] }),
        calls: { 'ec2:DescribeVpcEndpoints': { status: 'denied', error: 'UnauthorizedOperation' } },
      }),
    );
    // Act / Assess
    expect(inventory.section('ec2.VpcEndpoints')).toEqual({
      available: false,
      status: 'denied',
      call: 'ec2:DescribeVpcEndpoints',
      error: 'UnauthorizedOperation',
    });
    expect(inventory.section('ec2.Subnets')).toEqual({ available: true });
  });

  it('a section that is absent without a calls entry is "missing"', () => {
    // Prepare
    const { NatGateways: _omitted, ...network } = aNetwork();
    // Act
    const inventory = inventoryOf(aSnapshot({ ec2: network }));
    // Assess
    expect(inventory.section('ec2.NatGateways')).toMatchObject({
      available: false,
      status: 'missing',
      call: 'ec2:DescribeNatGateways',
    });
    expect(inventoryOf(MINIMAL as SnapshotInput).section('iam')).toMatchObject({
      available: false,
      status: 'missing',
    });
  });

  it('an empty section that was collected is available', () => {
    // Act
    const inventory = inventoryOf(aSnapshot({ activations: [] }));
    // Assess
    expect(inventory.section('ssm.ActivationList')).toEqual({ available: true });
  });
});

describe('raw AWS responses (test/fixtures/aws) assembled as the README says', () => {
  const fixture = (name: string) =>
    JSON.parse(readFileSync(join(__dirname, 'fixtures', 'aws', name), 'utf8')) as Record<string, any>;

  /** The README's jq recipe, in TypeScript: each response's list goes under its DESIGN §2 key. */
  function assemble(): unknown {
    const instances = fixture('ec2-describe-instances.json');
    const information = fixture('ssm-describe-instance-information.json');
    const dhmc = fixture('ssm-get-service-setting-dhmc.json');
    const iam = fixture('iam-get-account-authorization-details.json');
    return {
      schemaVersion: 1,
      accountId: ACCOUNT,
      region: REGION,
      partition: 'aws',
      collectedAt: '2026-11-23T10:00:00Z',
      calls: {},
      ec2: { Reservations: instances.Reservations },
      ssm: {
        InstanceInformationList: information.InstanceInformationList,
        ServiceSettings: [dhmc.ServiceSetting],
        ActivationList: [],
      },
      iam: { RoleDetailList: iam.RoleDetailList, Policies: iam.Policies },
    };
  }

  it('the fixtures are raw API output: URL-encoded documents, several reservations', () => {
    const iam = fixture('iam-get-account-authorization-details.json');
    expect(iam.RoleDetailList[0].AssumeRolePolicyDocument).toMatch(/^%7B/);
    expect(iam.Policies[0].PolicyVersionList[0].Document).toMatch(/^%7B/);
    expect(fixture('ec2-describe-instances.json').Reservations).toHaveLength(2);
  });

  it('normalizes them into the inventory', () => {
    // Act
    const inventory = buildInventory(parseSnapshot(assemble()));
    // Assess
    expect([...inventory.instances.keys()].sort()).toEqual([
      'i-0a1b2c3d4e5f60001',
      'i-0a1b2c3d4e5f60002',
      'i-0a1b2c3d4e5f60003',
    ]);
    expect(inventory.instances.get('i-0a1b2c3d4e5f60001')).toMatchObject({
      state: 'running',
      instanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/AppServerProfile`,
      imdsV2Required: true,
      securityGroupIds: ['sg-0a1b2c3d4e5f60001'],
      info: expect.objectContaining({ PingStatus: 'Online' }),
    });
    // The public IP of the Windows instance is only on its network interface.
    expect(inventory.instances.get('i-0a1b2c3d4e5f60002')).toMatchObject({
      publicIp: '54.170.22.9',
      imdsV2Required: false,
    });
    expect(inventory.hybridNodes.get('mi-0b1c2d3e4f5a60001')).toMatchObject({ roleName: 'SSMServiceRole' });
    expect(
      inventory.instanceProfiles.get(`arn:aws:iam::${ACCOUNT}:instance-profile/AppServerProfile`),
    ).toMatchObject({
      roleName: 'AppServerRole',
    });
    // The managed policy document came from the snapshot (its default version), not the built-in copy.
    expect(inventory.roles.get('appserverrole')?.builtInPolicyArns).toEqual([]);
    expect(inventory.dhmc).toEqual({
      state: 'on',
      roleName: 'AWSSystemsManagerDefaultEC2InstanceManagementRole',
      settingValue: 'service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole',
    });
    expect(inventory.serviceSettings.has(DHMC_SETTING_ID)).toBe(true);
  });

  it('audits them: every decision the raw data supports, ERROR where a section was not collected', () => {
    // Act
    const result = auditSnapshot(parseSnapshot(assemble()), { rules: RULES, now: NOW });
    const verdict = (ruleId: Parameters<typeof findingOf>[1], id: string) => {
      const f = findingOf(result, ruleId, id);
      return `${f.status} ${f.reason}`;
    };
    // Assess
    expect({
      appPermissions: verdict('instance-permissions', 'i-0a1b2c3d4e5f60001'),
      windowsPermissions: verdict('instance-permissions', 'i-0a1b2c3d4e5f60002'),
      windowsManaged: verdict('managed-status', 'i-0a1b2c3d4e5f60002'),
      stoppedManaged: verdict('managed-status', 'i-0a1b2c3d4e5f60003'),
      appOs: verdict('supported-os', 'i-0a1b2c3d4e5f60001'),
      hybridRole: verdict('hybrid-service-role', 'mi-0b1c2d3e4f5a60001'),
      hybridOs: verdict('supported-os', 'mi-0b1c2d3e4f5a60001'),
      appNetwork: verdict('network-path', 'i-0a1b2c3d4e5f60001'),
    }).toEqual({
      appPermissions: 'PASS PROFILE_GRANTS_CORE',
      // No profile, DHMC on, but HttpTokens optional: seed 002 DHMC needs IMDSv2.
      windowsPermissions: 'FAIL DHMC_REQUIRES_IMDSV2',
      windowsManaged: 'FAIL UNMANAGED',
      stoppedManaged: 'NOT_APPLICABLE INSTANCE_STOPPED',
      appOs: 'PASS OS_SUPPORTED',
      hybridRole: 'PASS HYBRID_ROLE_OK',
      hybridOs: 'PASS OS_SUPPORTED',
      // The recipe here collected no network sections.
      appNetwork: 'ERROR SECTION_NOT_COLLECTED',
    });
    expect(result.findings.every((f) => f.accountId === ACCOUNT && f.region === REGION)).toBe(true);
  });
});

describe('timestamps: ISO 8601 or epoch numbers, anything else rejects the snapshot (issue 9)', () => {
  const ACTIVATION = 'e488f2f6-e686-4afb-8a04-ef6dfe1a2b3c';
  const MI_ID = 'mi-0123456789abcdef0';
  /** A snapshot with one of every timestamp the schema reads, each set by `set`. */
  const withTimestamps = (value: unknown) =>
    withChange((s) => {
      s.ssm.ActivationList = [
        { ActivationId: ACTIVATION, RegistrationLimit: 10, ExpirationDate: value, CreatedDate: value },
      ];
      s.ssm.InstanceInformationList = [
        { InstanceId: MI_ID, PingStatus: 'Online', LastPingDateTime: value, RegistrationDate: value },
      ];
      s.ssm.ServiceSettings[0].LastModifiedDate = value;
      s.ec2.Reservations[0].Instances[0].LaunchTime = value;
      s.collectedAt = value;
    });

  it.each([
    { case: 'not a date', field: '$.ssm.ActivationList[0].ExpirationDate', value: 'not a date' },
    {
      case: 'an impossible day',
      field: '$.ssm.ActivationList[0].ExpirationDate',
      value: '2026-02-30T00:00:00Z',
    },
    { case: 'no time zone', field: '$.ssm.ActivationList[0].ExpirationDate', value: '2026-01-01T00:00:00' },
    { case: 'a boolean', field: '$.ssm.ActivationList[0].ExpirationDate', value: true },
    { case: 'an empty string', field: '$.ssm.ActivationList[0].CreatedDate', value: '' },
    { case: 'a bad LaunchTime', field: '$.ec2.Reservations[0].Instances[0].LaunchTime', value: 'yesterday' },
    {
      case: 'a bad LastPingDateTime',
      field: '$.ssm.InstanceInformationList[0].LastPingDateTime',
      value: '2026-13-01T00:00:00Z',
    },
    {
      case: 'a bad RegistrationDate',
      field: '$.ssm.InstanceInformationList[0].RegistrationDate',
      value: 'soon',
    },
    { case: 'a bad LastModifiedDate', field: '$.ssm.ServiceSettings[0].LastModifiedDate', value: 'x' },
    { case: 'a bad collectedAt', field: '$.collectedAt', value: 'now' },
    { case: 'an epoch number out of range', field: '$.collectedAt', value: 1e20 },
  ])('rejects $case at $field', ({ field, value }) => {
    // Prepare: every other timestamp is valid
    const snapshot = withTimestamps('2026-11-01T00:00:00Z') as Record<string, any>;
    const [, ...keys] = field.split(/\.|\[|\]\.?/).filter(Boolean);
    let target = snapshot;
    for (const key of keys.slice(0, -1)) target = target[key];
    target[keys.at(-1)!] = value;
    // Act
    const error = validationErrorOf(() => parseSnapshot(snapshot));
    // Assess
    expect(error.path).toBe(field);
    expect(error.problem).toBe(`not a timestamp (${JSON.stringify(value)})`);
  });

  it('an expired activation with an unreadable ExpirationDate is rejected, not a PASS', () => {
    const snapshot = aSnapshot({
      activations: [
        {
          ActivationId: ACTIVATION,
          IamRole: 'SSMServiceRole',
          RegistrationLimit: 10,
          ExpirationDate: 'not a date',
          Expired: false,
        },
      ],
    });
    expect(() => audit(snapshot)).toThrow(
      'invalid snapshot at $.ssm.ActivationList[0].ExpirationDate: not a timestamp ("not a date")',
    );
  });

  it('echoes at most 64 characters of a bad value', () => {
    const error = validationErrorOf(() => parseSnapshot(withTimestamps('x'.repeat(100_000))));
    expect(error.problem).toBe(`not a timestamp ("${'x'.repeat(64)}"…)`);
  });

  it.each([
    { case: 'ISO with Z', value: '2026-01-01T00:00:00Z' },
    { case: 'ISO with an offset (aws CLI)', value: '2026-01-01T00:00:00+00:00' },
    { case: 'ISO with microseconds (aws CLI v2)', value: '2026-01-01T00:00:00.000000+00:00' },
    { case: 'ISO with another offset', value: '2026-01-01T02:00:00+02:00' },
    { case: 'ISO with a compact offset', value: '2026-01-01T02:00:00+0200' },
    { case: 'a date', value: '2026-01-01' },
    { case: 'epoch seconds (old aws CLI)', value: 1767225600 },
    { case: 'epoch seconds with a fraction', value: 1767225600.0004 },
    { case: 'epoch milliseconds', value: 1767225600000 },
    { case: 'a Date (the SDK, live)', value: new Date(Date.UTC(2026, 0, 1)) },
  ])('accepts $case, and the expired activation is a WARN', ({ value }) => {
    // Act
    const snapshot = parseSnapshot(withTimestamps(value));
    const result = audit(
      aSnapshot({
        activations: [
          { ActivationId: ACTIVATION, RegistrationLimit: 10, ExpirationDate: value, Expired: false },
        ],
      }),
    );
    // Assess: every reader sees the same instant
    for (const read of [
      snapshot.collectedAt,
      snapshot.ssm!.ActivationList![0]!.ExpirationDate!,
      snapshot.ec2!.Reservations![0]!.Instances[0]!.LaunchTime!,
      snapshot.ssm!.InstanceInformationList![0]!.LastPingDateTime!,
    ]) {
      expect(new Date(read).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    }
    expect(findingOf(result, 'activations', ACTIVATION)).toMatchObject({
      status: 'WARN',
      reason: 'ACTIVATION_EXPIRED',
    });
  });
});

describe('loadSnapshotFile: encodings', () => {
  it('accepts a file that starts with a UTF-8 byte order mark', async () => {
    // Prepare
    const file = join(dir, 'bom.json');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(MINIMAL))]),
    );
    // Act
    const snapshot = await loadSnapshotFile(file);
    // Assess
    expect(snapshot.accountId).toBe(ACCOUNT);
  });
});

describe('the optional organizations section (service control policies, DESIGN §7)', () => {
  const withOrganizations = (change: (o: Record<string, any>) => void = () => {}) => {
    const snapshot = JSON.parse(
      JSON.stringify(
        aSnapshot({ instances: [anInstance({ id: INSTANCE })], organizations: anOrganization() }),
      ),
    );
    change(snapshot.organizations);
    return snapshot;
  };

  it('is optional: a snapshot without it is valid, and the SCP layer is "not collected"', () => {
    // Act
    const inventory = buildInventory(parseSnapshot(MINIMAL));
    // Assess
    expect(inventory.organizations).toEqual({ state: 'notCollected' });
    expect(inventory.section('organizations')).toMatchObject({ available: false, status: 'missing' });
  });

  it('normalizes the chain root → OU → account with each target’s SCPs and their documents', () => {
    // Act
    const inventory = buildInventory(parseSnapshot(withOrganizations()));
    // Assess
    const view = inventory.organizations;
    if (view.state !== 'collected') throw new Error(`expected collected, got ${view.state}`);
    expect(view.organizationId).toBe(ORG_ID);
    expect(view.managementAccountId).toBe(MANAGEMENT_ACCOUNT);
    expect(view.chain?.map((l) => [l.type, l.id, l.name, l.policies?.map((p) => p.id)])).toEqual([
      ['ROOT', ROOT_ID, 'Root', ['p-FullAWSAccess']],
      ['ORGANIZATIONAL_UNIT', OU_ID, 'Workloads', ['p-FullAWSAccess']],
      ['ACCOUNT', ACCOUNT, 'prod', ['p-FullAWSAccess']],
    ]);
    expect(view.chain?.[0]?.policies?.[0]?.document?.Statement).toEqual([
      { Effect: 'Allow', Action: '*', Resource: '*' },
    ]);
    expect(inventory.section('organizations')).toEqual({ available: true });
  });

  it('accepts Content as an object (AWS CLI) or as the JSON string DescribePolicy returns', () => {
    // Prepare
    const asObject = withOrganizations((o) => {
      for (const p of o.Policies) p.Content = JSON.parse(p.Content);
    });
    // Act
    const view = buildInventory(parseSnapshot(asObject)).organizations;
    // Assess
    expect(view.state === 'collected' && view.chain?.[2]?.policies?.[0]?.document?.Statement).toEqual([
      { Effect: 'Allow', Action: '*', Resource: '*' },
    ]);
  });

  it('a policy listed on a target without a DescribePolicy result has no document; a target without Policies has none listed', () => {
    // Prepare
    const snapshot = withOrganizations((o) => {
      o.Policies = [];
      delete o.TargetChain[1].Policies;
    });
    // Act
    const view = buildInventory(parseSnapshot(snapshot)).organizations;
    // Assess
    if (view.state !== 'collected') throw new Error('expected collected');
    expect(view.chain?.[0]?.policies).toEqual([
      { id: 'p-FullAWSAccess', name: 'FullAWSAccess', arn: expect.any(String), awsManaged: true },
    ]);
    expect(view.chain?.[1]?.policies).toBeUndefined();
  });

  it('null (what jq writes for a failed call) reads as absent; with a calls entry the SCPs are unavailable', () => {
    // Prepare
    const snapshot = {
      ...withOrganizations(),
      organizations: null,
      calls: { 'organizations:ListParents': { status: 'denied', error: 'AccessDeniedException' } },
    };
    // Act
    const inventory = buildInventory(parseSnapshot(snapshot));
    // Assess
    expect(inventory.organizations).toEqual({
      state: 'unavailable',
      availability: {
        available: false,
        status: 'denied',
        call: 'organizations:ListParents',
        error: 'AccessDeniedException',
      },
    });
  });

  it.each([
    {
      case: 'a target type AWS does not have',
      change: (o: Record<string, any>) => (o.TargetChain[1].Type = 'FOLDER'),
      path: '$.organizations.TargetChain[1].Type',
    },
    {
      case: 'a management account id that is not 12 digits',
      change: (o: Record<string, any>) => (o.ManagementAccountId = 'mgmt'),
      path: '$.organizations.ManagementAccountId',
    },
    {
      case: 'a policy summary without Id',
      change: (o: Record<string, any>) => delete o.Policies[0].PolicySummary.Id,
      path: '$.organizations.Policies[0].PolicySummary.Id',
    },
  ])('rejects $case with the JSON path of the bad field', ({ change, path }) => {
    // Act
    const error = validationErrorOf(() => parseSnapshot(withOrganizations(change)));
    // Assess
    expect(error.path).toBe(path);
  });

  it('names the path of SCP content that is not a policy document', () => {
    // Prepare
    const snapshot = withOrganizations((o) => (o.Policies[0].Content = '{"Statement": "nope"'));
    // Act
    const error = validationErrorOf(() => buildInventory(parseSnapshot(snapshot)));
    // Assess
    expect(error.path).toBe('$.organizations.Policies[0].Content');
  });

  it('recognizes the raw output of aws organizations list-parents', () => {
    // Act
    const error = validationErrorOf(() =>
      parseSnapshot({ Parents: [{ Id: OU_ID, Type: 'ORGANIZATIONAL_UNIT' }] }),
    );
    // Assess
    expect(error.message).toContain('aws organizations list-parents');
  });
});
