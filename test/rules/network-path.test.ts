import {
  aNetwork,
  aclEntry,
  anInstance,
  aSnapshot,
  instanceInfo,
  NET,
  sgRule,
  type InfoSpec,
  type InstanceSpec,
  type NetworkSpec,
} from '../../scripts/fleet/builders';
import { audit, findingOf } from '../helpers';

const ID = 'i-0123456789abcdef0';
const ALL = ['ssm', 'ssmmessages', 'ec2messages'] as const;
const OLD_AGENT = { agentVersion: '3.2.1297.0' };

interface Row {
  case: string;
  network: NetworkSpec;
  instance?: Partial<InstanceSpec>;
  info?: Partial<InfoSpec> | null;
  calls?: Record<string, { status: 'denied' | 'error'; error: string }>;
  status: string;
  reason: string;
  evidence?: Record<string, unknown>;
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
