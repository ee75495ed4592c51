/**
 * A large synthetic account for the benchmark: many instances sharing a few hundred roles, dozens of
 * VPCs in varied configurations and 10 % hybrid nodes, in the snapshot's AWS shapes. Deterministic for a
 * given seed, so runs are comparable.
 *
 * Memory: 100,000 instances must not cost more than the audit itself. Sub-objects that real responses
 * repeat (metadata options, placement, profile reference, security group lists, tags of the same team)
 * are shared between instances; nothing is serialized here (test/support/snapshot-file.ts streams the
 * result to disk element by element).
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
  aclEntry,
  allow,
  anActivation,
  anInstance,
  anInterfaceEndpoint,
  anInternetGateway,
  deny,
  dhmcSetting,
  instanceInfo,
  policy,
  sgRule,
  tierSetting,
  trustFor,
  type ActivationInput,
  type InstanceInformationInput,
  type InstanceInput,
  type InternetGatewayInput,
  type ManagedPolicyInput,
  type NatGatewayInput,
  type NetworkAclInput,
  type PolicyDoc,
  type RoleDetailInput,
  type RouteTableInput,
  type SecurityGroupInput,
  type SubnetInput,
  type VpcEndpointInput,
  type VpcInput,
} from './builders';
import { awsId, seededRandom, stableUuid, type Random } from './deterministic';
import {
  POWER_USER_ARN,
  S3_EXACT_ARN,
  S3_WILDCARD_ARN,
  awsManagedDocument,
  encoded,
  powerUserAccess,
  s3ExactPolicy,
  s3WildcardPolicy,
} from './policies';

export interface SyntheticOptions {
  /** EC2 instances to generate. */
  instances: number;
  /** PRNG seed; the same seed gives the same snapshot. Default 1. */
  seed?: number;
}

/** What was generated, for the benchmark's table. */
export interface SyntheticCounts {
  instances: number;
  hybridNodes: number;
  roles: number;
  vpcs: number;
  instanceInformation: number;
  tier: 'standard' | 'advanced';
}

const COLLECTED_AT = '2026-11-23T10:00:00Z';
const VPC_COUNT = 40;
const STANDARD_TIER_LIMIT = 1000;

export const syntheticRoleCount = (instances: number): number =>
  Math.min(400, Math.max(50, Math.round(instances / 250)));
export const syntheticHybridCount = (instances: number): number => Math.round(instances * 0.1);

// ---------------------------------------------------------------------------------------------------
// IAM: a few shared documents, hundreds of roles

function managedPolicies(): ManagedPolicyInput[] {
  return [
    aManagedPolicy(POLICY_ARNS.core, awsManagedDocument(POLICY_ARNS.core)),
    aManagedPolicy(POLICY_ARNS.dhmcDefault, awsManagedDocument(POLICY_ARNS.dhmcDefault)),
    aManagedPolicy(
      POLICY_ARNS.deprecatedEc2RoleForSsm,
      awsManagedDocument(POLICY_ARNS.deprecatedEc2RoleForSsm),
    ),
    aManagedPolicy(S3_EXACT_ARN, s3ExactPolicy()),
    aManagedPolicy(S3_WILDCARD_ARN, s3WildcardPolicy),
    // The AWS CLI prints documents as objects; keep one that way so both forms are loaded at scale.
    aManagedPolicy(POWER_USER_ARN, powerUserAccess, { encode: false }),
  ];
}

/** Role flavours and their share of the roles: mostly healthy, with every trap represented. */
const ROLE_KINDS = [
  { kind: 'core-s3', weight: 60 },
  { kind: 'core-only', weight: 12 },
  { kind: 'deprecated', weight: 6 },
  { kind: 'shadowing', weight: 5 },
  { kind: 'conditional', weight: 4 },
  { kind: 's3-wildcard', weight: 5 },
  { kind: 'deny-sessions', weight: 3 },
  { kind: 'not-action', weight: 3 },
  { kind: 'no-ssm', weight: 2 },
] as const;
type RoleKind = (typeof ROLE_KINDS)[number]['kind'];

function pickWeighted<T extends { weight: number }>(random: Random, items: readonly T[]): T {
  const total = items.reduce((sum, i) => sum + i.weight, 0);
  let r = random.next() * total;
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1]!;
}

function buildRoles(count: number, random: Random): { roles: RoleDetailInput[]; profileNames: string[] } {
  const ec2Trust = encoded(trustFor('ec2.amazonaws.com'));
  const ssmTrust = encoded(trustFor('ssm.amazonaws.com'));
  // Inline documents are shared objects: hundreds of roles, a handful of distinct documents.
  const heartbeatOnly = policy(allow('ssm:UpdateInstanceInformation'));
  const denySessions = policy(deny('ssmmessages:*'));
  const conditionalAgent = policy(
    allow(['ssm:UpdateInstanceInformation', 'ssmmessages:*', 'ec2messages:*'], '*', {
      Condition: { StringEquals: { 'aws:RequestedRegion': REGION } },
    }),
  );
  const appBucket = policy(allow(['s3:GetObject', 's3:PutObject'], 'arn:aws:s3:::acme-app-data/*'));
  const roles: RoleDetailInput[] = [];
  const profileNames: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind: RoleKind = pickWeighted(random, ROLE_KINDS).kind;
    const name = `app-${String(i).padStart(3, '0')}-${kind}-role`;
    const profile = name.replace(/-role$/, '-profile');
    const managed: string[] = [];
    const inline: Record<string, PolicyDoc> = { 'app-data': appBucket };
    switch (kind) {
      case 'core-s3':
        managed.push(POLICY_ARNS.core, S3_EXACT_ARN);
        break;
      case 'core-only':
        managed.push(POLICY_ARNS.core);
        break;
      case 'deprecated':
        managed.push(POLICY_ARNS.deprecatedEc2RoleForSsm);
        break;
      case 'shadowing':
        inline['agent-heartbeat'] = heartbeatOnly;
        break;
      case 'conditional':
        managed.push(S3_EXACT_ARN);
        inline['agent-in-region'] = conditionalAgent;
        break;
      case 's3-wildcard':
        managed.push(POLICY_ARNS.core, S3_WILDCARD_ARN);
        break;
      case 'deny-sessions':
        managed.push(POLICY_ARNS.core, S3_EXACT_ARN);
        inline['no-sessions'] = denySessions;
        break;
      case 'not-action':
        managed.push(POWER_USER_ARN);
        break;
      case 'no-ssm':
        break;
    }
    roles.push(aRole({ name, profiles: [profile], trust: ec2Trust, managed, inline }));
    profileNames.push(profile);
  }
  roles.push(
    aRole({
      name: 'AWSSystemsManagerDefaultEC2InstanceManagementRole',
      path: '/service-role/',
      trust: ssmTrust,
      managed: [POLICY_ARNS.dhmcDefault, S3_EXACT_ARN],
    }),
    aRole({ name: 'SSMServiceRole', trust: ssmTrust, managed: [POLICY_ARNS.core] }),
    aRole({ name: 'SSMServiceRole-legacy', trust: ssmTrust, managed: [POLICY_ARNS.deprecatedEc2RoleForSsm] }),
    aRole({ name: 'SSMHybridRole-broken', trust: ec2Trust, managed: [POLICY_ARNS.core] }),
  );
  return { roles, profileNames };
}

// ---------------------------------------------------------------------------------------------------
// Network: 40 VPCs, each a variation on public / NAT / isolated subnets

type Tier = 'public' | 'nat' | 'isolated' | 'endpoints' | 'tgw';
const AZS = ['a', 'b', 'c'] as const;

const VPC_KINDS = [
  { kind: 'complete', weight: 40 },
  { kind: 'complete-no-s3', weight: 10 },
  { kind: 'partial', weight: 10 },
  { kind: 'none', weight: 25 },
  { kind: 'private-dns-off', weight: 5 },
  { kind: 'dns-hostnames-off', weight: 5 },
  { kind: 'endpoint-sg-no-443', weight: 5 },
] as const;
type VpcKind = (typeof VPC_KINDS)[number]['kind'];

interface SyntheticSubnet {
  id: string;
  tier: Tier;
  az: string;
  /** First three octets' worth of address: 10.<vpc>.<third>. */
  base: [number, number];
  hostsUsed: number;
}

interface SyntheticVpc {
  id: string;
  kind: VpcKind;
  subnets: SyntheticSubnet[];
  byTier: Map<Tier, SyntheticSubnet[]>;
  appGroups: { GroupId: string; GroupName: string }[];
  webGroups: { GroupId: string; GroupName: string }[];
  restrictedGroups: { GroupId: string; GroupName: string }[];
}

interface NetworkPieces {
  Vpcs: VpcInput[];
  Subnets: SubnetInput[];
  RouteTables: RouteTableInput[];
  SecurityGroups: SecurityGroupInput[];
  NetworkAcls: NetworkAclInput[];
  VpcEndpoints: VpcEndpointInput[];
  InternetGateways: InternetGatewayInput[];
  NatGateways: NatGatewayInput[];
}

function buildNetwork(random: Random): { pieces: NetworkPieces; vpcs: SyntheticVpc[] } {
  const pieces: NetworkPieces = {
    Vpcs: [],
    Subnets: [],
    RouteTables: [],
    SecurityGroups: [],
    NetworkAcls: [],
    VpcEndpoints: [],
    InternetGateways: [],
    NatGateways: [],
  };
  const vpcs: SyntheticVpc[] = [];
  const tgw = awsId('tgw', 'synthetic-hub');
  for (let v = 0; v < VPC_COUNT; v++) {
    const key = `vpc${v}`;
    const kind: VpcKind = pickWeighted(random, VPC_KINDS).kind;
    const cidr = `10.${v}.0.0/16`;
    const vpcId = awsId('vpc', key);
    const igw = awsId('igw', key);
    const nat = awsId('nat', key);
    const hasTgw = random.chance(0.2);
    pieces.Vpcs.push(aVpc(vpcId, cidr, kind === 'dns-hostnames-off' ? { hostnames: false } : {}));
    pieces.InternetGateways.push(anInternetGateway(igw, vpcId));

    // /20 subnets: room for a few thousand instances each.
    const layout: { tier: Tier; az: string }[] = [
      ...AZS.map((az) => ({ tier: 'public' as const, az })),
      ...AZS.map((az) => ({ tier: 'nat' as const, az })),
      { tier: 'isolated', az: 'a' },
      { tier: 'isolated', az: 'b' },
      { tier: 'endpoints', az: 'a' },
      { tier: 'endpoints', az: 'b' },
      ...(hasTgw ? [{ tier: 'tgw' as const, az: 'c' }] : []),
    ];
    const subnets: SyntheticSubnet[] = layout.map(({ tier, az }, s) => {
      const subnet: SyntheticSubnet = {
        id: awsId('subnet', `${key}/${s}`),
        tier,
        az: `${REGION}${az}`,
        base: [v, s * 16],
        hostsUsed: 0,
      };
      pieces.Subnets.push({
        ...aSubnet(subnet.id, vpcId, `10.${v}.${s * 16}.0/20`, subnet.az),
        MapPublicIpOnLaunch: tier === 'public',
      });
      return subnet;
    });
    const byTier = new Map<Tier, SyntheticSubnet[]>();
    for (const s of subnets) byTier.set(s.tier, [...(byTier.get(s.tier) ?? []), s]);
    const natHost = byTier.get('public')![0]!;
    pieces.NatGateways.push(aNatGateway(nat, vpcId, natHost.id));

    pieces.RouteTables.push(
      aRouteTable({ id: awsId('rtb', `${key}/main`), vpcId, vpcCidr: cidr, main: true }),
    );
    for (const [tier, members] of byTier) {
      const defaultRoute =
        tier === 'public' ? { igw } : tier === 'nat' ? { nat } : tier === 'tgw' ? { tgw } : undefined;
      pieces.RouteTables.push(
        aRouteTable({
          id: awsId('rtb', `${key}/${tier}`),
          vpcId,
          vpcCidr: cidr,
          subnetIds: members.map((m) => m.id),
          ...(defaultRoute ? { defaultRoute } : {}),
        }),
      );
    }

    const sg = (name: string) => ({ GroupId: awsId('sg', `${key}/${name}`), GroupName: `${key}-${name}` });
    const app = sg('app');
    const web = sg('web');
    const restricted = sg('restricted');
    const vpce = sg('vpce');
    pieces.SecurityGroups.push(
      { ...aSecurityGroup(app.GroupId, vpcId), GroupName: app.GroupName },
      {
        ...aSecurityGroup(web.GroupId, vpcId, { ingress: [sgRule(443, { cidr: '0.0.0.0/0' })] }),
        GroupName: web.GroupName,
      },
      {
        ...aSecurityGroup(restricted.GroupId, vpcId, { egress: [sgRule(5432, { cidr: '10.0.0.0/8' })] }),
        GroupName: restricted.GroupName,
      },
      {
        ...aSecurityGroup(vpce.GroupId, vpcId, {
          ingress: [kind === 'endpoint-sg-no-443' ? sgRule(80, { cidr }) : sgRule(443, { cidr })],
        }),
        GroupName: vpce.GroupName,
      },
    );

    // One VPC in ten has a NACL on its first NAT subnet that forgets the return traffic.
    const restrictedAclSubnet = random.chance(0.1) ? byTier.get('nat')![0]!.id : undefined;
    pieces.NetworkAcls.push(
      aNetworkAcl(
        awsId('acl', `${key}/default`),
        vpcId,
        subnets.map((s) => s.id).filter((id) => id !== restrictedAclSubnet),
      ),
    );
    if (restrictedAclSubnet) {
      pieces.NetworkAcls.push(
        aNetworkAcl(
          awsId('acl', `${key}/restricted`),
          vpcId,
          [restrictedAclSubnet],
          [
            aclEntry(100, false, 'allow', [443, 443], cidr),
            aclEntry(32767, false, 'deny', 'all'),
            ...OPEN_ACL_ENTRIES.filter((e) => e.Egress),
          ],
          false,
        ),
      );
    }

    const endpointSubnets = byTier.get('endpoints')!.map((s) => s.id);
    const services =
      kind === 'none'
        ? []
        : kind === 'partial'
          ? random.pick([['ssm'], ['ssm', 'ssmmessages'], ['ssm', 'ec2messages']])
          : ['ssm', 'ssmmessages', 'ec2messages'];
    for (const service of services) {
      pieces.VpcEndpoints.push(
        anInterfaceEndpoint({
          id: awsId('vpce', `${key}/${service}`),
          vpcId,
          service,
          subnetIds: endpointSubnets,
          groups: [vpce.GroupId],
          privateDns: kind !== 'private-dns-off',
        }),
      );
    }
    if (kind === 'complete' || kind === 'endpoint-sg-no-443') {
      pieces.VpcEndpoints.push(
        aGatewayEndpoint({
          id: awsId('vpce', `${key}/s3`),
          vpcId,
          routeTableIds: [awsId('rtb', `${key}/nat`), awsId('rtb', `${key}/isolated`)],
        }),
      );
    }
    vpcs.push({
      id: vpcId,
      kind,
      subnets,
      byTier,
      appGroups: [app],
      webGroups: [web],
      restrictedGroups: [restricted],
    });
  }
  return { pieces, vpcs };
}

// ---------------------------------------------------------------------------------------------------
// Instances, registrations, hybrid nodes

const PLATFORMS = [
  { weight: 40, type: 'Linux', name: 'Amazon Linux', version: '2023', details: 'Linux/UNIX' },
  { weight: 15, type: 'Linux', name: 'Amazon Linux', version: '2', details: 'Linux/UNIX' },
  { weight: 18, type: 'Linux', name: 'Ubuntu', version: '22.04', details: 'Linux/UNIX' },
  {
    weight: 10,
    type: 'Linux',
    name: 'Red Hat Enterprise Linux',
    version: '9.4',
    details: 'Red Hat Enterprise Linux',
  },
  {
    weight: 12,
    type: 'Windows',
    name: 'Microsoft Windows Server 2022 Datacenter',
    version: '10.0.20348',
    details: 'Windows',
  },
  { weight: 3, type: 'Linux', name: 'CentOS Linux', version: '6.10', details: 'Linux/UNIX' },
  {
    weight: 2,
    type: 'Windows',
    name: 'Microsoft Windows Server 2008 R2 Standard',
    version: '6.1.7601',
    details: 'Windows',
  },
] as const;

const AGENTS = [
  { weight: 70, version: '3.3.1142.0', latest: true },
  { weight: 18, version: '3.3.987.0', latest: false },
  { weight: 8, version: '3.2.1705.0', latest: false },
  { weight: 4, version: '3.1.1732.0', latest: false },
] as const;

const PINGS = [
  { weight: 90, ping: 'Online' },
  { weight: 8, ping: 'ConnectionLost' },
  { weight: 2, ping: 'Inactive' },
] as const;

const STATES = [
  { weight: 92, state: 'running' },
  { weight: 5, state: 'stopped' },
  { weight: 1, state: 'pending' },
  { weight: 2, state: 'terminated' },
] as const;

const TEAMS = ['storefront', 'platform', 'data', 'payments', 'ml', 'identity', 'ops', 'growth'] as const;
const TYPES = ['t3.medium', 'm6i.large', 'm6i.xlarge', 'c6i.xlarge', 'r6i.large', 't3.large'] as const;

/** Interns sub-objects that many instances share, so 100,000 instances do not mean 100,000 copies. */
class Interner {
  private readonly pool = new Map<string, unknown>();
  get<T>(key: string, make: () => T): T {
    let value = this.pool.get(key) as T | undefined;
    if (value === undefined) {
      value = make();
      this.pool.set(key, value);
    }
    return value;
  }
}

function buildInstances(
  count: number,
  vpcs: readonly SyntheticVpc[],
  profileNames: readonly string[],
  random: Random,
): { instances: InstanceInput[]; infos: InstanceInformationInput[] } {
  const instances: InstanceInput[] = [];
  const infos: InstanceInformationInput[] = [];
  const shared = new Interner();
  const lastPingOnline = '2026-11-23T09:56:00+00:00';
  for (let i = 0; i < count; i++) {
    const vpc = random.pick(vpcs);
    const r = random.next();
    const tier: Tier =
      r < 0.2 ? 'public' : r < 0.75 ? 'nat' : r < 0.95 ? 'isolated' : vpc.byTier.has('tgw') ? 'tgw' : 'nat';
    const subnet = random.pick(vpc.byTier.get(tier)!);
    subnet.hostsUsed += 1;
    const host = subnet.hostsUsed + 9;
    const privateIp = `10.${subnet.base[0]}.${subnet.base[1] + (host >> 8)}.${host & 255}`;
    const team = random.pick(TEAMS);
    const platform = pickWeighted(random, PLATFORMS);
    const state = pickWeighted(random, STATES).state;
    const profile = random.chance(0.88) ? random.pick(profileNames) : null;
    const imds = random.chance(0.85) ? 'required' : 'optional';
    const groups = random.chance(0.02)
      ? vpc.restrictedGroups
      : tier === 'public'
        ? vpc.webGroups
        : vpc.appGroups;
    const id = `i-0${(0x1000000000000 + i * 7919).toString(16).padStart(16, '0')}`;
    const name = `${team}-${tier}-${i}`;
    const raw = anInstance({
      id,
      state,
      subnetId: subnet.id,
      vpcId: vpc.id,
      az: subnet.az,
      privateIp,
      ...(tier === 'public' && random.chance(0.9)
        ? { publicIp: `34.${240 + (i % 16)}.${(i >> 8) & 255}.${i & 255}` }
        : {}),
      profile,
      imds,
      ...(platform.type === 'Windows' ? { platform: 'windows' as const } : {}),
      platformDetails: platform.details,
    });
    instances.push({
      ...raw,
      InstanceType: random.pick(TYPES),
      Placement: shared.get(`az:${subnet.az}`, () => raw.Placement),
      MetadataOptions: shared.get(`imds:${imds}`, () => raw.MetadataOptions),
      ...(raw.IamInstanceProfile
        ? { IamInstanceProfile: shared.get(`profile:${profile}`, () => raw.IamInstanceProfile) }
        : {}),
      SecurityGroups: groups,
      Tags: [
        { Key: 'Name', Value: name },
        ...shared.get(`tags:${team}`, () => [
          { Key: 'Team', Value: team },
          { Key: 'CostCenter', Value: `cc-${team}` },
        ]),
      ],
    });
    // ~85 % of instances are registered; terminated ones have dropped out of the list.
    if (state !== 'terminated' && random.chance(0.87)) {
      const agent = pickWeighted(random, AGENTS);
      const ping = state === 'stopped' ? 'ConnectionLost' : pickWeighted(random, PINGS).ping;
      infos.push(
        instanceInfo({
          id,
          ping,
          agentVersion: agent.version,
          isLatest: agent.latest,
          platformType: platform.type,
          platformName: platform.name,
          platformVersion: platform.version,
          lastPing: ping === 'Online' ? lastPingOnline : '2026-11-01T12:00:00+00:00',
        }),
      );
    }
  }
  return { instances, infos };
}

const HYBRID_PLATFORMS = [
  { weight: 40, type: 'Linux', name: 'Red Hat Enterprise Linux', version: '8.8' },
  { weight: 30, type: 'Linux', name: 'Ubuntu', version: '20.04' },
  { weight: 20, type: 'Windows', name: 'Microsoft Windows Server 2019 Standard', version: '10.0.17763' },
  { weight: 8, type: 'Windows', name: 'Microsoft Windows 10 Pro', version: '10.0.19045' },
  {
    weight: 2,
    type: 'Windows',
    name: 'Microsoft Windows Server 2003 R2 Standard Edition',
    version: '5.2.3790',
  },
] as const;

const HYBRID_ROLES = [
  { weight: 94, role: 'SSMServiceRole' },
  { weight: 4, role: 'SSMServiceRole-legacy' },
  { weight: 1, role: 'SSMHybridRole-broken' },
  { weight: 1, role: 'SSMServiceRole-deleted' },
] as const;

function buildActivations(hybridCount: number): ActivationInput[] {
  const act = (key: string, spec: Omit<Parameters<typeof anActivation>[0], 'id'>) =>
    anActivation({ id: stableUuid(`synthetic:${key}`), ...spec });
  return [
    act('bulk', {
      limit: Math.max(1000, hybridCount + 100),
      count: hybridCount,
      expires: '2026-03-01T00:00:00+00:00',
      expired: true,
      description: 'bulk rollout',
    }),
    act('current', {
      limit: 500,
      count: 12,
      expires: '2026-12-20T00:00:00+00:00',
      description: 'new servers',
    }),
    act('branches', { limit: 20, count: 20, expires: '2026-12-15T00:00:00+00:00', description: 'branches' }),
    act('pilot', {
      role: 'SSMHybridRole-broken',
      limit: 10,
      count: 1,
      expires: '2026-11-30T00:00:00+00:00',
      description: 'pilot',
    }),
    act('legacy', {
      role: 'SSMServiceRole-legacy',
      limit: 50,
      count: 30,
      expires: '2027-01-05T00:00:00+00:00',
      description: 'legacy estate',
    }),
  ];
}

function buildHybridNodes(
  count: number,
  activationIds: readonly string[],
  random: Random,
): InstanceInformationInput[] {
  const nodes: InstanceInformationInput[] = [];
  for (let i = 0; i < count; i++) {
    const platform = pickWeighted(random, HYBRID_PLATFORMS);
    const ping = pickWeighted(random, PINGS).ping;
    const agent = pickWeighted(random, AGENTS);
    nodes.push(
      instanceInfo({
        id: `mi-0${(0x2000000000000 + i * 104729).toString(16).padStart(16, '0')}`,
        ping,
        agentVersion: agent.version,
        isLatest: agent.latest,
        platformType: platform.type,
        platformName: platform.name,
        platformVersion: platform.version,
        lastPing:
          ping === 'Online'
            ? '2026-11-23T09:55:00+00:00'
            : random.chance(0.5)
              ? '2026-07-01T00:00:00+00:00'
              : '2026-11-20T00:00:00+00:00',
        iamRole: pickWeighted(random, HYBRID_ROLES).role,
        activationId: random.pick(activationIds),
        name: `dc-node-${i}`,
      }),
    );
  }
  return nodes;
}

/** A large, realistic, deterministic snapshot (see the file comment). */
export function buildSyntheticSnapshot(options: SyntheticOptions): SnapshotInput {
  return buildSynthetic(options).snapshot;
}

export function buildSynthetic(options: SyntheticOptions): {
  snapshot: SnapshotInput;
  counts: SyntheticCounts;
} {
  if (!Number.isInteger(options.instances) || options.instances < 0) {
    throw new RangeError(`instances must be a non-negative integer, got ${options.instances}`);
  }
  const random = seededRandom(options.seed ?? 1);
  const roleCount = syntheticRoleCount(options.instances);
  const hybridCount = syntheticHybridCount(options.instances);
  const tier = hybridCount > STANDARD_TIER_LIMIT ? 'advanced' : 'standard';
  const { roles, profileNames } = buildRoles(roleCount, random);
  const { pieces, vpcs } = buildNetwork(random);
  const { instances, infos } = buildInstances(options.instances, vpcs, profileNames, random);
  const activations = buildActivations(hybridCount);
  const hybrid = buildHybridNodes(
    hybridCount,
    activations.map((a) => a.ActivationId),
    random,
  );
  const snapshot = aSnapshot({
    collectedAt: COLLECTED_AT,
    instances,
    ec2: pieces,
    infos: [...infos, ...hybrid],
    settings: [
      dhmcSetting('service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole'),
      tierSetting(tier),
    ],
    activations,
    roles,
    policies: managedPolicies(),
  });
  return {
    snapshot,
    counts: {
      instances: instances.length,
      hybridNodes: hybrid.length,
      roles: roles.length,
      vpcs: vpcs.length,
      instanceInformation: infos.length,
      tier,
    },
  };
}
