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
import { AGENT_ENDPOINT_SERVICES } from '../ssm-requirements';
import type { CollectionContext } from './context';

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
export async function describeInstances(
  ec2: EC2Client,
  ctx: CollectionContext,
  filter?: { Name: string; Values: readonly string[] },
): Promise<Reservation[] | undefined> {
  const groups = filter ? chunk(filter.Values, FILTER_VALUES) : [undefined];
  const out: Reservation[] = [];
  for (const values of groups) {
    const Filters: Filter[] | undefined =
      values && filter ? [{ Name: filter.Name, Values: values }] : undefined;
    const reservations = await ctx.pages(
      'ec2:DescribeInstances',
      (NextToken) =>
        ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: DESCRIBE_INSTANCES_PAGE, NextToken })),
      (page) => page.Reservations,
      (page) => page.NextToken,
    );
    if (!reservations) return undefined;
    out.push(...reservations);
  }
  return out;
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

/**
 * One paginated Describe* call; `values` narrows it with a filter (scoped collection), `undefined`
 * lists the whole region. An empty VPC list needs no call at all.
 */
async function describeNetwork<P extends { NextToken?: string }, I>(
  ctx: CollectionContext,
  action: string,
  filterName: string,
  values: readonly string[] | undefined,
  send: (filters: Filter[] | undefined, token: string | undefined) => Promise<P>,
  items: (page: P) => I[] | undefined,
): Promise<I[] | undefined> {
  if (values && values.length === 0) return [];
  const groups = values ? chunk(values, FILTER_VALUES) : [undefined];
  const out: I[] = [];
  for (const group of groups) {
    const filters = group ? [{ Name: filterName, Values: group }] : undefined;
    const got = await ctx.pages(
      action,
      (token) => send(filters, token),
      items,
      (page) => page.NextToken,
    );
    if (!got) return undefined;
    out.push(...got);
  }
  return out;
}

const isAgentEndpoint = (endpoint: VpcEndpoint, region: string) =>
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
  const PAGE = { MaxResults: 1000 } as const;
  // DescribeRouteTables and DescribeNetworkAcls allow at most 100 per page.
  const SMALL_PAGE = { MaxResults: 100 } as const;
  const [Vpcs, Subnets, RouteTables, SecurityGroups, NetworkAcls, VpcEndpoints] = await Promise.all([
    describeNetwork(
      ctx,
      'ec2:DescribeVpcs',
      'vpc-id',
      vpcIds,
      (Filters, NextToken) => ec2.send(new DescribeVpcsCommand({ Filters, NextToken, ...PAGE })),
      (page) => page.Vpcs,
    ),
    describeNetwork(
      ctx,
      'ec2:DescribeSubnets',
      'vpc-id',
      vpcIds,
      (Filters, NextToken) => ec2.send(new DescribeSubnetsCommand({ Filters, NextToken, ...PAGE })),
      (page) => page.Subnets,
    ),
    describeNetwork(
      ctx,
      'ec2:DescribeRouteTables',
      'vpc-id',
      vpcIds,
      (Filters, NextToken) => ec2.send(new DescribeRouteTablesCommand({ Filters, NextToken, ...SMALL_PAGE })),
      (page) => page.RouteTables,
    ),
    describeNetwork(
      ctx,
      'ec2:DescribeSecurityGroups',
      'vpc-id',
      vpcIds,
      (Filters, NextToken) => ec2.send(new DescribeSecurityGroupsCommand({ Filters, NextToken, ...PAGE })),
      (page) => page.SecurityGroups,
    ),
    describeNetwork(
      ctx,
      'ec2:DescribeNetworkAcls',
      'vpc-id',
      vpcIds,
      (Filters, NextToken) => ec2.send(new DescribeNetworkAclsCommand({ Filters, NextToken, ...SMALL_PAGE })),
      (page) => page.NetworkAcls,
    ),
    describeNetwork(
      ctx,
      'ec2:DescribeVpcEndpoints',
      'vpc-id',
      vpcIds,
      (Filters, NextToken) => ec2.send(new DescribeVpcEndpointsCommand({ Filters, NextToken, ...PAGE })),
      (page) => page.VpcEndpoints,
    ),
  ]);

  let InternetGateways: InternetGateway[] | undefined;
  let NatGateways: NatGateway[] | undefined;
  if (vpcIds === undefined) {
    [InternetGateways, NatGateways] = await Promise.all([
      describeNetwork(
        ctx,
        'ec2:DescribeInternetGateways',
        '',
        undefined,
        (_f, NextToken) => ec2.send(new DescribeInternetGatewaysCommand({ NextToken, ...PAGE })),
        (page) => page.InternetGateways,
      ),
      describeNetwork(
        ctx,
        'ec2:DescribeNatGateways',
        '',
        undefined,
        (_f, NextToken) => ec2.send(new DescribeNatGatewaysCommand({ NextToken, ...PAGE })),
        (page) => page.NatGateways,
      ),
    ]);
  } else if (RouteTables) {
    const igwIds = new Set<string>();
    const natIds = new Set<string>();
    for (const table of RouteTables) {
      for (const route of table.Routes ?? []) {
        if (route.GatewayId?.startsWith('igw-')) igwIds.add(route.GatewayId);
        if (route.NatGatewayId) natIds.add(route.NatGatewayId);
      }
    }
    [InternetGateways, NatGateways] = await Promise.all([
      describeNetwork(
        ctx,
        'ec2:DescribeInternetGateways',
        'internet-gateway-id',
        [...igwIds],
        (Filters, NextToken) =>
          ec2.send(new DescribeInternetGatewaysCommand({ Filters, NextToken, ...PAGE })),
        (page) => page.InternetGateways,
      ),
      describeNetwork(
        ctx,
        'ec2:DescribeNatGateways',
        'nat-gateway-id',
        [...natIds],
        // DescribeNatGateways names its filter parameter `Filter`, not `Filters`.
        (Filter, NextToken) => ec2.send(new DescribeNatGatewaysCommand({ Filter, NextToken, ...PAGE })),
        (page) => page.NatGateways,
      ),
    ]);
  }

  if (Vpcs && VpcEndpoints) {
    const needDns = new Set(VpcEndpoints.filter((e) => isAgentEndpoint(e, region)).map((e) => e.VpcId));
    const withAttributes = await Promise.all(
      Vpcs.map(async (vpc): Promise<Vpc | undefined> => {
        if (!vpc.VpcId || !needDns.has(vpc.VpcId)) return vpc;
        const [support, hostnames] = await Promise.all([
          ctx.call('ec2:DescribeVpcAttribute', () =>
            ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsSupport' })),
          ),
          ctx.call('ec2:DescribeVpcAttribute', () =>
            ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsHostnames' })),
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
