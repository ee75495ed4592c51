import { z } from 'zod';
import { echoValue } from '../echo';

/**
 * The snapshot format of DESIGN §2: AWS API responses in their own (PascalCase) shapes, so a user can
 * assemble one from `aws ... --output json`. Only the fields the rules read are validated; unknown
 * fields are accepted and dropped. The top-level keys are a public, versioned contract.
 */

/** ISO 8601: a date, or a date and time with a UTC offset (`Z`, `+00:00`, `+0000`); `T` or a space between. */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?))?$/i;
/** Epoch numbers below this are seconds (until the year 5138), above it milliseconds (after March 1973). */
const EPOCH_MS_FROM = 1e11;
const MAX_EPOCH_MS = 8.64e15;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Milliseconds since the epoch of an ISO 8601 string, or undefined when it is not one (e.g. 2026-02-30). */
function isoMillis(text: string): number | undefined {
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (h === undefined) return Date.UTC(year, month - 1, day);
  // A time without a UTC offset would be read in the reader's time zone: ambiguous, so not accepted.
  if (zone === undefined) return undefined;
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || 0);
    if (oh > 23 || om > 59) return undefined;
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = Number((frac ?? '').padEnd(3, '0').slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
}

/**
 * A timestamp as ISO 8601 text, from what the AWS CLI prints (ISO strings; epoch seconds with
 * `cli_timestamp_format = none` on old versions), epoch milliseconds, or the SDK's Date objects; undefined
 * when the value is none of these. A valid ISO string is kept as written unless `new Date()` would read it
 * differently, so every reader of the snapshot sees the same instant.
 */
export function normalizeTimestamp(value: unknown): string | undefined {
  let millis: number | undefined;
  if (typeof value === 'string') {
    millis = isoMillis(value.trim());
    if (millis !== undefined && new Date(value).getTime() === millis) return value;
  } else if (typeof value === 'number' && Number.isFinite(value)) {
    millis = Math.abs(value) < EPOCH_MS_FROM ? Math.round(value * 1000) : Math.round(value);
  } else if (value instanceof Date) {
    millis = value.getTime();
  }
  if (millis === undefined || !Number.isFinite(millis) || Math.abs(millis) > MAX_EPOCH_MS) return undefined;
  return new Date(millis).toISOString();
}

/**
 * Every time the rules read. A value that is not a time rejects the snapshot (naming its JSON path) rather
 * than being read as "no date": an unreadable ExpirationDate must not turn an expired activation into a PASS.
 */
const timestamp = z.custom<string | number | Date>().transform((value, ctx) => {
  const iso = normalizeTimestamp(value);
  if (iso === undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        value === undefined
          ? 'missing required field (expected a timestamp)'
          : `not a timestamp (${echoValue(value)})`,
    });
    return z.NEVER;
  }
  return iso;
});
const str = z.string();
const optStr = z.string().optional();
/** Policy documents arrive URL-encoded from the raw IAM API and as objects from the AWS CLI. */
const policyDocument = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);
/** DescribeVpcAttribute returns `{ "EnableDnsSupport": { "Value": true } }`; a bare boolean is accepted too. */
const attributeBoolean = z.union([z.boolean(), z.object({ Value: z.boolean().optional() })]);
const tags = z.array(z.object({ Key: str, Value: z.string().optional().default('') })).optional();

export const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
export const MANAGED_INSTANCE_ID = /^mi-[0-9a-f]{8,17}$/;
/** An AWS region name such as eu-west-1 (snapshots, CLI options, Lambda configuration and input). */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** An IAM role name without its path. */
export const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

const instance = z.object({
  InstanceId: z.string().regex(INSTANCE_ID, 'must be an EC2 instance id like i-0123456789abcdef0'),
  State: z.object({ Name: z.string().min(1), Code: z.number().optional() }),
  InstanceType: optStr,
  ImageId: optStr,
  LaunchTime: timestamp.optional(),
  SubnetId: optStr,
  VpcId: optStr,
  PrivateIpAddress: optStr,
  PublicIpAddress: optStr,
  Platform: optStr,
  PlatformDetails: optStr,
  Placement: z.object({ AvailabilityZone: optStr }).optional(),
  IamInstanceProfile: z.object({ Arn: str, Id: optStr }).optional(),
  MetadataOptions: z
    .object({
      HttpTokens: optStr,
      HttpEndpoint: optStr,
      State: optStr,
      HttpPutResponseHopLimit: z.number().optional(),
    })
    .optional(),
  SecurityGroups: z.array(z.object({ GroupId: str, GroupName: optStr })).optional(),
  NetworkInterfaces: z
    .array(
      z.object({
        NetworkInterfaceId: optStr,
        SubnetId: optStr,
        PrivateIpAddress: optStr,
        Association: z.object({ PublicIp: optStr }).optional(),
        Groups: z.array(z.object({ GroupId: str })).optional(),
      }),
    )
    .optional(),
  Tags: tags,
});

const vpc = z.object({
  VpcId: str,
  CidrBlock: optStr,
  CidrBlockAssociationSet: z.array(z.object({ CidrBlock: str })).optional(),
  IsDefault: z.boolean().optional(),
  EnableDnsSupport: attributeBoolean.optional(),
  EnableDnsHostnames: attributeBoolean.optional(),
  Tags: tags,
});

const subnet = z.object({
  SubnetId: str,
  VpcId: str,
  CidrBlock: optStr,
  AvailabilityZone: optStr,
  MapPublicIpOnLaunch: z.boolean().optional(),
  Tags: tags,
});

const route = z.object({
  DestinationCidrBlock: optStr,
  DestinationIpv6CidrBlock: optStr,
  DestinationPrefixListId: optStr,
  GatewayId: optStr,
  NatGatewayId: optStr,
  TransitGatewayId: optStr,
  VpcPeeringConnectionId: optStr,
  NetworkInterfaceId: optStr,
  InstanceId: optStr,
  LocalGatewayId: optStr,
  CarrierGatewayId: optStr,
  CoreNetworkArn: optStr,
  EgressOnlyInternetGatewayId: optStr,
  State: optStr,
  Origin: optStr,
});

const routeTable = z.object({
  RouteTableId: str,
  VpcId: str,
  Associations: z
    .array(
      z.object({
        Main: z.boolean().optional(),
        SubnetId: optStr,
        GatewayId: optStr,
        RouteTableAssociationId: optStr,
      }),
    )
    .optional(),
  Routes: z.array(route).optional(),
  Tags: tags,
});

const ipPermission = z.object({
  IpProtocol: str,
  FromPort: z.number().optional(),
  ToPort: z.number().optional(),
  IpRanges: z.array(z.object({ CidrIp: str, Description: optStr })).optional(),
  Ipv6Ranges: z.array(z.object({ CidrIpv6: str })).optional(),
  PrefixListIds: z.array(z.object({ PrefixListId: str })).optional(),
  UserIdGroupPairs: z.array(z.object({ GroupId: optStr, UserId: optStr })).optional(),
});

const securityGroup = z.object({
  GroupId: str,
  GroupName: optStr,
  VpcId: optStr,
  IpPermissions: z.array(ipPermission).optional(),
  IpPermissionsEgress: z.array(ipPermission).optional(),
});

const networkAcl = z.object({
  NetworkAclId: str,
  VpcId: str,
  IsDefault: z.boolean().optional(),
  Associations: z.array(z.object({ SubnetId: optStr, NetworkAclId: optStr })).optional(),
  Entries: z
    .array(
      z.object({
        RuleNumber: z.number(),
        Protocol: str,
        RuleAction: z
          .string()
          .transform((s) => s.toLowerCase())
          .pipe(z.enum(['allow', 'deny'])),
        Egress: z.boolean(),
        CidrBlock: optStr,
        Ipv6CidrBlock: optStr,
        PortRange: z.object({ From: z.number().optional(), To: z.number().optional() }).optional(),
      }),
    )
    .optional(),
});

const vpcEndpoint = z.object({
  VpcEndpointId: str,
  VpcEndpointType: optStr,
  VpcId: str,
  ServiceName: str,
  State: optStr,
  PrivateDnsEnabled: z.boolean().optional(),
  SubnetIds: z.array(str).optional(),
  Groups: z.array(z.object({ GroupId: str, GroupName: optStr })).optional(),
  RouteTableIds: z.array(str).optional(),
  PolicyDocument: policyDocument.optional(),
});

const internetGateway = z.object({
  InternetGatewayId: str,
  Attachments: z.array(z.object({ VpcId: str, State: optStr })).optional(),
});

const natGateway = z.object({
  NatGatewayId: str,
  SubnetId: optStr,
  VpcId: optStr,
  State: optStr,
  ConnectivityType: optStr,
});

const instanceInformation = z.object({
  InstanceId: str,
  PingStatus: optStr,
  LastPingDateTime: timestamp.optional(),
  AgentVersion: optStr,
  IsLatestVersion: z.boolean().optional(),
  PlatformType: optStr,
  PlatformName: optStr,
  PlatformVersion: optStr,
  ResourceType: optStr,
  IamRole: optStr,
  RegistrationDate: timestamp.optional(),
  ActivationId: optStr,
  Name: optStr,
  IPAddress: optStr,
  ComputerName: optStr,
  SourceId: optStr,
  SourceType: optStr,
});

const serviceSetting = z.object({
  SettingId: str,
  SettingValue: z.string().optional().default(''),
  Status: optStr,
  ARN: optStr,
  LastModifiedDate: timestamp.optional(),
  LastModifiedUser: optStr,
});

const activation = z.object({
  ActivationId: str,
  Description: optStr,
  DefaultInstanceName: optStr,
  IamRole: optStr,
  RegistrationLimit: z.number().int().nonnegative(),
  RegistrationsCount: z.number().int().nonnegative().optional().default(0),
  ExpirationDate: timestamp.optional(),
  Expired: z.boolean().optional(),
  CreatedDate: timestamp.optional(),
  Tags: tags,
});

const roleDetail = z.object({
  RoleName: str,
  Arn: str,
  Path: optStr,
  RoleId: optStr,
  AssumeRolePolicyDocument: policyDocument.optional(),
  InstanceProfileList: z
    .array(z.object({ InstanceProfileName: str, Arn: str, InstanceProfileId: optStr, Path: optStr }))
    .optional(),
  RolePolicyList: z.array(z.object({ PolicyName: str, PolicyDocument: policyDocument })).optional(),
  AttachedManagedPolicies: z.array(z.object({ PolicyName: optStr, PolicyArn: str })).optional(),
  PermissionsBoundary: z.object({ PermissionsBoundaryArn: str, PermissionsBoundaryType: optStr }).optional(),
});

const managedPolicy = z.object({
  PolicyName: optStr,
  Arn: str,
  DefaultVersionId: optStr,
  PolicyVersionList: z
    .array(
      z.object({ Document: policyDocument, VersionId: optStr, IsDefaultVersion: z.boolean().optional() }),
    )
    .optional(),
});

/**
 * AWS Organizations, for the service control policies in force for the account (DESIGN §7). A policy as
 * ListPoliciesForTarget and DescribePolicy return it (PolicySummary); only SERVICE_CONTROL_POLICY entries
 * are evaluated.
 */
const organizationsPolicySummary = z.object({
  Id: z.string().min(1),
  Arn: optStr,
  Name: optStr,
  Description: optStr,
  Type: optStr,
  AwsManaged: z.boolean().optional(),
});

/**
 * One target of the chain root → OU(s) → account (ListParents, then the account itself). `Policies`
 * absent means ListPoliciesForTarget failed for it: the SCPs of that level are unknown.
 */
const organizationsTarget = z.object({
  TargetId: z.string().min(1),
  Type: z.enum(['ROOT', 'ORGANIZATIONAL_UNIT', 'ACCOUNT']),
  Name: optStr,
  Policies: z.array(organizationsPolicySummary).optional(),
});

/** A DescribePolicy result: `Content` is the policy document (a JSON string, or an object). */
const organizationsPolicy = z.object({
  PolicySummary: organizationsPolicySummary,
  Content: policyDocument.optional(),
});

/**
 * The optional `organizations` section. Absent: the SCP layer is not evaluated (an account outside an
 * Organization, or a collection without Organizations access). A policy summary on a target without a
 * matching `Policies` entry here means DescribePolicy failed for it.
 */
export const organizationsSectionSchema = z.object({
  OrganizationId: optStr,
  ManagementAccountId: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  /** Root first, the account last. Absent: ListParents failed. */
  TargetChain: z.array(organizationsTarget).optional(),
  Policies: z.array(organizationsPolicy).optional(),
});

/**
 * What a snapshot covers (absent = the whole region). A scoped snapshot holds only what its scope needs,
 * so only its own instances and hybrid nodes are evaluated from it, and account-level rules are not.
 */
export const scopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('region') }),
  z.object({
    kind: z.literal('instances'),
    instanceIds: z
      .array(
        z
          .string()
          .refine(
            (id) => INSTANCE_ID.test(id) || MANAGED_INSTANCE_ID.test(id),
            'must be an instance id like i-0123456789abcdef0 or mi-0123456789abcdef0',
          ),
      )
      .min(1),
  }),
  z.object({
    kind: z.literal('vpc'),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id like vpc-0123456789abcdef0'),
  }),
  z.object({
    kind: z.literal('role'),
    roleName: z.string().regex(ROLE_NAME, 'must be an IAM role name (without path)'),
  }),
]);

const callRecord = z.object({
  status: z.enum(['denied', 'error']),
  error: z.string().min(1),
  message: optStr,
});

export const snapshotSchema = z.object({
  schemaVersion: z.literal(1),
  accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  region: z.string().regex(REGION_NAME, 'must be an AWS region name like eu-west-1'),
  partition: z.enum(['aws', 'aws-cn', 'aws-us-gov']).optional().default('aws'),
  collectedAt: timestamp,
  scope: scopeSchema.optional(),
  calls: z.record(z.string(), callRecord).optional().default({}),
  ec2: z
    .object({
      Reservations: z.array(z.object({ OwnerId: optStr, Instances: z.array(instance) })).optional(),
      Vpcs: z.array(vpc).optional(),
      Subnets: z.array(subnet).optional(),
      RouteTables: z.array(routeTable).optional(),
      SecurityGroups: z.array(securityGroup).optional(),
      NetworkAcls: z.array(networkAcl).optional(),
      VpcEndpoints: z.array(vpcEndpoint).optional(),
      InternetGateways: z.array(internetGateway).optional(),
      NatGateways: z.array(natGateway).optional(),
    })
    .optional(),
  ssm: z
    .object({
      InstanceInformationList: z.array(instanceInformation).optional(),
      ServiceSettings: z.array(serviceSetting).optional(),
      ActivationList: z.array(activation).optional(),
    })
    .optional(),
  iam: z
    .object({
      RoleDetailList: z.array(roleDetail).optional(),
      Policies: z.array(managedPolicy).optional(),
    })
    .optional(),
  organizations: organizationsSectionSchema.optional(),
});

export type Snapshot = z.output<typeof snapshotSchema>;
export type SnapshotInput = z.input<typeof snapshotSchema>;
export type Ec2InstanceRaw = z.output<typeof instance>;
export type VpcRaw = z.output<typeof vpc>;
export type SubnetRaw = z.output<typeof subnet>;
export type RouteTableRaw = z.output<typeof routeTable>;
export type RouteRaw = z.output<typeof route>;
export type SecurityGroupRaw = z.output<typeof securityGroup>;
export type IpPermissionRaw = z.output<typeof ipPermission>;
export type NetworkAclRaw = z.output<typeof networkAcl>;
export type VpcEndpointRaw = z.output<typeof vpcEndpoint>;
export type NatGatewayRaw = z.output<typeof natGateway>;
export type InternetGatewayRaw = z.output<typeof internetGateway>;
export type InstanceInformationRaw = z.output<typeof instanceInformation>;
export type ServiceSettingRaw = z.output<typeof serviceSetting>;
export type ActivationRaw = z.output<typeof activation>;
export type RoleDetailRaw = z.output<typeof roleDetail>;
export type ManagedPolicyRaw = z.output<typeof managedPolicy>;
export type CallRecord = z.output<typeof callRecord>;
export type CollectionScope = z.output<typeof scopeSchema>;
export type OrganizationsSection = z.output<typeof organizationsSectionSchema>;
export type OrganizationsSectionInput = z.input<typeof organizationsSectionSchema>;
export type OrganizationsTargetRaw = z.output<typeof organizationsTarget>;
export type OrganizationsPolicySummaryRaw = z.output<typeof organizationsPolicySummary>;
export type OrganizationsPolicyRaw = z.output<typeof organizationsPolicy>;

/**
 * Every section of the snapshot, the API call that fills it, and so the permission a user needs.
 * A section is unavailable when it is absent or when `calls` records one of its calls as failed.
 */
export const SECTIONS = {
  'ec2.Reservations': ['ec2:DescribeInstances'],
  'ec2.Vpcs': ['ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute'],
  'ec2.Subnets': ['ec2:DescribeSubnets'],
  'ec2.RouteTables': ['ec2:DescribeRouteTables'],
  'ec2.SecurityGroups': ['ec2:DescribeSecurityGroups'],
  'ec2.NetworkAcls': ['ec2:DescribeNetworkAcls'],
  'ec2.VpcEndpoints': ['ec2:DescribeVpcEndpoints'],
  'ec2.InternetGateways': ['ec2:DescribeInternetGateways'],
  'ec2.NatGateways': ['ec2:DescribeNatGateways'],
  'ssm.InstanceInformationList': ['ssm:DescribeInstanceInformation'],
  'ssm.ServiceSettings': ['ssm:GetServiceSetting'],
  'ssm.ActivationList': ['ssm:DescribeActivations'],
  iam: [
    'iam:GetAccountAuthorizationDetails',
    'iam:GetInstanceProfile',
    'iam:GetRole',
    'iam:ListAttachedRolePolicies',
    'iam:ListRolePolicies',
    'iam:GetRolePolicy',
    'iam:GetPolicy',
    'iam:GetPolicyVersion',
  ],
  organizations: [
    'organizations:ListParents',
    'organizations:ListPoliciesForTarget',
    'organizations:DescribePolicy',
  ],
} as const satisfies Record<string, readonly string[]>;

export type SectionKey = keyof typeof SECTIONS;
