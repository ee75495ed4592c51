/**
 * A fleet for measuring collection cost (the call-budget test and the benchmark's API-call section):
 * N instances sharing a fixed set of instance profiles in three VPCs — one reaching SSM through
 * interface endpoints, one through a NAT gateway, one through an internet gateway — plus DHMC, a few
 * hybrid nodes and activations. Everything but the instance count is fixed, so any growth of the call
 * count with N shows up directly.
 */
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { POLICY_ARNS } from '../../shared/knowledge/ssm-requirements';
import {
  OPEN_ACL_ENTRIES,
  REGION,
  aGatewayEndpoint,
  aManagedPolicy,
  aNatGateway,
  aNetworkAcl,
  aRole,
  aRouteTable,
  aSecurityGroup,
  aSnapshot,
  aSubnet,
  aVpc,
  allow,
  anActivation,
  anInstance,
  anInterfaceEndpoint,
  anInternetGateway,
  dhmcSetting,
  instanceInfo,
  managedPolicyArn,
  policy,
  sgRule,
  tierSetting,
  trustFor,
} from './builders';

export interface CollectionFleetOptions {
  instances: number;
  /** Distinct instance profiles (one role each). Default 20. */
  profiles?: number;
  /** Share of instances registered with SSM. Default 0.8. */
  managedShare?: number;
  hybridNodes?: number;
}

export interface CollectionFleet {
  snapshot: SnapshotInput;
  counts: { instances: number; managed: number; hybridNodes: number; profiles: number; vpcs: number };
}

/** A customer managed policy shared by some roles, and an AWS managed one without a built-in copy. */
export const SHARED_POLICY_ARN = managedPolicyArn('ssm-s3-buckets');
export const CLOUDWATCH_AGENT_ARN = 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy';
export const BOUNDARY_ARN = managedPolicyArn('workload-boundary');

const hex = (n: number, width = 17) => n.toString(16).padStart(width, '0');

export function buildCollectionFleet(options: CollectionFleetOptions): CollectionFleet {
  const profileCount = options.profiles ?? 20;
  const managedShare = options.managedShare ?? 0.8;
  const hybridCount = options.hybridNodes ?? 10;

  const vpcs = [
    { id: 'vpc-0e0d00000000000a1', cidr: '10.1.0.0/16', route: 'endpoints' as const },
    { id: 'vpc-0e0d00000000000b2', cidr: '10.2.0.0/16', route: 'nat' as const },
    { id: 'vpc-0e0d00000000000c3', cidr: '10.3.0.0/16', route: 'igw' as const },
  ];
  const ec2 = {
    Vpcs: [] as ReturnType<typeof aVpc>[],
    Subnets: [] as ReturnType<typeof aSubnet>[],
    RouteTables: [] as ReturnType<typeof aRouteTable>[],
    SecurityGroups: [] as ReturnType<typeof aSecurityGroup>[],
    NetworkAcls: [] as ReturnType<typeof aNetworkAcl>[],
    VpcEndpoints: [] as ReturnType<typeof anInterfaceEndpoint>[],
    InternetGateways: [] as ReturnType<typeof anInternetGateway>[],
    NatGateways: [] as ReturnType<typeof aNatGateway>[],
  };
  vpcs.forEach((vpc, v) => {
    const prefix = vpc.cidr.split('.').slice(0, 2).join('.');
    const subnets = [0, 1].map((s) => `subnet-0e0d0000000000${v}${s}`);
    const sg = `sg-0e0d00000000000${v}1`;
    ec2.Vpcs.push(aVpc(vpc.id, vpc.cidr));
    subnets.forEach((id, s) =>
      ec2.Subnets.push(aSubnet(id, vpc.id, `${prefix}.${s}.0/24`, `${REGION}${s === 0 ? 'a' : 'b'}`)),
    );
    ec2.SecurityGroups.push(
      aSecurityGroup(sg, vpc.id, {
        ingress: [sgRule(443, { cidr: vpc.cidr })],
        egress: [sgRule('all', { cidr: '0.0.0.0/0' })],
      }),
    );
    ec2.NetworkAcls.push(aNetworkAcl(`acl-0e0d00000000000${v}1`, vpc.id, subnets, OPEN_ACL_ENTRIES));
    const rtb = `rtb-0e0d00000000000${v}1`;
    if (vpc.route === 'endpoints') {
      ec2.RouteTables.push(aRouteTable({ id: rtb, vpcId: vpc.id, vpcCidr: vpc.cidr, main: true }));
      for (const service of ['ssm', 'ssmmessages', 'ec2messages'])
        ec2.VpcEndpoints.push(
          anInterfaceEndpoint({
            id: `vpce-0e0d0000000${service.length.toString().padStart(2, '0')}${v}001`,
            vpcId: vpc.id,
            service,
            subnetIds: subnets,
            groups: [sg],
          }),
        );
      ec2.VpcEndpoints.push(
        aGatewayEndpoint({ id: `vpce-0e0d00000000${v}s3`, vpcId: vpc.id, routeTableIds: [rtb] }),
      );
    } else if (vpc.route === 'nat') {
      const nat = `nat-0e0d00000000000${v}1`;
      const igw = `igw-0e0d00000000000${v}1`;
      const publicRtb = `rtb-0e0d00000000000${v}2`;
      ec2.InternetGateways.push(anInternetGateway(igw, vpc.id));
      ec2.NatGateways.push(aNatGateway(nat, vpc.id, subnets[1]!));
      ec2.RouteTables.push(
        aRouteTable({ id: rtb, vpcId: vpc.id, vpcCidr: vpc.cidr, main: true, defaultRoute: { nat } }),
        aRouteTable({
          id: publicRtb,
          vpcId: vpc.id,
          vpcCidr: vpc.cidr,
          subnetIds: [subnets[1]!],
          defaultRoute: { igw },
        }),
      );
    } else {
      const igw = `igw-0e0d00000000000${v}1`;
      ec2.InternetGateways.push(anInternetGateway(igw, vpc.id));
      ec2.RouteTables.push(
        aRouteTable({ id: rtb, vpcId: vpc.id, vpcCidr: vpc.cidr, main: true, defaultRoute: { igw } }),
      );
    }
  });

  const profileNames = Array.from({ length: profileCount }, (_, p) => `app-${String(p).padStart(2, '0')}`);
  const roles = profileNames.map((name, p) =>
    aRole({
      name: `${name}-role`,
      profiles: [name],
      managed: [
        POLICY_ARNS.core,
        ...(p % 4 === 0 ? [SHARED_POLICY_ARN] : []),
        ...(p % 5 === 0 ? [CLOUDWATCH_AGENT_ARN] : []),
      ],
      inline: p % 2 === 0 ? { 'app-logs': policy(allow('logs:PutLogEvents')) } : {},
      ...(p % 10 === 0 ? { boundary: BOUNDARY_ARN } : {}),
    }),
  );
  const dhmcRole = aRole({
    name: 'dhmc-role',
    path: '/service-role/',
    trust: trustFor('ssm.amazonaws.com'),
    managed: [POLICY_ARNS.dhmcDefault],
  });
  const hybridRole = aRole({
    name: 'hybrid-role',
    trust: trustFor('ssm.amazonaws.com'),
    managed: [POLICY_ARNS.core],
  });
  const adminRole = aRole({ name: 'platform-admin', managed: [] });

  const instances = [];
  const infos = [];
  const managedCount = Math.round(options.instances * managedShare);
  for (let i = 0; i < options.instances; i++) {
    const v = i % vpcs.length;
    const vpc = vpcs[v]!;
    const id = `i-${hex(i)}`;
    const s = Math.floor(i / vpcs.length) % 2;
    instances.push(
      anInstance({
        id,
        vpcId: vpc.id,
        subnetId: `subnet-0e0d0000000000${v}${s}`,
        az: `${REGION}${s === 0 ? 'a' : 'b'}`,
        privateIp: `${vpc.cidr.split('.').slice(0, 2).join('.')}.${s}.${(i % 250) + 4}`,
        ...(vpc.route === 'igw' ? { publicIp: `52.0.${Math.floor(i / 250) % 250}.${i % 250}` } : {}),
        profile: profileNames[i % profileCount]!,
        securityGroups: [`sg-0e0d00000000000${v}1`],
      }),
    );
    if (i < managedCount) infos.push(instanceInfo({ id }));
  }
  for (let h = 0; h < hybridCount; h++) {
    infos.push(
      instanceInfo({
        id: `mi-${hex(h)}`,
        iamRole: 'hybrid-role',
        activationId: '11111111-2222-3333-4444-555555555555',
      }),
    );
  }

  const snapshot = aSnapshot({
    instances,
    ec2,
    infos,
    settings: [dhmcSetting('service-role/dhmc-role'), tierSetting('standard')],
    activations: [
      anActivation({
        id: '11111111-2222-3333-4444-555555555555',
        role: 'hybrid-role',
        expires: '2027-06-01T00:00:00Z',
      }),
      anActivation({
        id: '66666666-7777-8888-9999-000000000000',
        role: 'hybrid-role',
        expires: '2027-06-01T00:00:00Z',
      }),
    ],
    roles: [...roles, dhmcRole, hybridRole, adminRole],
    policies: [
      aManagedPolicy(SHARED_POLICY_ARN, policy(allow('s3:GetObject', 'arn:aws:s3:::aws-ssm-eu-west-1/*'))),
      aManagedPolicy(BOUNDARY_ARN, policy(allow('*'))),
      aManagedPolicy(CLOUDWATCH_AGENT_ARN, policy(allow(['cloudwatch:PutMetricData', 'logs:PutLogEvents']))),
    ],
  });
  return {
    snapshot,
    counts: {
      instances: options.instances,
      managed: managedCount,
      hybridNodes: hybridCount,
      profiles: profileCount,
      vpcs: vpcs.length,
    },
  };
}
