import type { Ec2Instance, Inventory, RoleView } from '../shared/inventory';
import { assessNetworkPath, endpointServiceName, findEndpoint } from '../shared/network/assess';
import { credentialSourceOf, describeStatements, evaluateRoleAction } from '../shared/permissions';
import { CompiledPolicySet } from '../shared/policy/evaluator';
import { parsePolicyDocument } from '../shared/policy/document';
import { defineRule, type Outcome, type RuleContext } from '../shared/rule';
import { regionalSsmBuckets } from '../shared/ssm-requirements';
import type { VpcEndpointRaw } from '../shared/snapshot/schema';

interface BucketProblem {
  code:
    | 'S3_BUCKET_NOT_GRANTED'
    | 'S3_REGION_WILDCARD'
    | 'S3_ENDPOINT_POLICY_BLOCKS'
    | 'S3_OUTPUT_BUCKET_NOT_GRANTED';
  bucket: string;
  action: string;
  detail: string;
}

const objectArn = (partition: string, bucket: string) => `arn:${partition}:s3:::${bucket}/*`;

/** True when the pattern that granted access names more buckets than the one asked for (seed 002 "Important"). */
function isWildcardGrant(pattern: string | undefined, bucket: string): boolean {
  if (!pattern || pattern === 'NotResource') return pattern === 'NotResource';
  if (pattern === '*') return true;
  const bucketPart = pattern.replace(/^arn:[^:]*:s3:::/, '').split('/')[0] ?? '';
  return bucketPart !== bucket;
}

const endpointPolicyCache = new WeakMap<VpcEndpointRaw, CompiledPolicySet | null>();
function endpointPolicy(endpoint: VpcEndpointRaw): CompiledPolicySet | null {
  if (endpointPolicyCache.has(endpoint)) return endpointPolicyCache.get(endpoint) ?? null;
  const set =
    endpoint.PolicyDocument === undefined
      ? null
      : new CompiledPolicySet({
          identityPolicies: [
            {
              source: `${endpoint.VpcEndpointId} policy`,
              document: parsePolicyDocument(endpoint.PolicyDocument),
            },
          ],
        });
  endpointPolicyCache.set(endpoint, set);
  return set;
}

const bucketCache = new WeakMap<RoleView, Map<string, BucketProblem[]>>();

/** The answer depends only on the role, the region and the S3 endpoint: computed once per pair. */
function checkRegionalBuckets(
  inventory: Inventory,
  role: RoleView,
  endpoint: VpcEndpointRaw | undefined,
): BucketProblem[] {
  let perRole = bucketCache.get(role);
  if (!perRole) bucketCache.set(role, (perRole = new Map()));
  const key = `${inventory.partition}|${inventory.region}|${endpoint?.VpcEndpointId ?? ''}`;
  let hit = perRole.get(key);
  if (!hit) perRole.set(key, (hit = computeRegionalBuckets(inventory, role, endpoint)));
  return hit;
}

function computeRegionalBuckets(
  inventory: Inventory,
  role: RoleView,
  endpoint: VpcEndpointRaw | undefined,
): BucketProblem[] {
  const problems: BucketProblem[] = [];
  const policy = endpoint ? endpointPolicy(endpoint) : null;
  for (const bucket of regionalSsmBuckets(inventory.region)) {
    const arn = objectArn(inventory.partition, bucket);
    const decision = evaluateRoleAction(role, 's3:GetObject', arn);
    if (decision.decision !== 'allowed' && decision.decision !== 'conditional') {
      problems.push({
        code: 'S3_BUCKET_NOT_GRANTED',
        bucket,
        action: 's3:GetObject',
        detail: `role ${role.name} ${decision.decision === 'explicitDeny' ? 'denies' : 'does not allow'} s3:GetObject on ${arn}`,
      });
    } else {
      const grant = decision.evidence.find((e) => e.effect === 'Allow' && e.scope === 'identity');
      if (isWildcardGrant(grant?.matchedResource, bucket)) {
        problems.push({
          code: 'S3_REGION_WILDCARD',
          bucket,
          action: 's3:GetObject',
          detail: `granted by the wildcard ${grant?.matchedResource} (${describeStatements(grant ? [grant] : []).join('')}), which also grants buckets you did not intend`,
        });
      }
    }
    if (policy) {
      const allowed = policy.evaluate('s3:GetObject', arn).decision;
      if (allowed === 'explicitDeny' || allowed === 'notAllowed') {
        problems.push({
          code: 'S3_ENDPOINT_POLICY_BLOCKS',
          bucket,
          action: 's3:GetObject',
          detail: `the S3 gateway endpoint ${endpoint!.VpcEndpointId} policy blocks s3:GetObject on ${arn}`,
        });
      }
    }
  }
  return problems;
}

function checkOutputBuckets(ctx: RuleContext, role: RoleView): BucketProblem[] {
  const problems: BucketProblem[] = [];
  const { partition } = ctx.inventory;
  for (const bucket of ctx.config.outputBuckets) {
    const required: [string, string][] = [
      ['s3:GetObject', objectArn(partition, bucket.name)],
      ['s3:PutObject', objectArn(partition, bucket.name)],
    ];
    if (bucket.crossAccount) required.push(['s3:PutObjectAcl', objectArn(partition, bucket.name)]);
    // Seed 002 callouts 4 and 5: encrypted buckets need GetEncryptionConfiguration on the bucket root ARN.
    if (bucket.encrypted)
      required.push(['s3:GetEncryptionConfiguration', `arn:${partition}:s3:::${bucket.name}`]);
    for (const [action, arn] of required) {
      const decision = evaluateRoleAction(role, action, arn).decision;
      if (decision !== 'allowed' && decision !== 'conditional') {
        problems.push({
          code: 'S3_OUTPUT_BUCKET_NOT_GRANTED',
          bucket: bucket.name,
          action,
          detail: `role ${role.name} does not allow ${action} on ${arn}`,
        });
      }
    }
  }
  return problems;
}

function evaluateInstance(instance: Ec2Instance, ctx: RuleContext): Outcome {
  const { inventory } = ctx;
  const network = assessNetworkPath(inventory, instance);
  const endpointOnly = network.endpointOnly && network.status !== 'unverifiable';
  const hasOutputBuckets = ctx.config.outputBuckets.length > 0;
  if (!endpointOnly && !hasOutputBuckets) {
    return {
      status: 'NOT_APPLICABLE',
      reason: 'NOT_ENDPOINT_ONLY',
      message:
        'The instance does not reach SSM only through VPC endpoints and no output bucket is configured; the S3 policy is not required.',
      evidence: { endpointOnly: false },
    };
  }
  const credentials = credentialSourceOf(inventory, instance);
  const role = credentials.source === 'none' ? undefined : credentials.role;
  if (!role) {
    return {
      status: 'FAIL',
      reason: 'NO_ROLE_IN_USE',
      message:
        'The agent has no working role (no usable instance profile and no DHMC role), so it cannot read the SSM S3 buckets.',
      evidence: { credentialSource: credentials.source },
      remediation:
        'Fix instance-permissions first, then attach the S3 bucket policy of https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html to the role in use.',
    };
  }
  const problems: BucketProblem[] = [];
  let s3Endpoint: VpcEndpointRaw | undefined;
  if (endpointOnly) {
    const vpc = instance.vpcId ? inventory.vpcs.get(instance.vpcId) : undefined;
    const serviceName = endpointServiceName(inventory, 's3');
    const routeTableId = instance.subnetId
      ? inventory.routeTableForSubnet(instance.subnetId)?.RouteTableId
      : undefined;
    const gateway = vpc ? findEndpoint(vpc, serviceName, 'Gateway') : undefined;
    const iface = vpc ? findEndpoint(vpc, serviceName, 'Interface') : undefined;
    const gatewayRouted =
      gateway &&
      (gateway.State ?? '').toLowerCase() === 'available' &&
      routeTableId &&
      gateway.RouteTableIds?.includes(routeTableId);
    s3Endpoint = gatewayRouted
      ? gateway
      : iface && (iface.State ?? '').toLowerCase() === 'available'
        ? iface
        : undefined;
    // With a working NAT/IGW path the buckets are reached over the internet: no S3 endpoint needed.
    if (!s3Endpoint && network.internet.status !== 'ok') {
      return {
        status: 'FAIL',
        reason: gateway ? 'S3_GATEWAY_ENDPOINT_NOT_ROUTED' : 'S3_GATEWAY_ENDPOINT_MISSING',
        message: gateway
          ? `S3 gateway endpoint ${gateway.VpcEndpointId} is not associated with route table ${routeTableId ?? '(unknown)'} of the instance's subnet; the agent cannot reach the SSM buckets.`
          : `The instance reaches SSM only through VPC endpoints but ${instance.vpcId} has no S3 gateway endpoint; the agent cannot reach the SSM buckets.`,
        evidence: {
          role: role.name,
          credentialSource: credentials.source,
          routeTableId: routeTableId ?? null,
          s3Endpoint: gateway?.VpcEndpointId ?? null,
        },
        remediation: gateway
          ? `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${gateway.VpcEndpointId} --add-route-table-ids ${routeTableId ?? '<rtb>'}`
          : `aws ec2 create-vpc-endpoint --vpc-id ${instance.vpcId} --vpc-endpoint-type Gateway --service-name ${serviceName} --route-table-ids ${routeTableId ?? '<rtb>'}`,
      };
    }
    problems.push(...checkRegionalBuckets(inventory, role, s3Endpoint));
  }
  problems.push(...checkOutputBuckets(ctx, role));

  const evidence = {
    role: role.name,
    credentialSource: credentials.source,
    endpointOnly,
    s3Endpoint: s3Endpoint?.VpcEndpointId ?? null,
    problems,
  };
  const failing = problems.filter((p) => p.code !== 'S3_REGION_WILDCARD');
  if (failing.length > 0) {
    const first = failing[0]!;
    return {
      status: 'FAIL',
      reason: first.code,
      message: `${failing.length} required S3 permission${failing.length === 1 ? ' is' : 's are'} missing: ${first.detail}${failing.length > 1 ? ` (+${failing.length - 1} more)` : ''}.`,
      evidence,
      remediation:
        first.code === 'S3_ENDPOINT_POLICY_BLOCKS'
          ? `Allow s3:GetObject on the SSM buckets in the endpoint policy: aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${s3Endpoint?.VpcEndpointId} --policy-document file://policy.json`
          : `Attach a policy to ${role.name} granting s3:GetObject on ${regionalSsmBuckets(inventory.region)
              .map((b) => `arn:${inventory.partition}:s3:::${b}/*`)
              .join(
                ', ',
              )} (see "Create a custom policy for S3 bucket access" in https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html).`,
    };
  }
  if (problems.length > 0) {
    return {
      status: 'WARN',
      severity: 'LOW',
      reason: 'S3_REGION_WILDCARD',
      message: `The SSM buckets are ${problems[0]!.detail.split(' (')[0]}; the AWS documentation recommends naming each region's buckets.`,
      evidence,
      remediation: `Replace the wildcard with the eight ${inventory.region} bucket ARNs (e.g. arn:${inventory.partition}:s3:::aws-ssm-${inventory.region}/*).`,
    };
  }
  return {
    status: 'PASS',
    reason: 'S3_ACCESS_OK',
    message: `Role ${role.name} can read the eight SSM buckets of ${inventory.region}${s3Endpoint ? ` through ${s3Endpoint.VpcEndpointId}` : ''}${ctx.config.outputBuckets.length ? ' and use the output buckets' : ''}.`,
    evidence,
  };
}

export default defineRule({
  meta: {
    id: 's3-bucket-access',
    title: 'S3 bucket access for instances that use VPC endpoints',
    description:
      'With VPC endpoints only, the role in use needs s3:GetObject on the eight regional SSM buckets and an S3 gateway endpoint that lets it through; configured output buckets need read/write.',
    severity: 'MEDIUM',
    appliesTo: ['ec2'],
    needs: {
      ec2: [
        'ec2.Reservations',
        'ec2.Vpcs',
        'ec2.Subnets',
        'ec2.RouteTables',
        'ec2.VpcEndpoints',
        'ec2.SecurityGroups',
        'iam',
      ],
    },
    remediation:
      'Attach the S3 policy of "Create a custom policy for S3 bucket access" (https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html) to the instance profile or DHMC role, and create an S3 gateway endpoint for the subnet.',
    docsUrl: 'https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html',
    references: [
      {
        seed: '002_37ca0a0bec735409.txt',
        section: '(Optional) Create a custom policy for S3 bucket access',
        quote:
          "Creating a custom policy for Amazon S3 access is required only if you're using a VPC endpoint or using an S3 bucket of your own in your Systems Manager operations.",
      },
    ],
  },
  evaluate(subject, ctx) {
    if (subject.kind !== 'ec2') throw new Error(`s3-bucket-access does not apply to ${subject.kind}`);
    const { instance } = subject;
    if (instance.state === 'stopped' || instance.state === 'stopping') {
      return {
        status: 'NOT_APPLICABLE',
        reason: 'INSTANCE_STOPPED',
        message: `The instance is ${instance.state}; S3 reachability is evaluated when it runs.`,
        evidence: { state: instance.state },
      };
    }
    return evaluateInstance(instance, ctx);
  },
});
