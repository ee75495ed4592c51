/**
 * The demo fleet: one realistic account (123456789012, eu-west-1) that shows every rule passing and
 * failing for reasons an operator recognises. `scripts/dev/generate-demo-fleet.ts` writes it to
 * test/fixtures/demo/, and test/demo-fleet.test.ts keeps the committed JSON equal to this code.
 *
 * The fleet is described as plain data (VPC plans, instance plans, hybrid plans) and then rendered into
 * AWS response shapes by the builders, so "later" (`buildDemoFleetAfter`) is the same data with a few
 * edits: the two snapshots share ids, which is what a findings diff needs.
 */
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { POLICY_ARNS } from '../../shared/knowledge/ssm-requirements';
import {
  ACCOUNT,
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
  managedPolicyArn,
  policy,
  sgRule,
  tierSetting,
  trustFor,
  type ActivationInput,
  type InstanceInformationInput,
  type InstanceInput,
  type ManagedPolicyInput,
  type NetworkAclInput,
  type PolicyDoc,
  type RoleDetailInput,
  type RouteTableInput,
  type SecurityGroupInput,
  type SubnetInput,
  type VpcEndpointInput,
  type VpcInput,
} from './builders';
import { awsId, stableUuid } from './deterministic';
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

export const DEMO_NOW = '2026-11-23T10:00:00Z';
/** A week later: the moment of `buildDemoFleetAfter`. */
export const DEMO_AFTER_NOW = '2026-11-30T10:00:00Z';

/** The DHMC setting value the console writes when an admin turns DHMC on with the default role. */
export const DEMO_DHMC_SETTING = 'service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole';
const DHMC_ROLE = 'AWSSystemsManagerDefaultEC2InstanceManagementRole';

/** The fixture format: 2-space JSON with a final newline, so the generator and the test agree byte for byte. */
export const toFixtureJson = (snapshot: SnapshotInput): string => `${JSON.stringify(snapshot, null, 2)}\n`;

// ---------------------------------------------------------------------------------------------------
// IAM

type AclEntryInput = ReturnType<typeof aclEntry>;
type SgRuleInput = ReturnType<typeof sgRule>;

const DEV_BOUNDARY_ARN = managedPolicyArn('DeveloperBoundary');
const CLOUDWATCH_AGENT_ARN = 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy';

/** A permissions boundary that forgot Session Manager's ssmmessages channel. */
const developerBoundary = policy(
  allow(['ssm:*', 'ec2messages:*', 's3:*', 'logs:*', 'cloudwatch:*', 'ec2:Describe*'], '*', {
    Sid: 'DeveloperCeiling',
  }),
);

const cloudWatchAgentServerPolicy = policy(
  allow([
    'cloudwatch:PutMetricData',
    'ec2:DescribeVolumes',
    'ec2:DescribeTags',
    'logs:PutLogEvents',
    'logs:DescribeLogStreams',
    'logs:DescribeLogGroups',
    'logs:CreateLogStream',
    'logs:CreateLogGroup',
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets',
    'xray:GetSamplingStatisticSummaries',
  ]),
  allow('ssm:GetParameter', 'arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*'),
);

function managedPolicies(after: boolean): ManagedPolicyInput[] {
  return [
    aManagedPolicy(POLICY_ARNS.core, awsManagedDocument(POLICY_ARNS.core)),
    aManagedPolicy(POLICY_ARNS.dhmcDefault, awsManagedDocument(POLICY_ARNS.dhmcDefault)),
    aManagedPolicy(
      POLICY_ARNS.deprecatedEc2RoleForSsm,
      awsManagedDocument(POLICY_ARNS.deprecatedEc2RoleForSsm),
    ),
    aManagedPolicy(CLOUDWATCH_AGENT_ARN, cloudWatchAgentServerPolicy),
    aManagedPolicy(POWER_USER_ARN, powerUserAccess),
    // The AWS CLI prints documents as objects; one customer policy is kept that way to exercise both forms.
    aManagedPolicy(S3_EXACT_ARN, s3ExactPolicy(), { encode: false }),
    aManagedPolicy(S3_WILDCARD_ARN, s3WildcardPolicy),
    ...(after ? [aManagedPolicy(DEV_BOUNDARY_ARN, developerBoundary)] : []),
  ];
}

const CORE_ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:*',
];

function roles(after: boolean, vpcIds: ReadonlyMap<string, string>): RoleDetailInput[] {
  const ec2Trust = encoded(trustFor('ec2.amazonaws.com'));
  const ssmTrust = encoded(trustFor('ssm.amazonaws.com'));
  const instanceRole = (
    name: string,
    profile: string,
    managed: string[],
    inline: Record<string, PolicyDoc | string> = {},
    extra: { boundary?: string } = {},
  ) => aRole({ name, profiles: [profile], trust: ec2Trust, managed, inline, ...extra });
  return [
    instanceRole('web-server-role', 'web-server-profile', [
      POLICY_ARNS.core,
      S3_EXACT_ARN,
      CLOUDWATCH_AGENT_ARN,
    ]),
    instanceRole('app-server-role', 'app-server-profile', [
      POLICY_ARNS.core,
      S3_EXACT_ARN,
      CLOUDWATCH_AGENT_ARN,
    ]),
    // Core only: fine behind a NAT gateway, but short of the S3 grant seed 002 asks for behind endpoints.
    instanceRole(
      'cache-role',
      'cache-profile',
      [POLICY_ARNS.core],
      {},
      after ? { boundary: DEV_BOUNDARY_ARN } : {},
    ),
    instanceRole('batch-worker-role', 'batch-worker-profile', [POLICY_ARNS.deprecatedEc2RoleForSsm]),
    // The shadowing trap of seed 002: a heartbeat-only grant keeps the agent off DHMC.
    instanceRole('reporting-role', 'reporting-profile', [CLOUDWATCH_AGENT_ARN], {
      'reports-bucket': encoded(
        policy(
          allow(['s3:GetObject', 's3:PutObject'], 'arn:aws:s3:::acme-finance-reports/*'),
          ...(after ? [] : [allow('ssm:UpdateInstanceInformation', '*', { Sid: 'AgentHeartbeat' })]),
        ),
      ),
    }),
    instanceRole('payments-role', 'payments-profile', [POLICY_ARNS.core, S3_EXACT_ARN], {
      'deny-interactive-sessions': encoded(
        policy(deny('ssmmessages:*', '*', { Sid: 'PciNoInteractiveSessions' })),
      ),
    }),
    instanceRole('etl-role', 'etl-profile', [S3_EXACT_ARN], {
      // Kept as an object, the way `aws iam get-account-authorization-details` prints it.
      'ssm-agent-from-data-vpc': policy(
        allow(CORE_ACTIONS, '*', {
          Sid: 'AgentOnlyFromProdVpc',
          Condition: { StringEquals: { 'aws:SourceVpc': vpcIds.get('prod') ?? 'vpc-unknown' } },
        }),
      ),
    }),
    instanceRole('ops-tools-role', 'ops-tools-profile', [POWER_USER_ARN]),
    instanceRole('ml-training-role', 'ml-training-profile', [POLICY_ARNS.core, S3_WILDCARD_ARN]),
    // No SSM grant at all: the agent skips this profile and falls back to DHMC.
    instanceRole('legacy-app-role', 'legacy-app-profile', [CLOUDWATCH_AGENT_ARN], {
      artifacts: encoded(policy(allow('s3:GetObject', 'arn:aws:s3:::acme-legacy-artifacts/*'))),
    }),
    aRole({
      name: DHMC_ROLE,
      path: '/service-role/',
      trust: ssmTrust,
      managed: [POLICY_ARNS.dhmcDefault, S3_EXACT_ARN],
    }),
    aRole({ name: 'SSMServiceRole', trust: ssmTrust, managed: [POLICY_ARNS.core] }),
    // Created from seed 004, which still attaches the deprecated policy.
    aRole({ name: 'SSMServiceRole-legacy', trust: ssmTrust, managed: [POLICY_ARNS.deprecatedEc2RoleForSsm] }),
    // Copied from an EC2 role: trusts ec2.amazonaws.com, so SSM cannot assume it for the kiosks.
    aRole({
      name: 'SSMHybridRole-kiosk',
      trust: after ? ssmTrust : ec2Trust,
      managed: [POLICY_ARNS.core],
    }),
    aRole({
      name: 'platform-admin',
      trust: encoded(
        policy({
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'sts:AssumeRole',
          Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
        }),
      ),
      managed: [POWER_USER_ARN],
      inline: {
        // Seed 002's example admin policy names the setting `default-instance-management-role`.
        'dhmc-admin': encoded(
          policy(
            allow(
              ['ssm:GetServiceSetting', 'ssm:ResetServiceSetting', 'ssm:UpdateServiceSetting'],
              `arn:aws:ssm:${REGION}:${ACCOUNT}:servicesetting/ssm/managed-instance/${after ? 'default-ec2-instance-management-role' : 'default-instance-management-role'}`,
            ),
            allow('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/service-role/${DHMC_ROLE}`, {
              Condition: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
            }),
          ),
        ),
      },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Network

type Az = 'a' | 'b' | 'c';
/** How a subnet's route table reaches 0.0.0.0/0. */
type Tier = 'public' | 'nat' | 'isolated' | 'tgw' | 'endpoints';
type SsmService = 'ssm' | 'ssmmessages' | 'ec2messages';

interface SubnetPlan {
  key: string;
  cidr: string;
  az: Az;
  tier: Tier;
  /** Its own network ACL; otherwise the VPC's default (open) ACL. */
  acl?: AclEntryInput[];
}

interface SecurityGroupPlan {
  key: string;
  name: string;
  ingress?: SgRuleInput[];
  /** Default: all traffic to 0.0.0.0/0, as EC2 creates a group. */
  egress?: SgRuleInput[];
}

interface EndpointPlan {
  service: SsmService;
  privateDns?: boolean;
  /** Security group key; default 'vpce'. */
  sg?: string;
}

interface VpcPlan {
  key: string;
  name: string;
  cidr: string;
  dns?: { support?: boolean; hostnames?: boolean };
  subnets: SubnetPlan[];
  securityGroups: SecurityGroupPlan[];
  endpoints: EndpointPlan[];
  /** Tiers whose route table the S3 gateway endpoint serves; absent: the VPC has none. */
  s3GatewayTiers?: Tier[];
}

const standardGroups = (cidr: string): SecurityGroupPlan[] => [
  { key: 'app', name: 'app-servers' },
  {
    key: 'web',
    name: 'web-servers',
    ingress: [sgRule(443, { cidr: '0.0.0.0/0' }), sgRule(80, { cidr: '0.0.0.0/0' })],
  },
  { key: 'vpce', name: 'vpc-endpoints', ingress: [sgRule(443, { cidr })] },
];

const ALL_SSM: EndpointPlan[] = [{ service: 'ssm' }, { service: 'ssmmessages' }, { service: 'ec2messages' }];

function vpcPlans(after: boolean): VpcPlan[] {
  return [
    {
      // Complete endpoints and an S3 gateway: the reference setup.
      key: 'prod',
      name: 'prod',
      cidr: '10.10.0.0/16',
      subnets: [
        { key: 'public-a', cidr: '10.10.0.0/24', az: 'a', tier: 'public' },
        { key: 'public-b', cidr: '10.10.1.0/24', az: 'b', tier: 'public' },
        { key: 'app-a', cidr: '10.10.10.0/24', az: 'a', tier: 'nat' },
        { key: 'app-b', cidr: '10.10.11.0/24', az: 'b', tier: 'nat' },
        { key: 'app-c', cidr: '10.10.12.0/24', az: 'c', tier: 'nat' },
        { key: 'data-a', cidr: '10.10.20.0/24', az: 'a', tier: 'isolated' },
        { key: 'data-b', cidr: '10.10.21.0/24', az: 'b', tier: 'isolated' },
        { key: 'endpoints-a', cidr: '10.10.30.0/24', az: 'a', tier: 'endpoints' },
        { key: 'endpoints-b', cidr: '10.10.31.0/24', az: 'b', tier: 'endpoints' },
      ],
      securityGroups: [
        ...standardGroups('10.10.0.0/16'),
        { key: 'bastion', name: 'ops-bastion', ingress: [sgRule(22, { cidr: '198.51.100.0/24' })] },
      ],
      endpoints: ALL_SSM,
      s3GatewayTiers: ['nat', 'isolated'],
    },
    {
      // Half-built endpoints: ssm works, ssmmessages was created with private DNS off, ec2messages missing.
      key: 'staging',
      name: 'staging',
      cidr: '10.20.0.0/16',
      subnets: [
        { key: 'public-a', cidr: '10.20.0.0/24', az: 'a', tier: 'public' },
        { key: 'app-a', cidr: '10.20.10.0/24', az: 'a', tier: 'nat' },
        { key: 'app-b', cidr: '10.20.11.0/24', az: 'b', tier: 'nat' },
        { key: 'isolated-a', cidr: '10.20.20.0/24', az: 'a', tier: 'isolated' },
        { key: 'endpoints-a', cidr: '10.20.30.0/24', az: 'a', tier: 'endpoints' },
      ],
      securityGroups: standardGroups('10.20.0.0/16'),
      endpoints: after ? ALL_SSM : [{ service: 'ssm' }, { service: 'ssmmessages', privateDns: false }],
    },
    {
      // Complete endpoints that cannot work: DNS hostnames is off, so their private names never resolve.
      key: 'legacy',
      name: 'legacy-datacentre-migration',
      cidr: '10.30.0.0/16',
      dns: { support: true, hostnames: false },
      subnets: [
        { key: 'public-a', cidr: '10.30.0.0/24', az: 'a', tier: 'public' },
        { key: 'private-a', cidr: '10.30.10.0/24', az: 'a', tier: 'nat' },
        { key: 'private-b', cidr: '10.30.11.0/24', az: 'b', tier: 'nat' },
        { key: 'isolated-b', cidr: '10.30.20.0/24', az: 'b', tier: 'isolated' },
        { key: 'endpoints-a', cidr: '10.30.30.0/24', az: 'a', tier: 'endpoints' },
      ],
      securityGroups: standardGroups('10.30.0.0/16'),
      endpoints: ALL_SSM,
    },
    {
      // No SSM endpoints at all: everything goes through the IGW, a NAT gateway or the transit gateway.
      key: 'dev',
      name: 'dev-shared',
      cidr: '10.40.0.0/16',
      subnets: [
        { key: 'public-a', cidr: '10.40.0.0/24', az: 'a', tier: 'public' },
        { key: 'public-b', cidr: '10.40.1.0/24', az: 'b', tier: 'public' },
        { key: 'private-a', cidr: '10.40.10.0/24', az: 'a', tier: 'nat' },
        {
          key: 'private-b',
          cidr: '10.40.11.0/24',
          az: 'b',
          tier: 'nat',
          // Written for "SSH from the office and HTTPS from the VPC", forgetting the return traffic.
          acl: after
            ? OPEN_ACL_ENTRIES
            : [
                aclEntry(100, false, 'allow', [22, 22], '10.0.0.0/8'),
                aclEntry(110, false, 'allow', [443, 443], '10.40.0.0/16'),
                aclEntry(32767, false, 'deny', 'all'),
                aclEntry(100, true, 'allow', 'all'),
                aclEntry(32767, true, 'deny', 'all'),
              ],
        },
        {
          key: 'sandbox-c',
          cidr: '10.40.12.0/24',
          az: 'c',
          tier: 'nat',
          // "All web traffic must go through the proxy": denies direct HTTPS out.
          acl: [
            aclEntry(90, true, 'deny', [443, 443]),
            aclEntry(100, true, 'allow', 'all'),
            aclEntry(32767, true, 'deny', 'all'),
            aclEntry(100, false, 'allow', 'all'),
            aclEntry(32767, false, 'deny', 'all'),
          ],
        },
        { key: 'shared-c', cidr: '10.40.20.0/24', az: 'c', tier: 'tgw' },
      ],
      securityGroups: [
        ...standardGroups('10.40.0.0/16'),
        {
          key: 'jenkins',
          name: 'jenkins-build',
          ingress: [sgRule(8080, { cidr: '10.0.0.0/8' })],
          egress: [sgRule(22, { cidr: '10.0.0.0/8' }), sgRule(8080, { cidr: '10.0.0.0/8' })],
        },
        { key: 'appliance', name: 'fw-appliance', ingress: [sgRule('all', { cidr: '10.0.0.0/8' })] },
      ],
      endpoints: [],
    },
    {
      // Complete endpoints, but ec2messages sits behind an old group that only allows port 80.
      key: 'analytics',
      name: 'analytics',
      cidr: '10.50.0.0/16',
      subnets: [
        { key: 'public-a', cidr: '10.50.0.0/24', az: 'a', tier: 'public' },
        { key: 'private-a', cidr: '10.50.10.0/24', az: 'a', tier: 'nat' },
        { key: 'private-b', cidr: '10.50.11.0/24', az: 'b', tier: 'nat' },
        { key: 'isolated-c', cidr: '10.50.20.0/24', az: 'c', tier: 'isolated' },
        { key: 'endpoints-a', cidr: '10.50.30.0/24', az: 'a', tier: 'endpoints' },
        { key: 'endpoints-b', cidr: '10.50.31.0/24', az: 'b', tier: 'endpoints' },
      ],
      securityGroups: [
        ...standardGroups('10.50.0.0/16'),
        { key: 'vpce-legacy', name: 'vpce-legacy-http', ingress: [sgRule(80, { cidr: '10.50.0.0/16' })] },
      ],
      endpoints: [
        { service: 'ssm' },
        { service: 'ssmmessages' },
        { service: 'ec2messages', sg: 'vpce-legacy' },
      ],
      // The gateway was associated with the private route table only; the isolated subnet came later.
      s3GatewayTiers: ['nat'],
    },
  ];
}

interface NetworkPieces {
  Vpcs: VpcInput[];
  Subnets: SubnetInput[];
  RouteTables: RouteTableInput[];
  SecurityGroups: SecurityGroupInput[];
  NetworkAcls: NetworkAclInput[];
  VpcEndpoints: VpcEndpointInput[];
  InternetGateways: ReturnType<typeof anInternetGateway>[];
  NatGateways: ReturnType<typeof aNatGateway>[];
}

const nameTag = (value: string) => [{ Key: 'Name', Value: value }];

const vpcId = (vpc: string) => awsId('vpc', vpc);
const subnetId = (vpc: string, subnet: string) => awsId('subnet', `${vpc}/${subnet}`);
const sgId = (vpc: string, sg: string) => awsId('sg', `${vpc}/${sg}`);
const SHARED_TGW = awsId('tgw', 'network-hub');

function buildNetwork(plans: readonly VpcPlan[]): NetworkPieces {
  const out: NetworkPieces = {
    Vpcs: [],
    Subnets: [],
    RouteTables: [],
    SecurityGroups: [],
    NetworkAcls: [],
    VpcEndpoints: [],
    InternetGateways: [],
    NatGateways: [],
  };
  for (const plan of plans) {
    const vpc = vpcId(plan.key);
    const igw = awsId('igw', plan.key);
    const natHost = plan.subnets.find((s) => s.tier === 'public');
    const nat = awsId('nat', plan.key);
    out.Vpcs.push({ ...aVpc(vpc, plan.cidr, plan.dns), Tags: nameTag(plan.name) });
    out.InternetGateways.push(anInternetGateway(igw, vpc));
    if (natHost && plan.subnets.some((s) => s.tier === 'nat')) {
      out.NatGateways.push(aNatGateway(nat, vpc, subnetId(plan.key, natHost.key)));
    }
    for (const s of plan.subnets) {
      out.Subnets.push({
        ...aSubnet(subnetId(plan.key, s.key), vpc, s.cidr, `${REGION}${s.az}`),
        MapPublicIpOnLaunch: s.tier === 'public',
        Tags: nameTag(`${plan.name}-${s.key}`),
      });
    }
    // The main table keeps only the local route; every subnet is explicitly associated with its tier's table.
    out.RouteTables.push({
      ...aRouteTable({ id: awsId('rtb', `${plan.key}/main`), vpcId: vpc, vpcCidr: plan.cidr, main: true }),
      Tags: nameTag(`${plan.name}-main`),
    });
    const tiers = [...new Set(plan.subnets.map((s) => s.tier))];
    for (const tier of tiers) {
      const defaultRoute =
        tier === 'public'
          ? { igw }
          : tier === 'nat'
            ? { nat }
            : tier === 'tgw'
              ? { tgw: SHARED_TGW }
              : undefined;
      out.RouteTables.push({
        ...aRouteTable({
          id: awsId('rtb', `${plan.key}/${tier}`),
          vpcId: vpc,
          vpcCidr: plan.cidr,
          subnetIds: plan.subnets.filter((s) => s.tier === tier).map((s) => subnetId(plan.key, s.key)),
          ...(defaultRoute ? { defaultRoute } : {}),
        }),
        Tags: nameTag(`${plan.name}-${tier}`),
      });
    }
    for (const sg of plan.securityGroups) {
      out.SecurityGroups.push({
        ...aSecurityGroup(sgId(plan.key, sg.key), vpc, {
          ...(sg.ingress ? { ingress: sg.ingress } : {}),
          ...(sg.egress ? { egress: sg.egress } : {}),
        }),
        GroupName: `${plan.name}-${sg.name}`,
      });
    }
    const withDefaultAcl = plan.subnets.filter((s) => !s.acl).map((s) => subnetId(plan.key, s.key));
    out.NetworkAcls.push(aNetworkAcl(awsId('acl', `${plan.key}/default`), vpc, withDefaultAcl));
    for (const s of plan.subnets) {
      if (s.acl) {
        out.NetworkAcls.push(
          aNetworkAcl(awsId('acl', `${plan.key}/${s.key}`), vpc, [subnetId(plan.key, s.key)], s.acl, false),
        );
      }
    }
    const endpointSubnets = plan.subnets
      .filter((s) => s.tier === 'endpoints')
      .map((s) => subnetId(plan.key, s.key));
    for (const endpoint of plan.endpoints) {
      out.VpcEndpoints.push(
        anInterfaceEndpoint({
          id: awsId('vpce', `${plan.key}/${endpoint.service}`),
          vpcId: vpc,
          service: endpoint.service,
          subnetIds: endpointSubnets,
          groups: [sgId(plan.key, endpoint.sg ?? 'vpce')],
          privateDns: endpoint.privateDns ?? true,
        }),
      );
    }
    if (plan.s3GatewayTiers) {
      out.VpcEndpoints.push(
        aGatewayEndpoint({
          id: awsId('vpce', `${plan.key}/s3`),
          vpcId: vpc,
          routeTableIds: plan.s3GatewayTiers.map((tier) => awsId('rtb', `${plan.key}/${tier}`)),
        }),
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Operating systems

interface OsSpec {
  platformType: 'Linux' | 'Windows';
  platformName: string;
  platformVersion: string;
  /** DescribeInstances' PlatformDetails (the billing product). */
  platformDetails: string;
  ami: string;
}

const OS = {
  al2023: {
    platformType: 'Linux',
    platformName: 'Amazon Linux',
    platformVersion: '2023',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-0b3e7dd7b2a99b08d',
  },
  al2: {
    platformType: 'Linux',
    platformName: 'Amazon Linux',
    platformVersion: '2',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-0f29c8402f8cce65c',
  },
  ubuntu2204: {
    platformType: 'Linux',
    platformName: 'Ubuntu',
    platformVersion: '22.04',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-0694d931cee176e7d',
  },
  ubuntu2004: {
    platformType: 'Linux',
    platformName: 'Ubuntu',
    platformVersion: '20.04',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-0d64bb532e0502c46',
  },
  ubuntu1804: {
    platformType: 'Linux',
    platformName: 'Ubuntu',
    platformVersion: '18.04',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-0aef57767f5404a3c',
  },
  rhel9: {
    platformType: 'Linux',
    platformName: 'Red Hat Enterprise Linux',
    platformVersion: '9.4',
    platformDetails: 'Red Hat Enterprise Linux',
    ami: 'ami-07d4917b6f95f5c2a',
  },
  rhel8: {
    platformType: 'Linux',
    platformName: 'Red Hat Enterprise Linux',
    platformVersion: '8.8',
    platformDetails: 'Red Hat Enterprise Linux',
    ami: 'ami-0c6f8a1b7d1c0b9a5',
  },
  debian12: {
    platformType: 'Linux',
    platformName: 'Debian GNU/Linux',
    platformVersion: '12',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-0eb11ab33f229b26c',
  },
  raspbian11: {
    platformType: 'Linux',
    platformName: 'Raspbian GNU/Linux',
    platformVersion: '11',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-none',
  },
  centos6: {
    platformType: 'Linux',
    platformName: 'CentOS Linux',
    platformVersion: '6.10',
    platformDetails: 'Linux/UNIX',
    ami: 'ami-0a2e9c6f3c5d1b7e4',
  },
  win2022: {
    platformType: 'Windows',
    platformName: 'Microsoft Windows Server 2022 Datacenter',
    platformVersion: '10.0.20348',
    platformDetails: 'Windows',
    ami: 'ami-0e8c9d3b5f7a1c2d4',
  },
  win2019: {
    platformType: 'Windows',
    platformName: 'Microsoft Windows Server 2019 Standard',
    platformVersion: '10.0.17763',
    platformDetails: 'Windows',
    ami: 'ami-none',
  },
  win2008r2: {
    platformType: 'Windows',
    platformName: 'Microsoft Windows Server 2008 R2 Standard',
    platformVersion: '6.1.7601',
    platformDetails: 'Windows',
    ami: 'ami-none',
  },
  win2003: {
    platformType: 'Windows',
    platformName: 'Microsoft Windows Server 2003 R2 Standard Edition',
    platformVersion: '5.2.3790',
    platformDetails: 'Windows',
    // Imported with VM Import years ago; no such AMI is offered any more.
    ami: 'ami-0c1d2e3f4a5b6c7d8',
  },
  win10: {
    platformType: 'Windows',
    platformName: 'Microsoft Windows 10 Pro',
    platformVersion: '10.0.19045',
    platformDetails: 'Windows',
    ami: 'ami-none',
  },
} as const satisfies Record<string, OsSpec>;
type OsKey = keyof typeof OS;

// SSM Agent releases used below: the latest, a recent one, the last before 3.3.40 (needs ec2messages), one
// too old for DHMC (< 3.2.582.0), the last for CentOS 6, and the last for Windows Server 2008.
const AGENT = {
  latest: '3.3.1142.0',
  recent: '3.3.987.0',
  v32: '3.2.1705.0',
  v32early: '3.2.1297.0',
  preDhmc: '3.1.1732.0',
  centos6: '3.0.1390.0',
  win2008: '2.3.1644.0',
  ancient: '2.2.800.0',
} as const;

// ---------------------------------------------------------------------------------------------------
// EC2 instances

interface Registration {
  ping: 'Online' | 'ConnectionLost' | 'Inactive';
  agent: string;
  /** Default: true when the agent is the latest release. */
  latest?: boolean;
  /** Default: a few minutes before the snapshot. */
  lastPing?: string;
}

interface Ec2Plan {
  name: string;
  vpc: string;
  subnet: string;
  type: string;
  os: OsKey;
  launched: string;
  /** Instance profile name; absent: no profile (the DHMC path). */
  profile?: string;
  imds?: 'required' | 'optional';
  /** Security group keys of the VPC; default ['app']. */
  sgs?: string[];
  publicIp?: string;
  state?: 'running' | 'pending' | 'stopped' | 'terminated';
  /** Absent: never registered with Systems Manager. */
  ssm?: Registration;
  tags?: Record<string, string>;
}

const online = (agent: string = AGENT.latest, latest?: boolean): Registration => ({
  ping: 'Online',
  agent,
  ...(latest === undefined ? {} : { latest }),
});
const lost = (since: string, agent: string = AGENT.latest): Registration => ({
  ping: 'ConnectionLost',
  agent,
  lastPing: since,
});

function ec2Plans(after: boolean): Ec2Plan[] {
  const plans: Ec2Plan[] = [
    // prod: complete endpoints, S3 gateway for app and data subnets
    {
      name: 'web-1',
      vpc: 'prod',
      subnet: 'public-a',
      type: 't3.medium',
      os: 'al2023',
      launched: '2026-09-14T08:12:00+00:00',
      profile: 'web-server-profile',
      sgs: ['web'],
      publicIp: '34.245.18.21',
      ssm: online(),
      tags: { Team: 'storefront', Environment: 'prod' },
    },
    {
      name: 'web-2',
      vpc: 'prod',
      subnet: 'public-b',
      type: 't3.medium',
      os: 'al2023',
      launched: '2026-09-14T08:12:00+00:00',
      profile: 'web-server-profile',
      sgs: ['web'],
      publicIp: '34.245.18.22',
      ssm: after ? lost('2026-11-29T03:14:00+00:00') : online(),
      tags: { Team: 'storefront', Environment: 'prod' },
    },
    {
      name: 'web-3',
      vpc: 'prod',
      subnet: 'public-b',
      type: 't3.medium',
      os: 'al2023',
      launched: '2026-07-02T11:40:00+00:00',
      profile: 'web-server-profile',
      sgs: ['web'],
      publicIp: '34.245.18.23',
      ssm: online(AGENT.recent, false),
      tags: { Team: 'storefront', Environment: 'prod' },
    },
    {
      name: 'api-1',
      vpc: 'prod',
      subnet: 'app-a',
      type: 'm6i.large',
      os: 'al2023',
      launched: '2026-10-03T09:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'platform', Environment: 'prod' },
    },
    {
      name: 'api-2',
      vpc: 'prod',
      subnet: 'app-b',
      type: 'm6i.large',
      os: 'ubuntu2204',
      launched: '2026-10-03T09:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'platform', Environment: 'prod' },
    },
    {
      name: 'api-3',
      vpc: 'prod',
      subnet: 'app-c',
      type: 'm6i.large',
      os: 'ubuntu2204',
      launched: '2026-06-21T14:30:00+00:00',
      profile: 'app-server-profile',
      ssm: online(AGENT.recent, false),
      tags: { Team: 'platform', Environment: 'prod' },
    },
    {
      name: 'api-4',
      vpc: 'prod',
      subnet: 'app-a',
      type: 'm6i.large',
      os: 'al2023',
      launched: '2026-11-23T09:58:30+00:00',
      profile: 'app-server-profile',
      state: after ? 'running' : 'pending',
      ...(after ? { ssm: online() } : {}),
      tags: { Team: 'platform', Environment: 'prod' },
    },
    {
      name: 'api-0-old',
      vpc: 'prod',
      subnet: 'app-b',
      type: 'm5.large',
      os: 'al2',
      launched: '2025-03-11T10:00:00+00:00',
      profile: 'app-server-profile',
      state: 'terminated',
      tags: { Team: 'platform', Environment: 'prod' },
    },
    {
      name: 'win-ad-1',
      vpc: 'prod',
      subnet: 'app-a',
      type: 'm5.large',
      os: 'win2022',
      launched: '2026-02-10T07:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'identity', Environment: 'prod' },
    },
    {
      name: 'win-ad-2',
      vpc: 'prod',
      subnet: 'app-b',
      type: 'm5.large',
      os: 'win2022',
      launched: '2026-02-10T07:00:00+00:00',
      profile: 'app-server-profile',
      // Every prerequisite passes: the agent service itself stopped.
      ssm: lost('2026-11-21T16:02:00+00:00'),
      tags: { Team: 'identity', Environment: 'prod' },
    },
    {
      name: 'payments-1',
      vpc: 'prod',
      subnet: 'app-a',
      type: 'm6i.xlarge',
      os: 'rhel9',
      launched: '2026-08-30T06:00:00+00:00',
      profile: 'payments-profile',
      ssm: online(),
      tags: { Team: 'payments', Environment: 'prod', Compliance: 'pci' },
    },
    {
      name: 'payments-2',
      vpc: 'prod',
      subnet: 'app-b',
      type: 'm6i.xlarge',
      os: 'rhel9',
      launched: '2026-08-30T06:00:00+00:00',
      profile: 'payments-profile',
      ssm: online(),
      tags: { Team: 'payments', Environment: 'prod', Compliance: 'pci' },
    },
    {
      name: 'reporting-1',
      vpc: 'prod',
      subnet: 'app-c',
      type: 'r6i.large',
      os: 'al2023',
      launched: '2026-05-05T12:00:00+00:00',
      profile: 'reporting-profile',
      ssm: online(),
      tags: { Team: 'finance', Environment: 'prod' },
    },
    {
      name: 'cache-1',
      vpc: 'prod',
      subnet: 'app-a',
      type: 'r6i.large',
      os: 'al2023',
      launched: '2026-04-17T12:00:00+00:00',
      profile: 'cache-profile',
      ssm: online(),
      tags: { Team: 'platform', Environment: 'prod' },
    },
    {
      name: 'db-proxy-1',
      vpc: 'prod',
      subnet: 'data-a',
      type: 't3.large',
      os: 'al2023',
      launched: '2026-10-20T10:00:00+00:00',
      ssm: online(),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'db-proxy-2',
      vpc: 'prod',
      subnet: 'data-b',
      type: 't3.large',
      os: 'al2023',
      launched: '2026-10-20T10:00:00+00:00',
      // Launched from an old template that still allows IMDSv1.
      imds: after ? 'required' : 'optional',
      ...(after ? { ssm: online() } : {}),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'etl-1',
      vpc: 'prod',
      subnet: 'data-a',
      type: 'c6i.2xlarge',
      os: 'al2023',
      launched: '2026-09-01T02:00:00+00:00',
      profile: 'etl-profile',
      ssm: online(),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'batch-1',
      vpc: 'prod',
      subnet: 'app-a',
      type: 'c6i.xlarge',
      os: 'al2',
      launched: '2026-03-15T01:00:00+00:00',
      profile: 'batch-worker-profile',
      ssm: online(),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'batch-2',
      vpc: 'prod',
      subnet: 'app-b',
      type: 'c6i.xlarge',
      os: 'al2',
      launched: '2026-03-15T01:00:00+00:00',
      profile: 'batch-worker-profile',
      state: after ? 'terminated' : 'stopped',
      // A stopped instance keeps its registration and stops pinging.
      ...(after ? {} : { ssm: lost('2026-11-02T18:30:00+00:00') }),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'ml-train-1',
      vpc: 'prod',
      subnet: 'app-c',
      type: 'g5.2xlarge',
      os: 'ubuntu2204',
      launched: '2026-11-18T13:00:00+00:00',
      profile: 'ml-training-profile',
      ssm: online(),
      tags: { Team: 'ml', Environment: 'prod' },
    },
    {
      name: 'ops-bastion-1',
      vpc: 'prod',
      subnet: 'public-a',
      type: 't3.small',
      os: 'al2023',
      launched: '2026-01-08T09:00:00+00:00',
      profile: 'ops-tools-profile',
      sgs: ['bastion'],
      publicIp: '34.245.18.40',
      ssm: online(),
      tags: { Team: 'ops', Environment: 'prod' },
    },
    // staging: partial endpoints, no S3 gateway
    {
      name: 'stg-web-1',
      vpc: 'staging',
      subnet: 'app-a',
      type: 't3.small',
      os: 'al2023',
      launched: '2026-11-02T10:00:00+00:00',
      profile: 'web-server-profile',
      sgs: ['web'],
      ssm: online(),
      tags: { Team: 'storefront', Environment: 'staging' },
    },
    {
      name: 'stg-api-1',
      vpc: 'staging',
      subnet: 'app-b',
      type: 't3.medium',
      os: 'ubuntu2204',
      launched: '2026-11-02T10:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'platform', Environment: 'staging' },
    },
    {
      name: 'stg-win-1',
      vpc: 'staging',
      subnet: 'app-b',
      type: 't3.large',
      os: 'win2022',
      launched: '2026-10-12T10:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'identity', Environment: 'staging' },
    },
    {
      name: 'ci-runner-1',
      vpc: 'staging',
      subnet: 'app-a',
      type: 'c6i.large',
      os: 'ubuntu2204',
      launched: '2026-03-03T10:00:00+00:00',
      profile: 'app-server-profile',
      // Restored from an old snapshot after weeks powered off; SSM still reports it Inactive.
      ssm: { ping: 'Inactive', agent: AGENT.recent, latest: false, lastPing: '2026-10-02T06:00:00+00:00' },
      tags: { Team: 'build', Environment: 'staging' },
    },
    {
      name: 'stg-worker-1',
      vpc: 'staging',
      subnet: 'isolated-a',
      type: 't3.medium',
      os: 'al2023',
      launched: '2026-11-19T15:00:00+00:00',
      profile: 'app-server-profile',
      ...(after ? { ssm: online() } : {}),
      tags: { Team: 'platform', Environment: 'staging' },
    },
    {
      name: 'stg-db-migrate-1',
      vpc: 'staging',
      subnet: 'isolated-a',
      type: 't3.medium',
      os: 'al2023',
      launched: '2026-11-22T20:00:00+00:00',
      ...(after ? { ssm: online() } : {}),
      tags: { Team: 'data', Environment: 'staging' },
    },
    {
      name: 'stg-batch-1',
      vpc: 'staging',
      subnet: 'app-a',
      type: 'c6i.large',
      os: 'al2023',
      launched: '2026-10-28T10:00:00+00:00',
      profile: 'legacy-app-profile',
      ssm: online(),
      tags: { Team: 'data', Environment: 'staging' },
    },
    // legacy: complete endpoints made useless by DNS hostnames off
    {
      name: 'legacy-win2003',
      vpc: 'legacy',
      subnet: 'private-a',
      type: 'm4.large',
      os: 'win2003',
      launched: '2019-04-02T09:00:00+00:00',
      profile: 'app-server-profile',
      ssm: lost('2026-08-14T22:10:00+00:00', AGENT.ancient),
      tags: { Team: 'finance', Environment: 'legacy', Migration: 'vm-import-2019' },
    },
    {
      name: 'legacy-centos6-build',
      vpc: 'legacy',
      subnet: 'private-b',
      type: 'c5.large',
      os: 'centos6',
      launched: '2020-11-30T09:00:00+00:00',
      profile: 'batch-worker-profile',
      ssm: online(AGENT.centos6, false),
      tags: { Team: 'build', Environment: 'legacy' },
    },
    {
      name: 'legacy-erp-db',
      vpc: 'legacy',
      subnet: 'isolated-b',
      type: 'r5.2xlarge',
      os: 'rhel9',
      launched: '2026-06-01T09:00:00+00:00',
      profile: 'app-server-profile',
      tags: { Team: 'finance', Environment: 'legacy' },
    },
    {
      name: 'legacy-ftp-1',
      vpc: 'legacy',
      subnet: 'public-a',
      type: 't3.small',
      os: 'ubuntu1804',
      launched: '2021-02-14T09:00:00+00:00',
      profile: 'app-server-profile',
      sgs: ['web'],
      publicIp: '34.245.77.9',
      ssm: online(AGENT.recent, false),
      tags: { Team: 'finance', Environment: 'legacy' },
    },
    {
      name: 'legacy-report-1',
      vpc: 'legacy',
      subnet: 'private-a',
      type: 't3.medium',
      os: 'al2',
      launched: '2022-07-19T09:00:00+00:00',
      // Its profile was deleted in a clean-up; the agent baked into the AMI predates DHMC.
      profile: 'old-reporting-profile',
      ssm: lost('2026-11-13T07:45:00+00:00', AGENT.preDhmc),
      tags: { Team: 'finance', Environment: 'legacy' },
    },
    // dev: no SSM endpoints
    {
      name: 'dev-web-1',
      vpc: 'dev',
      subnet: 'public-a',
      type: 't3.small',
      os: 'al2023',
      launched: '2026-11-10T10:00:00+00:00',
      profile: 'web-server-profile',
      sgs: ['web'],
      // Later stopped and started: an auto-assigned public IP does not survive that.
      ...(after ? { ssm: lost('2026-11-27T18:00:00+00:00') } : { publicIp: '34.245.90.11', ssm: online() }),
      tags: { Team: 'storefront', Environment: 'dev' },
    },
    {
      name: 'dev-web-2',
      vpc: 'dev',
      subnet: 'public-b',
      type: 't3.small',
      os: 'al2023',
      launched: '2026-11-10T10:00:00+00:00',
      profile: 'web-server-profile',
      sgs: ['web'],
      tags: { Team: 'storefront', Environment: 'dev' },
    },
    {
      name: 'dev-api-1',
      vpc: 'dev',
      subnet: 'private-a',
      type: 't3.medium',
      os: 'ubuntu2204',
      launched: '2026-11-10T10:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'platform', Environment: 'dev' },
    },
    {
      name: 'dev-api-2',
      vpc: 'dev',
      subnet: 'private-b',
      type: 't3.medium',
      os: 'ubuntu2204',
      launched: '2026-11-10T10:00:00+00:00',
      profile: 'app-server-profile',
      ...(after ? { ssm: online() } : {}),
      tags: { Team: 'platform', Environment: 'dev' },
    },
    {
      name: 'dev-jenkins-1',
      vpc: 'dev',
      subnet: 'private-a',
      type: 'c6i.xlarge',
      os: 'ubuntu2204',
      launched: '2026-08-08T10:00:00+00:00',
      profile: 'app-server-profile',
      sgs: ['jenkins'],
      tags: { Team: 'build', Environment: 'dev' },
    },
    {
      name: 'dev-scraper-1',
      vpc: 'dev',
      subnet: 'sandbox-c',
      type: 't3.micro',
      os: 'al2023',
      launched: '2026-11-15T10:00:00+00:00',
      profile: 'app-server-profile',
      tags: { Team: 'growth', Environment: 'dev' },
    },
    {
      name: 'dev-shared-ad-1',
      vpc: 'dev',
      subnet: 'shared-c',
      type: 'm5.large',
      os: 'win2022',
      launched: '2026-04-04T10:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'identity', Environment: 'dev' },
    },
    {
      name: 'dev-tools-1',
      vpc: 'dev',
      subnet: 'shared-c',
      type: 't3.medium',
      os: 'al2023',
      launched: '2026-07-07T10:00:00+00:00',
      ssm: online(AGENT.v32early, false),
      tags: { Team: 'ops', Environment: 'dev' },
    },
    {
      name: 'dev-sandbox-1',
      vpc: 'dev',
      subnet: 'private-a',
      type: 't3.micro',
      os: 'al2023',
      launched: '2026-09-09T10:00:00+00:00',
      imds: 'optional',
      state: 'stopped',
      tags: { Team: 'growth', Environment: 'dev' },
    },
    {
      name: 'fw-appliance-1',
      vpc: 'dev',
      subnet: 'public-a',
      type: 'c5.xlarge',
      os: 'al2',
      launched: '2025-12-01T10:00:00+00:00',
      imds: 'optional',
      sgs: ['appliance'],
      publicIp: '34.245.90.99',
      tags: {
        Team: 'network',
        Environment: 'dev',
        'ssm-audit:exempt': 'vendor-managed firewall appliance; no SSM Agent by design',
      },
    },
    // analytics: complete endpoints, ec2messages behind a port-80 group, S3 gateway on the NAT table only
    {
      name: 'spark-master-1',
      vpc: 'analytics',
      subnet: 'private-a',
      type: 'r6i.2xlarge',
      os: 'al2023',
      launched: '2026-10-01T10:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'spark-worker-1',
      vpc: 'analytics',
      subnet: 'private-b',
      type: 'r6i.2xlarge',
      os: 'al2023',
      launched: '2026-06-01T10:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(AGENT.v32, false),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'spark-worker-2',
      vpc: 'analytics',
      subnet: 'isolated-c',
      type: 'r6i.2xlarge',
      os: 'al2023',
      launched: '2026-11-16T10:00:00+00:00',
      profile: 'app-server-profile',
      ssm: online(),
      tags: { Team: 'data', Environment: 'prod' },
    },
    {
      name: 'notebook-1',
      vpc: 'analytics',
      subnet: 'private-a',
      type: 'm6i.xlarge',
      os: 'ubuntu2204',
      launched: '2026-11-01T10:00:00+00:00',
      profile: 'ml-training-profile',
      ssm: online(),
      tags: { Team: 'ml', Environment: 'prod' },
    },
  ];
  if (after) {
    // Launched from the same old template as db-proxy-2 was: no profile, IMDSv1.
    plans.push({
      name: 'api-5',
      vpc: 'prod',
      subnet: 'app-c',
      type: 'm6i.large',
      os: 'al2023',
      launched: '2026-11-29T12:00:00+00:00',
      imds: 'optional',
      tags: { Team: 'platform', Environment: 'prod' },
    });
    // Started three minutes before this audit and not registered yet: within the launch grace, so
    // managed-status is REGISTRATION_PENDING and nothing alerts (DESIGN §3 R7 "Launch grace").
    plans.push({
      name: 'api-6',
      vpc: 'prod',
      subnet: 'app-a',
      type: 'm6i.large',
      os: 'al2023',
      launched: '2026-11-30T09:57:00+00:00',
      profile: 'app-server-profile',
      tags: { Team: 'platform', Environment: 'prod' },
    });
  }
  return plans;
}

/** The demo's instance id for a Name tag, so tests and docs can refer to instances by name. */
export const demoInstanceId = (name: string): string => awsId('i', name);
/** The demo's hybrid node id for a node name. */
export const demoHybridId = (name: string): string => awsId('mi', name);

function hostAddress(cidr: string, host: number): string {
  const [network] = cidr.split('/');
  const octets = (network ?? '0.0.0.0').split('.');
  return `${octets.slice(0, 3).join('.')}.${host}`;
}

function buildEc2(
  plans: readonly Ec2Plan[],
  vpcs: readonly VpcPlan[],
  lastPingDefault: string,
): { instances: InstanceInput[]; infos: InstanceInformationInput[] } {
  const instances: InstanceInput[] = [];
  const infos: InstanceInformationInput[] = [];
  const hostsUsed = new Map<string, number>();
  const seen = new Set<string>();
  for (const plan of plans) {
    const id = demoInstanceId(plan.name);
    if (seen.has(id)) throw new Error(`duplicate demo instance ${plan.name}`);
    seen.add(id);
    const vpc = vpcs.find((v) => v.key === plan.vpc);
    const subnet = vpc?.subnets.find((s) => s.key === plan.subnet);
    if (!vpc || !subnet) throw new Error(`${plan.name}: no subnet ${plan.vpc}/${plan.subnet}`);
    const subnetKey = `${plan.vpc}/${plan.subnet}`;
    const host = (hostsUsed.get(subnetKey) ?? 10) + 1;
    hostsUsed.set(subnetKey, host);
    const privateIp = hostAddress(subnet.cidr, host);
    const os: OsSpec = OS[plan.os];
    const base = anInstance({
      id,
      state: plan.state ?? 'running',
      subnetId: subnetId(plan.vpc, plan.subnet),
      vpcId: vpcId(plan.vpc),
      az: `${REGION}${subnet.az}`,
      privateIp,
      ...(plan.publicIp ? { publicIp: plan.publicIp } : {}),
      profile: plan.profile ?? null,
      imds: plan.imds ?? 'required',
      securityGroups: (plan.sgs ?? ['app']).map((sg) => sgId(plan.vpc, sg)),
      ...(os.platformType === 'Windows' ? { platform: 'windows' as const } : {}),
      platformDetails: os.platformDetails,
      tags: { Name: plan.name, ...plan.tags },
    });
    instances.push({
      ...base,
      InstanceType: plan.type,
      ImageId: os.ami,
      LaunchTime: plan.launched,
      SecurityGroups: (plan.sgs ?? ['app']).map((sg) => ({
        GroupId: sgId(plan.vpc, sg),
        GroupName: `${vpc.name}-${vpc.securityGroups.find((g) => g.key === sg)?.name ?? sg}`,
      })),
    });
    if (plan.ssm) {
      const info = instanceInfo({
        id,
        ping: plan.ssm.ping,
        agentVersion: plan.ssm.agent,
        isLatest: plan.ssm.latest ?? plan.ssm.agent === AGENT.latest,
        platformType: os.platformType,
        platformName: os.platformName,
        platformVersion: os.platformVersion,
        lastPing: plan.ssm.lastPing ?? lastPingDefault,
      });
      infos.push({
        ...info,
        IPAddress: privateIp,
        ComputerName:
          os.platformType === 'Windows'
            ? `EC2AMAZ-${id.slice(-7).toUpperCase()}`
            : `ip-${privateIp.replace(/\./g, '-')}.${REGION}.compute.internal`,
      });
    }
  }
  return { instances, infos };
}

// ---------------------------------------------------------------------------------------------------
// Hybrid nodes and activations

interface ActivationPlan {
  key: string;
  description: string;
  role: string;
  limit: number;
  count: number;
  created: string;
  expires: string;
}

interface HybridPlan {
  name: string;
  os: OsKey;
  role: string;
  activation: string;
  ssm: Registration;
  registered: string;
}

const activationId = (key: string) => stableUuid(`activation:${key}`);

function activationPlans(): ActivationPlan[] {
  return [
    {
      key: 'dc-dublin-rollout',
      description: 'Dublin DC: racks A-F (spring rollout)',
      role: 'SSMServiceRole',
      limit: 1000,
      count: 846,
      created: '2026-02-02T09:00:00+00:00',
      expires: '2026-03-04T09:00:00+00:00',
    },
    {
      key: 'dc-dublin-current',
      description: 'Dublin DC: new servers',
      role: 'SSMServiceRole',
      limit: 100,
      count: 5,
      created: '2026-11-20T09:00:00+00:00',
      expires: '2026-12-20T09:00:00+00:00',
    },
    {
      key: 'dc-dublin-legacy',
      description: 'Dublin DC: legacy Windows estate',
      role: 'SSMServiceRole-legacy',
      limit: 20,
      count: 2,
      created: '2026-11-09T09:00:00+00:00',
      expires: '2026-12-09T09:00:00+00:00',
    },
    {
      key: 'branch-pos',
      description: 'Branch point-of-sale terminals',
      role: 'SSMServiceRole',
      limit: 3,
      count: 3,
      created: '2026-11-03T09:00:00+00:00',
      expires: '2026-12-03T09:00:00+00:00',
    },
    {
      key: 'kiosk-pilot',
      description: 'Self-service kiosk pilot',
      role: 'SSMHybridRole-kiosk',
      limit: 10,
      count: 2,
      created: '2026-10-31T00:00:00+00:00',
      expires: '2026-11-30T00:00:00+00:00',
    },
    {
      key: 'lab-2025',
      description: 'Lab servers 2025',
      role: 'SSMServiceRole-retired',
      limit: 5,
      count: 2,
      created: '2025-04-01T09:00:00+00:00',
      expires: '2025-05-01T09:00:00+00:00',
    },
  ];
}

function hybridPlans(after: boolean): HybridPlan[] {
  const plans: HybridPlan[] = [
    {
      name: 'dub-db-01',
      os: 'rhel8',
      role: 'SSMServiceRole',
      activation: 'dc-dublin-current',
      ssm: after ? lost('2026-11-28T04:00:00+00:00') : online(),
      registered: '2026-11-20T10:15:00+00:00',
    },
    {
      name: 'dub-app-02',
      os: 'ubuntu2004',
      role: 'SSMServiceRole',
      activation: 'dc-dublin-current',
      ssm: online(AGENT.recent, false),
      registered: '2026-11-20T10:20:00+00:00',
    },
    {
      name: 'dub-file-01',
      os: 'win2019',
      role: 'SSMServiceRole',
      activation: 'dc-dublin-current',
      ssm: online(),
      registered: '2026-11-20T11:00:00+00:00',
    },
    {
      name: 'dub-mon-01',
      os: 'debian12',
      role: 'SSMServiceRole',
      activation: 'dc-dublin-current',
      ssm: { ping: 'Inactive', agent: AGENT.latest, lastPing: '2026-11-20T23:00:00+00:00' },
      registered: '2026-11-20T11:30:00+00:00',
    },
    {
      name: 'dub-legacy-erp',
      os: 'win2008r2',
      role: 'SSMServiceRole-legacy',
      activation: 'dc-dublin-legacy',
      ssm: online(AGENT.win2008, false),
      registered: '2026-11-09T14:00:00+00:00',
    },
    {
      name: 'dub-fax-01',
      os: 'win2003',
      role: 'SSMServiceRole-legacy',
      activation: 'dc-dublin-legacy',
      ssm: lost('2026-09-30T17:45:00+00:00', AGENT.ancient),
      registered: '2026-11-09T14:30:00+00:00',
    },
    {
      name: 'cork-pos-1',
      os: 'win10',
      role: 'SSMServiceRole',
      activation: 'branch-pos',
      ssm: online(),
      registered: '2026-11-03T10:00:00+00:00',
    },
    {
      name: 'galway-pos-2',
      os: 'win10',
      role: 'SSMServiceRole',
      activation: 'branch-pos',
      ssm: lost('2026-11-20T19:05:00+00:00'),
      registered: '2026-11-03T10:30:00+00:00',
    },
    {
      name: 'limerick-pos-3',
      os: 'win10',
      role: 'SSMServiceRole',
      activation: 'branch-pos',
      ssm: online(),
      registered: '2026-11-04T09:00:00+00:00',
    },
    {
      name: 'kiosk-01',
      os: 'ubuntu2204',
      role: 'SSMHybridRole-kiosk',
      activation: 'kiosk-pilot',
      // Its role's trust policy was "tidied" to ec2.amazonaws.com; the node lost its credentials.
      ssm: after ? online() : lost('2026-11-21T08:30:00+00:00'),
      registered: '2026-11-01T12:00:00+00:00',
    },
    {
      name: 'kiosk-02',
      os: 'ubuntu2204',
      role: 'SSMHybridRole-kiosk',
      activation: 'kiosk-pilot',
      ssm: after ? online() : lost('2026-11-21T08:31:00+00:00'),
      registered: '2026-11-01T12:10:00+00:00',
    },
    {
      name: 'lab-pi-01',
      os: 'raspbian11',
      role: 'SSMServiceRole',
      activation: 'lab-2025',
      ssm: online(),
      registered: '2025-04-02T10:00:00+00:00',
    },
  ];
  // Long dead, still holding standard-tier quota; "later" they have been deregistered.
  if (!after) {
    plans.push(
      {
        name: 'old-nas-01',
        os: 'ubuntu1804',
        role: 'SSMServiceRole',
        activation: 'dc-dublin-rollout',
        ssm: lost('2026-08-20T03:00:00+00:00', AGENT.recent),
        registered: '2026-02-03T09:00:00+00:00',
      },
      {
        name: 'decom-web-03',
        os: 'rhel8',
        role: 'SSMServiceRole-retired',
        activation: 'lab-2025',
        ssm: lost('2026-05-12T11:00:00+00:00', AGENT.v32),
        registered: '2025-04-02T11:00:00+00:00',
      },
    );
  }
  return after ? plans.filter((p) => p.name !== 'dub-fax-01') : plans;
}

/** Servers registered in bulk from the spring rollout: healthy, and what brings the tier near its limit. */
export const DEMO_BULK_HYBRID_NODES = 830;
/** "Later", rack F (130 servers) has been decommissioned and deregistered. */
const AFTER_BULK_HYBRID_NODES = 700;

const RACKS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
const BULK_OS: readonly OsKey[] = ['rhel8', 'ubuntu2204', 'ubuntu2004', 'win2019', 'rhel9', 'ubuntu2204'];

function bulkHybridPlans(count: number): HybridPlan[] {
  const plans: HybridPlan[] = [];
  const perRack = Math.ceil(DEMO_BULK_HYBRID_NODES / RACKS.length);
  for (let i = 0; i < count; i++) {
    const rack = RACKS[Math.floor(i / perRack)] ?? 'f';
    const slot = (i % perRack) + 1;
    const minute = String(i % 60).padStart(2, '0');
    plans.push({
      name: `dub-rack${rack}-${String(slot).padStart(3, '0')}`,
      os: BULK_OS[i % BULK_OS.length] ?? 'rhel8',
      role: 'SSMServiceRole',
      activation: 'dc-dublin-rollout',
      ssm: online(),
      registered: `2026-02-${String(3 + (i % 25)).padStart(2, '0')}T10:${minute}:00+00:00`,
    });
  }
  return plans;
}

function buildHybrid(plans: readonly HybridPlan[], lastPingDefault: string): InstanceInformationInput[] {
  const seen = new Set<string>();
  return plans.map((plan) => {
    const id = demoHybridId(plan.name);
    if (seen.has(id)) throw new Error(`duplicate demo hybrid node ${plan.name}`);
    seen.add(id);
    const os: OsSpec = OS[plan.os];
    const info = instanceInfo({
      id,
      ping: plan.ssm.ping,
      agentVersion: plan.ssm.agent,
      isLatest: plan.ssm.latest ?? plan.ssm.agent === AGENT.latest,
      platformType: os.platformType,
      platformName: os.platformName,
      platformVersion: os.platformVersion,
      lastPing: plan.ssm.lastPing ?? lastPingDefault,
      iamRole: plan.role,
      activationId: activationId(plan.activation),
      name: plan.name,
    });
    const n = Number.parseInt(id.slice(-4), 16);
    return {
      ...info,
      RegistrationDate: plan.registered,
      IPAddress: `192.168.${(n >> 8) % 200}.${(n % 250) + 2}`,
      ComputerName:
        os.platformType === 'Windows' ? plan.name.toUpperCase() : `${plan.name}.dub.acme.internal`,
    };
  });
}

function buildActivations(plans: readonly ActivationPlan[], now: string): ActivationInput[] {
  const nowMs = new Date(now).getTime();
  return plans.map((plan) => ({
    ...anActivation({
      id: activationId(plan.key),
      role: plan.role,
      limit: plan.limit,
      count: plan.count,
      expires: plan.expires,
      expired: new Date(plan.expires).getTime() <= nowMs,
      description: plan.description,
    }),
    DefaultInstanceName: plan.key,
    CreatedDate: plan.created,
    Tags: [{ Key: 'Owner', Value: 'infrastructure' }],
  }));
}

// ---------------------------------------------------------------------------------------------------
// The snapshots

function buildFleet(after: boolean): SnapshotInput {
  const now = after ? DEMO_AFTER_NOW : DEMO_NOW;
  // Online nodes pinged within the last five minutes.
  const lastPing = new Date(new Date(now).getTime() - 4 * 60_000).toISOString().replace('.000Z', '+00:00');
  const vpcs = vpcPlans(after);
  const network = buildNetwork(vpcs);
  const { instances, infos } = buildEc2(ec2Plans(after), vpcs, lastPing);
  const hybrid = buildHybrid(
    [...hybridPlans(after), ...bulkHybridPlans(after ? AFTER_BULK_HYBRID_NODES : DEMO_BULK_HYBRID_NODES)],
    lastPing,
  );
  const vpcIds = new Map(vpcs.map((v) => [v.key, vpcId(v.key)]));
  return aSnapshot({
    collectedAt: now,
    instances,
    ec2: network,
    infos: [...infos, ...hybrid],
    settings: [dhmcSetting(DEMO_DHMC_SETTING), tierSetting('standard')],
    activations: buildActivations(activationPlans(), now),
    roles: roles(after, vpcIds),
    policies: managedPolicies(after),
  });
}

/** The demo account as of DEMO_NOW. */
export function buildDemoFleet(): SnapshotInput {
  return buildFleet(false);
}

/**
 * The same account a week later (DEMO_AFTER_NOW), for findings diffs. Fixed: the reporting role no longer
 * shadows DHMC, db-proxy-2 requires IMDSv2, staging's endpoints are complete, dev-api-2's ACL allows return
 * traffic, the kiosk role trusts SSM again, the admin policy names the real DHMC setting, rack F and the
 * dead hybrid nodes are deregistered (the tier is no longer near its limit). Broke: web-2's agent
 * stopped, dev-web-1 lost its public IP, cache-role got a boundary without ssmmessages, api-5 launched
 * with IMDSv1 and no profile, dub-db-01 lost connection, staging's isolated subnet now needs an S3
 * gateway, and the kiosk activation expired. batch-2 was terminated.
 */
export function buildDemoFleetAfter(): SnapshotInput {
  return buildFleet(true);
}
