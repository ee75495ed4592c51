/**
 * Builders of snapshot pieces in AWS's own response shapes (PascalCase, as DescribeInstances,
 * GetAccountAuthorizationDetails, ... return them). Used by the rule tests, the demo fleet and the
 * benchmark generator, so all three speak the real format.
 */
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { DHMC_SETTING_ID, TIER_SETTING_ID } from '../../shared/knowledge/ssm-requirements';

type Input = SnapshotInput;
type Ec2 = NonNullable<Input['ec2']>;
export type InstanceInput = NonNullable<Ec2['Reservations']>[number]['Instances'][number];
export type VpcInput = NonNullable<Ec2['Vpcs']>[number];
export type SubnetInput = NonNullable<Ec2['Subnets']>[number];
export type RouteTableInput = NonNullable<Ec2['RouteTables']>[number];
export type SecurityGroupInput = NonNullable<Ec2['SecurityGroups']>[number];
export type NetworkAclInput = NonNullable<Ec2['NetworkAcls']>[number];
export type VpcEndpointInput = NonNullable<Ec2['VpcEndpoints']>[number];
export type NatGatewayInput = NonNullable<Ec2['NatGateways']>[number];
export type InternetGatewayInput = NonNullable<Ec2['InternetGateways']>[number];
type Ssm = NonNullable<Input['ssm']>;
export type InstanceInformationInput = NonNullable<Ssm['InstanceInformationList']>[number];
export type ActivationInput = NonNullable<Ssm['ActivationList']>[number];
export type ServiceSettingInput = NonNullable<Ssm['ServiceSettings']>[number];
type Iam = NonNullable<Input['iam']>;
export type RoleDetailInput = NonNullable<Iam['RoleDetailList']>[number];
export type ManagedPolicyInput = NonNullable<Iam['Policies']>[number];
export type OrganizationsInput = NonNullable<Input['organizations']>;

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

export type PolicyDoc = Record<string, unknown> & {
  Version: string;
  Statement: Record<string, unknown>[];
};

export const policy = (...statements: Record<string, unknown>[]): PolicyDoc => ({
  Version: '2012-10-17',
  Statement: statements,
});
export const allow = (
  action: string | string[],
  resource: string | string[] = '*',
  extra: Record<string, unknown> = {},
) => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...extra,
});
export const deny = (
  action: string | string[],
  resource: string | string[] = '*',
  extra: Record<string, unknown> = {},
) => ({
  Effect: 'Deny',
  Action: action,
  Resource: resource,
  ...extra,
});
export const trustFor = (...services: string[]) =>
  policy({
    Effect: 'Allow',
    Principal: { Service: services.length === 1 ? services[0] : services },
    Action: 'sts:AssumeRole',
  });

export const managedPolicyArn = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:policy/${name}`;
export const profileArn = (name: string, account = ACCOUNT) =>
  `arn:aws:iam::${account}:instance-profile/${name}`;

export interface RoleSpec {
  name: string;
  path?: string;
  trust?: PolicyDoc | string;
  managed?: string[];
  inline?: Record<string, PolicyDoc | string>;
  boundary?: string;
  /** Instance profile names wrapping this role. */
  profiles?: string[];
  account?: string;
}

export function aRole(spec: RoleSpec): RoleDetailInput {
  const account = spec.account ?? ACCOUNT;
  const path = spec.path ?? '/';
  return {
    Path: path,
    RoleName: spec.name,
    RoleId: `AROA${spec.name
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .padEnd(17, 'X')
      .slice(0, 17)}`,
    Arn: `arn:aws:iam::${account}:role${path}${spec.name}`,
    AssumeRolePolicyDocument: spec.trust ?? trustFor('ec2.amazonaws.com'),
    InstanceProfileList: (spec.profiles ?? []).map((name) => ({
      InstanceProfileName: name,
      InstanceProfileId: `AIPA${name
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')
        .padEnd(17, 'X')
        .slice(0, 17)}`,
      Arn: profileArn(name, account),
      Path: '/',
    })),
    RolePolicyList: Object.entries(spec.inline ?? {}).map(([PolicyName, doc]) => ({
      PolicyName,
      PolicyDocument: doc,
    })),
    AttachedManagedPolicies: (spec.managed ?? []).map((arn) => ({
      PolicyName: arn.split('/').pop(),
      PolicyArn: arn,
    })),
    ...(spec.boundary
      ? { PermissionsBoundary: { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: spec.boundary } }
      : {}),
  };
}

/** GetAccountAuthorizationDetails returns policy documents URL-encoded; so do we, to exercise that path. */
export function aManagedPolicy(
  arn: string,
  doc: PolicyDoc,
  options: { encode?: boolean } = {},
): ManagedPolicyInput {
  const document = options.encode === false ? doc : encodeURIComponent(JSON.stringify(doc));
  return {
    PolicyName: arn.split('/').pop(),
    Arn: arn,
    DefaultVersionId: 'v2',
    PolicyVersionList: [
      { Document: document, VersionId: 'v2', IsDefaultVersion: true },
      { Document: encodeURIComponent(JSON.stringify(policy())), VersionId: 'v1', IsDefaultVersion: false },
    ],
  };
}

export interface InstanceSpec {
  id: string;
  state?: string;
  subnetId?: string;
  vpcId?: string;
  az?: string;
  privateIp?: string;
  publicIp?: string;
  profile?: string | null;
  imds?: 'required' | 'optional' | 'disabled';
  securityGroups?: string[];
  platform?: 'windows';
  platformDetails?: string;
  tags?: Record<string, string>;
  account?: string;
  /** DescribeInstances `LaunchTime`: when the instance was last launched or started. */
  launchTime?: string;
}

export function anInstance(spec: InstanceSpec): InstanceInput {
  const state = spec.state ?? 'running';
  const codes: Record<string, number> = {
    pending: 0,
    running: 16,
    'shutting-down': 32,
    terminated: 48,
    stopping: 64,
    stopped: 80,
  };
  const subnetId = spec.subnetId ?? 'subnet-0a1b2c3d4e5f60001';
  return {
    InstanceId: spec.id,
    ImageId: 'ami-0abcdef1234567890',
    InstanceType: 't3.micro',
    LaunchTime: spec.launchTime ?? '2026-10-01T08:00:00+00:00',
    State: { Code: codes[state] ?? 16, Name: state },
    SubnetId: subnetId,
    VpcId: spec.vpcId ?? 'vpc-0a1b2c3d4e5f60001',
    PrivateIpAddress: spec.privateIp ?? '10.0.1.10',
    ...(spec.publicIp ? { PublicIpAddress: spec.publicIp } : {}),
    Placement: { AvailabilityZone: spec.az ?? `${REGION}a` },
    ...(spec.platform ? { Platform: spec.platform } : {}),
    PlatformDetails: spec.platformDetails ?? (spec.platform === 'windows' ? 'Windows' : 'Linux/UNIX'),
    ...(spec.profile === null
      ? {}
      : {
          IamInstanceProfile: {
            Arn: profileArn(spec.profile ?? 'SSMInstanceProfile', spec.account),
            Id: 'AIPAEXAMPLE0000000001',
          },
        }),
    MetadataOptions: {
      State: 'applied',
      HttpTokens: spec.imds === 'optional' ? 'optional' : 'required',
      HttpPutResponseHopLimit: 2,
      HttpEndpoint: spec.imds === 'disabled' ? 'disabled' : 'enabled',
    },
    SecurityGroups: (spec.securityGroups ?? ['sg-0app000000000001']).map((GroupId) => ({
      GroupId,
      GroupName: GroupId,
    })),
    Tags: Object.entries(spec.tags ?? { Name: spec.id }).map(([Key, Value]) => ({ Key, Value })),
  };
}

export interface InfoSpec {
  id: string;
  ping?: 'Online' | 'ConnectionLost' | 'Inactive';
  agentVersion?: string;
  isLatest?: boolean;
  platformType?: string;
  platformName?: string;
  platformVersion?: string;
  lastPing?: string;
  iamRole?: string;
  activationId?: string;
  name?: string;
}

export function instanceInfo(spec: InfoSpec): InstanceInformationInput {
  const hybrid = spec.id.startsWith('mi-');
  return {
    InstanceId: spec.id,
    PingStatus: spec.ping ?? 'Online',
    LastPingDateTime: spec.lastPing ?? '2026-11-23T09:55:00+00:00',
    AgentVersion: spec.agentVersion ?? '3.3.1142.0',
    IsLatestVersion: spec.isLatest ?? true,
    PlatformType: spec.platformType ?? 'Linux',
    PlatformName: spec.platformName ?? 'Amazon Linux',
    PlatformVersion: spec.platformVersion ?? '2023',
    ResourceType: hybrid ? 'ManagedInstance' : 'EC2Instance',
    ...(hybrid
      ? {
          IamRole: spec.iamRole ?? 'SSMServiceRole',
          ActivationId: spec.activationId,
          RegistrationDate: '2026-01-10T12:00:00+00:00',
          Name: spec.name ?? spec.id,
        }
      : {}),
    IPAddress: '10.0.1.10',
    ComputerName: `${spec.name ?? spec.id}.example.internal`,
  };
}

export function anActivation(spec: {
  id: string;
  role?: string;
  limit?: number;
  count?: number;
  expires: string;
  expired?: boolean;
  description?: string;
}): ActivationInput {
  return {
    ActivationId: spec.id,
    Description: spec.description ?? 'data-centre servers',
    DefaultInstanceName: 'dc-server',
    IamRole: spec.role ?? 'SSMServiceRole',
    RegistrationLimit: spec.limit ?? 10,
    RegistrationsCount: spec.count ?? 0,
    ExpirationDate: spec.expires,
    Expired: spec.expired ?? false,
    CreatedDate: '2026-01-01T00:00:00+00:00',
  };
}

export const dhmcSetting = (
  value: string | null,
  region = REGION,
  account = ACCOUNT,
): ServiceSettingInput => ({
  SettingId: DHMC_SETTING_ID,
  SettingValue: value ?? '$None',
  Status: value ? 'Customized' : 'Default',
  ARN: `arn:aws:ssm:${region}:${account}:servicesetting${DHMC_SETTING_ID}`,
  LastModifiedDate: '2026-06-01T10:00:00+00:00',
  LastModifiedUser: 'System',
});
export const tierSetting = (
  value: 'standard' | 'advanced',
  region = REGION,
  account = ACCOUNT,
): ServiceSettingInput => ({
  SettingId: TIER_SETTING_ID,
  SettingValue: value,
  Status: value === 'standard' ? 'Default' : 'Customized',
  ARN: `arn:aws:ssm:${region}:${account}:servicesetting${TIER_SETTING_ID}`,
});

// ---------- network ----------

export const sgRule = (
  port: number | [number, number] | 'all',
  source: { cidr?: string; group?: string; prefixList?: string },
) => ({
  IpProtocol: port === 'all' ? '-1' : 'tcp',
  ...(port === 'all'
    ? {}
    : { FromPort: Array.isArray(port) ? port[0] : port, ToPort: Array.isArray(port) ? port[1] : port }),
  IpRanges: source.cidr ? [{ CidrIp: source.cidr }] : [],
  Ipv6Ranges: [],
  PrefixListIds: source.prefixList ? [{ PrefixListId: source.prefixList }] : [],
  UserIdGroupPairs: source.group ? [{ GroupId: source.group, UserId: ACCOUNT }] : [],
});

export function aSecurityGroup(
  id: string,
  vpcId: string,
  rules: { ingress?: ReturnType<typeof sgRule>[]; egress?: ReturnType<typeof sgRule>[] } = {},
): SecurityGroupInput {
  return {
    GroupId: id,
    GroupName: id,
    VpcId: vpcId,
    IpPermissions: rules.ingress ?? [],
    IpPermissionsEgress: rules.egress ?? [sgRule('all', { cidr: '0.0.0.0/0' })],
  };
}

export const aclEntry = (
  ruleNumber: number,
  egress: boolean,
  action: 'allow' | 'deny',
  ports: [number, number] | 'all',
  cidr = '0.0.0.0/0',
) => ({
  RuleNumber: ruleNumber,
  Egress: egress,
  RuleAction: action,
  Protocol: ports === 'all' ? '-1' : '6',
  CidrBlock: cidr,
  ...(ports === 'all' ? {} : { PortRange: { From: ports[0], To: ports[1] } }),
});

/** The default NACL: allow everything in and out (rule 100), then the implicit deny (32767). */
export const OPEN_ACL_ENTRIES = [
  aclEntry(100, false, 'allow', 'all'),
  aclEntry(32767, false, 'deny', 'all'),
  aclEntry(100, true, 'allow', 'all'),
  aclEntry(32767, true, 'deny', 'all'),
];

export function aNetworkAcl(
  id: string,
  vpcId: string,
  subnetIds: string[],
  entries = OPEN_ACL_ENTRIES,
  isDefault = true,
): NetworkAclInput {
  return {
    NetworkAclId: id,
    VpcId: vpcId,
    IsDefault: isDefault,
    Associations: subnetIds.map(
      (SubnetId, i) => ({ SubnetId, NetworkAclId: id, NetworkAclAssociationId: `aclassoc-${i}` }) as never,
    ),
    Entries: entries,
  };
}

export function anInterfaceEndpoint(spec: {
  id: string;
  vpcId: string;
  service: string;
  subnetIds: string[];
  groups: string[];
  privateDns?: boolean;
  state?: string;
  region?: string;
  /** The endpoint policy: a document, raw text (e.g. URL-encoded), or null for none. Default: AWS's default. */
  policy?: PolicyDoc | string | null;
}): VpcEndpointInput {
  return {
    VpcEndpointId: spec.id,
    VpcEndpointType: 'Interface',
    VpcId: spec.vpcId,
    ServiceName: `com.amazonaws.${spec.region ?? REGION}.${spec.service}`,
    State: spec.state ?? 'available',
    PolicyDocument:
      spec.policy === null
        ? undefined
        : typeof spec.policy === 'string'
          ? spec.policy
          : spec.policy
            ? JSON.stringify(spec.policy)
            : '{\n  "Statement": [\n    {\n      "Action": "*", \n      "Effect": "Allow", \n      "Principal": "*", \n      "Resource": "*"\n    }\n  ]\n}',
    RouteTableIds: [],
    SubnetIds: spec.subnetIds,
    Groups: spec.groups.map((GroupId) => ({ GroupId, GroupName: GroupId })),
    PrivateDnsEnabled: spec.privateDns ?? true,
  };
}

export function aGatewayEndpoint(spec: {
  id: string;
  vpcId: string;
  routeTableIds: string[];
  policy?: PolicyDoc;
  region?: string;
}): VpcEndpointInput {
  return {
    VpcEndpointId: spec.id,
    VpcEndpointType: 'Gateway',
    VpcId: spec.vpcId,
    ServiceName: `com.amazonaws.${spec.region ?? REGION}.s3`,
    State: 'available',
    PolicyDocument: JSON.stringify(
      spec.policy ?? {
        Version: '2008-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
      },
    ),
    RouteTableIds: spec.routeTableIds,
    SubnetIds: [],
    Groups: [],
    PrivateDnsEnabled: false,
  };
}

export type RouteTarget =
  | { igw: string }
  | { nat: string }
  | { tgw: string }
  | { peering: string }
  | { eni: string }
  | { blackholeNat: string }
  | { blackholeIgw: string };

export function aRouteTable(spec: {
  id: string;
  vpcId: string;
  vpcCidr: string;
  main?: boolean;
  subnetIds?: string[];
  defaultRoute?: RouteTarget;
}): RouteTableInput {
  const routes: Record<string, unknown>[] = [
    { DestinationCidrBlock: spec.vpcCidr, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' },
  ];
  const t = spec.defaultRoute;
  if (t) {
    const base = { DestinationCidrBlock: '0.0.0.0/0', Origin: 'CreateRoute', State: 'active' };
    if ('igw' in t) routes.push({ ...base, GatewayId: t.igw });
    else if ('nat' in t) routes.push({ ...base, NatGatewayId: t.nat });
    else if ('tgw' in t) routes.push({ ...base, TransitGatewayId: t.tgw });
    else if ('peering' in t) routes.push({ ...base, VpcPeeringConnectionId: t.peering });
    else if ('eni' in t) routes.push({ ...base, NetworkInterfaceId: t.eni });
    else if ('blackholeIgw' in t) routes.push({ ...base, GatewayId: t.blackholeIgw, State: 'blackhole' });
    else routes.push({ ...base, NatGatewayId: t.blackholeNat, State: 'blackhole' });
  }
  return {
    RouteTableId: spec.id,
    VpcId: spec.vpcId,
    Associations: [
      ...(spec.main ? [{ Main: true, RouteTableAssociationId: `rtbassoc-main-${spec.id}` }] : []),
      ...(spec.subnetIds ?? []).map((SubnetId, i) => ({
        Main: false,
        SubnetId,
        RouteTableAssociationId: `rtbassoc-${spec.id}-${i}`,
      })),
    ],
    Routes: routes as RouteTableInput['Routes'],
  };
}

export const aVpc = (
  id: string,
  cidr: string,
  dns: { support?: boolean; hostnames?: boolean } = {},
): VpcInput => ({
  VpcId: id,
  CidrBlock: cidr,
  CidrBlockAssociationSet: [{ CidrBlock: cidr }],
  IsDefault: false,
  EnableDnsSupport: { Value: dns.support ?? true },
  EnableDnsHostnames: { Value: dns.hostnames ?? true },
});

export const aSubnet = (id: string, vpcId: string, cidr: string, az: string): SubnetInput => ({
  SubnetId: id,
  VpcId: vpcId,
  CidrBlock: cidr,
  AvailabilityZone: az,
  MapPublicIpOnLaunch: false,
});

export const aNatGateway = (
  id: string,
  vpcId: string,
  subnetId: string,
  state = 'available',
): NatGatewayInput => ({
  NatGatewayId: id,
  VpcId: vpcId,
  SubnetId: subnetId,
  State: state,
  ConnectivityType: 'public',
});

export const anInternetGateway = (id: string, vpcId: string): InternetGatewayInput => ({
  InternetGatewayId: id,
  Attachments: [{ VpcId: vpcId, State: 'available' }],
});

export function aSnapshot(parts: {
  accountId?: string;
  region?: string;
  partition?: 'aws' | 'aws-cn' | 'aws-us-gov';
  collectedAt?: string;
  calls?: Input['calls'];
  instances?: InstanceInput[];
  ec2?: Omit<Ec2, 'Reservations'>;
  infos?: InstanceInformationInput[];
  settings?: ServiceSettingInput[];
  activations?: ActivationInput[];
  roles?: RoleDetailInput[];
  policies?: ManagedPolicyInput[];
  organizations?: OrganizationsInput;
}): Input {
  return {
    schemaVersion: 1,
    accountId: parts.accountId ?? ACCOUNT,
    region: parts.region ?? REGION,
    partition: parts.partition ?? 'aws',
    collectedAt: parts.collectedAt ?? '2026-11-23T10:00:00Z',
    calls: parts.calls ?? {},
    ec2: {
      Reservations: (parts.instances ?? []).map((instance, i) => ({
        ReservationId: `r-${String(i).padStart(17, '0')}`,
        OwnerId: parts.accountId ?? ACCOUNT,
        Instances: [instance],
      })) as never,
      ...parts.ec2,
    },
    ssm: {
      InstanceInformationList: parts.infos ?? [],
      ServiceSettings: parts.settings ?? [dhmcSetting(null), tierSetting('standard')],
      ActivationList: parts.activations ?? [],
    },
    iam: { RoleDetailList: parts.roles ?? [], Policies: parts.policies ?? [] },
    ...(parts.organizations !== undefined ? { organizations: parts.organizations } : {}),
  };
}

// ---------- AWS Organizations: service control policies ----------

export const ORG_ID = 'o-a1b2c3d4e5';
export const MANAGEMENT_ACCOUNT = '111111111111';
export const ROOT_ID = 'r-ab12';
export const OU_ID = 'ou-ab12-11111111';

/** An SCP: its id, name and document (DescribePolicy's Content is a JSON string). */
export interface ScpSpec {
  id: string;
  name: string;
  doc: PolicyDoc;
  awsManaged?: boolean;
  type?: string;
}

export const FULL_AWS_ACCESS: ScpSpec = {
  id: 'p-FullAWSAccess',
  name: 'FullAWSAccess',
  awsManaged: true,
  doc: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
};

export const anScp = (id: string, name: string, ...statements: Record<string, unknown>[]): ScpSpec => ({
  id,
  name,
  doc: policy(...statements),
});

const scpSummary = (scp: ScpSpec) => ({
  Id: scp.id,
  Arn: scp.awsManaged
    ? `arn:aws:organizations::aws:policy/service_control_policy/${scp.id}`
    : `arn:aws:organizations::${MANAGEMENT_ACCOUNT}:policy/${ORG_ID}/service_control_policy/${scp.id}`,
  Name: scp.name,
  Type: scp.type ?? 'SERVICE_CONTROL_POLICY',
  AwsManaged: scp.awsManaged === true,
});

/**
 * The `organizations` section for the chain root → OU(s) → account, in the shapes ListParents,
 * ListPoliciesForTarget and DescribePolicy return. `null` SCPs at a level: ListPoliciesForTarget failed for
 * it; `undescribed`: policy ids whose DescribePolicy failed (listed, no content).
 */
export function anOrganization(
  spec: {
    accountId?: string;
    accountName?: string;
    managementAccountId?: string | null;
    organizationId?: string | null;
    root?: ScpSpec[] | null;
    ous?: { id: string; name: string; scps: ScpSpec[] | null }[];
    account?: ScpSpec[] | null;
    undescribed?: string[];
  } = {},
): OrganizationsInput {
  const levels = [
    {
      TargetId: ROOT_ID,
      Type: 'ROOT' as const,
      Name: 'Root',
      scps: spec.root === undefined ? [FULL_AWS_ACCESS] : spec.root,
    },
    ...(spec.ous ?? [{ id: OU_ID, name: 'Workloads', scps: [FULL_AWS_ACCESS] }]).map((ou) => ({
      TargetId: ou.id,
      Type: 'ORGANIZATIONAL_UNIT' as const,
      Name: ou.name,
      scps: ou.scps,
    })),
    {
      TargetId: spec.accountId ?? ACCOUNT,
      Type: 'ACCOUNT' as const,
      Name: spec.accountName ?? 'prod',
      scps: spec.account === undefined ? [FULL_AWS_ACCESS] : spec.account,
    },
  ];
  const described = new Map<string, ScpSpec>();
  for (const level of levels) for (const scp of level.scps ?? []) described.set(scp.id, scp);
  const undescribed = new Set(spec.undescribed ?? []);
  return {
    ...(spec.organizationId !== null ? { OrganizationId: spec.organizationId ?? ORG_ID } : {}),
    ...(spec.managementAccountId !== null
      ? { ManagementAccountId: spec.managementAccountId ?? MANAGEMENT_ACCOUNT }
      : {}),
    TargetChain: levels.map(({ scps, ...target }) => ({
      ...target,
      ...(scps === null ? {} : { Policies: scps.map(scpSummary) }),
    })),
    Policies: [...described.values()]
      .filter((scp) => !undescribed.has(scp.id))
      .map((scp) => ({ PolicySummary: scpSummary(scp), Content: JSON.stringify(scp.doc) })),
  };
}

// ---------- a one-VPC network for tests ----------

export const NET = {
  vpcId: 'vpc-0a1b2c3d4e5f60001',
  vpcCidr: '10.0.0.0/16',
  appSubnet: 'subnet-0a1b2c3d4e5f60001',
  endpointSubnet: 'subnet-0a1b2c3d4e5f60002',
  publicSubnet: 'subnet-0a1b2c3d4e5f60003',
  appSg: 'sg-0app000000000001',
  endpointSg: 'sg-0endpoint0000001',
  nat: 'nat-0a1b2c3d4e5f60001',
  igw: 'igw-0a1b2c3d4e5f60001',
  appRouteTable: 'rtb-0app00000000001',
  appAcl: 'acl-0app00000000001',
  /** With `endpointAclEntries`: the endpoint subnet's own network ACL. */
  endpointAcl: 'acl-0endpoint000001',
  /** With `endpointSubnetB`: a second endpoint subnet (10.0.4.0/24) and its network ACL. */
  endpointSubnetB: 'subnet-0a1b2c3d4e5f60004',
  endpointAclB: 'acl-0endpointb00001',
} as const;

export interface NetworkSpec {
  dns?: { support?: boolean; hostnames?: boolean };
  /** The instance subnet's 0.0.0.0/0 route; null for none. Default: the NAT gateway. */
  defaultRoute?: RouteTarget | null;
  endpoints?: readonly ('ssm' | 'ssmmessages' | 'ec2messages')[];
  endpointPrivateDns?: boolean;
  /** Ingress rules of the endpoints' security group. Default: TCP 443 from the VPC CIDR. */
  endpointSgIngress?: ReturnType<typeof sgRule>[];
  /** S3 gateway endpoint routed to the instance subnet (a policy restricts it). */
  s3Gateway?: boolean | PolicyDoc;
  /** Egress of the instance's security group. Default: all traffic to 0.0.0.0/0. */
  appSgEgress?: ReturnType<typeof sgRule>[];
  /** Entries of the instance subnet's network ACL. Default: open. */
  appAclEntries?: ReturnType<typeof aclEntry>[];
  natState?: string;
  /** Per service, the interface endpoint's policy (see anInterfaceEndpoint). Default: AWS's default. */
  endpointPolicies?: Partial<Record<'ssm' | 'ssmmessages' | 'ec2messages', PolicyDoc | string | null>>;
  /** Entries of the endpoint subnet's own network ACL. Default: it shares the open default ACL. */
  endpointAclEntries?: ReturnType<typeof aclEntry>[];
  /** A second endpoint subnet in another AZ, with its own network ACL (default: open). */
  endpointSubnetB?: { az: string; aclEntries?: ReturnType<typeof aclEntry>[] };
  /** The 0.0.0.0/0 route of the public subnet (where the NAT gateway lives). Default: the internet gateway. */
  publicDefaultRoute?: RouteTarget;
  /** The region of the endpoint service names and subnet AZs. Default: REGION. */
  region?: string;
}

export function aNetwork(spec: NetworkSpec = {}): Omit<Ec2, 'Reservations'> {
  const services = spec.endpoints ?? [];
  const defaultRoute = spec.defaultRoute === undefined ? { nat: NET.nat } : spec.defaultRoute;
  const region = spec.region ?? REGION;
  const subnetB = spec.endpointSubnetB;
  return {
    Vpcs: [aVpc(NET.vpcId, NET.vpcCidr, spec.dns)],
    Subnets: [
      aSubnet(NET.appSubnet, NET.vpcId, '10.0.1.0/24', `${region}a`),
      aSubnet(NET.endpointSubnet, NET.vpcId, '10.0.2.0/24', `${region}a`),
      aSubnet(NET.publicSubnet, NET.vpcId, '10.0.0.0/24', `${region}a`),
      ...(subnetB ? [aSubnet(NET.endpointSubnetB, NET.vpcId, '10.0.4.0/24', subnetB.az)] : []),
    ],
    RouteTables: [
      aRouteTable({ id: 'rtb-0main000000000001', vpcId: NET.vpcId, vpcCidr: NET.vpcCidr, main: true }),
      aRouteTable({
        id: NET.appRouteTable,
        vpcId: NET.vpcId,
        vpcCidr: NET.vpcCidr,
        subnetIds: [NET.appSubnet],
        ...(defaultRoute ? { defaultRoute } : {}),
      }),
      aRouteTable({
        id: 'rtb-0public000000001',
        vpcId: NET.vpcId,
        vpcCidr: NET.vpcCidr,
        subnetIds: [NET.publicSubnet],
        defaultRoute: spec.publicDefaultRoute ?? { igw: NET.igw },
      }),
    ],
    SecurityGroups: [
      aSecurityGroup(NET.appSg, NET.vpcId, {
        egress: spec.appSgEgress ?? [sgRule('all', { cidr: '0.0.0.0/0' })],
      }),
      aSecurityGroup(NET.endpointSg, NET.vpcId, {
        ingress: spec.endpointSgIngress ?? [sgRule(443, { cidr: NET.vpcCidr })],
      }),
    ],
    NetworkAcls: [
      aNetworkAcl(NET.appAcl, NET.vpcId, [NET.appSubnet], spec.appAclEntries ?? OPEN_ACL_ENTRIES, false),
      ...(spec.endpointAclEntries
        ? [
            aNetworkAcl('acl-0default00000001', NET.vpcId, [NET.publicSubnet]),
            aNetworkAcl(NET.endpointAcl, NET.vpcId, [NET.endpointSubnet], spec.endpointAclEntries, false),
          ]
        : [aNetworkAcl('acl-0default00000001', NET.vpcId, [NET.endpointSubnet, NET.publicSubnet])]),
      ...(subnetB
        ? [
            aNetworkAcl(
              NET.endpointAclB,
              NET.vpcId,
              [NET.endpointSubnetB],
              subnetB.aclEntries ?? OPEN_ACL_ENTRIES,
              false,
            ),
          ]
        : []),
    ],
    VpcEndpoints: [
      ...services.map((service, i) =>
        anInterfaceEndpoint({
          id: `vpce-0${service.padEnd(15, '0').slice(0, 15)}${i}`,
          vpcId: NET.vpcId,
          service,
          subnetIds: subnetB ? [NET.endpointSubnet, NET.endpointSubnetB] : [NET.endpointSubnet],
          groups: [NET.endpointSg],
          privateDns: spec.endpointPrivateDns ?? true,
          region,
          ...(spec.endpointPolicies && service in spec.endpointPolicies
            ? { policy: spec.endpointPolicies[service] }
            : {}),
        }),
      ),
      ...(spec.s3Gateway
        ? [
            aGatewayEndpoint({
              id: 'vpce-0s3gateway000001',
              vpcId: NET.vpcId,
              routeTableIds: [NET.appRouteTable],
              ...(typeof spec.s3Gateway === 'object' ? { policy: spec.s3Gateway } : {}),
            }),
          ]
        : []),
    ],
    InternetGateways: [anInternetGateway(NET.igw, NET.vpcId)],
    NatGateways: [aNatGateway(NET.nat, NET.vpcId, NET.publicSubnet, spec.natState)],
  };
}
