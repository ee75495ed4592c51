import {
  aNetwork,
  aclEntry,
  allow,
  anInstance,
  aRole,
  aSnapshot,
  deny,
  instanceInfo,
  NET,
  policy,
  sgRule,
  type InfoSpec,
  type InstanceSpec,
  type NetworkSpec,
  type RoleDetailInput,
} from '../support/builders';
import { POLICY_ARNS } from '../../shared/knowledge/ssm-requirements';
import { audit, findingOf } from '../support/helpers';

const ID = 'i-0123456789abcdef0';
const ALL = ['ssm', 'ssmmessages', 'ec2messages'] as const;
const OLD_AGENT = { agentVersion: '3.2.1297.0' };
/** The interface endpoint ids aNetwork gives the three services (in ALL's order). */
const EP = {
  ssm: 'vpce-0ssm0000000000000',
  ssmmessages: 'vpce-0ssmmessages00001',
  ec2messages: 'vpce-0ec2messages00002',
} as const;
const ROLE = 'SSMInstanceRole';
const ROLE_ARN = `arn:aws:iam::123456789012:role/${ROLE}`;
/** The instance profile's role, granting the core agent actions: the agent signs with it. */
const PROFILE_ROLE = [aRole({ name: ROLE, profiles: ['SSMInstanceProfile'], managed: [POLICY_ARNS.core] })];
const ENDPOINTS_ONLY: NetworkSpec = { endpoints: ALL, defaultRoute: null };
const everyone = (statement: Record<string, unknown>) => ({ Principal: '*', ...statement });
const FULL_ACCESS = everyone(allow('*'));
const OPEN_OUT = aclEntry(100, true, 'allow', 'all');
const OPEN_IN = aclEntry(100, false, 'allow', 'all');

interface Row {
  case: string;
  network: NetworkSpec;
  instance?: Partial<InstanceSpec>;
  info?: Partial<InfoSpec> | null;
  calls?: Record<string, { status: 'denied' | 'error'; error: string }>;
  roles?: RoleDetailInput[];
  partition?: 'aws' | 'aws-us-gov';
  region?: string;
  status: string;
  reason: string;
  evidence?: Record<string, unknown>;
  /** Substrings the message must contain (what decided: ids, direction, rule, statement). */
  says?: string[];
}

const rows: Row[] = [
  {
    case: 'all three endpoints available with private DNS, no internet',
    network: { endpoints: ALL, defaultRoute: null },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'ssmmessages endpoint missing and no internet',
    network: { endpoints: ['ssm', 'ec2messages'], defaultRoute: null },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_MISSING',
    evidence: {
      services: expect.arrayContaining([
        expect.objectContaining({ service: 'ssmmessages', status: 'blocked' }),
      ]),
    },
  },
  {
    case: 'endpoints with private DNS off and no internet',
    network: { endpoints: ALL, endpointPrivateDns: false, defaultRoute: null },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_PRIVATE_DNS_DISABLED',
  },
  {
    case: 'endpoint security group without inbound 443',
    network: { endpoints: ALL, defaultRoute: null, endpointSgIngress: [sgRule(80, { cidr: NET.vpcCidr })] },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_SG_NO_443',
  },
  {
    case: "endpoint security group allowing 443 from the instance's security group",
    network: { endpoints: ALL, defaultRoute: null, endpointSgIngress: [sgRule(443, { group: NET.appSg })] },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: "endpoint security group allowing 443 only from the instance's own address (/32)",
    network: {
      endpoints: ALL,
      defaultRoute: null,
      endpointSgIngress: [sgRule(443, { cidr: '10.0.1.10/32' })],
    },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'endpoint security group allowing 443 only from another address in the subnet',
    network: {
      endpoints: ALL,
      defaultRoute: null,
      endpointSgIngress: [sgRule(443, { cidr: '10.0.1.99/32' })],
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_SG_NO_443',
  },
  {
    case: "endpoint without an interface in the instance's AZ: reachable across AZs, noted in evidence",
    network: { endpoints: ALL, defaultRoute: null },
    instance: { az: 'eu-west-1b' },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
    evidence: {
      services: expect.arrayContaining([
        expect.objectContaining({
          service: 'ssm',
          problems: [expect.objectContaining({ code: 'ENDPOINT_OTHER_AZ' })],
        }),
      ]),
    },
  },
  {
    case: 'VPC DNS hostnames off: private DNS names do not resolve',
    network: { endpoints: ALL, defaultRoute: null, dns: { hostnames: false } },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'VPC_DNS_DISABLED',
  },
  {
    case: 'VPC DNS support off',
    network: { endpoints: ALL, defaultRoute: null, dns: { support: false } },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'VPC_DNS_DISABLED',
  },
  {
    case: 'ec2messages endpoint missing, agent ≥ 3.3.40.0 no longer needs it',
    network: { endpoints: ['ssm', 'ssmmessages'], defaultRoute: null },
    info: { agentVersion: '3.3.40.0' },
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'ec2messages endpoint missing, agent older than 3.3.40.0',
    network: { endpoints: ['ssm', 'ssmmessages'], defaultRoute: null },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_MISSING',
  },
  {
    case: 'ec2messages endpoint missing, agent version unknown → still required',
    network: { endpoints: ['ssm', 'ssmmessages'], defaultRoute: null },
    info: null,
    status: 'FAIL',
    reason: 'ENDPOINT_MISSING',
  },
  {
    case: 'NAT gateway path, no endpoints → PASS with the endpoint recommendation',
    network: {},
    status: 'PASS',
    reason: 'INTERNET_PATH_OK',
    evidence: { recommendation: expect.stringContaining('VPC endpoints') },
  },
  {
    case: 'internet gateway path with a public IP',
    network: { defaultRoute: { igw: NET.igw } },
    instance: { publicIp: '34.253.223.13' },
    status: 'PASS',
    reason: 'INTERNET_PATH_OK',
  },
  {
    case: 'internet gateway path without a public IP',
    network: { defaultRoute: { igw: NET.igw } },
    status: 'FAIL',
    reason: 'IGW_WITHOUT_PUBLIC_IP',
  },
  {
    case: 'no endpoints and no default route',
    network: { defaultRoute: null },
    status: 'FAIL',
    reason: 'NO_DEFAULT_ROUTE',
  },
  {
    case: 'network ACL denies outbound 443',
    network: {
      appAclEntries: [
        aclEntry(90, true, 'deny', [443, 443]),
        aclEntry(100, true, 'allow', 'all'),
        aclEntry(100, false, 'allow', 'all'),
      ],
    },
    status: 'FAIL',
    reason: 'NACL_BLOCKS_443',
  },
  {
    case: 'network ACL allows 443 out but no inbound ephemeral ports',
    network: {
      appAclEntries: [aclEntry(100, true, 'allow', [443, 443]), aclEntry(100, false, 'allow', [22, 22])],
    },
    status: 'FAIL',
    reason: 'NACL_BLOCKS_EPHEMERAL',
  },
  {
    case: 'network ACL with exactly 443 out and 1024-65535 in',
    network: {
      appAclEntries: [aclEntry(100, true, 'allow', [443, 443]), aclEntry(100, false, 'allow', [1024, 65535])],
    },
    status: 'PASS',
    reason: 'INTERNET_PATH_OK',
  },
  {
    case: 'security group without egress 443',
    network: { appSgEgress: [sgRule(80, { cidr: '0.0.0.0/0' })] },
    status: 'FAIL',
    reason: 'SG_NO_EGRESS_443',
  },
  {
    case: 'security group egress 443 only to a prefix list cannot be verified',
    network: { appSgEgress: [sgRule(443, { prefixList: 'pl-6da54004' })] },
    status: 'WARN',
    reason: 'UNVERIFIABLE_SG_NO_EGRESS_443',
  },
  {
    case: 'default route to a transit gateway cannot be verified → WARN, never PASS',
    network: { defaultRoute: { tgw: 'tgw-0262a0e521EXAMPLE' } },
    status: 'WARN',
    reason: 'ROUTE_UNVERIFIABLE',
  },
  {
    case: 'endpoints with private DNS off and a transit-gateway route: the route is what cannot be verified',
    network: { endpoints: ALL, endpointPrivateDns: false, defaultRoute: { tgw: 'tgw-0262a0e521EXAMPLE' } },
    status: 'WARN',
    reason: 'ROUTE_UNVERIFIABLE',
  },
  {
    case: 'default route to a peering connection cannot be verified',
    network: { defaultRoute: { peering: 'pcx-111aaa111aaa111aa' } },
    status: 'WARN',
    reason: 'ROUTE_UNVERIFIABLE',
  },
  {
    case: 'default route to a deleted NAT gateway (blackhole)',
    network: { defaultRoute: { blackholeNat: 'nat-0deleted000000001' } },
    status: 'FAIL',
    reason: 'ROUTE_BLACKHOLE',
    evidence: {
      internetPath: expect.objectContaining({
        problems: [
          expect.objectContaining({
            detail: expect.stringContaining('route 0.0.0.0/0 → nat-0deleted000000001 is blackhole'),
          }),
        ],
      }),
    },
  },
  {
    // Issue 10 item 4: a blackhole route carries nothing, wherever it is on the path.
    case: "NAT gateway whose own subnet's default route is a blackhole (detached internet gateway)",
    network: { publicDefaultRoute: { blackholeIgw: 'igw-0detached00000001' } },
    status: 'FAIL',
    reason: 'ROUTE_BLACKHOLE',
    says: ['route 0.0.0.0/0 → igw-0detached00000001 is blackhole', 'rtb-0public000000001', NET.nat],
  },
  {
    case: 'blackhole default route, but working interface endpoints carry the agent',
    network: { endpoints: ALL, defaultRoute: { blackholeNat: 'nat-0deleted000000001' } },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  // ---- Issue 10 item 4: VPC endpoint policies, asked for the agent's own actions and role ----
  {
    case: 'no PolicyDocument on the endpoints: the default policy grants full access',
    network: { ...ENDPOINTS_ONLY, endpointPolicies: { ssm: null, ssmmessages: null, ec2messages: null } },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'ssm endpoint policy explicitly denies ssm:UpdateInstanceInformation → FAIL naming endpoint and Sid',
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ssm: policy(
          FULL_ACCESS,
          everyone(deny('ssm:UpdateInstanceInformation', '*', { Sid: 'NoRegistration' })),
        ),
      },
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_POLICY_BLOCKS',
    says: [EP.ssm, 'denies ssm:UpdateInstanceInformation', 'NoRegistration'],
    evidence: {
      services: expect.arrayContaining([
        expect.objectContaining({
          service: 'ssm',
          status: 'blocked',
          problems: [
            expect.objectContaining({
              code: 'ENDPOINT_POLICY_BLOCKS',
              endpointId: EP.ssm,
              statement: 'NoRegistration',
            }),
          ],
        }),
      ]),
    },
  },
  {
    case: 'URL-encoded endpoint policy whose Deny has no Sid → the statement is named by index',
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ec2messages: encodeURIComponent(JSON.stringify(policy(FULL_ACCESS, everyone(deny('ec2messages:*'))))),
      },
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_POLICY_BLOCKS',
    says: [EP.ec2messages, 'ec2messages:', 'Statement[1]'],
  },
  {
    case: 'ssmmessages endpoint policy with no Allow for ssmmessages actions (implicit deny)',
    network: { ...ENDPOINTS_ONLY, endpointPolicies: { ssmmessages: policy(everyone(allow('ssm:*'))) } },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_POLICY_BLOCKS',
    says: [EP.ssmmessages, 'no statement allowing ssmmessages:'],
  },
  {
    case: 'ssm endpoint policy allows the agent only on another instance (resource-aware)',
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ssm: policy(
          everyone(allow('ssm:*', 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0fffffffffffffff0')),
        ),
      },
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_POLICY_BLOCKS',
    says: [`on arn:aws:ec2:eu-west-1:123456789012:instance/${ID}`],
  },
  {
    case: 'ssm endpoint policy for {"AWS": "*"} on instance/* → PASS',
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ssm: policy(
          allow('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:*:instance/*', { Principal: { AWS: '*' } }),
        ),
      },
    },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: "endpoint policies granting the instance profile's role by ARN → PASS",
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ssm: policy(allow('ssm:*', '*', { Principal: { AWS: [ROLE_ARN] } })),
        ssmmessages: policy(allow('ssmmessages:*', '*', { Principal: { AWS: ROLE_ARN } })),
        ec2messages: policy(allow('*', '*', { Principal: { AWS: ROLE_ARN } })),
      },
    },
    roles: PROFILE_ROLE,
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'ec2messages endpoint policy granting only another role → FAIL',
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ec2messages: policy(
          allow('*', '*', { Principal: { AWS: 'arn:aws:iam::123456789012:role/BuildAgents' } }),
        ),
      },
    },
    roles: PROFILE_ROLE,
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_POLICY_BLOCKS',
    says: [EP.ec2messages, `role ${ROLE}`],
  },
  {
    case: 'an account principal ("AWS": "<account-id>") grants only the root user, not the role → FAIL',
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: { ssmmessages: policy(allow('*', '*', { Principal: { AWS: '123456789012' } })) },
    },
    roles: PROFILE_ROLE,
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_POLICY_BLOCKS',
  },
  {
    case: 'a grant only under a Condition the audit cannot decide → WARN naming the statement',
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ssm: policy(
          everyone(
            allow('*', '*', {
              Sid: 'OrgOnly',
              Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
            }),
          ),
        ),
      },
    },
    info: OLD_AGENT,
    status: 'WARN',
    reason: 'UNVERIFIABLE_ENDPOINT_POLICY_CONDITIONAL',
    says: [EP.ssm, 'OrgOnly'],
  },
  {
    case: "a grant to a named role when the agent's role is unknown → WARN",
    network: {
      ...ENDPOINTS_ONLY,
      endpointPolicies: {
        ssm: policy(allow('*', '*', { Sid: 'OnlyOurRole', Principal: { AWS: ROLE_ARN } })),
      },
    },
    info: OLD_AGENT,
    status: 'WARN',
    reason: 'UNVERIFIABLE_ENDPOINT_POLICY_CONDITIONAL',
    says: ['OnlyOurRole'],
  },
  {
    case: 'a restrictive policy on an endpoint the agent bypasses (private DNS off, NAT path) does not count',
    network: {
      endpoints: ALL,
      endpointPrivateDns: false,
      endpointPolicies: { ssm: policy(everyone(deny('*'))) },
    },
    status: 'PASS',
    reason: 'INTERNET_PATH_OK',
  },
  {
    case: 'aws-us-gov: the instance ARN is built in the snapshot partition (arn:aws-us-gov:…) → PASS',
    partition: 'aws-us-gov',
    region: 'us-gov-west-1',
    instance: { az: 'us-gov-west-1a' },
    network: {
      ...ENDPOINTS_ONLY,
      region: 'us-gov-west-1',
      endpointPolicies: { ssm: policy(everyone(allow('ssm:*', 'arn:aws-us-gov:ec2:*:*:instance/*'))) },
    },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'aws-us-gov: a grant written for arn:aws:ec2:… does not cover the instance → FAIL',
    partition: 'aws-us-gov',
    region: 'us-gov-west-1',
    instance: { az: 'us-gov-west-1a' },
    network: {
      ...ENDPOINTS_ONLY,
      region: 'us-gov-west-1',
      endpointPolicies: { ssm: policy(everyone(allow('ssm:*', 'arn:aws:ec2:*:*:instance/*'))) },
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_POLICY_BLOCKS',
    says: [`arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/${ID}`],
  },
  // ---- Issue 10 item 4: both ends of the path to an interface endpoint (network ACLs are stateless) ----
  {
    case: "the endpoint subnet's ACL denies inbound 443 from the instance's subnet (rule 90)",
    network: {
      ...ENDPOINTS_ONLY,
      endpointAclEntries: [aclEntry(90, false, 'deny', [443, 443], '10.0.1.0/24'), OPEN_IN, OPEN_OUT],
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_NACL_BLOCKS_443',
    says: [NET.endpointAcl, 'inbound TCP 443 from 10.0.1.10', '(rule 90)'],
    evidence: {
      services: expect.arrayContaining([
        expect.objectContaining({
          problems: expect.arrayContaining([
            expect.objectContaining({ networkAclId: NET.endpointAcl, direction: 'inbound', rule: 90 }),
          ]),
        }),
      ]),
    },
  },
  {
    case: "the endpoint subnet's ACL lets 443 in but no ephemeral ports back out (the final * rule)",
    network: {
      ...ENDPOINTS_ONLY,
      endpointAclEntries: [
        aclEntry(100, false, 'allow', [443, 443]),
        aclEntry(100, true, 'allow', [443, 443]),
      ],
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_NACL_BLOCKS_EPHEMERAL',
    says: [NET.endpointAcl, 'outbound TCP 1024-65535', '(rule *)'],
  },
  {
    case: "the endpoint subnet's ACL admits exactly the instance's address (/32) both ways → PASS",
    network: {
      ...ENDPOINTS_ONLY,
      endpointAclEntries: [
        aclEntry(100, false, 'allow', [443, 443], '10.0.1.10/32'),
        aclEntry(100, true, 'allow', [1024, 65535], '10.0.1.10/32'),
      ],
    },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: "the endpoint subnet's ACL admits only another address in the instance's subnet",
    network: {
      ...ENDPOINTS_ONLY,
      endpointAclEntries: [
        aclEntry(100, false, 'allow', [443, 443], '10.0.1.99/32'),
        aclEntry(100, true, 'allow', [1024, 65535], '10.0.1.0/24'),
      ],
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_NACL_BLOCKS_443',
    says: ['from 10.0.1.10', '(rule *)'],
  },
  {
    case: "the instance's own ACL denies outbound 443 to the endpoint subnet (rule 50)",
    network: {
      ...ENDPOINTS_ONLY,
      appAclEntries: [aclEntry(50, true, 'deny', [443, 443], '10.0.2.0/24'), OPEN_OUT, OPEN_IN],
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'NACL_BLOCKS_443',
    says: [NET.appAcl, 'outbound TCP 443 to', '10.0.2.0/24', '(rule 50)'],
  },
  {
    case: "the instance's own ACL takes no return traffic from the endpoint subnet",
    network: { ...ENDPOINTS_ONLY, appAclEntries: [OPEN_OUT, aclEntry(100, false, 'allow', [22, 22])] },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'NACL_BLOCKS_EPHEMERAL',
    says: [NET.appAcl, 'inbound TCP 1024-65535', '(rule *)'],
  },
  {
    case: "the endpoint interface in the instance's AZ sits behind a blocking ACL (another AZ's is open)",
    network: {
      ...ENDPOINTS_ONLY,
      endpointAclEntries: [OPEN_OUT],
      endpointSubnetB: { az: 'eu-west-1b' },
    },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_NACL_BLOCKS_443',
    says: [NET.endpointAcl, NET.endpointSubnet],
  },
  {
    case: "the instance's AZ has an endpoint interface whose subnet ACL is open → PASS",
    network: {
      ...ENDPOINTS_ONLY,
      endpointAclEntries: [OPEN_OUT],
      endpointSubnetB: { az: 'eu-west-1b' },
    },
    instance: { az: 'eu-west-1b' },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'no endpoint interface in the instance AZ: any endpoint subnet whose ACL lets it through will do',
    network: {
      ...ENDPOINTS_ONLY,
      endpointAclEntries: [OPEN_OUT],
      endpointSubnetB: { az: 'eu-west-1b' },
    },
    instance: { az: 'eu-west-1c' },
    info: OLD_AGENT,
    status: 'PASS',
    reason: 'VPC_ENDPOINTS_OK',
  },
  {
    case: 'NAT gateway that failed',
    network: { natState: 'failed' },
    status: 'FAIL',
    reason: 'NAT_GATEWAY_UNAVAILABLE',
  },
  {
    case: 'a broken private-DNS endpoint captures the service even with a NAT gateway',
    network: { endpoints: ALL, endpointSgIngress: [] },
    info: OLD_AGENT,
    status: 'FAIL',
    reason: 'ENDPOINT_SG_NO_443',
  },
  {
    case: 'endpoints with private DNS off are bypassed: the NAT path carries the traffic',
    network: { endpoints: ALL, endpointPrivateDns: false },
    status: 'PASS',
    reason: 'INTERNET_PATH_OK',
  },
  {
    case: 'ec2:DescribeVpcEndpoints denied → ERROR naming the permission',
    network: {},
    calls: { 'ec2:DescribeVpcEndpoints': { status: 'denied', error: 'UnauthorizedOperation' } },
    status: 'ERROR',
    reason: 'API_CALL_DENIED',
    evidence: { call: 'ec2:DescribeVpcEndpoints' },
  },
  {
    case: 'stopped instance → NOT_APPLICABLE',
    network: { defaultRoute: null },
    instance: { state: 'stopped' },
    status: 'NOT_APPLICABLE',
    reason: 'INSTANCE_STOPPED',
  },
];

describe('network-path', () => {
  it.each(rows)('$case', (row) => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID, subnetId: NET.appSubnet, ...row.instance })],
      ec2: aNetwork(row.network),
      infos: row.info === null ? [] : [instanceInfo({ id: ID, ...row.info })],
      calls: row.calls,
      ...(row.roles ? { roles: row.roles } : {}),
      ...(row.partition ? { partition: row.partition } : {}),
      ...(row.region ? { region: row.region } : {}),
    });
    // Act
    const finding = findingOf(audit(snapshot, { ruleIds: ['network-path'] }), 'network-path', ID);
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: row.status,
      reason: row.reason,
    });
    expect(finding.message).not.toMatch(/\.\.|\(granted by/);
    if (row.evidence) expect(finding.evidence).toMatchObject(row.evidence);
    for (const text of row.says ?? []) expect(finding.message).toContain(text);
  });

  it('names every missing piece in the message and gives a concrete command', () => {
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID })],
      ec2: aNetwork({ endpoints: ['ssm'], defaultRoute: null }),
      infos: [instanceInfo({ id: ID, ...OLD_AGENT })],
    });
    const finding = findingOf(audit(snapshot, { ruleIds: ['network-path'] }), 'network-path', ID);
    expect(finding.message).toContain('ssmmessages');
    expect(finding.message).toContain('ec2messages');
    expect(finding.remediation).toContain(`--vpc-id ${NET.vpcId}`);
    expect(finding.remediation).toContain('com.amazonaws.eu-west-1.ssmmessages');
  });

  it('reports hybrid nodes as NOT_APPLICABLE (their network is outside AWS)', () => {
    const snapshot = aSnapshot({ infos: [instanceInfo({ id: 'mi-0123456789abcdef0' })] });
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['network-path'] }),
      'network-path',
      'mi-0123456789abcdef0',
    );
    expect(finding).toMatchObject({
      resourceType: 'ManagedInstance',
      status: 'NOT_APPLICABLE',
      reason: 'HYBRID_NETWORK_OUTSIDE_AWS',
    });
  });
});

/**
 * The rarer paths, one row per reason the rule declares: the snapshot is a standard one changed the way
 * AWS would report the problem, and the fix must name the real resource.
 */
describe('network-path: every declared reason', () => {
  type Snapshot = ReturnType<typeof aSnapshot>;
  const ec2Of = (snapshot: Snapshot) => snapshot.ec2 as Required<NonNullable<Snapshot['ec2']>>;
  const endpointOf = (snapshot: Snapshot, id: string) =>
    ec2Of(snapshot).VpcEndpoints.find((e) => e.VpcEndpointId === id)!;
  const withoutPrivateIp = (snapshot: Snapshot) => {
    for (const r of ec2Of(snapshot).Reservations)
      for (const i of r.Instances) delete (i as { PrivateIpAddress?: string }).PrivateIpAddress;
  };

  it.each([
    {
      case: 'an interface endpoint that is still pending → FAIL ENDPOINT_NOT_AVAILABLE',
      network: ENDPOINTS_ONLY,
      change: (s: Snapshot) => (endpointOf(s, EP.ssm).State = 'pending'),
      status: 'FAIL',
      reason: 'ENDPOINT_NOT_AVAILABLE',
      remediation: `Check endpoint ${EP.ssm}`,
    },
    {
      case: 'an interface endpoint without a subnet → FAIL ENDPOINT_NO_SUBNETS',
      network: ENDPOINTS_ONLY,
      change: (s: Snapshot) => (endpointOf(s, EP.ssm).SubnetIds = []),
      status: 'FAIL',
      reason: 'ENDPOINT_NO_SUBNETS',
      remediation: `--vpc-endpoint-id ${EP.ssm} --add-subnet-ids ${NET.appSubnet}`,
    },
    {
      case: 'a default route to an internet gateway attached to another VPC → FAIL IGW_NOT_ATTACHED',
      network: { defaultRoute: { igw: 'igw-0elsewhere0000001' } },
      instance: { publicIp: '203.0.113.10' },
      status: 'FAIL',
      reason: 'IGW_NOT_ATTACHED',
      remediation: `--internet-gateway-id igw-0elsewhere0000001 --vpc-id ${NET.vpcId}`,
    },
    {
      case: 'a NAT gateway whose own subnet has no route to an internet gateway → FAIL NAT_WITHOUT_INTERNET_ROUTE',
      network: { publicDefaultRoute: { tgw: 'tgw-0262a0e521EXAMPLE' } },
      status: 'FAIL',
      reason: 'NAT_WITHOUT_INTERNET_ROUTE',
      remediation: `Route the subnet of ${NET.nat}`,
    },
    {
      // A doubt listed first is not why the path is blocked: the reason (and its status) is the block.
      case: 'a transit-gateway route and no outbound 443 → FAIL SG_NO_EGRESS_443, not ROUTE_UNVERIFIABLE',
      network: {
        defaultRoute: { tgw: 'tgw-0262a0e521EXAMPLE' },
        appSgEgress: [sgRule(80, { cidr: '0.0.0.0/0' })],
      },
      status: 'FAIL',
      reason: 'SG_NO_EGRESS_443',
      remediation: `--group-id ${NET.appSg}`,
    },
    {
      case: 'no route table for the subnet and no main table → WARN UNVERIFIABLE_ROUTE_TABLE_NOT_FOUND',
      network: {},
      change: (s: Snapshot) => (ec2Of(s).RouteTables = []),
      status: 'WARN',
      reason: 'UNVERIFIABLE_ROUTE_TABLE_NOT_FOUND',
      remediation: `Values=${NET.vpcId}`,
    },
    {
      case: "the instance's VPC is not in the snapshot → WARN UNVERIFIABLE_VPC_NOT_FOUND",
      network: {},
      change: (s: Snapshot) => (ec2Of(s).Vpcs = []),
      status: 'WARN',
      reason: 'UNVERIFIABLE_VPC_NOT_FOUND',
    },
    {
      case: "the VPC's DNS attributes were not collected → WARN UNVERIFIABLE_VPC_DNS_UNKNOWN",
      network: ENDPOINTS_ONLY,
      change: (s: Snapshot) => {
        delete (ec2Of(s).Vpcs[0] as { EnableDnsSupport?: unknown }).EnableDnsSupport;
      },
      status: 'WARN',
      reason: 'UNVERIFIABLE_VPC_DNS_UNKNOWN',
      remediation: `aws ec2 describe-vpc-attribute --vpc-id ${NET.vpcId}`,
    },
    {
      case: "the subnet's ACL allows outbound 443 to part of the internet only → WARN UNVERIFIABLE_NACL_BLOCKS_443",
      network: { appAclEntries: [aclEntry(100, true, 'allow', [443, 443], '52.0.0.0/8'), OPEN_IN] },
      status: 'WARN',
      reason: 'UNVERIFIABLE_NACL_BLOCKS_443',
      remediation: `--network-acl-id ${NET.appAcl} --egress`,
    },
    {
      case: "the subnet's ACL admits return traffic from part of the internet only → WARN UNVERIFIABLE_NACL_BLOCKS_EPHEMERAL",
      network: { appAclEntries: [OPEN_OUT, aclEntry(100, false, 'allow', [1024, 65535], '52.0.0.0/8')] },
      status: 'WARN',
      reason: 'UNVERIFIABLE_NACL_BLOCKS_EPHEMERAL',
      remediation: `--network-acl-id ${NET.appAcl} --ingress`,
    },
    {
      case: "the endpoints' security group admits 443 from a prefix list only → WARN UNVERIFIABLE_ENDPOINT_SG_NO_443",
      network: { ...ENDPOINTS_ONLY, endpointSgIngress: [sgRule(443, { prefixList: 'pl-6da54004' })] },
      status: 'WARN',
      reason: 'UNVERIFIABLE_ENDPOINT_SG_NO_443',
      remediation: `--group-id ${NET.endpointSg} --protocol tcp --port 443 --source-group ${NET.appSg}`,
    },
    {
      case: "instance address unknown, the endpoint subnet's ACL admits 443 from half its subnet → WARN UNVERIFIABLE_ENDPOINT_NACL_BLOCKS_443",
      network: {
        ...ENDPOINTS_ONLY,
        endpointAclEntries: [aclEntry(100, false, 'allow', [443, 443], '10.0.1.0/25'), OPEN_OUT],
      },
      change: withoutPrivateIp,
      status: 'WARN',
      reason: 'UNVERIFIABLE_ENDPOINT_NACL_BLOCKS_443',
      remediation: `--network-acl-id ${NET.endpointAcl} --ingress`,
    },
    {
      case: "instance address unknown, the endpoint subnet's ACL lets replies out to half its subnet → WARN UNVERIFIABLE_ENDPOINT_NACL_BLOCKS_EPHEMERAL",
      network: {
        ...ENDPOINTS_ONLY,
        endpointAclEntries: [OPEN_IN, aclEntry(100, true, 'allow', [1024, 65535], '10.0.1.0/25')],
      },
      change: withoutPrivateIp,
      status: 'WARN',
      reason: 'UNVERIFIABLE_ENDPOINT_NACL_BLOCKS_EPHEMERAL',
      remediation: `--network-acl-id ${NET.endpointAcl} --egress`,
    },
  ] as {
    case: string;
    network: NetworkSpec;
    instance?: Partial<InstanceSpec>;
    change?: (snapshot: Snapshot) => void;
    status: string;
    reason: string;
    remediation?: string;
  }[])('$case', (row) => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID, subnetId: NET.appSubnet, ...row.instance })],
      ec2: aNetwork(row.network),
      infos: [instanceInfo({ id: ID, ...OLD_AGENT })],
    });
    row.change?.(snapshot);
    // Act
    const finding = findingOf(audit(snapshot, { ruleIds: ['network-path'] }), 'network-path', ID);
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: row.status,
      reason: row.reason,
    });
    if (row.remediation) expect(finding.remediation).toContain(row.remediation);
    expect(finding.remediation).not.toMatch(/\{[A-Za-z]+\}/);
  });
});

describe('network-path memoization', () => {
  it('instances sharing a subnet still get answers specific to their own address', () => {
    // Prepare: the endpoint SG admits only one of two instances in the same subnet and groups.
    const admitted = 'i-0aaaaaaaaaaaaaaa1';
    const refused = 'i-0bbbbbbbbbbbbbbb2';
    const snapshot = aSnapshot({
      instances: [
        anInstance({ id: admitted, privateIp: '10.0.1.10' }),
        anInstance({ id: refused, privateIp: '10.0.1.11' }),
      ],
      ec2: aNetwork({
        endpoints: ALL,
        defaultRoute: null,
        endpointSgIngress: [sgRule(443, { cidr: '10.0.1.10/32' })],
      }),
      infos: [instanceInfo({ id: admitted, ...OLD_AGENT }), instanceInfo({ id: refused, ...OLD_AGENT })],
    });
    // Act
    const result = audit(snapshot, { ruleIds: ['network-path'] });
    // Assess
    expect(findingOf(result, 'network-path', admitted).status).toBe('PASS');
    expect(findingOf(result, 'network-path', refused)).toMatchObject({
      status: 'FAIL',
      reason: 'ENDPOINT_SG_NO_443',
    });
  });
});
