import type { Ec2Instance, Inventory, VpcView } from '../inventory';
import { ANY_IPV4, parseIpv4, type Ipv4Range } from '../ipv4';
import type { RouteRaw, SecurityGroupRaw, VpcEndpointRaw } from '../snapshot/schema';
import {
  AGENT_ENDPOINT_SERVICES,
  AGENT_WITHOUT_EC2MESSAGES,
  type AgentEndpointService,
} from '../ssm-requirements';
import { compareVersions } from '../supported-os';
import { EPHEMERAL, HTTPS, networkAclAllows, securityGroupsAllow, type FlowVerdict } from './rules-eval';

/**
 * The network path from one EC2 instance to the three endpoints SSM Agent calls (seed 000 step 6,
 * seed 001 "Configure Either an Interface VPC Endpoint or Internet Access"). Each service is decided
 * on its own: with private DNS on, an interface endpoint captures the service's public name, so that
 * service must work through the endpoint even when a NAT gateway exists; without one, the service goes
 * out through the internet path.
 */

export type PathStatus = 'ok' | 'blocked' | 'unverifiable';

export interface PathProblem {
  code: string;
  detail: string;
}

export interface InternetPath {
  status: PathStatus;
  routeTableId?: string;
  target?: string;
  problems: PathProblem[];
}

export interface ServicePath {
  service: AgentEndpointService;
  required: boolean;
  route: 'endpoint' | 'internet';
  status: PathStatus;
  endpointId?: string;
  /** Why the service does not use an endpoint, when it does not. */
  endpointNote?: string;
  problems: PathProblem[];
}

export interface NetworkAssessment {
  status: PathStatus;
  services: ServicePath[];
  internet: InternetPath;
  /** True when every required service goes through an interface endpoint (no internet use). */
  endpointOnly: boolean;
  vpcHasSsmEndpoints: boolean;
}

const WORST: Record<PathStatus, number> = { ok: 0, unverifiable: 1, blocked: 2 };
export const worstStatus = (statuses: PathStatus[]): PathStatus =>
  statuses.reduce<PathStatus>((acc, s) => (WORST[s] > WORST[acc] ? s : acc), 'ok');

const flowStatus = (verdict: FlowVerdict): PathStatus =>
  verdict === 'allowed' ? 'ok' : verdict === 'denied' ? 'blocked' : 'unverifiable';

export function endpointServiceName(inventory: Inventory, service: string): string {
  // China regions prefix endpoint service names with "cn.".
  return `${inventory.partition === 'aws-cn' ? 'cn.' : ''}com.amazonaws.${inventory.region}.${service}`;
}

function findEndpoint(
  vpc: VpcView,
  serviceName: string,
  type: 'Interface' | 'Gateway',
): VpcEndpointRaw | undefined {
  const candidates = vpc.endpoints.filter(
    (e) =>
      e.ServiceName === serviceName &&
      (e.VpcEndpointType ?? 'Interface').toLowerCase() === type.toLowerCase(),
  );
  return candidates.find((e) => (e.State ?? '').toLowerCase() === 'available') ?? candidates[0];
}
export { findEndpoint };

function groupsOf(inventory: Inventory, ids: readonly string[]): SecurityGroupRaw[] {
  return ids
    .map((id) => inventory.securityGroups.get(id))
    .filter((g): g is SecurityGroupRaw => g !== undefined);
}

function defaultRoute(routes: readonly RouteRaw[]): RouteRaw | undefined {
  return routes.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
}

/** Where the subnet's default route leads, following a NAT gateway to its own subnet's route. */
function assessInternetRoute(inventory: Inventory, instance: Ec2Instance): InternetPath {
  const subnetId = instance.subnetId!;
  const table = inventory.routeTableForSubnet(subnetId);
  if (!table) {
    return {
      status: 'unverifiable',
      problems: [
        { code: 'ROUTE_TABLE_NOT_FOUND', detail: `no route table found for ${subnetId} (nor a main table)` },
      ],
    };
  }
  const base = { routeTableId: table.RouteTableId };
  const route = defaultRoute(table.Routes ?? []);
  if (!route) {
    return {
      ...base,
      status: 'blocked',
      problems: [
        { code: 'NO_DEFAULT_ROUTE', detail: `route table ${table.RouteTableId} has no 0.0.0.0/0 route` },
      ],
    };
  }
  if ((route.State ?? 'active').toLowerCase() === 'blackhole') {
    const target = route.NatGatewayId ?? route.GatewayId ?? route.NetworkInterfaceId ?? 'its target';
    return {
      ...base,
      target,
      status: 'blocked',
      problems: [
        {
          code: 'ROUTE_BLACKHOLE',
          detail: `0.0.0.0/0 in ${table.RouteTableId} is a blackhole (${target} is gone)`,
        },
      ],
    };
  }
  if (route.GatewayId?.startsWith('igw-')) {
    const vpc = instance.vpcId ? inventory.vpcs.get(instance.vpcId) : undefined;
    if (
      vpc &&
      inventory.section('ec2.InternetGateways').available &&
      !vpc.internetGatewayIds.has(route.GatewayId)
    ) {
      return {
        ...base,
        target: route.GatewayId,
        status: 'blocked',
        problems: [{ code: 'IGW_NOT_ATTACHED', detail: `${route.GatewayId} is not attached to ${vpc.id}` }],
      };
    }
    if (!instance.publicIp) {
      return {
        ...base,
        target: route.GatewayId,
        status: 'blocked',
        problems: [
          {
            code: 'IGW_WITHOUT_PUBLIC_IP',
            detail: `the subnet routes to ${route.GatewayId} but the instance has no public IPv4 address`,
          },
        ],
      };
    }
    return { ...base, target: route.GatewayId, status: 'ok', problems: [] };
  }
  if (route.NatGatewayId) {
    const nat = inventory.natGateways.get(route.NatGatewayId);
    if (!nat || (nat.State ?? '').toLowerCase() !== 'available') {
      return {
        ...base,
        target: route.NatGatewayId,
        status: 'blocked',
        problems: [
          {
            code: 'NAT_GATEWAY_UNAVAILABLE',
            detail: `${route.NatGatewayId} is ${nat ? `in state ${nat.State}` : 'not in the snapshot'}`,
          },
        ],
      };
    }
    if ((nat.ConnectivityType ?? 'public').toLowerCase() === 'private') {
      return {
        ...base,
        target: nat.NatGatewayId,
        status: 'unverifiable',
        problems: [
          {
            code: 'ROUTE_UNVERIFIABLE',
            detail: `${nat.NatGatewayId} is a private NAT gateway; where it leads is not visible`,
          },
        ],
      };
    }
    const natTable = nat.SubnetId ? inventory.routeTableForSubnet(nat.SubnetId) : undefined;
    const natRoute = natTable ? defaultRoute(natTable.Routes ?? []) : undefined;
    if (natTable && !natRoute?.GatewayId?.startsWith('igw-')) {
      return {
        ...base,
        target: nat.NatGatewayId,
        status: 'blocked',
        problems: [
          {
            code: 'NAT_WITHOUT_INTERNET_ROUTE',
            detail: `${nat.NatGatewayId}'s subnet ${nat.SubnetId} (route table ${natTable.RouteTableId}) has no 0.0.0.0/0 route to an internet gateway`,
          },
        ],
      };
    }
    return { ...base, target: nat.NatGatewayId, status: 'ok', problems: [] };
  }
  // Transit gateways, peering, appliances (ENI/instance targets), VGWs and proxies cannot be proven
  // from this account's EC2 data: DESIGN §3 R2 says WARN, never PASS.
  const target =
    route.TransitGatewayId ??
    route.VpcPeeringConnectionId ??
    route.NetworkInterfaceId ??
    route.InstanceId ??
    route.GatewayId ??
    route.LocalGatewayId ??
    route.CoreNetworkArn ??
    route.CarrierGatewayId ??
    'unknown target';
  return {
    ...base,
    target,
    status: 'unverifiable',
    problems: [
      {
        code: 'ROUTE_UNVERIFIABLE',
        detail: `0.0.0.0/0 goes to ${target}; whether it reaches the internet (or a proxy) cannot be verified from here`,
      },
    ],
  };
}

function assessInternetPath(inventory: Inventory, instance: Ec2Instance): InternetPath {
  const path = assessInternetRoute(inventory, instance);
  if (path.status === 'blocked') return path;
  const problems = [...path.problems];
  const statuses: PathStatus[] = [path.status];
  const sg = securityGroupsAllow(groupsOf(inventory, instance.securityGroupIds), 'egress', HTTPS, {
    range: ANY_IPV4,
  });
  if (sg.verdict !== 'allowed') {
    statuses.push(flowStatus(sg.verdict));
    problems.push({
      code: 'SG_NO_EGRESS_443',
      detail:
        sg.verdict === 'denied'
          ? `security groups ${instance.securityGroupIds.join(', ') || '(none)'} allow no outbound TCP 443`
          : `outbound TCP 443 is allowed only to some destinations (${sg.matched}); cannot verify it reaches the SSM endpoints`,
    });
  }
  const acl = inventory.networkAclForSubnet(instance.subnetId!);
  if (acl) {
    const out = networkAclAllows(acl, 'egress', HTTPS);
    if (out.verdict !== 'allowed') {
      statuses.push(flowStatus(out.verdict));
      problems.push({
        code: 'NACL_BLOCKS_443',
        detail: `network ACL ${acl.NetworkAclId} ${out.verdict === 'denied' ? 'blocks' : 'only partly allows'} outbound TCP 443${out.ruleNumber ? ` (rule ${out.ruleNumber})` : ''}`,
      });
    }
    const back = networkAclAllows(acl, 'ingress', EPHEMERAL);
    if (back.verdict !== 'allowed') {
      statuses.push(flowStatus(back.verdict));
      problems.push({
        code: 'NACL_BLOCKS_EPHEMERAL',
        detail: `network ACL ${acl.NetworkAclId} ${back.verdict === 'denied' ? 'blocks' : 'only partly allows'} inbound TCP 1024-65535 (return traffic)${back.ruleNumber ? ` (rule ${back.ruleNumber})` : ''}`,
      });
    }
  }
  return { ...path, status: worstStatus(statuses), problems };
}

function assessEndpoint(
  inventory: Inventory,
  instance: Ec2Instance,
  source: Ipv4Range | undefined,
  endpoint: VpcEndpointRaw,
  service: AgentEndpointService,
): { status: PathStatus; problems: PathProblem[] } {
  const problems: PathProblem[] = [];
  const statuses: PathStatus[] = [];
  const id = endpoint.VpcEndpointId;
  if ((endpoint.State ?? '').toLowerCase() !== 'available') {
    return {
      status: 'blocked',
      problems: [
        {
          code: 'ENDPOINT_NOT_AVAILABLE',
          detail: `${service} endpoint ${id} is in state ${endpoint.State ?? 'unknown'}`,
        },
      ],
    };
  }
  const subnetIds = endpoint.SubnetIds ?? [];
  if (subnetIds.length === 0) {
    return {
      status: 'blocked',
      problems: [
        {
          code: 'ENDPOINT_NO_SUBNETS',
          detail: `${service} endpoint ${id} has no subnet (no network interface)`,
        },
      ],
    };
  }
  const endpointAzs = subnetIds.map((s) => inventory.subnets.get(s)?.AvailabilityZone).filter(Boolean);
  if (
    instance.availabilityZone &&
    endpointAzs.length > 0 &&
    !endpointAzs.includes(instance.availabilityZone)
  ) {
    // Still reachable through the regional DNS name, across AZs; worth knowing, not a failure.
    problems.push({
      code: 'ENDPOINT_OTHER_AZ',
      detail: `${service} endpoint ${id} has no interface in ${instance.availabilityZone}; traffic crosses AZs`,
    });
  }
  const endpointGroups = groupsOf(
    inventory,
    (endpoint.Groups ?? []).map((g) => g.GroupId),
  );
  const ingress = securityGroupsAllow(endpointGroups, 'ingress', HTTPS, {
    range: source ?? ANY_IPV4,
    groupIds: instance.securityGroupIds,
  });
  if (ingress.verdict !== 'allowed') {
    statuses.push(source ? flowStatus(ingress.verdict) : 'unverifiable');
    problems.push({
      code: 'ENDPOINT_SG_NO_443',
      detail: `${service} endpoint ${id}'s security groups (${(endpoint.Groups ?? []).map((g) => g.GroupId).join(', ') || 'none'}) do not allow inbound TCP 443 from the instance`,
    });
  }
  const endpointRanges = subnetIds
    .map((s) => inventory.subnetCidrs.get(s))
    .filter((r): r is Ipv4Range => !!r);
  const egressVerdicts = endpointRanges.map(
    (range) =>
      securityGroupsAllow(groupsOf(inventory, instance.securityGroupIds), 'egress', HTTPS, {
        range,
        groupIds: (endpoint.Groups ?? []).map((g) => g.GroupId),
      }).verdict,
  );
  if (egressVerdicts.length > 0 && !egressVerdicts.includes('allowed')) {
    statuses.push(egressVerdicts.includes('partial') ? 'unverifiable' : 'blocked');
    problems.push({
      code: 'SG_NO_EGRESS_443',
      detail: `the instance's security groups do not allow outbound TCP 443 to the ${service} endpoint's subnets`,
    });
  }
  const acl = instance.subnetId ? inventory.networkAclForSubnet(instance.subnetId) : undefined;
  const crossSubnet = endpointRanges.length > 0 && !subnetIds.includes(instance.subnetId ?? '');
  if (acl && crossSubnet) {
    const out = endpointRanges.map((r) => networkAclAllows(acl, 'egress', HTTPS, r).verdict);
    if (!out.includes('allowed')) {
      statuses.push(out.includes('partial') ? 'unverifiable' : 'blocked');
      problems.push({
        code: 'NACL_BLOCKS_443',
        detail: `network ACL ${acl.NetworkAclId} blocks outbound TCP 443 to the ${service} endpoint`,
      });
    }
    const back = endpointRanges.map((r) => networkAclAllows(acl, 'ingress', EPHEMERAL, r).verdict);
    if (!back.includes('allowed')) {
      statuses.push(back.includes('partial') ? 'unverifiable' : 'blocked');
      problems.push({
        code: 'NACL_BLOCKS_EPHEMERAL',
        detail: `network ACL ${acl.NetworkAclId} blocks inbound TCP 1024-65535 from the ${service} endpoint`,
      });
    }
  }
  return { status: worstStatus(statuses), problems };
}

export function ec2messagesRequired(agentVersion: string | undefined): boolean {
  return !(agentVersion && compareVersions(agentVersion, AGENT_WITHOUT_EC2MESSAGES) >= 0);
}

const cache = new WeakMap<
  Inventory,
  { byInstance: Map<string, NetworkAssessment>; byShape: Map<string, NetworkAssessment> }
>();

/**
 * Memoized per inventory (R2 and R3 both read it). Instances that share subnet, AZ, security groups,
 * public-IP presence and ec2messages need get one shared answer: the path is decided with the subnet's
 * range as source, and only when an endpoint security group admits part of that range is the
 * instance's own address checked.
 */
export function assessNetworkPath(inventory: Inventory, instance: Ec2Instance): NetworkAssessment {
  let memo = cache.get(inventory);
  if (!memo) cache.set(inventory, (memo = { byInstance: new Map(), byShape: new Map() }));
  const hit = memo.byInstance.get(instance.id);
  if (hit) return hit;
  const subnetRange = instance.subnetId ? inventory.subnetCidrs.get(instance.subnetId) : undefined;
  const ip = instance.privateIp ? parseIpv4(instance.privateIp) : undefined;
  const ownRange = ip === undefined ? subnetRange : { start: ip, end: ip };
  const shape = [
    instance.vpcId,
    instance.subnetId,
    instance.availabilityZone,
    [...instance.securityGroupIds].sort().join(','),
    instance.publicIp ? 'public' : 'private',
    ec2messagesRequired(instance.info?.AgentVersion) ? 'ec2m' : '',
  ].join('|');
  let result = subnetRange ? memo.byShape.get(shape) : undefined;
  if (!result) {
    result = computeNetworkPath(inventory, instance, subnetRange ?? ownRange);
    if (subnetRange) memo.byShape.set(shape, result);
  }
  const sgDoubt = result.services.some((s) => s.problems.some((p) => p.code === 'ENDPOINT_SG_NO_443'));
  if (sgDoubt && ownRange && ownRange !== subnetRange)
    result = computeNetworkPath(inventory, instance, ownRange);
  memo.byInstance.set(instance.id, result);
  return result;
}

function computeNetworkPath(
  inventory: Inventory,
  instance: Ec2Instance,
  source: Ipv4Range | undefined,
): NetworkAssessment {
  const vpc = instance.vpcId ? inventory.vpcs.get(instance.vpcId) : undefined;
  if (!vpc || !instance.subnetId) {
    const detail = !instance.subnetId
      ? 'the instance has no subnet'
      : `VPC ${instance.vpcId} is not in the snapshot`;
    const problems = [{ code: 'VPC_NOT_FOUND', detail }];
    return {
      status: 'unverifiable',
      services: [],
      internet: { status: 'unverifiable', problems },
      endpointOnly: false,
      vpcHasSsmEndpoints: false,
    };
  }
  const internet = assessInternetPath(inventory, instance);
  const needEc2messages = ec2messagesRequired(instance.info?.AgentVersion);
  const names = AGENT_ENDPOINT_SERVICES.map((s) => endpointServiceName(inventory, s));
  const vpcHasSsmEndpoints = vpc.endpoints.some((e) => names.includes(e.ServiceName));

  const services: ServicePath[] = AGENT_ENDPOINT_SERVICES.map((service) => {
    const required = service !== 'ec2messages' || needEc2messages;
    const endpoint = findEndpoint(vpc, endpointServiceName(inventory, service), 'Interface');
    let endpointNote: string | undefined;
    let endpointCode = 'ENDPOINT_MISSING';
    if (!endpoint) {
      endpointNote = `no ${service} interface endpoint in ${vpc.id}`;
    } else if (endpoint.PrivateDnsEnabled !== true) {
      endpointCode = 'ENDPOINT_PRIVATE_DNS_DISABLED';
      endpointNote = `${service} endpoint ${endpoint.VpcEndpointId} has private DNS disabled, so the agent resolves the public name`;
    } else if (vpc.dnsSupport === false || vpc.dnsHostnames === false) {
      endpointCode = 'VPC_DNS_DISABLED';
      endpointNote = `${vpc.id} has ${vpc.dnsSupport === false ? 'DNS support' : 'DNS hostnames'} disabled, so the ${service} endpoint's private DNS name does not resolve`;
    } else if (vpc.dnsSupport === undefined || vpc.dnsHostnames === undefined) {
      const result = assessEndpoint(inventory, instance, source, endpoint, service);
      return {
        service,
        required,
        route: 'endpoint',
        endpointId: endpoint.VpcEndpointId,
        status: worstStatus([result.status, 'unverifiable']),
        problems: [
          ...result.problems,
          {
            code: 'VPC_DNS_UNKNOWN',
            detail: `${vpc.id}'s DNS support/hostnames attributes are not in the snapshot`,
          },
        ],
      };
    } else {
      const result = assessEndpoint(inventory, instance, source, endpoint, service);
      return { service, required, route: 'endpoint', endpointId: endpoint.VpcEndpointId, ...result };
    }
    // No usable endpoint: the agent goes to the public service name through the internet path.
    const problems =
      internet.status === 'ok'
        ? []
        : vpcHasSsmEndpoints || endpointCode !== 'ENDPOINT_MISSING'
          ? [{ code: endpointCode, detail: endpointNote }, ...internet.problems]
          : [...internet.problems];
    return {
      service,
      required,
      route: 'internet',
      endpointId: endpoint?.VpcEndpointId,
      endpointNote,
      status: internet.status,
      problems,
    };
  });
  const required = services.filter((s) => s.required);
  return {
    status: worstStatus(required.map((s) => s.status)),
    services,
    internet,
    endpointOnly: required.every((s) => s.route === 'endpoint'),
    vpcHasSsmEndpoints,
  };
}
