import {
  assessNetworkPath,
  type NetworkAssessment,
  type PathProblem,
  type ServicePath,
} from '../shared/network/assess';
import { defineRule, type Outcome } from '../shared/rule';
import { CORE_AGENT_ACTIONS } from '../shared/ssm-requirements';

interface FixContext {
  vpc: string;
  subnet: string;
  sg: string;
  region: string;
  service: string;
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
}

const REMEDIATION: Record<string, (c: FixContext) => string> = {
  ENDPOINT_MISSING: (c) =>
    `aws ec2 create-vpc-endpoint --vpc-id ${c.vpc} --vpc-endpoint-type Interface --service-name com.amazonaws.${c.region}.${c.service} --subnet-ids ${c.subnet} --security-group-ids <sg-allowing-443-from-${c.sg}> --private-dns-enabled`,
  ENDPOINT_PRIVATE_DNS_DISABLED: (c) =>
    `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${c.endpoint} --private-dns-enabled`,
  VPC_DNS_DISABLED: (c) =>
    `aws ec2 modify-vpc-attribute --vpc-id ${c.vpc} --enable-dns-support '{"Value":true}' && aws ec2 modify-vpc-attribute --vpc-id ${c.vpc} --enable-dns-hostnames '{"Value":true}'`,
  ENDPOINT_SG_NO_443: (c) =>
    `aws ec2 authorize-security-group-ingress --group-id ${c.endpointSg} --protocol tcp --port 443 --source-group ${c.sg}`,
  ENDPOINT_NOT_AVAILABLE: (c) =>
    `Check endpoint ${c.endpoint} in the VPC console (its state must be "available"); recreate it if it failed.`,
  ENDPOINT_NO_SUBNETS: (c) =>
    `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${c.endpoint} --add-subnet-ids ${c.subnet}`,
  SG_NO_EGRESS_443: (c) =>
    `aws ec2 authorize-security-group-egress --group-id ${c.sg} --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]'`,
  NACL_BLOCKS_443: (c) =>
    `aws ec2 create-network-acl-entry --network-acl-id ${c.acl} --egress --rule-number ${c.ruleBelow} --protocol tcp --port-range From=443,To=443 --cidr-block 0.0.0.0/0 --rule-action allow`,
  NACL_BLOCKS_EPHEMERAL: (c) =>
    `aws ec2 create-network-acl-entry --network-acl-id ${c.acl} --ingress --rule-number ${c.ruleBelow} --protocol tcp --port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow`,
  ENDPOINT_NACL_BLOCKS_443: (c) =>
    `aws ec2 create-network-acl-entry --network-acl-id ${c.acl} --ingress --rule-number ${c.ruleBelow} --protocol tcp --port-range From=443,To=443 --cidr-block ${c.instanceCidr} --rule-action allow`,
  ENDPOINT_NACL_BLOCKS_EPHEMERAL: (c) =>
    `aws ec2 create-network-acl-entry --network-acl-id ${c.acl} --egress --rule-number ${c.ruleBelow} --protocol tcp --port-range From=1024,To=65535 --cidr-block ${c.instanceCidr} --rule-action allow`,
  ENDPOINT_POLICY_BLOCKS: (c) =>
    `Edit the policy of ${c.endpoint} (statement ${c.statement} decides) to allow ${agentActions(c.service)} for the instance's role (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html), or restore the default full-access policy: aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${c.endpoint} --reset-policy`,
  ENDPOINT_POLICY_CONDITIONAL: (c) =>
    `Check that statement ${c.statement} of the policy of ${c.endpoint} applies to the agent's requests (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${c.endpoint} --query 'VpcEndpoints[0].PolicyDocument'), or restore the default full-access policy: aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${c.endpoint} --reset-policy`,
  NO_DEFAULT_ROUTE: (c) =>
    `Create the ssm, ssmmessages and ec2messages interface endpoints in ${c.vpc}, or route the subnet to a NAT gateway: aws ec2 create-route --route-table-id ${c.routeTable} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat>`,
  IGW_WITHOUT_PUBLIC_IP: (c) =>
    `Associate an Elastic IP with the instance (aws ec2 allocate-address, then aws ec2 associate-address), move it to a subnet behind a NAT gateway, or create the SSM interface endpoints in ${c.vpc}.`,
  IGW_NOT_ATTACHED: (c) =>
    `aws ec2 attach-internet-gateway --internet-gateway-id ${c.target} --vpc-id ${c.vpc}`,
  NAT_GATEWAY_UNAVAILABLE: (c) =>
    `aws ec2 replace-route --route-table-id ${c.routeTable} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <working-nat> (${c.target} is not available)`,
  NAT_WITHOUT_INTERNET_ROUTE: (c) =>
    `Route the subnet of ${c.target} to an internet gateway (0.0.0.0/0 → igw-...).`,
  ROUTE_BLACKHOLE: (c) =>
    c.target.startsWith('igw-')
      ? `Attach ${c.target} again (aws ec2 attach-internet-gateway --internet-gateway-id ${c.target} --vpc-id ${c.vpc}) or point the route at an attached one: aws ec2 replace-route --route-table-id ${c.routeTable} --destination-cidr-block 0.0.0.0/0 --gateway-id <attached-igw>`
      : `aws ec2 replace-route --route-table-id ${c.routeTable} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <working-nat> (${c.target} is deleted or detached)`,
  ROUTE_UNVERIFIABLE: (c) =>
    `Verify that ${c.target} leads to the SSM endpoints on TCP 443, or create the ssm, ssmmessages and ec2messages interface endpoints in ${c.vpc} (which this audit can verify).`,
  VPC_NOT_FOUND: () =>
    'Collect the VPC, subnet and route data (ec2:DescribeVpcs, ec2:DescribeSubnets) for this instance.',
};

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
      // doubt: what cannot be verified is the route itself.
      const problem = s.problems.find(
        (p) =>
          p.code !== 'ENDPOINT_OTHER_AZ' &&
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
    remediation:
      'Create interface endpoints for ssm, ssmmessages and ec2messages with private DNS and a security group allowing TCP 443 from the instances, or give the subnet a NAT gateway route.',
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
  evaluate(subject, ctx): Outcome {
    if (subject.kind === 'hybrid') {
      return {
        status: 'NOT_APPLICABLE',
        reason: 'HYBRID_NETWORK_OUTSIDE_AWS',
        message:
          "A hybrid node's network is outside AWS; check outbound HTTPS 443 to the SSM endpoints on site.",
      };
    }
    if (subject.kind !== 'ec2') throw new Error(`network-path does not apply to ${subject.kind}`);
    const { instance } = subject;
    if (instance.state === 'stopped' || instance.state === 'stopping') {
      return {
        status: 'NOT_APPLICABLE',
        reason: 'INSTANCE_STOPPED',
        message: `The instance is ${instance.state}; reachability is evaluated when it runs.`,
        evidence: { state: instance.state },
      };
    }
    const assessment = assessNetworkPath(ctx.inventory, instance);
    const evidence = evidenceOf(assessment);
    const fix = (reason: string, service?: string, problem?: Partial<PathProblem>): string => {
      const path = assessment.services.find((s) => s.service === service);
      const endpoint = path?.endpointId
        ? ctx.inventory.vpcs
            .get(instance.vpcId ?? '')
            ?.endpoints.find((e) => e.VpcEndpointId === path.endpointId)
        : undefined;
      const c: FixContext = {
        vpc: instance.vpcId ?? '<vpc>',
        subnet: instance.subnetId ?? '<subnet>',
        sg: instance.securityGroupIds[0] ?? '<instance-sg>',
        region: ctx.inventory.region,
        service: service ?? 'ssm',
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
      };
      return (REMEDIATION[reason] ?? REMEDIATION.ENDPOINT_MISSING!)(c);
    };
    if (assessment.status === 'blocked') {
      const blocked = assessment.services.filter((s) => s.required && s.status === 'blocked');
      const problem = firstProblem(assessment.services, 'blocked');
      const reason = problem?.code ?? 'NO_NETWORK_PATH';
      return {
        status: 'FAIL',
        reason,
        message: `No working path to ${blocked.map((s) => s.service).join(', ')}: ${blocked
          .map((s) =>
            s.problems
              .filter((p) => p.code !== 'ENDPOINT_OTHER_AZ')
              .map((p) => p.detail)
              .join('; '),
          )
          .filter((t, i, all) => all.indexOf(t) === i)
          .join(' | ')}.`,
        evidence,
        remediation: fix(reason, problem?.service, problem),
      };
    }
    if (assessment.status === 'unverifiable') {
      const problem = firstProblem(assessment.services, 'unverifiable') ?? {
        service: undefined,
        ...assessment.internet.problems[0],
      };
      const reason = problem?.code ?? 'ROUTE_UNVERIFIABLE';
      return {
        status: 'WARN',
        reason: reason === 'ROUTE_UNVERIFIABLE' ? reason : `UNVERIFIABLE_${reason}`,
        message: `Cannot verify the path to the SSM endpoints: ${problem?.detail ?? 'unknown route'}.`,
        evidence,
        remediation: fix(REMEDIATION[reason] ? reason : 'ROUTE_UNVERIFIABLE', problem?.service, problem),
      };
    }
    if (assessment.endpointOnly) {
      return {
        status: 'PASS',
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
      status: 'PASS',
      reason: 'INTERNET_PATH_OK',
      message: `Reaches ${viaInternet.join(', ')} over the internet via ${assessment.internet.target}; note: VPC endpoints are recommended (https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html).`,
      evidence: {
        ...evidence,
        recommendation: 'Create interface VPC endpoints for ssm, ssmmessages and ec2messages.',
      },
    };
  },
});
