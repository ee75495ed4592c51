import type { Ec2Instance, Inventory, RoleView } from '../shared/snapshot/inventory';
import { assessNetworkPath, endpointServiceName, findEndpoint } from '../shared/network/assess';
import {
  credentialSourceOf,
  describeStatements,
  evaluateRoleAction,
  evaluateRoleActionOnSet,
  scopeOf,
} from '../shared/agent/permissions';
import type { PolicyDocument, PolicyStatement } from '../shared/policy/document';
import {
  CompiledPolicySet,
  type ResourceSetDecision,
  type StatementEvidence,
} from '../shared/policy/evaluator';
import { parsePolicyDocument } from '../shared/policy/document';
import {
  defineRule,
  NO_ACTION,
  unavailableOutcome,
  type Outcome,
  type ReasonsWith,
  type ReasonTable,
  type RuleContext,
} from '../shared/engine/rule';
import { regionalSsmBuckets } from '../shared/knowledge/ssm-requirements';
import type { VpcEndpointRaw } from '../shared/snapshot/schema';

const CUSTOM_POLICY =
  '"Create a custom policy for S3 bucket access" in https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html';

/** `{bucketArns}`: every object of the eight SSM buckets of the region, in the snapshot's partition. */
const REASONS = {
  S3_ACCESS_OK: { status: 'PASS', remediation: NO_ACTION },
  NOT_ENDPOINT_ONLY: {
    status: 'NOT_APPLICABLE',
    remediation: 'None: the agent reaches the SSM buckets over its internet path.',
  },
  INSTANCE_STOPPED: {
    status: 'NOT_APPLICABLE',
    remediation: 'None while the instance is stopped; its S3 access is evaluated when it runs.',
  },
  NO_ROLE_IN_USE: {
    status: 'FAIL',
    remediation:
      'Fix instance-permissions first, then attach the S3 bucket policy of https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html to the role in use.',
  },
  S3_GATEWAY_ENDPOINT_NOT_ROUTED: {
    status: 'FAIL',
    remediation:
      'aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint} --add-route-table-ids {routeTable}',
  },
  S3_GATEWAY_ENDPOINT_MISSING: {
    status: 'FAIL',
    remediation:
      'aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name {serviceName} --route-table-ids {routeTable}',
  },
  S3_BUCKET_NOT_GRANTED: {
    status: 'FAIL',
    remediation: `Attach a policy to {roleName} granting s3:GetObject on {bucketArns} (see ${CUSTOM_POLICY}).`,
  },
  S3_BUCKET_PARTIALLY_GRANTED: {
    status: 'FAIL',
    remediation: `Make {roleName}'s grant cover every object: allow s3:GetObject on {bucketArns} and remove or narrow the Deny statements that match them ({statements}); see ${CUSTOM_POLICY}.`,
  },
  S3_ENDPOINT_POLICY_BLOCKS: {
    status: 'FAIL',
    remediation:
      "Allow s3:GetObject on {bucketArns} for the agent's role in the endpoint policy: aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint} --policy-document file://policy.json",
  },
  S3_OUTPUT_BUCKET_NOT_GRANTED: {
    status: 'FAIL',
    remediation: `Attach a policy to {roleName} granting {action} on {resource} (output bucket {bucket}; see ${CUSTOM_POLICY}).`,
  },
  S3_CONDITIONAL_GRANT: {
    status: 'WARN',
    remediation:
      "Grant s3:GetObject on {bucketArns} to {roleName} without a Condition, or check that the Condition holds for the agent's requests.",
  },
  S3_ENDPOINT_POLICY_CONDITIONAL: {
    status: 'WARN',
    remediation:
      "Allow s3:GetObject on {bucketArns} without a Condition in the endpoint policy of {endpoint}, or check that the Condition holds for the agent's requests.",
  },
  S3_REGION_WILDCARD: {
    status: 'WARN',
    severity: 'LOW',
    remediation:
      'Replace the wildcard with the eight {region} bucket ARNs (e.g. arn:{partition}:s3:::aws-ssm-{region}/*).',
  },
} as const satisfies ReasonTable;

type BucketAccessOutcome = Outcome<typeof REASONS>;

type ProblemCode =
  | 'S3_BUCKET_NOT_GRANTED'
  | 'S3_BUCKET_PARTIALLY_GRANTED'
  | 'S3_CONDITIONAL_GRANT'
  | 'S3_REGION_WILDCARD'
  | 'S3_ENDPOINT_POLICY_BLOCKS'
  | 'S3_ENDPOINT_POLICY_CONDITIONAL'
  | 'S3_OUTPUT_BUCKET_NOT_GRANTED';

interface BucketProblem {
  code: ProblemCode;
  bucket: string;
  action: string;
  detail: string;
  /** The statements that decided it. */
  statements?: string[];
}

/** Problems that leave the agent unable to fetch (their reasons are FAIL); the others are WARN. */
const isBlocking = (p: BucketProblem): p is BucketProblem & { code: ReasonsWith<typeof REASONS, 'FAIL'> } =>
  REASONS[p.code].status === 'FAIL';

/**
 * Every object of a bucket: "bucket/*" is a set of keys, so a grant must cover all of them and a Deny
 * that touches any of them matters (set-valued resources, not the literal text "bucket/*").
 */
const objectArn = (partition: string, bucket: string) => `arn:${partition}:s3:::${bucket}/*`;

/** True when the pattern that granted access names more buckets than the one asked for (seed 002 "Important"). */
function isWildcardGrant(pattern: string | undefined, bucket: string): boolean {
  if (!pattern || pattern === 'NotResource') return pattern === 'NotResource';
  if (pattern === '*') return true;
  const bucketPart = pattern.replace(/^arn:[^:]*:s3:::/, '').split('/')[0] ?? '';
  return bucketPart !== bucket;
}

/** A set answer in words, for the problem details. */
function setGap(decision: ResourceSetDecision['decision'], action: string, arn: string): string {
  switch (decision) {
    case 'explicitDeny':
      return `denies ${action} on ${arn}`;
    case 'partial':
      return `allows ${action} on only some objects of ${arn}`;
    case 'conditional':
      return `allows ${action} on ${arn} only under a Condition the audit cannot decide`;
    case 'allowed':
      return `allows ${action} on ${arn}`;
    default:
      return `does not allow ${action} on ${arn}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// The S3 gateway endpoint's policy

/** Who signs the agent's S3 requests: the role in use, in a session named after the instance. */
interface AgentPrincipal {
  partition: string;
  accountId: string;
  roleName: string;
  sessionName: string;
}

const ROLE_ARN = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const SESSION_ARN = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

/**
 * Does a Principal element name the agent? An endpoint policy "must contain a Principal element"
 * (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html): `"*"` and
 * `{"AWS": "*"}` name everyone; a role ARN names its sessions. An account id names the account's root user
 * only, "not all users and roles of the account" (same page), and Service principals are never the agent.
 */
function namesAgent(element: unknown, who: AgentPrincipal): boolean {
  if (element === '*') return true;
  if (typeof element !== 'object' || element === null || Array.isArray(element)) return false;
  const aws = (element as Record<string, unknown>).AWS;
  const values = typeof aws === 'string' ? [aws] : Array.isArray(aws) ? aws : [];
  return values.some((value) => {
    if (value === '*') return true;
    if (typeof value !== 'string') return false;
    const role = ROLE_ARN.exec(value);
    const session = role ? undefined : SESSION_ARN.exec(value);
    const parts = role ?? session;
    if (!parts || parts[1] !== who.partition || parts[2] !== who.accountId) return false;
    // IAM role names are unique case-insensitively within an account.
    if (parts[3]?.toLowerCase() !== who.roleName.toLowerCase()) return false;
    return !session || session[4] === who.sessionName;
  });
}

function appliesToAgent(statement: PolicyStatement, who: AgentPrincipal): boolean {
  if (statement.NotPrincipal !== undefined) return !namesAgent(statement.NotPrincipal, who);
  // A statement without a principal (hand-written) is read as the default policy's "*".
  if (statement.Principal === undefined) return true;
  return namesAgent(statement.Principal, who);
}

interface EndpointPolicyView {
  set: CompiledPolicySet;
  /** Index in the filtered document → index in the endpoint's document. */
  originalIndex: number[];
}

const endpointDocuments = new WeakMap<VpcEndpointRaw, PolicyDocument | null>();
const endpointViews = new WeakMap<PolicyDocument, Map<string, EndpointPolicyView>>();

function endpointDocument(endpoint: VpcEndpointRaw): PolicyDocument | null {
  let document = endpointDocuments.get(endpoint);
  if (document === undefined) {
    document = endpoint.PolicyDocument === undefined ? null : parsePolicyDocument(endpoint.PolicyDocument);
    endpointDocuments.set(endpoint, document);
  }
  return document;
}

/**
 * The part of the agent's identity the endpoint policy can tell apart: the role, plus the session (the
 * instance id) only when some principal names an assumed-role session. Instances share the answer otherwise.
 */
function sessionKey(endpoint: VpcEndpointRaw | undefined, instanceId: string): string {
  const document = endpoint ? endpointDocument(endpoint) : null;
  if (!document) return '';
  const namesSessions = document.Statement.some((s) =>
    JSON.stringify([s.Principal ?? null, s.NotPrincipal ?? null]).includes(':assumed-role/'),
  );
  return namesSessions ? instanceId : '';
}

/** The endpoint policy, keeping the statements that apply to the agent's role session. */
function endpointPolicyFor(endpoint: VpcEndpointRaw, who: AgentPrincipal, inventory: Inventory) {
  const document = endpointDocument(endpoint);
  if (document === null) return undefined;
  let perPrincipal = endpointViews.get(document);
  if (!perPrincipal) endpointViews.set(document, (perPrincipal = new Map()));
  const key = `${who.roleName.toLowerCase()}|${who.sessionName}`;
  let view = perPrincipal.get(key);
  if (!view) {
    const originalIndex: number[] = [];
    const statements: PolicyStatement[] = [];
    document.Statement.forEach((statement, i) => {
      if (!appliesToAgent(statement, who)) return;
      originalIndex.push(i);
      statements.push(statement);
    });
    view = {
      set: new CompiledPolicySet({
        identityPolicies: [
          { source: `${endpoint.VpcEndpointId} policy`, document: { ...document, Statement: statements } },
        ],
        context: {
          'aws:principalaccount': { kind: 'value', value: inventory.accountId },
          'aws:requestedregion': { kind: 'value', value: inventory.region },
        },
      }),
      originalIndex,
    };
    perPrincipal.set(key, view);
  }
  return view;
}

function endpointStatements(view: EndpointPolicyView, evidence: readonly StatementEvidence[]): string[] {
  return describeStatements(
    evidence.map((e) => ({ ...e, statementIndex: view.originalIndex[e.statementIndex] ?? e.statementIndex })),
  );
}

// ---------------------------------------------------------------------------------------------------
// The regional buckets

const bucketCache = new WeakMap<RoleView, Map<string, BucketProblem[]>>();

/** The answer depends only on the role, the region, the S3 endpoint and the session: computed once per key. */
function checkRegionalBuckets(
  inventory: Inventory,
  instance: Ec2Instance,
  role: RoleView,
  endpoint: VpcEndpointRaw | undefined,
): BucketProblem[] {
  let perRole = bucketCache.get(role);
  if (!perRole) bucketCache.set(role, (perRole = new Map()));
  // Only a Principal naming an instance's session makes the answer depend on the instance.
  const session = sessionKey(endpoint, instance.id);
  const key = `${inventory.partition}|${inventory.region}|${inventory.accountId}|${endpoint?.VpcEndpointId ?? ''}|${session}`;
  let hit = perRole.get(key);
  if (!hit) {
    if (perRole.size >= 4096) perRole.clear();
    perRole.set(key, (hit = computeRegionalBuckets(inventory, instance, role, endpoint)));
  }
  return hit;
}

function computeRegionalBuckets(
  inventory: Inventory,
  instance: Ec2Instance,
  role: RoleView,
  endpoint: VpcEndpointRaw | undefined,
): BucketProblem[] {
  const problems: BucketProblem[] = [];
  const scope = scopeOf(inventory);
  const view = endpoint
    ? endpointPolicyFor(
        endpoint,
        {
          partition: inventory.partition,
          accountId: inventory.accountId,
          roleName: role.name,
          sessionName: sessionKey(endpoint, instance.id),
        },
        inventory,
      )
    : undefined;
  for (const bucket of regionalSsmBuckets(inventory.region)) {
    const arn = objectArn(inventory.partition, bucket);
    const answer = evaluateRoleActionOnSet(role, 's3:GetObject', arn, scope);
    const statements = describeStatements(answer.evidence);
    if (answer.decision === 'allowed') {
      const grants = answer.evidence.filter((e) => e.effect === 'Allow' && e.scope === 'identity');
      if (grants.length > 0 && grants.every((g) => isWildcardGrant(g.matchedResource, bucket))) {
        const grant = grants[0]!;
        problems.push({
          code: 'S3_REGION_WILDCARD',
          bucket,
          action: 's3:GetObject',
          detail: `granted by the wildcard ${grant.matchedResource} (${describeStatements([grant]).join('')}), which also grants buckets you did not intend`,
          statements,
        });
      }
    } else if (answer.decision === 'conditional') {
      problems.push({
        code: 'S3_CONDITIONAL_GRANT',
        bucket,
        action: 's3:GetObject',
        detail: `role ${role.name} ${setGap('conditional', 's3:GetObject', arn)} (${statements.join('; ')})`,
        statements,
      });
    } else {
      problems.push({
        code: answer.decision === 'partial' ? 'S3_BUCKET_PARTIALLY_GRANTED' : 'S3_BUCKET_NOT_GRANTED',
        bucket,
        action: 's3:GetObject',
        detail: `role ${role.name} ${setGap(answer.decision, 's3:GetObject', arn)}${statements.length ? ` (${statements.join('; ')})` : ''}`,
        statements,
      });
    }
    if (view && endpoint) {
      const allowed = view.set.evaluateResourceSet('s3:GetObject', arn);
      if (allowed.decision !== 'allowed') {
        const deciding = endpointStatements(view, allowed.evidence);
        const conditional = allowed.decision === 'conditional';
        problems.push({
          code: conditional ? 'S3_ENDPOINT_POLICY_CONDITIONAL' : 'S3_ENDPOINT_POLICY_BLOCKS',
          bucket,
          action: 's3:GetObject',
          detail: `the S3 ${endpoint.VpcEndpointType === 'Interface' ? 'interface' : 'gateway'} endpoint ${endpoint.VpcEndpointId} policy ${setGap(allowed.decision, 's3:GetObject', arn)} for role ${role.name}${deciding.length ? ` (${deciding.join('; ')})` : ' (no statement allows it)'}`,
          statements: deciding,
        });
      }
    }
  }
  return problems;
}

function checkOutputBuckets(ctx: RuleContext, role: RoleView): BucketProblem[] {
  const problems: BucketProblem[] = [];
  const { partition } = ctx.inventory;
  const scope = scopeOf(ctx.inventory);
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
      // bucket/* is every object (a set); the bucket root is one resource.
      const answer: { decision: ResourceSetDecision['decision']; evidence: readonly StatementEvidence[] } =
        arn.endsWith('/*')
          ? evaluateRoleActionOnSet(role, action, arn, scope)
          : evaluateRoleAction(role, action, arn, scope);
      if (answer.decision === 'allowed') continue;
      const statements = describeStatements(answer.evidence);
      const conditional = answer.decision === 'conditional';
      problems.push({
        code: conditional ? 'S3_CONDITIONAL_GRANT' : 'S3_OUTPUT_BUCKET_NOT_GRANTED',
        bucket: bucket.name,
        action,
        detail: `role ${role.name} ${setGap(answer.decision, action, arn)}${statements.length ? ` (${statements.join('; ')})` : ''}`,
        statements,
      });
    }
  }
  return problems;
}

/**
 * What the role in use would lack once the agent reaches the buckets through an S3 endpoint, recorded
 * where the rule does not ask yet (internet path, no routed gateway): the buckets the role does not
 * grant, and those a Deny narrows. A fix plan that moves the agent to endpoints grants them with it.
 */
function roleGrants(
  inventory: Inventory,
  instance: Ec2Instance,
  credentials: ReturnType<typeof credentialSourceOf>,
): { role?: string; ungrantedBuckets?: string[]; deniedBuckets?: string[] } {
  if (credentials.source !== 'profile' && credentials.source !== 'dhmc') return {};
  const role = credentials.role;
  if (!role) return {};
  const problems = checkRegionalBuckets(inventory, instance, role, undefined);
  return {
    role: role.name,
    ungrantedBuckets: problems.filter((p) => p.code === 'S3_BUCKET_NOT_GRANTED').map((p) => p.bucket),
    deniedBuckets: problems.filter((p) => p.code === 'S3_BUCKET_PARTIALLY_GRANTED').map((p) => p.bucket),
  };
}

function evaluateInstance(instance: Ec2Instance, ctx: RuleContext): BucketAccessOutcome {
  const { inventory } = ctx;
  const network = assessNetworkPath(inventory, instance);
  const endpointOnly = network.endpointOnly && network.status !== 'unverifiable';
  const hasOutputBuckets = ctx.config.outputBuckets.length > 0;
  const credentials = credentialSourceOf(inventory, instance);
  if (!endpointOnly && !hasOutputBuckets) {
    return {
      reason: 'NOT_ENDPOINT_ONLY',
      message:
        'The instance does not reach SSM only through VPC endpoints and no output bucket is configured; the S3 policy is not required.',
      evidence: { endpointOnly: false, ...roleGrants(inventory, instance, credentials) },
    };
  }
  if (credentials.source === 'unknown') {
    // The profile cannot register the agent and the DHMC setting could not be read: which role the agent
    // uses is unknown, so its S3 grants cannot be judged (R7: ERROR, never FAIL).
    const outcome = unavailableOutcome(
      'ssm.ServiceSettings',
      credentials.availability,
      'the role the agent uses (the Default Host Management Configuration fallback)',
    );
    return { ...outcome, evidence: { ...outcome.evidence, credentialSource: 'unknown' } };
  }
  const role = credentials.source === 'none' ? undefined : credentials.role;
  if (!role) {
    return {
      reason: 'NO_ROLE_IN_USE',
      message:
        'The agent has no working role (no usable instance profile and no DHMC role), so it cannot read the SSM S3 buckets.',
      evidence: { credentialSource: credentials.source },
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
      const evidence = {
        role: role.name,
        credentialSource: credentials.source,
        routeTableId: routeTableId ?? null,
        s3Endpoint: gateway?.VpcEndpointId ?? null,
        ...roleGrants(inventory, instance, credentials),
      };
      if (gateway) {
        return {
          reason: 'S3_GATEWAY_ENDPOINT_NOT_ROUTED',
          message: `S3 gateway endpoint ${gateway.VpcEndpointId} is not associated with route table ${routeTableId ?? '(unknown)'} of the instance's subnet; the agent cannot reach the SSM buckets.`,
          evidence,
          params: { endpoint: gateway.VpcEndpointId, routeTable: routeTableId ?? '<rtb>' },
        };
      }
      return {
        reason: 'S3_GATEWAY_ENDPOINT_MISSING',
        message: `The instance reaches SSM only through VPC endpoints but ${instance.vpcId} has no S3 gateway endpoint; the agent cannot reach the SSM buckets.`,
        evidence,
        params: { vpc: instance.vpcId ?? '<vpc>', serviceName, routeTable: routeTableId ?? '<rtb>' },
      };
    }
    problems.push(...checkRegionalBuckets(inventory, instance, role, s3Endpoint));
  }
  problems.push(...checkOutputBuckets(ctx, role));

  const evidence = {
    role: role.name,
    credentialSource: credentials.source,
    endpointOnly,
    s3Endpoint: s3Endpoint?.VpcEndpointId ?? null,
    problems,
  };
  const bucketArns = regionalSsmBuckets(inventory.region)
    .map((b) => objectArn(inventory.partition, b))
    .join(', ');
  const params = {
    roleName: role.name,
    bucketArns,
    endpoint: s3Endpoint?.VpcEndpointId ?? '<endpoint>',
    region: inventory.region,
    partition: inventory.partition,
  };
  const failing = problems.filter(isBlocking);
  if (failing.length > 0) {
    const first = failing[0]!;
    const facts = {
      ...params,
      statements: (first.statements ?? []).join('; ') || 'none recorded',
      action: first.action,
      // s3:GetEncryptionConfiguration is asked on the bucket root, every other action on its objects.
      resource:
        first.action === 's3:GetEncryptionConfiguration'
          ? `arn:${inventory.partition}:s3:::${first.bucket}`
          : objectArn(inventory.partition, first.bucket),
      bucket: first.bucket,
    };
    return {
      reason: first.code,
      message: `${failing.length} required S3 permission${failing.length === 1 ? ' is' : 's are'} missing: ${first.detail}${failing.length > 1 ? ` (+${failing.length - 1} more)` : ''}.`,
      evidence,
      params: facts,
    };
  }
  const conditional = problems.find(
    (p) => p.code === 'S3_CONDITIONAL_GRANT' || p.code === 'S3_ENDPOINT_POLICY_CONDITIONAL',
  );
  if (conditional) {
    return {
      reason:
        conditional.code === 'S3_ENDPOINT_POLICY_CONDITIONAL' ? conditional.code : 'S3_CONDITIONAL_GRANT',
      message: `Cannot prove the agent can read the SSM buckets: ${conditional.detail}.`,
      evidence,
      params,
    };
  }
  if (problems.length > 0) {
    return {
      reason: 'S3_REGION_WILDCARD',
      message: `The SSM buckets are ${problems[0]!.detail.split(' (')[0]}; the AWS documentation recommends naming each region's buckets.`,
      evidence,
      params,
    };
  }
  return {
    reason: 'S3_ACCESS_OK',
    message: `Role ${role.name} can read every object of the eight SSM buckets of ${inventory.region}${s3Endpoint ? ` through ${s3Endpoint.VpcEndpointId}` : ''}${ctx.config.outputBuckets.length ? ' and use the output buckets' : ''}.`,
    evidence,
  };
}

export default defineRule({
  meta: {
    id: 's3-bucket-access',
    title: 'S3 bucket access for instances that use VPC endpoints',
    description:
      'With VPC endpoints only, the role in use needs s3:GetObject on every object of the eight regional SSM buckets and an S3 gateway endpoint whose policy lets it through; configured output buckets need read/write.',
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
    reasons: REASONS,
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
        reason: 'INSTANCE_STOPPED',
        message: `The instance is ${instance.state}; S3 reachability is evaluated when it runs.`,
        evidence: { state: instance.state },
      };
    }
    return evaluateInstance(instance, ctx);
  },
});
