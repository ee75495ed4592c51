import type { Ec2Instance, Inventory, VpcView } from '../snapshot/inventory';
import { ANY_IPV4, parseIpv4, type Ipv4Range } from '../snapshot/ipv4';
import { credentialSourceOf } from '../agent/permissions';
import type { Decision } from '../policy/evaluator';
import type { NetworkAclRaw, RouteRaw, SecurityGroupRaw, VpcEndpointRaw } from '../snapshot/schema';
import {
  AGENT_ENDPOINT_SERVICES,
  AGENT_WITHOUT_EC2MESSAGES,
  CORE_AGENT_ACTIONS,
  type AgentEndpointService,
} from '../knowledge/ssm-requirements';
import { compareVersions } from '../knowledge/supported-os';
import { evaluateEndpointPolicy, type AgentPrincipal } from './endpoint-policy';
import {
  EPHEMERAL,
  HTTPS,
  networkAclAllows,
  securityGroupsAllow,
  type FlowVerdict,
  type PortRange,
} from './rules-eval';

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
  /** Network ACL problems: the ACL, the direction relative to its subnet, and the rule that decided. */
  networkAclId?: string;
  direction?: 'inbound' | 'outbound';
  /** The rule number, or '*' for the final rule that denies whatever no numbered rule matched. */
  rule?: number | '*';
  /** Endpoint policy problems: the endpoint and the deciding statement (its Sid, else Statement[i]). */
  endpointId?: string;
  statement?: string;
  /** Route problems: the route table and the target of its 0.0.0.0/0 route. */
  routeTableId?: string;
  target?: string;
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

/**
 * "The blackhole state indicates that the route's target isn't available (for example, the specified
 * gateway isn't attached to the VPC, or the specified NAT instance has been terminated)"
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Route.html): such a route carries nothing.
 */
const isBlackhole = (route: RouteRaw) => (route.State ?? 'active').toLowerCase() === 'blackhole';

const routeTarget = (route: RouteRaw): string =>
  route.NatGatewayId ??
  route.GatewayId ??
  route.TransitGatewayId ??
  route.VpcPeeringConnectionId ??
  route.NetworkInterfaceId ??
  route.InstanceId ??
  route.LocalGatewayId ??
  route.CoreNetworkArn ??
  route.CarrierGatewayId ??
  'its target';

/** A DescribeNetworkAcls rule number, with the final catch-all rule (32767) shown as AWS shows it: '*'. */
const ruleLabel = (ruleNumber: number | undefined): number | '*' =>
  ruleNumber === undefined || ruleNumber === 32767 ? '*' : ruleNumber;

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** An address range as a person writes it: one address, or a CIDR block. */
export function formatRange(range: Ipv4Range): string {
  if (range.start === range.end) return formatIpv4(range.start);
  const bits = 32 - Math.round(Math.log2(range.end - range.start + 1));
  return `${formatIpv4(range.start)}/${bits}`;
}

interface AclCheck {
  status: PathStatus;
  problem?: PathProblem;
}

/**
 * One direction of one network ACL for one flow. Network ACLs are stateless and ordered: "rules are
 * evaluated starting with the lowest numbered rule", the first match decides, and traffic no numbered
 * rule matches is denied by the final '*' rule
 * (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html).
 */
function checkAcl(
  acl: NetworkAclRaw,
  direction: 'inbound' | 'outbound',
  ports: PortRange,
  peer: Ipv4Range,
  code: string,
  describe: (verb: string) => string,
): AclCheck {
  const result = networkAclAllows(acl, direction === 'inbound' ? 'ingress' : 'egress', ports, peer);
  if (result.verdict === 'allowed') return { status: 'ok' };
  const rule = ruleLabel(result.ruleNumber);
  const verb = result.verdict === 'denied' ? 'denies' : 'only partly allows';
  return {
    status: flowStatus(result.verdict),
    problem: {
      code,
      detail: `network ACL ${acl.NetworkAclId} ${describe(verb)} (rule ${rule})`,
      networkAclId: acl.NetworkAclId,
      direction,
      rule,
    },
  };
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
  if (isBlackhole(route)) {
    const target = routeTarget(route);
    return {
      ...base,
      target,
      status: 'blocked',
      problems: [
        {
          code: 'ROUTE_BLACKHOLE',
          detail: `route 0.0.0.0/0 → ${target} is blackhole in ${table.RouteTableId} (its target is deleted or detached)`,
          routeTableId: table.RouteTableId,
          target,
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
    if (natTable && natRoute && isBlackhole(natRoute)) {
      const natTarget = routeTarget(natRoute);
      return {
        ...base,
        target: nat.NatGatewayId,
        status: 'blocked',
        problems: [
          {
            code: 'ROUTE_BLACKHOLE',
            detail: `route 0.0.0.0/0 → ${natTarget} is blackhole in ${natTable.RouteTableId}, the route table of ${nat.NatGatewayId}'s subnet ${nat.SubnetId} (its target is deleted or detached)`,
            routeTableId: natTable.RouteTableId,
            target: natTarget,
          },
        ],
      };
    }
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
    for (const check of [
      checkAcl(acl, 'outbound', HTTPS, ANY_IPV4, 'NACL_BLOCKS_443', (verb) => `${verb} outbound TCP 443`),
      checkAcl(
        acl,
        'inbound',
        EPHEMERAL,
        ANY_IPV4,
        'NACL_BLOCKS_EPHEMERAL',
        (verb) => `${verb} inbound TCP 1024-65535 (return traffic)`,
      ),
    ]) {
      statuses.push(check.status);
      if (check.problem) problems.push(check.problem);
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
  const acls = assessEndpointAcls(inventory, instance, source, subnetIds, service);
  statuses.push(acls.status);
  problems.push(...acls.problems);
  return { status: worstStatus(statuses), problems };
}

/**
 * Both ends of the path to an interface endpoint. Network ACLs filter traffic entering and leaving a
 * subnet and are stateless, so each side needs its own rule for each direction
 * (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html): the instance's subnet
 * outbound 443 to the endpoint and inbound 1024-65535 back; the endpoint's subnet inbound 443 from the
 * instance and outbound 1024-65535 back to it. The agent talks to the endpoint interface in its own AZ
 * when there is one; otherwise any endpoint subnet that lets the traffic through will do.
 */
function assessEndpointAcls(
  inventory: Inventory,
  instance: Ec2Instance,
  source: Ipv4Range | undefined,
  subnetIds: readonly string[],
  service: AgentEndpointService,
): { status: PathStatus; problems: PathProblem[] } {
  const sameAz = subnetIds.filter(
    (s) =>
      instance.availabilityZone && inventory.subnets.get(s)?.AvailabilityZone === instance.availabilityZone,
  );
  let best: { status: PathStatus; problems: PathProblem[] } | undefined;
  for (const subnetId of sameAz.length > 0 ? sameAz : subnetIds) {
    const result = aclsBetween(inventory, instance, source, subnetId, service);
    if (!best || WORST[result.status] < WORST[best.status]) best = result;
    if (best.status === 'ok') break;
  }
  return best ?? { status: 'ok', problems: [] };
}

function aclsBetween(
  inventory: Inventory,
  instance: Ec2Instance,
  source: Ipv4Range | undefined,
  endpointSubnetId: string,
  service: AgentEndpointService,
): { status: PathStatus; problems: PathProblem[] } {
  // Traffic that stays inside one subnet crosses no network ACL.
  if (endpointSubnetId === instance.subnetId) return { status: 'ok', problems: [] };
  const checks: AclCheck[] = [];
  const instanceAcl = instance.subnetId ? inventory.networkAclForSubnet(instance.subnetId) : undefined;
  const endpointRange = inventory.subnetCidrs.get(endpointSubnetId);
  const where = `the ${service} endpoint's subnet ${endpointSubnetId}${endpointRange ? ` (${formatRange(endpointRange)})` : ''}`;
  if (instanceAcl && endpointRange) {
    const own = `of the instance's subnet ${instance.subnetId}`;
    checks.push(
      checkAcl(
        instanceAcl,
        'outbound',
        HTTPS,
        endpointRange,
        'NACL_BLOCKS_443',
        (verb) => `${own} ${verb} outbound TCP 443 to ${where}`,
      ),
      checkAcl(
        instanceAcl,
        'inbound',
        EPHEMERAL,
        endpointRange,
        'NACL_BLOCKS_EPHEMERAL',
        (verb) => `${own} ${verb} inbound TCP 1024-65535 (return traffic) from ${where}`,
      ),
    );
  }
  const endpointAcl = inventory.networkAclForSubnet(endpointSubnetId);
  if (endpointAcl) {
    const peer = source ?? ANY_IPV4;
    const from = source ? formatRange(source) : 'the instance (address unknown)';
    const of = `of ${where}`;
    for (const check of [
      checkAcl(
        endpointAcl,
        'inbound',
        HTTPS,
        peer,
        'ENDPOINT_NACL_BLOCKS_443',
        (verb) => `${of} ${verb} inbound TCP 443 from ${from}`,
      ),
      checkAcl(
        endpointAcl,
        'outbound',
        EPHEMERAL,
        peer,
        'ENDPOINT_NACL_BLOCKS_EPHEMERAL',
        (verb) => `${of} ${verb} outbound TCP 1024-65535 (return traffic) to ${from}`,
      ),
    ]) {
      // Without the instance's address, a rule that admits only part of the world proves nothing.
      checks.push(source || check.status === 'ok' ? check : { ...check, status: 'unverifiable' });
    }
  }
  return {
    status: worstStatus(checks.map((c) => c.status)),
    // A blocking rule before a doubtful one: the first problem is the one the finding's reason names.
    problems: [...checks]
      .sort((a, b) => WORST[b.status] - WORST[a.status])
      .flatMap((c) => (c.problem ? [c.problem] : [])),
  };
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
  // Decided for the subnet's range; an endpoint-side rule that names addresses is re-asked for this instance's.
  const doubt = result.services.some((s) => s.problems.some((p) => ADDRESS_SPECIFIC.has(p.code)));
  if (doubt && ownRange && ownRange !== subnetRange)
    result = computeNetworkPath(inventory, instance, ownRange);
  result = withEndpointPolicies(inventory, instance, result);
  memo.byInstance.set(instance.id, result);
  return result;
}

const ADDRESS_SPECIFIC = new Set([
  'ENDPOINT_SG_NO_443',
  'ENDPOINT_NACL_BLOCKS_443',
  'ENDPOINT_NACL_BLOCKS_EPHEMERAL',
]);

const DECISION_STATUS: Record<Decision, PathStatus> = {
  allowed: 'ok',
  conditional: 'unverifiable',
  notAllowed: 'blocked',
  explicitDeny: 'blocked',
};
const DECISION_WEIGHT: Record<Decision, number> = {
  allowed: 0,
  conditional: 1,
  notAllowed: 2,
  explicitDeny: 3,
};

/** The ARN the agent's ssm requests name: its own instance, in the snapshot's partition. */
export const instanceArn = (inventory: Inventory, instanceId: string) =>
  `arn:${inventory.partition}:ec2:${inventory.region}:${inventory.accountId}:instance/${instanceId}`;

function agentPrincipal(inventory: Inventory, instance: Ec2Instance): AgentPrincipal {
  const credentials = credentialSourceOf(inventory, instance);
  return {
    partition: inventory.partition,
    accountId: inventory.accountId,
    roleName:
      credentials.source === 'profile'
        ? credentials.role.name
        : credentials.source === 'dhmc'
          ? credentials.roleName
          : undefined,
    sessionName: instance.id,
  };
}

/**
 * The endpoint policy of each service the agent reaches through an interface endpoint, asked what AWS
 * asks: the agent's actions for that service (ssm:* on the instance's ARN, ssmmessages:* and
 * ec2messages:* on "*"), signed by the role whose credentials the agent uses.
 */
function endpointPolicyProblem(
  inventory: Inventory,
  instance: Ec2Instance,
  who: AgentPrincipal,
  service: AgentEndpointService,
  endpointId: string,
): { status: PathStatus; problem: PathProblem } | undefined {
  const document = inventory.endpointPolicies.get(endpointId);
  if (!document) return undefined;
  const resource = service === 'ssm' ? instanceArn(inventory, instance.id) : '*';
  let worst: { action: string; result: ReturnType<typeof evaluateEndpointPolicy> } | undefined;
  for (const action of CORE_AGENT_ACTIONS.filter((a) => a.startsWith(`${service}:`))) {
    const result = evaluateEndpointPolicy(document, `${endpointId} policy`, who, action, resource);
    if (!worst || DECISION_WEIGHT[result.decision] > DECISION_WEIGHT[worst.result.decision])
      worst = { action, result };
  }
  if (!worst || worst.result.decision === 'allowed') return undefined;
  const { action, result } = worst;
  const deciding =
    result.statements.find((st) =>
      result.decision === 'explicitDeny' ? st.effect === 'Deny' : st.conditional,
    ) ?? result.statements[0];
  const statement = deciding ? (deciding.sid ?? `Statement[${deciding.statementIndex}]`) : undefined;
  const role = who.roleName ? `role ${who.roleName}` : "the agent's role (unknown)";
  const on = resource === '*' ? '' : ` on ${resource}`;
  const detail =
    result.decision === 'explicitDeny'
      ? `${service} endpoint ${endpointId}'s policy denies ${action}${on} to ${role} (statement ${statement})`
      : result.decision === 'notAllowed'
        ? `${service} endpoint ${endpointId}'s policy has no statement allowing ${action}${on} to ${role}`
        : result.principalUnknown
          ? `${service} endpoint ${endpointId}'s policy allows ${action}${on} only to a principal named in statement ${statement}; cannot tell whether that is the agent's role`
          : `${service} endpoint ${endpointId}'s policy allows ${action}${on} only under a Condition (statement ${statement}) this audit cannot evaluate`;
  return {
    status: DECISION_STATUS[result.decision],
    problem: {
      code: result.decision === 'conditional' ? 'ENDPOINT_POLICY_CONDITIONAL' : 'ENDPOINT_POLICY_BLOCKS',
      detail,
      endpointId,
      ...(statement ? { statement } : {}),
    },
  };
}

function withEndpointPolicies(
  inventory: Inventory,
  instance: Ec2Instance,
  assessment: NetworkAssessment,
): NetworkAssessment {
  if (inventory.endpointPolicies.size === 0) return assessment;
  let who: AgentPrincipal | undefined;
  let changed = false;
  const services = assessment.services.map((path) => {
    if (path.route !== 'endpoint' || !path.endpointId) return path;
    who ??= agentPrincipal(inventory, instance);
    const found = endpointPolicyProblem(inventory, instance, who, path.service, path.endpointId);
    if (!found) return path;
    changed = true;
    // The more serious problem first: it is the one the finding's reason names.
    const problems =
      WORST[found.status] > WORST[path.status]
        ? [found.problem, ...path.problems]
        : [...path.problems, found.problem];
    return { ...path, status: worstStatus([path.status, found.status]), problems };
  });
  if (!changed) return assessment;
  return {
    ...assessment,
    services,
    status: worstStatus(services.filter((s) => s.required).map((s) => s.status)),
  };
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
