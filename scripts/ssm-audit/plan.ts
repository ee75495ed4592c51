import type { Finding } from '../../shared/model';
import type { Ec2InstanceRaw, Snapshot } from '../../shared/snapshot/schema';
import { regionalSsmBuckets } from '../../shared/knowledge/ssm-requirements';
import { compareVersions } from '../../shared/knowledge/supported-os';
import { causeOf, countOf, NODE_NOUN } from '../../shared/report/fleet-state';
import { assessNetworkPath } from '../../shared/network/assess';
import { buildInventory } from '../../shared/snapshot/inventory';
import { applyChange, hybridTrustPolicy, SSM_SERVICE_TRUST } from './plan-apply';

/**
 * The fix plan (DESIGN §8): the failures of an audit grouped into the fewest changes that make the most
 * nodes manageable — one endpoint set per VPC, one policy per role, one setting per region, one batch
 * of instances per instance-level change — ranked greedily by the nodes each makes fully manageable.
 *
 * A fix is identified by what it changes (its `id`), derived from each failing prerequisite finding's
 * reason and evidence; a node counts as unblocked only once every fix it needs is in the plan. Failures
 * that no command can clear (an unsupported OS, a call the audit could not make, an agent that is not
 * running, a deliberate Deny that needs a person's decision) are listed with the nodes they hold back.
 */

/** The rules whose FAIL keeps a node from being managed (managed-status names them as root causes). */
export const BLOCKING_RULES = [
  'instance-permissions',
  'network-path',
  's3-bucket-access',
  'hybrid-service-role',
  'supported-os',
] as const;

const CORE_POLICY = 'AmazonSSMManagedInstanceCore';
/** The agent version DHMC needs (instance-permissions DHMC_AGENT_TOO_OLD). */
export const DHMC_MINIMUM_AGENT = '3.2.582.0';
const SSM_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;
/** The role AWS's Default Host Management Configuration setup creates, which the plan's setting names. */
const DHMC_ROLE = 'AWSSystemsManagerDefaultEC2InstanceManagementRole';
/** The managed policy AWS's DHMC setup attaches to that role. */
const DHMC_POLICY = 'AmazonSSMManagedEC2InstanceDefaultPolicy';

/** What a fix changes, in data: the plan's commands do it to the account, a test helper to a snapshot. */
export type FixChange =
  | {
      kind: 'vpc-endpoints';
      vpcId: string;
      /** Interface endpoints to create (service short names), in the subnets and security group below. */
      create: string[];
      subnetIds: string[];
      /** An existing SSM endpoint's group, or a new group allowing 443 from the VPC's CIDR. */
      securityGroup: { existing: string } | { create: string; cidrs: string[] };
      enablePrivateDns: string[];
      enableVpcDns: boolean;
      /** Inbound 443 on an endpoint's group from the instances' groups. */
      ingress: { groupId: string; sourceGroupId: string }[];
      /** Existing endpoints that need a subnet in the instances' Availability Zone. */
      addSubnets: { endpointId: string; subnetIds: string[] }[];
      /**
       * Once the interface endpoints resolve, every instance of the VPC reaches SSM through them and
       * needs the S3 gateway endpoint on its route table for the SSM buckets: created, or routed.
       */
      s3Gateway?: { endpointId?: string; routeTableIds: string[] };
      /**
       * Roles of the VPC's running instances that reach SSM over the internet today: once they reach it
       * through endpoints, the agent needs s3:GetObject on the region's SSM buckets (s3-bucket-access),
       * so the same change grants it (put-role-policy, as the s3-policy fix does).
       */
      s3Grants?: { roleName: string; buckets: string[] }[];
      /**
       * Changes the rerouted instances need on their own path to the endpoints (an egress rule, a
       * network ACL entry), found by assessing the VPC with the endpoints in place: made with the set.
       */
      companions?: { id: string; change: FixChange }[];
    }
  | { kind: 'attach-policy'; roleName: string; policyName: string }
  | { kind: 's3-policy'; roleName: string; buckets: string[] }
  | { kind: 'hybrid-role-trust'; roleName: string; create: boolean }
  | {
      kind: 'imdsv2';
      instanceIds: string[];
      /**
       * The launch templates the instances were launched from (EC2's `aws:ec2launchtemplate:*` tags): a
       * new default version requiring IMDSv2, so instances launched later need no fix. Based on the
       * version the instances were launched from when they share one, else on the default version.
       */
      launchTemplates?: { launchTemplateId: string; versions: string[]; instanceIds: string[] }[];
    }
  | { kind: 'update-agent'; instanceIds: string[] }
  | { kind: 'sg-egress-443'; groupId: string }
  | {
      kind: 'nacl-allow';
      networkAclId: string;
      egress: boolean;
      ruleNumber: number;
      from: number;
      to: number;
    }
  | { kind: 'dhmc-setting'; roleName: string }
  | { kind: 'dhmc-role'; roleName: string }
  | { kind: 'renew-activation'; activationId: string; roleName: string; registrationLimit: number };

/** One shell word, or a variable set by an earlier command of the same fix (`$NAME`). */
export interface Command {
  argv: string[];
  /** The command prints an id the next commands use: the variable, and a stand-in for the dry run. */
  assign?: { variable: string; placeholder: string };
}

export interface Fix {
  /** What it changes: `vpc-endpoints:vpc-…`, `attach-policy:role:AmazonSSMManagedInstanceCore`, … */
  id: string;
  title: string;
  commands: Command[];
  change: FixChange;
  /** The nodes that need this fix (it clears at least one of their failures). */
  nodes: string[];
  /** What a person should know before running it (an instance it leaves without a path, …). */
  notes?: string[];
}

export interface PlanStep {
  rank: number;
  fix: Fix;
  /** The nodes that become fully manageable with this fix (and the fixes ranked before it). */
  unblocked: string[];
  /** Manageable nodes after this step, per node type. */
  after: Partial<Record<NodeType, number>>;
}

type NodeType = 'EC2Instance' | 'ManagedInstance';

export interface HeldBack {
  nodeId: string;
  resourceType: NodeType;
  /** Why no fix of the plan can make it manageable: `ruleId REASON: remediation`. */
  reasons: string[];
}

export interface FixPlan {
  accountId: string;
  region: string;
  /** Running instances / hybrid nodes counted, and how many are manageable before any fix. */
  totals: Partial<Record<NodeType, { total: number; manageable: number }>>;
  steps: PlanStep[];
  /** Nodes that stay unmanageable after every step, with what holds them back. */
  heldBack: HeldBack[];
  /** Fixes that help only nodes something else holds back, or no node (an expired activation). */
  otherFixes: Fix[];
}

/** A node's failures: the fixes that clear them, and those no plan can clear. */
interface NodeNeeds {
  id: string;
  type: NodeType;
  fixes: Set<string>;
  blockers: string[];
}

/** The snapshot facts the fixes are filled in from. */
class Facts {
  readonly instances = new Map<string, Ec2InstanceRaw>();
  constructor(readonly snapshot: Snapshot) {
    for (const r of snapshot.ec2?.Reservations ?? [])
      for (const i of r.Instances) this.instances.set(i.InstanceId, i);
  }
  vpc = (id: string) => this.snapshot.ec2?.Vpcs?.find((v) => v.VpcId === id);
  subnet = (id: string | undefined) => this.snapshot.ec2?.Subnets?.find((s) => s.SubnetId === id);
  endpoint = (id: string) => this.snapshot.ec2?.VpcEndpoints?.find((e) => e.VpcEndpointId === id);
  nacl = (id: string) => this.snapshot.ec2?.NetworkAcls?.find((a) => a.NetworkAclId === id);
  /** The groups of the VPC's existing SSM interface endpoints. */
  ssmEndpointGroup(vpcId: string): string | undefined {
    const names = SSM_SERVICES.map((s) => this.serviceName(s));
    return this.snapshot.ec2?.VpcEndpoints?.find(
      (e) => e.VpcId === vpcId && names.includes(e.ServiceName) && e.Groups?.length,
    )?.Groups?.[0]?.GroupId;
  }
  /** The route table of a subnet: its explicit association, else the VPC's main table. */
  routeTableOf(subnetId: string | undefined, vpcId: string): string | undefined {
    const tables = (this.snapshot.ec2?.RouteTables ?? []).filter((t) => t.VpcId === vpcId);
    return (
      tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId)) ??
      tables.find((t) => t.Associations?.some((a) => a.Main))
    )?.RouteTableId;
  }
  /** The S3 gateway endpoint the VPC's running instances would need once its SSM endpoints resolve. */
  s3GatewayFor(vpcId: string): { endpointId?: string; routeTableIds: string[] } | undefined {
    const gateway = this.snapshot.ec2?.VpcEndpoints?.find(
      (e) => e.VpcId === vpcId && e.ServiceName === this.serviceName('s3') && e.VpcEndpointType === 'Gateway',
    );
    const tables = new Set<string>();
    for (const i of this.instances.values()) {
      if (i.VpcId !== vpcId || !['running', 'pending'].includes(i.State.Name)) continue;
      const table = this.routeTableOf(i.SubnetId, vpcId);
      if (table && !gateway?.RouteTableIds?.includes(table)) tables.add(table);
    }
    if (tables.size === 0) return undefined;
    return { ...(gateway ? { endpointId: gateway.VpcEndpointId } : {}), routeTableIds: [...tables].sort() };
  }
  serviceName = (service: string) => `com.amazonaws.${this.snapshot.region}.${service}`;
  arn = (service: string, rest: string) => `arn:${this.snapshot.partition ?? 'aws'}:${service}:${rest}`;
}

/** A part of a fix, before the parts of the same id from other findings are merged. */
type Part = Omit<Fix, 'nodes' | 'commands'>;

interface BlockingProblem {
  code: string;
  detail?: string;
  networkAclId?: string;
  direction?: string;
  rule?: number | string;
}

interface ServicePath {
  service: string;
  route?: 'endpoint' | 'internet';
  status: string;
  endpointId?: string;
  problems?: BlockingProblem[];
}

/** Problems on the way to an interface endpoint: fixed in the VPC's endpoint set. */
const ENDPOINT_CODES = new Set([
  'ENDPOINT_PRIVATE_DNS_DISABLED',
  'VPC_DNS_DISABLED',
  'ENDPOINT_SG_NO_443',
  'ENDPOINT_NO_SUBNETS',
]);
/** Internet-path problems an endpoint set makes irrelevant (the agent then needs no internet route). */
const ROUTE_CODES = new Set([
  'NO_DEFAULT_ROUTE',
  'IGW_WITHOUT_PUBLIC_IP',
  'IGW_NOT_ATTACHED',
  'ROUTE_BLACKHOLE',
  'NAT_GATEWAY_UNAVAILABLE',
  'NAT_WITHOUT_INTERNET_ROUTE',
]);

/** The parts of the fixes a failing finding needs, or the reason none can be derived. */
function partsOf(
  f: Finding,
  facts: Facts,
  /** The other findings of the same resource, by rule. */
  others: ReadonlyMap<string, Finding> = new Map(),
  /** The plan turns DHMC on for the region (other nodes need it). */
  dhmcPlanned = false,
): Part[] | string {
  const ev = f.evidence as Record<string, unknown>;
  const role = typeof ev.role === 'string' ? ev.role : undefined;
  // A profile that cannot register the agent leaves it to DHMC: when the plan turns DHMC on anyway and
  // the instance itself needs nothing more on that path, DHMC (and its role) is the fix.
  if (
    f.ruleId === 'instance-permissions' &&
    f.reason === 'PROFILE_MISSING_ACTIONS_AND_DHMC_OFF' &&
    dhmcPlanned
  ) {
    const path = dhmcFallback(f, facts, ev.ifDhmcOn);
    if (typeof path !== 'string' && path.own.length === 0) return path.shared;
  }
  switch (`${f.ruleId} ${f.reason}`) {
    case 'instance-permissions DHMC_REQUIRES_IMDSV2':
      return dhmcPathParts(f, facts, 'DHMC_REQUIRES_IMDSV2', ev.agentVersion);
    case 'instance-permissions DHMC_AGENT_TOO_OLD':
      return [updateAgent(f)];
    case 'instance-permissions PROFILE_MISSING_ACTIONS':
    case 'instance-permissions PROFILE_MISSING_ACTIONS_AND_DHMC_OFF':
    case 'instance-permissions DHMC_SHADOWED_BY_PROFILE': {
      const denied = Array.isArray(ev.deniedActions) ? ev.deniedActions.length : 0;
      if (!role) return 'the role is not named in the evidence';
      // A Deny is somebody's decision (e.g. no interactive sessions): never removed by a script.
      if (denied > 0) return `role ${role} explicitly denies agent actions: a person must decide`;
      // A permissions boundary caps the role whatever is attached: widening it is a person's decision.
      const capped = (Array.isArray(ev.decidingStatements) ? ev.decidingStatements : [])
        .filter((d: { notAllowedBy?: string }) => d.notAllowedBy === 'permissions boundary')
        .map((d: { action?: string }) => d.action);
      if (capped.length > 0)
        return `role ${role}'s permissions boundary does not allow ${capped.join(', ')}: a person must decide whether to widen it`;
      return [attachCore(role)];
    }
    case 'instance-permissions NO_INSTANCE_PROFILE_AND_DHMC_OFF': {
      const path = dhmcFallback(f, facts, ev.ifDhmcOn);
      return typeof path === 'string' ? path : [...path.shared, ...path.own];
    }
    case 'hybrid-service-role HYBRID_ROLE_MISSING_ACTIONS': {
      const name = typeof ev.iamRole === 'string' ? ev.iamRole : undefined;
      return name ? [attachCore(name)] : 'the role is not named in the evidence';
    }
    case 'hybrid-service-role HYBRID_ROLE_TRUST_MISSING':
    case 'hybrid-service-role HYBRID_ROLE_NOT_FOUND': {
      const name = typeof ev.iamRole === 'string' ? ev.iamRole : undefined;
      if (!name) return 'the role is not named in the evidence';
      const create = f.reason === 'HYBRID_ROLE_NOT_FOUND';
      return [
        {
          id: `hybrid-role:${name}`,
          title: create
            ? `Create the hybrid service role ${name} (trusts ssm.amazonaws.com, ${CORE_POLICY})`
            : `Let ssm.amazonaws.com assume the hybrid service role ${name}`,
          change: { kind: 'hybrid-role-trust', roleName: name, create },
        },
      ];
    }
    case 's3-bucket-access S3_BUCKET_NOT_GRANTED': {
      const problems = Array.isArray(ev.problems)
        ? (ev.problems as { code?: string; bucket?: string }[])
        : [];
      const buckets = problems
        .filter((p) => p.code === 'S3_BUCKET_NOT_GRANTED' && p.bucket)
        .map((p) => p.bucket!);
      if (!role || buckets.length === 0 || buckets.length < problems.length)
        return 'the missing grants are not all named in the evidence';
      return [s3Policy(role, buckets, f.region)];
    }
    case 's3-bucket-access S3_GATEWAY_ENDPOINT_NOT_ROUTED':
    case 's3-bucket-access S3_GATEWAY_ENDPOINT_MISSING': {
      // The VPC's endpoint set routes the S3 gateway endpoint to every running instance's route table
      // (created when missing), in one command: a second route to the same table would fail.
      const vpcId = facts.instances.get(f.resourceId)?.VpcId;
      if (!vpcId) return 'the instance or its VPC is not in the collected network facts';
      // Through the endpoint the role needs the buckets (the rule asks once the endpoint is routed).
      const denied = stringList(ev.deniedBuckets);
      if (role && denied.length > 0)
        return `role ${role} denies s3:GetObject on part of ${denied.join(', ')}: a person must decide`;
      const ungranted = stringList(ev.ungrantedBuckets);
      const grant = role && ungranted.length > 0 ? [s3Policy(role, ungranted, f.region)] : [];
      // The buckets need an S3 endpoint only while the internet path is blocked: when the instance's own
      // network fixes (an egress rule, a network ACL entry) open it, the agent reaches S3 that way.
      if (internetReopened(others.get('network-path'))) return grant;
      return [
        {
          id: `vpc-endpoints:${vpcId}`,
          title: `Systems Manager endpoints in ${vpcId}`,
          change: { ...emptyEndpointSet(vpcId), s3Gateway: { routeTableIds: [] } },
        },
        ...grant,
      ];
    }
  }
  if (f.ruleId === 'network-path') return networkParts(f, facts);
  return 'no command can be derived for this failure';
}

/**
 * True when the network-path fixes of a failing instance also open its internet path: every problem of
 * that path is an egress rule or network ACL entry the instance's blocked services share (their fixes
 * allow 443, or the return ports, from and to anywhere).
 */
function internetReopened(network: Finding | undefined): boolean {
  if (network?.status !== 'FAIL') return false;
  const ev = network.evidence as {
    internetPath?: { status?: string; problems?: BlockingProblem[] };
    services?: ServicePath[];
  };
  const internet = ev.internetPath?.problems ?? [];
  if (ev.internetPath?.status !== 'blocked' || internet.length === 0) return false;
  const fixed = (ev.services ?? [])
    .filter((svc) => svc.status === 'blocked')
    .flatMap((svc) => svc.problems ?? [])
    .filter((p) => REOPENING_CODES.has(p.code))
    .map((p) => `${p.code}#${p.networkAclId ?? ''}`);
  return internet.every(
    (p) => REOPENING_CODES.has(p.code) && fixed.includes(`${p.code}#${p.networkAclId ?? ''}`),
  );
}
const REOPENING_CODES = new Set(['SG_NO_EGRESS_443', 'NACL_BLOCKS_443', 'NACL_BLOCKS_EPHEMERAL']);

const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

const s3Policy = (roleName: string, buckets: string[], region: string): Part => ({
  id: `s3-policy:${roleName}`,
  title: `Let role ${roleName} read the Systems Manager S3 buckets of ${region}`,
  change: { kind: 's3-policy', roleName, buckets },
});

/**
 * The parts that give an instance its DHMC path from where the rule stopped (`reason`), down the checks
 * the rule makes after it: the role, IMDSv2, then the agent version.
 */
function dhmcPathParts(
  f: Finding,
  facts: Facts,
  reason: string,
  agentVersion: unknown,
  denied = 0,
): Part[] | string {
  const parts: Part[] = [];
  switch (reason) {
    case 'DHMC_PATH_OK':
    case 'DHMC_AGENT_VERSION_UNKNOWN':
      return [];
    case 'DHMC_ROLE_NOT_FOUND':
      return [
        {
          id: `dhmc-role:${DHMC_ROLE}`,
          title: `Create the DHMC role ${DHMC_ROLE} (trusts ssm.amazonaws.com, ${DHMC_POLICY}, the SSM buckets)`,
          change: { kind: 'dhmc-role', roleName: DHMC_ROLE },
        },
      ];
    case 'DHMC_ROLE_MISSING_ACTIONS':
      if (denied > 0) return `DHMC role ${DHMC_ROLE} explicitly denies agent actions: a person must decide`;
      return [
        {
          id: `attach-policy:${DHMC_ROLE}:${DHMC_POLICY}`,
          title: `Attach ${DHMC_POLICY} to role ${DHMC_ROLE}`,
          change: { kind: 'attach-policy', roleName: DHMC_ROLE, policyName: DHMC_POLICY },
        },
      ];
    case 'DHMC_REQUIRES_IMDSV2': {
      const tags = facts.instances.get(f.resourceId)?.Tags ?? [];
      const tag = (key: string) => tags.find((t) => t.Key === key)?.Value;
      const template = tag('aws:ec2launchtemplate:id');
      const version = tag('aws:ec2launchtemplate:version');
      parts.push({
        id: `imdsv2:${f.region}`,
        title: 'Require IMDSv2 (Default Host Management Configuration supports only IMDSv2)',
        change: {
          kind: 'imdsv2',
          instanceIds: [f.resourceId],
          ...(template
            ? {
                launchTemplates: [
                  {
                    launchTemplateId: template,
                    versions: version ? [version] : [],
                    instanceIds: [f.resourceId],
                  },
                ],
              }
            : {}),
        },
      });
      // The rule checks the agent version after IMDSv2: an old agent is the next failure.
      if (typeof agentVersion === 'string' && compareVersions(agentVersion, DHMC_MINIMUM_AGENT) < 0)
        parts.unshift(updateAgent(f));
      return parts;
    }
    case 'DHMC_AGENT_TOO_OLD':
      return [updateAgent(f)];
    case 'DHMC_AGENT_VERSION_CHECK':
      return typeof agentVersion === 'string' && compareVersions(agentVersion, DHMC_MINIMUM_AGENT) < 0
        ? [updateAgent(f)]
        : [];
    default:
      return `${reason}: no command can be derived`;
  }
}

/**
 * DHMC for an instance no profile serves: the setting and what its role needs (shared by every such
 * instance), and what the instance itself needs (IMDSv2, the agent), from what the rule recorded.
 */
function dhmcFallback(f: Finding, facts: Facts, recorded: unknown): { shared: Part[]; own: Part[] } | string {
  const next = recorded as
    | { reason?: string; imdsV2Required?: boolean; agentVersion?: unknown; deniedActions?: unknown[] }
    | undefined;
  const shared: Part[] = [dhmcSetting(f)];
  if (!next?.reason) return { shared, own: [] };
  // The role first (the rule stops at it), then what the instance itself needs.
  if (next.reason.startsWith('DHMC_ROLE_')) {
    const role = dhmcPathParts(f, facts, next.reason, undefined, next.deniedActions?.length);
    if (typeof role === 'string') return `once DHMC is on: ${role}`;
    shared.push(...role);
  }
  const own = dhmcPathParts(
    f,
    facts,
    next.imdsV2Required === false ? 'DHMC_REQUIRES_IMDSV2' : 'DHMC_AGENT_VERSION_CHECK',
    next.agentVersion,
  );
  if (typeof own === 'string') return `once DHMC is on: ${own}`;
  return { shared, own };
}

const dhmcSetting = (f: Finding): Part => ({
  id: `dhmc-setting:${f.region}`,
  title: 'Turn on Default Host Management Configuration for the region',
  change: { kind: 'dhmc-setting', roleName: DHMC_ROLE },
});

const updateAgent = (f: Finding): Part => ({
  id: `update-agent:${f.region}`,
  title: `Update SSM Agent to ${DHMC_MINIMUM_AGENT} or later (needed by Default Host Management Configuration)`,
  change: { kind: 'update-agent', instanceIds: [f.resourceId] },
});

const attachCore = (roleName: string): Part => ({
  id: `attach-policy:${roleName}:${CORE_POLICY}`,
  title: `Attach ${CORE_POLICY} to role ${roleName}`,
  change: { kind: 'attach-policy', roleName, policyName: CORE_POLICY },
});

type EndpointSet = Extract<FixChange, { kind: 'vpc-endpoints' }>;

/** A VPC's endpoint set that changes nothing yet (its security group is chosen once it creates endpoints). */
const emptyEndpointSet = (vpcId: string, subnetId?: string): EndpointSet => ({
  kind: 'vpc-endpoints',
  vpcId,
  create: [],
  subnetIds: subnetId ? [subnetId] : [],
  securityGroup: { existing: '' },
  enablePrivateDns: [],
  enableVpcDns: false,
  ingress: [],
  addSubnets: [],
});

/** The set reroutes the agent's SSM traffic to interface endpoints (instances become endpoint-only). */
const reroutes = (c: EndpointSet) => c.create.length > 0 || c.enablePrivateDns.length > 0 || c.enableVpcDns;

/**
 * network-path: per blocked service, the endpoint path is repaired in the VPC's endpoint set (created
 * when the VPC has none for that service and the internet path has no route); a security group or
 * network ACL of the instance that blocks 443 is opened where it is.
 */
function networkParts(f: Finding, facts: Facts): Part[] | string {
  const instance = facts.instances.get(f.resourceId);
  const services = (f.evidence as { services?: ServicePath[] }).services;
  if (!instance?.VpcId || !Array.isArray(services))
    return 'the instance or its VPC is not in the collected network facts (a whole-region audit adds an instance it finds)';
  const vpcId = instance.VpcId;
  const endpointSet = emptyEndpointSet(vpcId, instance.SubnetId);
  const parts: Part[] = [];
  for (const s of services) {
    if (s.status !== 'blocked') continue;
    const problems = s.problems ?? [];
    const endpoint = s.endpointId ? facts.endpoint(s.endpointId) : undefined;
    // On the internet route the endpoint's problem is an alternative, not a second failure: when all the
    // internet path lacks is an egress rule or network ACL entry, those alone give the agent its path.
    const internetOnly =
      s.route === 'internet' &&
      problems.some((p) => REOPENING_CODES.has(p.code)) &&
      problems.every(
        (p) => REOPENING_CODES.has(p.code) || ENDPOINT_CODES.has(p.code) || p.code === 'ENDPOINT_MISSING',
      );
    for (const p of problems) {
      // Traffic that crosses zones still arrives: a note of the rule, not a failure to fix.
      if (p.code === 'ENDPOINT_OTHER_AZ') continue;
      if (internetOnly && !REOPENING_CODES.has(p.code)) continue;
      if (ENDPOINT_CODES.has(p.code)) {
        if (!endpoint) return `${p.code}: the endpoint is not in the snapshot`;
        if (p.code === 'ENDPOINT_PRIVATE_DNS_DISABLED')
          endpointSet.enablePrivateDns.push(endpoint.VpcEndpointId);
        else if (p.code === 'VPC_DNS_DISABLED') endpointSet.enableVpcDns = true;
        else if (p.code === 'ENDPOINT_SG_NO_443') {
          const groupId = endpoint.Groups?.[0]?.GroupId;
          const sourceGroupId = instance.SecurityGroups?.[0]?.GroupId;
          if (!groupId || !sourceGroupId)
            return 'ENDPOINT_SG_NO_443: the security groups are not in the snapshot';
          endpointSet.ingress.push({ groupId, sourceGroupId });
        } else if (instance.SubnetId) {
          endpointSet.addSubnets.push({ endpointId: endpoint.VpcEndpointId, subnetIds: [instance.SubnetId] });
        }
      } else if (p.code === 'ENDPOINT_MISSING') {
        endpointSet.create.push(s.service);
      } else if (ROUTE_CODES.has(p.code)) {
        // The endpoint path replaces the internet path: create the endpoint when there is none.
        if (!endpoint) endpointSet.create.push(s.service);
      } else if (p.code === 'SG_NO_EGRESS_443') {
        const groupId = instance.SecurityGroups?.[0]?.GroupId;
        if (!groupId) return 'SG_NO_EGRESS_443: the instance has no security group in the snapshot';
        parts.push({
          id: `sg-egress-443:${groupId}`,
          title: `Allow outbound HTTPS (TCP 443) from security group ${groupId}`,
          change: { kind: 'sg-egress-443', groupId },
        });
      } else if (p.code === 'NACL_BLOCKS_443' || p.code === 'NACL_BLOCKS_EPHEMERAL') {
        const nacl = p.networkAclId ? facts.nacl(p.networkAclId) : undefined;
        if (!nacl) return `${p.code}: the network ACL is not in the snapshot`;
        const egress = p.code === 'NACL_BLOCKS_443';
        const [from, to] = egress ? [443, 443] : [1024, 65535];
        // Below every entry of that direction, so the allow is evaluated first.
        const taken = (nacl.Entries ?? [])
          .filter((e) => Boolean(e.Egress) === egress)
          .map((e) => e.RuleNumber);
        const lowest = Math.min(...taken, 32767);
        let ruleNumber = lowest - 1;
        while (ruleNumber > 0 && taken.includes(ruleNumber)) ruleNumber--;
        if (ruleNumber < 1) return `${p.code}: no free rule number below ${lowest} in ${nacl.NetworkAclId}`;
        parts.push({
          id: `nacl-allow:${nacl.NetworkAclId}:${egress ? 'egress-443' : 'ingress-ephemeral'}`,
          title: `Allow ${egress ? 'outbound TCP 443' : 'inbound TCP 1024-65535 (return traffic)'} in network ACL ${nacl.NetworkAclId}`,
          change: { kind: 'nacl-allow', networkAclId: nacl.NetworkAclId, egress, ruleNumber, from, to },
        });
      } else {
        return `${p.code}: no command can be derived (see the finding's remediation)`;
      }
    }
  }
  const touchesEndpoints =
    endpointSet.create.length +
      endpointSet.enablePrivateDns.length +
      endpointSet.ingress.length +
      endpointSet.addSubnets.length >
      0 || endpointSet.enableVpcDns;
  if (touchesEndpoints) {
    // Creating endpoints in a VPC without DNS would leave their private names unresolvable.
    const vpc = facts.vpc(vpcId);
    if (
      endpointSet.create.length > 0 &&
      (!attributeOn(vpc?.EnableDnsSupport) || !attributeOn(vpc?.EnableDnsHostnames))
    )
      endpointSet.enableVpcDns = true;
    const existing = facts.ssmEndpointGroup(vpcId);
    endpointSet.securityGroup = existing
      ? { existing }
      : {
          create: `ssm-endpoints-${vpcId}`,
          cidrs: (vpc?.CidrBlockAssociationSet ?? []).map((c) => c.CidrBlock).filter(Boolean) as string[],
        };
    if (
      'create' in endpointSet.securityGroup &&
      endpointSet.securityGroup.cidrs.length === 0 &&
      vpc?.CidrBlock
    )
      endpointSet.securityGroup.cidrs.push(vpc.CidrBlock);
    parts.unshift({
      id: `vpc-endpoints:${vpcId}`,
      title: `Systems Manager endpoints in ${vpcId}`,
      change: endpointSet,
    });
  }
  return parts.length > 0 ? parts : 'no blocked service named in the evidence';
}

/** A DescribeVpcAttribute value (`{Value: true}`) or a plain boolean; absent means AWS's default, on. */
const attributeOn = (v: boolean | { Value?: boolean } | undefined) =>
  v === undefined || (typeof v === 'boolean' ? v : v.Value !== false);

const union = <T>(a: readonly T[], b: readonly T[]): T[] => [...new Set([...a, ...b])];

/** Two parts of the same fix (same id) from different findings, as one change. */
function mergeChange(a: FixChange, b: FixChange): FixChange {
  if (a.kind === 'vpc-endpoints' && b.kind === 'vpc-endpoints') {
    const ingress = [...a.ingress];
    for (const i of b.ingress)
      if (!ingress.some((x) => x.groupId === i.groupId && x.sourceGroupId === i.sourceGroupId))
        ingress.push(i);
    const addSubnets = [...a.addSubnets];
    for (const s of b.addSubnets) {
      const same = addSubnets.find((x) => x.endpointId === s.endpointId);
      if (same) same.subnetIds = union(same.subnetIds, s.subnetIds);
      else addSubnets.push({ ...s });
    }
    const chosen = (g: EndpointSet['securityGroup']) => !('existing' in g) || g.existing !== '';
    return {
      ...a,
      securityGroup: chosen(a.securityGroup) ? a.securityGroup : b.securityGroup,
      ...(a.s3Gateway || b.s3Gateway ? { s3Gateway: a.s3Gateway ?? b.s3Gateway } : {}),
      create: union(a.create, b.create),
      subnetIds: union(a.subnetIds, b.subnetIds),
      enablePrivateDns: union(a.enablePrivateDns, b.enablePrivateDns),
      enableVpcDns: a.enableVpcDns || b.enableVpcDns,
      ingress,
      addSubnets,
    };
  }
  if (a.kind === 'imdsv2' && b.kind === 'imdsv2') {
    const templates = (a.launchTemplates ?? []).map((t) => ({ ...t }));
    for (const t of b.launchTemplates ?? []) {
      const same = templates.find((x) => x.launchTemplateId === t.launchTemplateId);
      if (same) {
        same.versions = union(same.versions, t.versions);
        same.instanceIds = union(same.instanceIds, t.instanceIds);
      } else templates.push({ ...t });
    }
    return {
      ...a,
      instanceIds: union(a.instanceIds, b.instanceIds),
      ...(templates.length ? { launchTemplates: templates } : {}),
    };
  }
  if (a.kind === 'update-agent' && b.kind === 'update-agent')
    return { ...a, instanceIds: union(a.instanceIds, b.instanceIds) };
  if (a.kind === 's3-policy' && b.kind === 's3-policy') return { ...a, buckets: union(a.buckets, b.buckets) };
  if (a.kind === 'hybrid-role-trust' && b.kind === 'hybrid-role-trust')
    return { ...a, create: a.create || b.create };
  return a;
}

/** The AWS CLI commands of a change, filled in with the snapshot's ids. */
export function commandsOf(
  change: FixChange,
  facts: { region: string; partition: string; accountId: string },
): Command[] {
  const { region, partition, accountId } = facts;
  const json = (value: unknown) => JSON.stringify(value);
  switch (change.kind) {
    case 'vpc-endpoints': {
      const out: Command[] = [];
      // One attribute per call (ModifyVpcAttribute takes one at a time).
      if (change.enableVpcDns)
        for (const attribute of ['--enable-dns-support', '--enable-dns-hostnames'])
          out.push({
            argv: [
              'aws',
              'ec2',
              'modify-vpc-attribute',
              '--vpc-id',
              change.vpcId,
              attribute,
              '{"Value":true}',
            ],
          });
      let group: string;
      if ('existing' in change.securityGroup) group = change.securityGroup.existing;
      else if (change.create.length > 0) {
        const variable = `SG_${change.vpcId.replace(/\W/g, '_').toUpperCase()}`;
        group = `$${variable}`;
        out.push({
          argv: [
            'aws',
            'ec2',
            'create-security-group',
            '--vpc-id',
            change.vpcId,
            '--group-name',
            change.securityGroup.create,
            '--description',
            'HTTPS from the VPC to the Systems Manager interface endpoints',
            '--query',
            'GroupId',
            '--output',
            'text',
          ],
          assign: { variable, placeholder: 'sg-DRYRUN' },
        });
        for (const cidr of change.securityGroup.cidrs)
          out.push({
            argv: [
              'aws',
              'ec2',
              'authorize-security-group-ingress',
              '--group-id',
              group,
              '--protocol',
              'tcp',
              '--port',
              '443',
              '--cidr',
              cidr,
            ],
          });
      } else group = '';
      for (const service of change.create)
        out.push({
          argv: [
            'aws',
            'ec2',
            'create-vpc-endpoint',
            '--vpc-id',
            change.vpcId,
            '--vpc-endpoint-type',
            'Interface',
            '--service-name',
            `com.amazonaws.${region}.${service}`,
            '--subnet-ids',
            ...change.subnetIds,
            '--security-group-ids',
            group,
            '--private-dns-enabled',
          ],
        });
      for (const id of change.enablePrivateDns)
        out.push({
          argv: ['aws', 'ec2', 'modify-vpc-endpoint', '--vpc-endpoint-id', id, '--private-dns-enabled'],
        });
      for (const s of change.addSubnets)
        out.push({
          argv: [
            'aws',
            'ec2',
            'modify-vpc-endpoint',
            '--vpc-endpoint-id',
            s.endpointId,
            '--add-subnet-ids',
            ...s.subnetIds,
          ],
        });
      if (change.s3Gateway)
        out.push({
          argv: change.s3Gateway.endpointId
            ? [
                'aws',
                'ec2',
                'modify-vpc-endpoint',
                '--vpc-endpoint-id',
                change.s3Gateway.endpointId,
                '--add-route-table-ids',
                ...change.s3Gateway.routeTableIds,
              ]
            : [
                'aws',
                'ec2',
                'create-vpc-endpoint',
                '--vpc-id',
                change.vpcId,
                '--vpc-endpoint-type',
                'Gateway',
                '--service-name',
                `com.amazonaws.${region}.s3`,
                '--route-table-ids',
                ...change.s3Gateway.routeTableIds,
              ],
        });
      for (const grant of change.s3Grants ?? [])
        out.push(...commandsOf({ kind: 's3-policy', ...grant }, facts));
      for (const companion of change.companions ?? []) out.push(...commandsOf(companion.change, facts));
      for (const i of change.ingress)
        out.push({
          argv: [
            'aws',
            'ec2',
            'authorize-security-group-ingress',
            '--group-id',
            i.groupId,
            '--protocol',
            'tcp',
            '--port',
            '443',
            '--source-group',
            i.sourceGroupId,
          ],
        });
      return out;
    }
    case 'attach-policy':
      return [
        {
          argv: [
            'aws',
            'iam',
            'attach-role-policy',
            '--role-name',
            change.roleName,
            '--policy-arn',
            `arn:${partition}:iam::aws:policy/${change.policyName}`,
          ],
        },
      ];
    case 's3-policy':
      return [
        {
          argv: [
            'aws',
            'iam',
            'put-role-policy',
            '--role-name',
            change.roleName,
            '--policy-name',
            'SSMAgentS3Access',
            '--policy-document',
            json({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 's3:GetObject',
                  Resource: change.buckets.map((b) => `arn:${partition}:s3:::${b}/*`),
                },
              ],
            }),
          ],
        },
      ];
    case 'hybrid-role-trust': {
      const trust = json(hybridTrustPolicy(partition, region, accountId));
      return change.create
        ? [
            {
              argv: [
                'aws',
                'iam',
                'create-role',
                '--role-name',
                change.roleName,
                '--assume-role-policy-document',
                trust,
              ],
            },
            ...commandsOf(
              { kind: 'attach-policy', roleName: change.roleName, policyName: CORE_POLICY },
              facts,
            ),
          ]
        : [
            {
              argv: [
                'aws',
                'iam',
                'update-assume-role-policy',
                '--role-name',
                change.roleName,
                '--policy-document',
                trust,
              ],
            },
          ];
    }
    case 'imdsv2':
      return [
        ...(change.launchTemplates ?? [])
          .slice()
          .sort((x, y) => x.launchTemplateId.localeCompare(y.launchTemplateId))
          .flatMap((t): Command[] => {
            const variable = `VERSION_${t.launchTemplateId.replace(/\W/g, '_').toUpperCase()}`;
            return [
              {
                argv: [
                  'aws',
                  'ec2',
                  'create-launch-template-version',
                  '--launch-template-id',
                  t.launchTemplateId,
                  '--source-version',
                  t.versions.length === 1 ? t.versions[0]! : '$Default',
                  '--version-description',
                  'IMDSv2 required (Systems Manager Default Host Management Configuration)',
                  '--launch-template-data',
                  JSON.stringify({ MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' } }),
                  '--query',
                  'LaunchTemplateVersion.VersionNumber',
                  '--output',
                  'text',
                ],
                assign: { variable, placeholder: '0' },
              },
              {
                argv: [
                  'aws',
                  'ec2',
                  'modify-launch-template',
                  '--launch-template-id',
                  t.launchTemplateId,
                  '--default-version',
                  `$${variable}`,
                ],
              },
            ];
          }),
        ...change.instanceIds.map((id) => ({
          argv: [
            'aws',
            'ec2',
            'modify-instance-metadata-options',
            '--instance-id',
            id,
            '--http-tokens',
            'required',
            '--http-endpoint',
            'enabled',
          ],
        })),
      ];
    case 'update-agent':
      return [
        {
          argv: [
            'aws',
            'ssm',
            'send-command',
            '--document-name',
            'AWS-UpdateSSMAgent',
            '--instance-ids',
            ...change.instanceIds,
          ],
        },
      ];
    case 'sg-egress-443':
      return [
        {
          argv: [
            'aws',
            'ec2',
            'authorize-security-group-egress',
            '--group-id',
            change.groupId,
            '--ip-permissions',
            'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]',
          ],
        },
      ];
    case 'nacl-allow':
      return [
        {
          argv: [
            'aws',
            'ec2',
            'create-network-acl-entry',
            '--network-acl-id',
            change.networkAclId,
            change.egress ? '--egress' : '--ingress',
            '--rule-number',
            String(change.ruleNumber),
            '--protocol',
            'tcp',
            '--port-range',
            `From=${change.from},To=${change.to}`,
            '--cidr-block',
            '0.0.0.0/0',
            '--rule-action',
            'allow',
          ],
        },
      ];
    case 'dhmc-role':
      return [
        {
          argv: [
            'aws',
            'iam',
            'create-role',
            '--path',
            '/service-role/',
            '--role-name',
            change.roleName,
            '--assume-role-policy-document',
            json(SSM_SERVICE_TRUST),
          ],
        },
        ...commandsOf({ kind: 'attach-policy', roleName: change.roleName, policyName: DHMC_POLICY }, facts),
        // Instances that reach SSM through endpoints read the buckets with this role.
        ...commandsOf(
          { kind: 's3-policy', roleName: change.roleName, buckets: regionalSsmBuckets(region) },
          facts,
        ),
      ];
    case 'dhmc-setting':
      return [
        {
          argv: [
            'aws',
            'ssm',
            'update-service-setting',
            '--setting-id',
            `arn:${partition}:ssm:${region}:${accountId}:servicesetting/ssm/managed-instance/default-ec2-instance-management-role`,
            '--setting-value',
            `service-role/${change.roleName}`,
          ],
        },
      ];
    case 'renew-activation':
      return [
        {
          argv: [
            'aws',
            'ssm',
            'create-activation',
            '--iam-role',
            change.roleName,
            '--registration-limit',
            String(change.registrationLimit),
          ],
        },
        { argv: ['aws', 'ssm', 'delete-activation', '--activation-id', change.activationId] },
      ];
  }
}

const isBlocking = (f: Finding) =>
  (BLOCKING_RULES as readonly string[]).includes(f.ruleId) && (f.status === 'FAIL' || f.status === 'ERROR');

/** The fix plan of an audit's findings, filled in from its snapshot. */
export function buildPlan(findings: readonly Finding[], snapshot: Snapshot): FixPlan {
  // In one order whatever the source (an audit, the findings table): the plan is a function of the set.
  const live = findings
    .filter((f) => !f.suppressed)
    .sort(
      (a, b) =>
        (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0) ||
        (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
    );
  const facts = new Facts(snapshot);
  const partition = snapshot.partition ?? 'aws';
  const ids = { region: snapshot.region, partition, accountId: snapshot.accountId };

  // The nodes counted by the report's headline: running instances and hybrid nodes.
  const nodes = new Map<string, NodeNeeds>();
  const blocked = new Set(live.filter(isBlocking).map((f) => f.resourceId));
  for (const f of live) {
    if (f.ruleId !== 'managed-status' || !(f.resourceType in NODE_NOUN)) continue;
    if (f.status === 'NOT_APPLICABLE' && f.reason !== 'REGISTRATION_PENDING') continue;
    const needs: NodeNeeds = {
      id: f.resourceId,
      type: f.resourceType as NodeType,
      fixes: new Set(),
      blockers: [],
    };
    nodes.set(f.resourceId, needs);
    if (f.status === 'ERROR') needs.blockers.push(`managed-status ${f.reason}: ${f.message}`);
    // Unmanaged with no failing prerequisite: the agent or the host, which no AWS call repairs.
    if (f.status === 'FAIL' && !causeOf(f).found && !blocked.has(f.resourceId))
      needs.blockers.push(`managed-status ${f.reason}: ${f.remediation}`);
  }

  /**
   * What the roles on the VPC's running instances that reach SSM over the internet today
   * (s3-bucket-access NOT_ENDPOINT_ONLY) lack once they reach it through endpoints: the buckets the
   * finding records as not granted (all of them when an older finding does not say). An instance without
   * a role gets the DHMC role the plan's setting names.
   */
  const byResource = new Map<string, Map<string, Finding>>();
  for (const f of live) {
    let rules = byResource.get(f.resourceId);
    if (!rules) byResource.set(f.resourceId, (rules = new Map()));
    rules.set(f.ruleId, f);
  }
  const grantsForReroute = (vpcId: string): { roleName: string; buckets: string[] }[] => {
    const grants = new Map<string, Set<string>>();
    for (const instance of facts.instances.values()) {
      if (instance.VpcId !== vpcId || !['running', 'pending'].includes(instance.State.Name)) continue;
      const rules = byResource.get(instance.InstanceId);
      const s3 = rules?.get('s3-bucket-access');
      if (s3?.reason !== 'NOT_ENDPOINT_ONLY') continue;
      const ev = s3.evidence as { role?: unknown; ungrantedBuckets?: unknown };
      const recorded = typeof ev.role === 'string' && Array.isArray(ev.ungrantedBuckets);
      const role = recorded
        ? (ev.role as string)
        : rules?.get('instance-permissions')?.reason === 'NO_INSTANCE_PROFILE_AND_DHMC_OFF' ||
            typeof ev.role !== 'string'
          ? DHMC_ROLE
          : ev.role;
      const buckets = recorded ? stringList(ev.ungrantedBuckets) : regionalSsmBuckets(snapshot.region);
      // A role the plan creates is created with the grant.
      if (buckets.length === 0 || fixes.has(`dhmc-role:${role}`)) continue;
      const set = grants.get(role) ?? new Set<string>();
      for (const b of buckets) set.add(b);
      grants.set(role, set);
    }
    const order = regionalSsmBuckets(snapshot.region);
    return [...grants]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([roleName, set]) => ({ roleName, buckets: order.filter((b) => set.has(b)) }));
  };

  // DHMC is turned on when a counted node has no profile and nothing but DHMC can give it a role.
  const dhmcPlanned = live.some(
    (f) =>
      f.ruleId === 'instance-permissions' &&
      f.reason === 'NO_INSTANCE_PROFILE_AND_DHMC_OFF' &&
      f.status === 'FAIL' &&
      nodes.has(f.resourceId),
  );
  const fixes = new Map<string, Fix>();
  for (const f of live) {
    const node = nodes.get(f.resourceId);
    if (!node || !isBlocking(f)) continue;
    const parts =
      f.status === 'ERROR'
        ? `could not be evaluated: ${f.message}`
        : partsOf(f, facts, byResource.get(f.resourceId), dhmcPlanned);
    if (typeof parts === 'string') {
      node.blockers.push(
        `${f.ruleId} ${f.reason}: ${parts === 'no command can be derived for this failure' ? f.remediation : `${parts} — ${f.remediation}`}`,
      );
      continue;
    }
    for (const part of parts) {
      node.fixes.add(part.id);
      const fix = fixes.get(part.id);
      if (fix) {
        fix.change = mergeChange(fix.change, part.change);
        if (!fix.nodes.includes(node.id)) fix.nodes.push(node.id);
      } else fixes.set(part.id, { ...part, commands: [], nodes: [node.id] });
    }
  }
  for (const fix of fixes.values()) {
    // One subnet per Availability Zone: an interface endpoint takes at most one in each.
    if (fix.change.kind === 'vpc-endpoints') {
      const zones = new Set<string>();
      fix.change.subnetIds = fix.change.subnetIds.filter((id) => {
        const zone = facts.subnet(id)?.AvailabilityZone ?? id;
        if (zones.has(zone)) return false;
        zones.add(zone);
        return true;
      });
      const c = fix.change;
      if (reroutes(c) || c.s3Gateway) {
        const gateway = facts.s3GatewayFor(c.vpcId);
        if (gateway) c.s3Gateway = gateway;
        else delete c.s3Gateway;
        if (!reroutes(c) && c.ingress.length === 0 && c.addSubnets.length === 0)
          fix.title = `Route the S3 gateway endpoint of ${c.vpcId} to its instances (the agent's S3 buckets)`;
      }
      if (reroutes(c)) {
        // A role's own S3 fix grants the same policy: the endpoint set's grant covers its buckets too.
        const grants = grantsForReroute(c.vpcId).map((g) => {
          const own = fixes.get(`s3-policy:${g.roleName}`)?.change;
          return own?.kind === 's3-policy' ? { ...g, buckets: union(g.buckets, own.buckets) } : g;
        });
        if (grants.length) c.s3Grants = grants;
      }
    }
  }
  // What each rerouting endpoint set does to the paths of its VPC's instances (made with it).
  for (const fix of [...fixes.values()]) {
    if (fix.change.kind !== 'vpc-endpoints' || !reroutes(fix.change)) continue;
    for (const [instanceId, outcome] of afterReroute(snapshot, fix.change)) {
      const node = nodes.get(instanceId);
      const needsIt = fix.nodes.includes(instanceId);
      if (typeof outcome === 'string') {
        if (node && needsIt) node.blockers.push(`network-path after ${fix.id}: ${outcome}`);
        else if (byResource.get(instanceId)?.get('network-path')?.status === 'PASS')
          (fix.notes ??= []).push(`${instanceId} loses its path to SSM: ${outcome}`);
        continue;
      }
      for (const part of outcome) {
        if (part.id === fix.id) {
          // The set's own change: 443 on an existing endpoint group from the instance's group.
          const set = fix.change as EndpointSet;
          for (const rule of (part.change as EndpointSet).ingress)
            if (
              !set.ingress.some((x) => x.groupId === rule.groupId && x.sourceGroupId === rule.sourceGroupId)
            )
              set.ingress.push(rule);
        } else if (node && needsIt) {
          node.fixes.add(part.id);
          const known = fixes.get(part.id);
          if (known) {
            known.change = mergeChange(known.change, part.change);
            if (!known.nodes.includes(instanceId)) known.nodes.push(instanceId);
          } else fixes.set(part.id, { ...part, commands: [], nodes: [instanceId] });
        } else {
          const companions = ((fix.change as EndpointSet).companions ??= []);
          const same = companions.find((c) => c.id === part.id);
          if (same) same.change = mergeChange(same.change, part.change);
          else companions.push({ id: part.id, change: part.change });
        }
      }
    }
  }
  for (const fix of fixes.values()) {
    if (fix.change.kind === 'imdsv2' && fix.change.launchTemplates?.length)
      fix.title = `Require IMDSv2 on the instances and on new launches from ${fix.change.launchTemplates
        .map((t) => t.launchTemplateId)
        .sort()
        .join(', ')} (Default Host Management Configuration supports only IMDSv2)`;
    fix.commands = commandsOf(fix.change, ids);
  }

  // Greedy: the fix that makes the most more nodes fully manageable; when none does on its own, the
  // smallest set of fixes that completes one node (most nodes first).
  const fixable = [...nodes.values()].filter((n) => n.blockers.length === 0);
  const manageable = new Set(fixable.filter((n) => n.fixes.size === 0).map((n) => n.id));
  const totals: FixPlan['totals'] = {};
  for (const n of nodes.values()) {
    const row = (totals[n.type] ??= { total: 0, manageable: 0 });
    row.total += 1;
    if (manageable.has(n.id)) row.manageable += 1;
  }
  const chosen = new Set<string>();
  const steps: PlanStep[] = [];
  // The fixes each node still needs (nodes not yet manageable): one pass per step keeps it O(nodes).
  const missing = new Map<string, Set<string>>();
  for (const n of fixable) if (!manageable.has(n.id)) missing.set(n.id, new Set(n.fixes));
  // A fix that makes another's change too (an endpoint set granting a role the S3 buckets) satisfies it.
  const covers = new Map<string, string[]>();
  const bundled = (c: EndpointSet) => [
    ...(c.s3Grants ?? []).map((g) => `s3-policy:${g.roleName}`),
    ...(c.companions ?? []).map((x) => x.id),
  ];
  for (const fix of fixes.values())
    if (fix.change.kind === 'vpc-endpoints')
      covers.set(
        fix.id,
        bundled(fix.change).filter((id) => fixes.has(id)),
      );
  const made = (id: string) => [id, ...(covers.get(id) ?? [])];
  const byRank = (a: Fix, b: Fix, gainA: number, gainB: number) =>
    gainB - gainA || a.commands.length - b.commands.length || a.id.localeCompare(b.id);
  const take = (fix: Fix) => {
    const satisfied = made(fix.id);
    for (const id of satisfied) chosen.add(id);
    const unblocked: string[] = [];
    for (const n of fixable) {
      const needs = missing.get(n.id);
      if (!needs) continue;
      for (const id of satisfied) needs.delete(id);
      if (needs.size > 0) continue;
      missing.delete(n.id);
      manageable.add(n.id);
      unblocked.push(n.id);
    }
    const after: PlanStep['after'] = {};
    for (const n of nodes.values()) if (manageable.has(n.id)) after[n.type] = (after[n.type] ?? 0) + 1;
    steps.push({ rank: steps.length + 1, fix, unblocked, after });
  };
  /** How many nodes a set of fixes completes (with those chosen). */
  const completedBy = (set: ReadonlySet<string>) => {
    const all = new Set([...set].flatMap(made));
    let count = 0;
    for (const needs of missing.values()) if ([...needs].every((id) => all.has(id))) count++;
    return count;
  };
  for (;;) {
    // A fix's gain: the nodes it is the last missing fix of (with what it covers).
    const gains = new Map<string, number>();
    for (const needs of missing.values())
      for (const id of needs) {
        const satisfied = made(id);
        if ([...needs].every((other) => satisfied.includes(other))) gains.set(id, (gains.get(id) ?? 0) + 1);
      }
    const open = [...fixes.values()].filter((f) => !chosen.has(f.id));
    const gain = (f: Fix) => gains.get(f.id) ?? 0;
    const best = open.sort((a, b) => byRank(a, b, gain(a), gain(b)))[0];
    if (best && gain(best) > 0) {
      take(best);
      continue;
    }
    // No single fix completes a node: the smallest missing set (then the most nodes it completes).
    if (missing.size === 0) break;
    const smallest = Math.min(...[...missing.values()].map((needs) => needs.size));
    const candidates = new Map<string, string[]>();
    for (const needs of missing.values())
      if (needs.size === smallest) {
        const ids = [...needs].sort();
        candidates.set(ids.join(), ids);
      }
    const ranked = [...candidates.values()]
      .map((ids) => ({ ids, completes: completedBy(new Set(ids)) }))
      .sort((a, b) => b.completes - a.completes || a.ids.join().localeCompare(b.ids.join()));
    const set = ranked[0]!.ids.map((id) => fixes.get(id)!);
    // Within the set, the fix with the fewest commands first; the last one completes the nodes.
    set.sort((a, b) => a.commands.length - b.commands.length || a.id.localeCompare(b.id));
    for (const fix of set) if (!chosen.has(fix.id)) take(fix);
  }

  // What an earlier step already made is not made again by a set that bundles it (a second
  // authorize-security-group-egress of the same rule would fail).
  const rankOf = new Map(steps.map((step) => [step.fix.id, step.rank]));
  for (const step of steps) {
    const c = step.fix.change;
    if (c.kind !== 'vpc-endpoints') continue;
    const earlier = (id: string) => (rankOf.get(id) ?? Infinity) < step.rank;
    const grants = c.s3Grants?.filter((g) => !earlier(`s3-policy:${g.roleName}`));
    const companions = c.companions?.filter((x) => !earlier(x.id));
    if (grants?.length !== c.s3Grants?.length || companions?.length !== c.companions?.length) {
      step.fix.change = {
        ...c,
        ...(grants?.length ? { s3Grants: grants } : { s3Grants: undefined }),
        ...(companions?.length ? { companions } : { companions: undefined }),
      };
      step.fix.commands = commandsOf(step.fix.change, ids);
    }
  }

  const heldBack: HeldBack[] = [...nodes.values()]
    .filter((n) => !manageable.has(n.id))
    .map((n) => ({ nodeId: n.id, resourceType: n.type, reasons: n.blockers }));
  const otherFixes = [...fixes.values()].filter((f) => !chosen.has(f.id));
  otherFixes.push(...activationRenewals(live, snapshot, ids));
  return { accountId: snapshot.accountId, region: snapshot.region, totals, steps, heldBack, otherFixes };
}

/** Ids the simulation gives what an endpoint set creates: a part naming one cannot be run. */
const PLANNED = '-planned';

/**
 * The VPC of an endpoint set as it would be once the set is made, and for each of its running
 * instances whose agent then has no path to SSM: the parts that give it one, or why none can.
 */
function afterReroute(snapshot: Snapshot, change: EndpointSet): Map<string, Part[] | string> {
  const ec2 = snapshot.ec2 ?? {};
  const inVpc = <T extends { VpcId?: string }>(list: T[] | undefined) =>
    list?.filter((x) => x.VpcId === change.vpcId);
  const vpc = structuredClone({
    ...snapshot,
    scope: undefined,
    ec2: {
      Reservations: ec2.Reservations?.map((r) => ({
        ...r,
        Instances: r.Instances.filter((i) => i.VpcId === change.vpcId),
      })),
      Vpcs: inVpc(ec2.Vpcs),
      Subnets: inVpc(ec2.Subnets),
      RouteTables: inVpc(ec2.RouteTables),
      SecurityGroups: ec2.SecurityGroups,
      NetworkAcls: inVpc(ec2.NetworkAcls),
      VpcEndpoints: inVpc(ec2.VpcEndpoints),
      InternetGateways: ec2.InternetGateways,
      NatGateways: inVpc(ec2.NatGateways),
    },
    iam: undefined,
  }) as Snapshot;
  let n = 0;
  applyChange(
    vpc,
    { ...change, s3Grants: undefined, companions: undefined },
    (prefix) => `${prefix}${PLANNED}${++n}`,
  );
  const inventory = buildInventory(vpc);
  const facts = new Facts(vpc);
  const out = new Map<string, Part[] | string>();
  for (const instance of inventory.instances.values()) {
    if (instance.state !== 'running' && instance.state !== 'pending') continue;
    const path = assessNetworkPath(inventory, instance);
    if (path.status !== 'blocked') continue;
    const parts = networkParts(
      { resourceId: instance.id, evidence: { services: path.services } } as unknown as Finding,
      facts,
    );
    if (typeof parts === 'string') out.set(instance.id, parts);
    else if (parts.some((p) => JSON.stringify(p.change).includes(PLANNED)))
      out.set(
        instance.id,
        path.services
          .flatMap((svc) => svc.problems.map((p) => p.detail))
          .filter(Boolean)
          .join('; ') || 'no path once the endpoints exist',
      );
    else out.set(instance.id, parts);
  }
  return out;
}

/** Expired or exhausted activations: no node is blocked, but no new node can register with them. */
function activationRenewals(
  findings: readonly Finding[],
  snapshot: Snapshot,
  ids: Parameters<typeof commandsOf>[1],
): Fix[] {
  const out: Fix[] = [];
  for (const f of findings) {
    if (
      f.ruleId !== 'activations' ||
      (f.reason !== 'ACTIVATION_EXPIRED' && f.reason !== 'ACTIVATION_EXHAUSTED')
    )
      continue;
    const activation = snapshot.ssm?.ActivationList?.find((a) => a.ActivationId === f.resourceId);
    if (!activation?.IamRole) continue;
    const change: FixChange = {
      kind: 'renew-activation',
      activationId: f.resourceId,
      roleName: activation.IamRole,
      registrationLimit: activation.RegistrationLimit ?? 1,
    };
    out.push({
      id: `renew-activation:${f.resourceId}`,
      title: `Replace activation ${f.resourceId} (${f.reason === 'ACTIVATION_EXPIRED' ? 'expired' : 'registration limit reached'}) for new registrations`,
      change,
      commands: commandsOf(change, ids),
      nodes: [],
    });
  }
  return out;
}

/** "after these 3 fixes, 41 of 47 running instances and 840 of 844 hybrid nodes are manageable". */
export function afterSentence(plan: FixPlan, steps = plan.steps.length): string {
  const last = steps > 0 ? plan.steps[steps - 1]!.after : undefined;
  const parts = (Object.keys(plan.totals) as NodeType[]).map((type) => {
    const row = plan.totals[type]!;
    const done = last ? (last[type] ?? 0) : row.manageable;
    return `${done} of ${countOf(row.total, NODE_NOUN[type]!)}`;
  });
  const lead = steps === 0 ? 'before any fix' : `after ${steps === 1 ? 'this fix' : `these ${steps} fixes`}`;
  return `${lead}, ${parts.join(' and ')} ${parts.length === 1 && parts[0]!.startsWith('1 of') ? 'is' : 'are'} manageable`;
}
