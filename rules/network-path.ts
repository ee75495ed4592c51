import {
  assessNetworkPath,
  endpointServiceName,
  type NetworkAssessment,
  type PathProblem,
  type ServicePath,
} from '../shared/network/assess';
import type { Status } from '../shared/model';
import { defineRule, NO_ACTION, type Outcome, type ReasonsWith, type ReasonTable } from '../shared/engine/rule';
import { CORE_AGENT_ACTIONS } from '../shared/knowledge/ssm-requirements';

/**
 * The values a network fix names, each the real one when the snapshot has it. Placeholders in `<...>` are
 * the user's choice (a security group or NAT gateway to create, a free rule number) or, rarely, a value
 * the snapshot lacks. (A type, not an interface: it is passed as `params`, an index signature.)
 */
type PathFacts = {
  vpc: string;
  subnet: string;
  sg: string;
  /** The interface endpoint service name in the snapshot's partition and region (cn. prefix in China). */
  serviceName: string;
  endpoint: string;
  endpointSg: string;
  routeTable: string;
  acl: string;
  /** A rule number below the one that decided, as a hint for where the new entry goes. */
  ruleBelow: string;
  /** The instance's address as a CIDR block, for the endpoint subnet's ACL entries. */
  instanceCidr: string;
  statement: string;
  target: string;
  /** The agent actions sent to the endpoint's service (what AmazonSSMManagedInstanceCore grants for it). */
  agentActions: string;
};

const CREATE_ENDPOINTS = 'create the ssm, ssmmessages and ec2messages interface endpoints in {vpc}';
const RESET_POLICY = 'aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint} --reset-policy';

/** The fix for each path problem; a doubt about the same problem (UNVERIFIABLE_*) gets the same fix. */
const FIX = {
  ENDPOINT_MISSING:
    'aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Interface --service-name {serviceName} --subnet-ids {subnet} --security-group-ids <sg-allowing-443-from-{sg}> --private-dns-enabled',
  ENDPOINT_PRIVATE_DNS_DISABLED:
    'aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint} --private-dns-enabled',
  VPC_DNS_DISABLED: `aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-support '{"Value":true}' && aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-hostnames '{"Value":true}'`,
  ENDPOINT_SG_NO_443:
    'aws ec2 authorize-security-group-ingress --group-id {endpointSg} --protocol tcp --port 443 --source-group {sg}',
  ENDPOINT_NOT_AVAILABLE:
    'Check endpoint {endpoint} in the VPC console (its state must be "available"); recreate it if it failed.',
  ENDPOINT_NO_SUBNETS: 'aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint} --add-subnet-ids {subnet}',
  SG_NO_EGRESS_443:
    "aws ec2 authorize-security-group-egress --group-id {sg} --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]'",
  NACL_BLOCKS_443:
    'aws ec2 create-network-acl-entry --network-acl-id {acl} --egress --rule-number {ruleBelow} --protocol tcp --port-range From=443,To=443 --cidr-block 0.0.0.0/0 --rule-action allow',
  NACL_BLOCKS_EPHEMERAL:
    'aws ec2 create-network-acl-entry --network-acl-id {acl} --ingress --rule-number {ruleBelow} --protocol tcp --port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow',
  ENDPOINT_NACL_BLOCKS_443:
    'aws ec2 create-network-acl-entry --network-acl-id {acl} --ingress --rule-number {ruleBelow} --protocol tcp --port-range From=443,To=443 --cidr-block {instanceCidr} --rule-action allow',
  ENDPOINT_NACL_BLOCKS_EPHEMERAL:
    'aws ec2 create-network-acl-entry --network-acl-id {acl} --egress --rule-number {ruleBelow} --protocol tcp --port-range From=1024,To=65535 --cidr-block {instanceCidr} --rule-action allow',
  ENDPOINT_POLICY_BLOCKS: `Edit the policy of {endpoint} (statement {statement} decides) to allow {agentActions} for the instance's role (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html), or restore the default full-access policy: ${RESET_POLICY}`,
  ENDPOINT_POLICY_CONDITIONAL: `Check that statement {statement} of the policy of {endpoint} applies to the agent's requests (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {endpoint} --query 'VpcEndpoints[0].PolicyDocument'), or restore the default full-access policy: ${RESET_POLICY}`,
  NO_DEFAULT_ROUTE: `Create the ssm, ssmmessages and ec2messages interface endpoints in {vpc}, or route the subnet to a NAT gateway: aws ec2 create-route --route-table-id {routeTable} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat>`,
  IGW_WITHOUT_PUBLIC_IP: `Associate an Elastic IP with the instance (aws ec2 allocate-address, then aws ec2 associate-address), move it to a subnet behind a NAT gateway, or ${CREATE_ENDPOINTS}.`,
  IGW_NOT_ATTACHED: 'aws ec2 attach-internet-gateway --internet-gateway-id {target} --vpc-id {vpc}',
  NAT_GATEWAY_UNAVAILABLE:
    'aws ec2 replace-route --route-table-id {routeTable} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <working-nat> ({target} is not available)',
  NAT_WITHOUT_INTERNET_ROUTE: 'Route the subnet of {target} to an internet gateway (0.0.0.0/0 → igw-...).',
  ROUTE_BLACKHOLE: {
    internetGateway:
      'Attach {target} again (aws ec2 attach-internet-gateway --internet-gateway-id {target} --vpc-id {vpc}) or point the route at an attached one: aws ec2 replace-route --route-table-id {routeTable} --destination-cidr-block 0.0.0.0/0 --gateway-id <attached-igw>',
    natGateway:
      'aws ec2 replace-route --route-table-id {routeTable} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <working-nat> ({target} is deleted or detached)',
  },
  ROUTE_UNVERIFIABLE: `Verify that {target} leads to the SSM endpoints on TCP 443, or ${CREATE_ENDPOINTS} (which this audit can verify).`,
  ROUTE_TABLE_NOT_FOUND:
    'Check the route tables of {vpc} (aws ec2 describe-route-tables --filters Name=vpc-id,Values={vpc}): neither subnet {subnet} nor the VPC has one in the snapshot.',
  VPC_DNS_UNKNOWN:
    'Collect the DNS attributes of {vpc} (aws ec2 describe-vpc-attribute --vpc-id {vpc} --attribute enableDnsSupport, then --attribute enableDnsHostnames) into the snapshot, or run a live scan.',
  VPC_NOT_FOUND:
    'Collect the VPC, subnet and route data (ec2:DescribeVpcs, ec2:DescribeSubnets) for this instance.',
} as const;

const REASONS = {
  VPC_ENDPOINTS_OK: { status: 'PASS', remediation: NO_ACTION },
  INTERNET_PATH_OK: { status: 'PASS', remediation: NO_ACTION },
  HYBRID_NETWORK_OUTSIDE_AWS: {
    status: 'NOT_APPLICABLE',
    remediation: 'Check on site that the node reaches the Systems Manager endpoints over outbound HTTPS 443.',
  },
  INSTANCE_STOPPED: {
    status: 'NOT_APPLICABLE',
    remediation: 'None while the instance is stopped; its network path is evaluated when it runs.',
  },
  // Nothing carries the agent's traffic (FAIL): the reason is the first blocking problem.
  ENDPOINT_MISSING: { status: 'FAIL', remediation: FIX.ENDPOINT_MISSING },
  ENDPOINT_PRIVATE_DNS_DISABLED: { status: 'FAIL', remediation: FIX.ENDPOINT_PRIVATE_DNS_DISABLED },
  VPC_DNS_DISABLED: { status: 'FAIL', remediation: FIX.VPC_DNS_DISABLED },
  ENDPOINT_NOT_AVAILABLE: { status: 'FAIL', remediation: FIX.ENDPOINT_NOT_AVAILABLE },
  ENDPOINT_NO_SUBNETS: { status: 'FAIL', remediation: FIX.ENDPOINT_NO_SUBNETS },
  ENDPOINT_SG_NO_443: { status: 'FAIL', remediation: FIX.ENDPOINT_SG_NO_443 },
  SG_NO_EGRESS_443: { status: 'FAIL', remediation: FIX.SG_NO_EGRESS_443 },
  NACL_BLOCKS_443: { status: 'FAIL', remediation: FIX.NACL_BLOCKS_443 },
  NACL_BLOCKS_EPHEMERAL: { status: 'FAIL', remediation: FIX.NACL_BLOCKS_EPHEMERAL },
  ENDPOINT_NACL_BLOCKS_443: { status: 'FAIL', remediation: FIX.ENDPOINT_NACL_BLOCKS_443 },
  ENDPOINT_NACL_BLOCKS_EPHEMERAL: { status: 'FAIL', remediation: FIX.ENDPOINT_NACL_BLOCKS_EPHEMERAL },
  ENDPOINT_POLICY_BLOCKS: { status: 'FAIL', remediation: FIX.ENDPOINT_POLICY_BLOCKS },
  NO_DEFAULT_ROUTE: { status: 'FAIL', remediation: FIX.NO_DEFAULT_ROUTE },
  ROUTE_BLACKHOLE: { status: 'FAIL', remediation: FIX.ROUTE_BLACKHOLE },
  IGW_NOT_ATTACHED: { status: 'FAIL', remediation: FIX.IGW_NOT_ATTACHED },
  IGW_WITHOUT_PUBLIC_IP: { status: 'FAIL', remediation: FIX.IGW_WITHOUT_PUBLIC_IP },
  NAT_GATEWAY_UNAVAILABLE: { status: 'FAIL', remediation: FIX.NAT_GATEWAY_UNAVAILABLE },
  NAT_WITHOUT_INTERNET_ROUTE: { status: 'FAIL', remediation: FIX.NAT_WITHOUT_INTERNET_ROUTE },
  // The path cannot be proven (WARN): the reason is the first doubtful problem.
  ROUTE_UNVERIFIABLE: { status: 'WARN', remediation: FIX.ROUTE_UNVERIFIABLE },
  UNVERIFIABLE_ROUTE_TABLE_NOT_FOUND: { status: 'WARN', remediation: FIX.ROUTE_TABLE_NOT_FOUND },
  UNVERIFIABLE_VPC_NOT_FOUND: { status: 'WARN', remediation: FIX.VPC_NOT_FOUND },
  UNVERIFIABLE_VPC_DNS_UNKNOWN: { status: 'WARN', remediation: FIX.VPC_DNS_UNKNOWN },
  UNVERIFIABLE_SG_NO_EGRESS_443: { status: 'WARN', remediation: FIX.SG_NO_EGRESS_443 },
  UNVERIFIABLE_NACL_BLOCKS_443: { status: 'WARN', remediation: FIX.NACL_BLOCKS_443 },
  UNVERIFIABLE_NACL_BLOCKS_EPHEMERAL: { status: 'WARN', remediation: FIX.NACL_BLOCKS_EPHEMERAL },
  UNVERIFIABLE_ENDPOINT_SG_NO_443: { status: 'WARN', remediation: FIX.ENDPOINT_SG_NO_443 },
  UNVERIFIABLE_ENDPOINT_NACL_BLOCKS_443: { status: 'WARN', remediation: FIX.ENDPOINT_NACL_BLOCKS_443 },
  UNVERIFIABLE_ENDPOINT_NACL_BLOCKS_EPHEMERAL: {
    status: 'WARN',
    remediation: FIX.ENDPOINT_NACL_BLOCKS_EPHEMERAL,
  },
  UNVERIFIABLE_ENDPOINT_POLICY_CONDITIONAL: { status: 'WARN', remediation: FIX.ENDPOINT_POLICY_CONDITIONAL },
} as const satisfies ReasonTable;

type Reason = keyof typeof REASONS;
type ReasonWith<S extends Status> = ReasonsWith<typeof REASONS, S>;

/** Problems that only ever raise a doubt: never the reason a path is blocked. */
const DOUBT_ONLY = new Set([
  'ROUTE_UNVERIFIABLE',
  'ROUTE_TABLE_NOT_FOUND',
  'VPC_DNS_UNKNOWN',
  'ENDPOINT_POLICY_CONDITIONAL',
]);

/** The reason of a path problem: itself when it blocks (FAIL), UNVERIFIABLE_<code> when it is a doubt (WARN). */
function reasonOf<S extends 'FAIL' | 'WARN'>(code: string, status: S): ReasonWith<S> {
  const reason = status === 'FAIL' || code === 'ROUTE_UNVERIFIABLE' ? code : `UNVERIFIABLE_${code}`;
  if (!Object.hasOwn(REASONS, reason) || REASONS[reason as Reason].status !== status)
    throw new Error(`network-path declares no ${status} reason for the path problem ${code}`);
  return reason as ReasonWith<S>;
}

/** The agent actions sent to one endpoint service (what AmazonSSMManagedInstanceCore grants for it). */
const agentActions = (service: string) =>
  CORE_AGENT_ACTIONS.filter((a) => a.startsWith(`${service}:`)).join(', ');

const ENDPOINT_NOTE_CODES = new Set([
  'ENDPOINT_MISSING',
  'ENDPOINT_PRIVATE_DNS_DISABLED',
  'VPC_DNS_DISABLED',
]);

function firstProblem(services: ServicePath[], status: 'blocked' | 'unverifiable') {
  for (const s of services) {
    if (s.required && s.status === status) {
      // On the internet route, the endpoint note (why no endpoint is used) explains but does not decide
      // doubt: what cannot be verified is the route itself. And a blocked path is blocked by a blocking
      // problem: a doubt listed before it (a transit-gateway route, say) is not its reason.
      const problem = s.problems.find(
        (p) =>
          p.code !== 'ENDPOINT_OTHER_AZ' &&
          !(status === 'blocked' && DOUBT_ONLY.has(p.code)) &&
          !(status === 'unverifiable' && s.route === 'internet' && ENDPOINT_NOTE_CODES.has(p.code)),
      );
      if (problem) return { service: s.service, ...problem };
    }
  }
  return undefined;
}

function evidenceOf(a: NetworkAssessment) {
  return {
    services: a.services.map((s) => ({
      service: s.service,
      required: s.required,
      route: s.route,
      status: s.status,
      ...(s.endpointId ? { endpointId: s.endpointId } : {}),
      ...(s.endpointNote ? { endpointNote: s.endpointNote } : {}),
      problems: s.problems,
    })),
    internetPath: a.internet,
  };
}

export default defineRule({
  meta: {
    id: 'network-path',
    title: 'Network path to the Systems Manager endpoints (HTTPS 443)',
    description:
      'The agent must reach ssm, ssmmessages and ec2messages over HTTPS, through interface VPC endpoints (recommended) whose network ACLs and endpoint policies let it through, or an internet path.',
    severity: 'HIGH',
    appliesTo: ['ec2', 'hybrid'],
    needs: {
      ec2: [
        'ec2.Reservations',
        'ec2.Vpcs',
        'ec2.Subnets',
        'ec2.RouteTables',
        'ec2.SecurityGroups',
        'ec2.NetworkAcls',
        'ec2.VpcEndpoints',
        'ec2.InternetGateways',
        'ec2.NatGateways',
      ],
      hybrid: [],
    },
    reasons: REASONS,
    docsUrl: 'https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-prereqs.html',
    references: [
      {
        seed: '000_dfb4493051e05ad4.txt',
        section: 'Systems Manager prerequisites, step 6',
        quote:
          "If you don't use a VPC endpoint, configure your managed instances to allow HTTPS (port 443) outbound traffic to the Systems Manager endpoints.",
      },
      {
        seed: '001_9d30653fa0257c60.txt',
        section: 'Configure Either an Interface VPC Endpoint or Internet Access',
        quote:
          'You must either configure Systems Manager to use an interface Virtual Private Cloud (VPC) endpoint or you must enable outbound internet access on your managed instances.',
      },
    ],
  },
  evaluate(subject, ctx): Outcome<typeof REASONS> {
    if (subject.kind === 'hybrid') {
      return {
        reason: 'HYBRID_NETWORK_OUTSIDE_AWS',
        message:
          "A hybrid node's network is outside AWS; check outbound HTTPS 443 to the SSM endpoints on site.",
      };
    }
    if (subject.kind !== 'ec2') throw new Error(`network-path does not apply to ${subject.kind}`);
    const { instance } = subject;
    if (instance.state === 'stopped' || instance.state === 'stopping') {
      return {
        reason: 'INSTANCE_STOPPED',
        message: `The instance is ${instance.state}; reachability is evaluated when it runs.`,
        evidence: { state: instance.state },
      };
    }
    const assessment = assessNetworkPath(ctx.inventory, instance);
    const evidence = evidenceOf(assessment);
    const factsFor = (service?: string, problem?: Partial<PathProblem>): PathFacts => {
      const path = assessment.services.find((s) => s.service === service);
      const endpoint = path?.endpointId
        ? ctx.inventory.vpcs
            .get(instance.vpcId ?? '')
            ?.endpoints.find((e) => e.VpcEndpointId === path.endpointId)
        : undefined;
      return {
        vpc: instance.vpcId ?? '<vpc>',
        subnet: instance.subnetId ?? '<subnet>',
        sg: instance.securityGroupIds[0] ?? '<instance-sg>',
        serviceName: endpointServiceName(ctx.inventory, service ?? 'ssm'),
        endpoint: path?.endpointId ?? '<endpoint>',
        endpointSg: endpoint?.Groups?.[0]?.GroupId ?? '<endpoint-sg>',
        routeTable: problem?.routeTableId ?? assessment.internet.routeTableId ?? '<route-table>',
        acl:
          problem?.networkAclId ??
          ((instance.subnetId && ctx.inventory.networkAclForSubnet(instance.subnetId)?.NetworkAclId) ||
            '<network-acl>'),
        ruleBelow:
          typeof problem?.rule === 'number' ? `<a-number-below-${problem.rule}>` : '<n-below-the-deny>',
        instanceCidr: instance.privateIp ? `${instance.privateIp}/32` : '<instance-private-ip>/32',
        statement: problem?.statement ?? '<statement>',
        target: problem?.target ?? assessment.internet.target ?? '<target>',
        agentActions: agentActions(service ?? 'ssm'),
      };
    };
    if (assessment.status === 'blocked') {
      const blocked = assessment.services.filter((s) => s.required && s.status === 'blocked');
      const problem = firstProblem(assessment.services, 'blocked');
      if (!problem) throw new Error('the path is blocked but no problem blocks it');
      const message = `No working path to ${blocked.map((s) => s.service).join(', ')}: ${blocked
        .map((s) =>
          s.problems
            .filter((p) => p.code !== 'ENDPOINT_OTHER_AZ')
            .map((p) => p.detail)
            .join('; '),
        )
        .filter((t, i, all) => all.indexOf(t) === i)
        .join(' | ')}.`;
      const params = factsFor(problem.service, problem);
      const reason = reasonOf(problem.code, 'FAIL');
      if (reason === 'ROUTE_BLACKHOLE') {
        const variant = params.target.startsWith('igw-') ? 'internetGateway' : 'natGateway';
        return { reason, variant, message, evidence, params };
      }
      return { reason, message, evidence, params };
    }
    if (assessment.status === 'unverifiable') {
      const problem = firstProblem(assessment.services, 'unverifiable') ?? {
        service: undefined,
        ...assessment.internet.problems[0],
      };
      const reason = reasonOf(problem.code ?? 'ROUTE_UNVERIFIABLE', 'WARN');
      return {
        reason,
        message: `Cannot verify the path to the SSM endpoints: ${problem.detail ?? 'unknown route'}.`,
        evidence,
        params: factsFor(problem.service, problem),
      };
    }
    if (assessment.endpointOnly) {
      return {
        reason: 'VPC_ENDPOINTS_OK',
        message: `Reaches ${assessment.services
          .filter((s) => s.required)
          .map((s) => s.service)
          .join(', ')} through interface VPC endpoints.`,
        evidence,
      };
    }
    const viaInternet = assessment.services
      .filter((s) => s.required && s.route === 'internet')
      .map((s) => s.service);
    // Seed 000 step 6 marks VPC endpoints "(Recommended)": a working internet path passes with a note.
    return {
      reason: 'INTERNET_PATH_OK',
      message: `Reaches ${viaInternet.join(', ')} over the internet via ${assessment.internet.target}; note: VPC endpoints are recommended (https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html).`,
      evidence: {
        ...evidence,
        recommendation: 'Create interface VPC endpoints for ssm, ssmmessages and ec2messages.',
      },
    };
  },
});
