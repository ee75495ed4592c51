import {
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Filter,
  type Instance,
  type InternetGateway,
  type NatGateway,
  type NetworkAcl,
  type Reservation,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type Vpc,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { AGENT_ENDPOINT_SERVICES } from '../knowledge/ssm-requirements';
import type { CollectionContext, SendOptions } from './context';

/** DescribeInstances' largest page (DESIGN §2: paginate at the API maximum). */
export const DESCRIBE_INSTANCES_PAGE = 1000;
/** EC2 accepts at most 200 values in one filter. */
const FILTER_VALUES = 200;

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/**
 * DescribeInstances, 1000 per page, optionally narrowed by one filter. Filters rather than InstanceIds:
 * an id that no longer exists is simply absent instead of failing the whole request with
 * InvalidInstanceID.NotFound, and MaxResults stays allowed.
 */
export function describeInstances(
  ec2: EC2Client,
  ctx: CollectionContext,
  filter?: { Name: string; Values: readonly string[] },
): Promise<Reservation[] | undefined> {
  return describeAll(
    ctx,
    'ec2:DescribeInstances',
    { name: filter?.Name ?? '', values: filter?.Values },
    (input, options) => ec2.send(new DescribeInstancesCommand(input), options),
    (page) => page.Reservations,
    DESCRIBE_INSTANCES_PAGE,
  );
}

export interface NetworkSections {
  Vpcs?: Vpc[];
  Subnets?: Subnet[];
  RouteTables?: RouteTable[];
  SecurityGroups?: SecurityGroup[];
  NetworkAcls?: NetworkAcl[];
  VpcEndpoints?: VpcEndpoint[];
  InternetGateways?: InternetGateway[];
  NatGateways?: NatGateway[];
}

interface PageInput {
  Filters?: Filter[];
  NextToken?: string;
  MaxResults: number;
}

/**
 * One paginated Describe* call, narrowed by one filter in a scoped collection (`values`), or listing
 * the whole region (`values` undefined). An empty value list needs no call at all.
 */
async function describeAll<P extends { NextToken?: string }, I>(
  ctx: CollectionContext,
  action: string,
  filter: { name: string; values: readonly string[] | undefined },
  send: (input: PageInput, options: SendOptions) => Promise<P>,
  items: (page: P) => I[] | undefined,
  /** The API's largest page: 1000 for most, 100 for DescribeRouteTables and DescribeNetworkAcls. */
  maxResults = 1000,
): Promise<I[] | undefined> {
  const { name, values } = filter;
  if (values && values.length === 0) return [];
  const groups = values ? chunk(values, FILTER_VALUES) : [undefined];
  const out: I[] = [];
  for (const group of groups) {
    const Filters = group ? [{ Name: name, Values: group }] : undefined;
    const got = await ctx.pages(
      action,
      (NextToken, options) => send({ Filters, NextToken, MaxResults: maxResults }, options),
      items,
      (page) => page.NextToken,
    );
    if (!got) return undefined;
    out.push(...got);
  }
  return out;
}

/** An SSM agent interface endpoint using private DNS: its VPC's DNS attributes decide the path (R2). */
export const isAgentEndpoint = (
  endpoint: { VpcEndpointType?: string; PrivateDnsEnabled?: boolean; ServiceName?: string },
  region: string,
) =>
  (endpoint.VpcEndpointType ?? 'Interface').toLowerCase() === 'interface' &&
  endpoint.PrivateDnsEnabled === true &&
  AGENT_ENDPOINT_SERVICES.some((service) => endpoint.ServiceName?.endsWith(`.${region}.${service}`));

/**
 * The network objects the path assessment reads, for the given VPCs (`undefined` = every VPC of the
 * region, one listing per object type). Cost is per region or per VPC, never per instance:
 * - DescribeVpcAttribute (two calls per VPC) only for VPCs with an SSM interface endpoint that uses
 *   private DNS — the only place the network path reads DNS support/hostnames (DESIGN R2).
 * - In a scoped collection, internet and NAT gateways are fetched by the ids the route tables point at,
 *   so a VPC that reaches SSM only through endpoints needs neither call.
 */
export async function collectNetwork(
  ec2: EC2Client,
  ctx: CollectionContext,
  region: string,
  vpcIds: readonly string[] | undefined,
): Promise<NetworkSections> {
  const byVpc = { name: 'vpc-id', values: vpcIds };
  const [Vpcs, Subnets, RouteTables, SecurityGroups, NetworkAcls, VpcEndpoints] = await Promise.all([
    describeAll(
      ctx,
      'ec2:DescribeVpcs',
      byVpc,
      (i, o) => ec2.send(new DescribeVpcsCommand(i), o),
      (p) => p.Vpcs,
    ),
    describeAll(
      ctx,
      'ec2:DescribeSubnets',
      byVpc,
      (i, o) => ec2.send(new DescribeSubnetsCommand(i), o),
      (p) => p.Subnets,
    ),
    describeAll(
      ctx,
      'ec2:DescribeRouteTables',
      byVpc,
      (i, o) => ec2.send(new DescribeRouteTablesCommand(i), o),
      (p) => p.RouteTables,
      100,
    ),
    describeAll(
      ctx,
      'ec2:DescribeSecurityGroups',
      byVpc,
      (i, o) => ec2.send(new DescribeSecurityGroupsCommand(i), o),
      (p) => p.SecurityGroups,
    ),
    describeAll(
      ctx,
      'ec2:DescribeNetworkAcls',
      byVpc,
      (i, o) => ec2.send(new DescribeNetworkAclsCommand(i), o),
      (p) => p.NetworkAcls,
      100,
    ),
    describeAll(
      ctx,
      'ec2:DescribeVpcEndpoints',
      byVpc,
      (i, o) => ec2.send(new DescribeVpcEndpointsCommand(i), o),
      (p) => p.VpcEndpoints,
    ),
  ]);

  // Internet and NAT gateways: every one in the region, or in a scoped collection only those the
  // route tables point at (none at all for a VPC that reaches SSM through endpoints only).
  let igwIds: string[] | undefined;
  let natIds: string[] | undefined;
  if (vpcIds !== undefined) {
    const igw = new Set<string>();
    const nat = new Set<string>();
    for (const route of (RouteTables ?? []).flatMap((t) => t.Routes ?? [])) {
      if (route.GatewayId?.startsWith('igw-')) igw.add(route.GatewayId);
      if (route.NatGatewayId) nat.add(route.NatGatewayId);
    }
    [igwIds, natIds] = [[...igw].sort(), [...nat].sort()];
  }
  const skip = vpcIds !== undefined && !RouteTables;
  const [InternetGateways, NatGateways] = skip
    ? [undefined, undefined]
    : await Promise.all([
        describeAll(
          ctx,
          'ec2:DescribeInternetGateways',
          { name: 'internet-gateway-id', values: igwIds },
          (i, o) => ec2.send(new DescribeInternetGatewaysCommand(i), o),
          (p) => p.InternetGateways,
        ),
        describeAll(
          ctx,
          'ec2:DescribeNatGateways',
          { name: 'nat-gateway-id', values: natIds },
          // DescribeNatGateways names its filter parameter `Filter`, not `Filters`.
          ({ Filters, ...rest }, o) =>
            ec2.send(new DescribeNatGatewaysCommand({ ...rest, Filter: Filters }), o),
          (p) => p.NatGateways,
        ),
      ]);

  if (Vpcs && VpcEndpoints) {
    const needDns = new Set(VpcEndpoints.filter((e) => isAgentEndpoint(e, region)).map((e) => e.VpcId));
    const withAttributes = await Promise.all(
      Vpcs.map(async (vpc): Promise<Vpc | undefined> => {
        if (!vpc.VpcId || !needDns.has(vpc.VpcId)) return vpc;
        const [support, hostnames] = await Promise.all([
          ctx.call('ec2:DescribeVpcAttribute', (o) =>
            ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsSupport' }), o),
          ),
          ctx.call('ec2:DescribeVpcAttribute', (o) =>
            ec2.send(
              new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsHostnames' }),
              o,
            ),
          ),
        ]);
        if (support.status !== 'ok' || hostnames.status !== 'ok') return undefined;
        // The snapshot keeps DescribeVpcAttribute's own shape: { "EnableDnsSupport": { "Value": true } }.
        return {
          ...vpc,
          EnableDnsSupport: support.value.EnableDnsSupport,
          EnableDnsHostnames: hostnames.value.EnableDnsHostnames,
        } as Vpc;
      }),
    );
    const complete = withAttributes.every((v) => v !== undefined);
    return {
      Vpcs: complete ? (withAttributes as Vpc[]) : undefined,
      Subnets,
      RouteTables,
      SecurityGroups,
      NetworkAcls,
      VpcEndpoints,
      InternetGateways,
      NatGateways,
    };
  }
  return {
    Vpcs,
    Subnets,
    RouteTables,
    SecurityGroups,
    NetworkAcls,
    VpcEndpoints,
    InternetGateways,
    NatGateways,
  };
}

export const instancesOf = (reservations: readonly Reservation[]): Instance[] =>
  reservations.flatMap((r) => r.Instances ?? []);
