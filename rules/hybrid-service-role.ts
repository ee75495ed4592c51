import type { Inventory } from '../shared/snapshot/inventory';
import { roleByReference } from '../shared/snapshot/inventory';
import {
  agentTargetOf,
  assessCoreActions,
  assessSsmTrust,
  describeStatements,
  nodeArnOf,
  hybridTrustPolicy,
  ssmSourceArnPattern,
  unreadablePolicies,
  type AgentNode,
  type AuditScope,
} from '../shared/agent/permissions';
import {
  defineRule,
  NO_ACTION,
  type Outcome,
  type ReasonTable,
  type RuleContext,
} from '../shared/engine/rule';
import { REGISTRATION_ACTION, policyArnsFor } from '../shared/knowledge/ssm-requirements';
import { SCP_REASONS, assessScp, scpNote, scpOverride } from '../shared/agent/scp';
import type { RoleView } from '../shared/snapshot/inventory';

const ATTACH_CORE = 'aws iam attach-role-policy --role-name {roleName} --policy-arn {corePolicyArn}';

const REASONS = {
  HYBRID_ROLE_OK: { status: 'PASS', remediation: NO_ACTION },
  HYBRID_ROLE_UNKNOWN: {
    status: 'WARN',
    remediation: {
      node: 'aws ssm update-managed-instance-role --instance-id {nodeId} --iam-role SSMServiceRole',
      // An activation's role cannot be changed: a new activation names it.
      activation:
        'Create an activation that names the service role (aws ssm create-activation --iam-role SSMServiceRole), then delete this one: aws ssm delete-activation --activation-id {activationId}',
    },
  },
  HYBRID_ROLE_NOT_FOUND: {
    status: 'FAIL',
    remediation: `aws iam create-role --role-name {roleName} --assume-role-policy-document '{trustPolicy}' && ${ATTACH_CORE}`,
  },
  HYBRID_ROLE_TRUST_MISSING: {
    status: 'FAIL',
    remediation: "aws iam update-assume-role-policy --role-name {roleName} --policy-document '{trustPolicy}'",
  },
  HYBRID_ROLE_TRUST_CONDITIONAL: {
    status: 'WARN',
    remediation: "aws iam update-assume-role-policy --role-name {roleName} --policy-document '{trustPolicy}'",
  },
  POLICY_DOCUMENT_UNAVAILABLE: {
    status: 'ERROR',
    remediation:
      'Collect IAM with iam:GetAccountAuthorizationDetails (or iam:GetPolicyVersion for these policies).',
  },
  HYBRID_ROLE_MISSING_ACTIONS: { status: 'FAIL', remediation: ATTACH_CORE },
  CONDITIONAL_GRANT: { status: 'WARN', remediation: `Remove the Condition or ${ATTACH_CORE}` },
  HYBRID_ROLE_DEPRECATED_POLICY: {
    status: 'WARN',
    severity: 'MEDIUM',
    remediation: `${ATTACH_CORE} && aws iam detach-role-policy --role-name {roleName} --policy-arn {deprecatedPolicyArn}`,
  },
  ...SCP_REASONS,
} as const satisfies ReasonTable;

type HybridOutcome = Outcome<typeof REASONS>;

/** Whose role is assessed: a hybrid node, or an activation (which registers nodes that do not exist yet). */
export type HybridRoleOwner = { kind: 'node'; nodeId: string } | { kind: 'activation'; activationId: string };

/** The documented trust policy, as the fix's command writes it. */
const trustPolicy = (scope: AuditScope) => JSON.stringify(hybridTrustPolicy(scope));

/**
 * Seed 004 "Create an IAM Service Role": the role must exist, trust ssm.amazonaws.com and grant the core
 * actions. `node` says which node's ARN ssm:UpdateInstanceInformation names: a hybrid node's own, or (for an
 * activation, before any node exists) every managed-instance ARN of the account and region.
 */
export function assessHybridRole(
  inventory: Inventory,
  reference: string | undefined,
  whose: HybridRoleOwner,
): HybridOutcome {
  const outcome = assessHybridRoleIam(inventory, reference, whose);
  const status = Object.hasOwn(REASONS, outcome.reason)
    ? REASONS[outcome.reason as keyof typeof REASONS].status
    : 'ERROR';
  const role = reference ? roleByReference(inventory, reference) : undefined;
  if ((status !== 'PASS' && status !== 'WARN') || !role) return outcome;
  return withScpLayer(inventory, role, whose, outcome, status);
}

/**
 * Service control policies (DESIGN §7) as one more layer for the role's requests: they only take away,
 * so they matter where IAM grants (PASS or WARN); an IAM FAIL or ERROR stands as it is.
 */
function withScpLayer(
  inventory: Inventory,
  role: RoleView,
  whose: HybridRoleOwner,
  outcome: HybridOutcome,
  status: 'PASS' | 'WARN',
): HybridOutcome {
  const node: AgentNode =
    whose.kind === 'node' ? { kind: 'hybrid', nodeId: whose.nodeId } : { kind: 'anyHybrid' };
  const scp = assessScp(inventory, role, agentTargetOf(inventory, node));
  const override = scpOverride(scp, role.name);
  // A conditional SCP does not outweigh a WARN IAM already gives; it keeps a PASS from passing.
  if (override && !(override.reason === 'SCP_CONDITIONAL' && status === 'WARN')) {
    const owner = whose.kind === 'node' ? `Hybrid node ${whose.nodeId}` : `Activation ${whose.activationId}`;
    return {
      ...override,
      message: `${owner}: ${override.message}`,
      evidence: {
        ...override.evidence,
        iamOutcome: outcome.reason,
        ...(whose.kind === 'activation'
          ? {
              representativeResource: `${nodeArnOf(agentTargetOf(inventory, node))} (every node the activation can register)`,
            }
          : {}),
      },
    };
  }
  return { ...outcome, evidence: { ...outcome.evidence, scp: override ? override.evidence : scpNote(scp) } };
}

function assessHybridRoleIam(
  inventory: Inventory,
  reference: string | undefined,
  whose: HybridRoleOwner,
): HybridOutcome {
  const node: AgentNode =
    whose.kind === 'node' ? { kind: 'hybrid', nodeId: whose.nodeId } : { kind: 'anyHybrid' };
  const owner = whose.kind === 'node' ? `Hybrid node ${whose.nodeId}` : `Activation ${whose.activationId}`;
  const target = agentTargetOf(inventory, node);
  const arns = policyArnsFor(inventory.partition);
  if (!reference) {
    return {
      reason: 'HYBRID_ROLE_UNKNOWN',
      message: `${owner} does not report its IAM service role; cannot verify it.`,
      evidence: { iamRole: null },
      ...(whose.kind === 'node'
        ? ({ variant: 'node', params: { nodeId: whose.nodeId } } as const)
        : ({ variant: 'activation', params: { activationId: whose.activationId } } as const)),
    };
  }
  const role = roleByReference(inventory, reference);
  if (!role) {
    return {
      reason: 'HYBRID_ROLE_NOT_FOUND',
      message: `${owner} uses IAM role ${reference}, which does not exist.`,
      evidence: { iamRole: reference },
      params: { roleName: reference, trustPolicy: trustPolicy(target), corePolicyArn: arns.core },
    };
  }
  // Conditions on aws:SourceAccount / aws:SourceArn are decided for this account and region: the
  // documented confused-deputy trust passes, one naming another account or region fails.
  const trust = assessSsmTrust(role, target);
  if (trust.decision !== 'trusted') {
    const unmetKeys = [...new Set((trust.unmetConditions ?? []).flatMap((u) => u.keys))];
    const undecidedKeys = [...new Set(trust.evidence.flatMap((e) => e.undecidedConditionKeys ?? []))];
    const gap =
      trust.decision === 'conditional'
        ? `trusts ssm.amazonaws.com only under a Condition${undecidedKeys.length ? ` on ${undecidedKeys.join(', ')}` : ''} the audit cannot decide`
        : unmetKeys.length > 0 && trust.evidence.length === 0
          ? `trusts ssm.amazonaws.com only under a Condition on ${unmetKeys.join(', ')} that this account (${target.accountId}) and region (${target.region}) do not meet`
          : 'does not trust ssm.amazonaws.com for sts:AssumeRole';
    return {
      reason:
        trust.decision === 'conditional' ? 'HYBRID_ROLE_TRUST_CONDITIONAL' : 'HYBRID_ROLE_TRUST_MISSING',
      message: `${owner}'s role ${role.name} ${gap}.`,
      evidence: {
        iamRole: role.name,
        trust: trust.evidence,
        ...(trust.unmetConditions ? { unmetTrustConditions: trust.unmetConditions } : {}),
        knownRequestContext: {
          'aws:SourceAccount': target.accountId,
          'aws:SourceArn': `one of ${ssmSourceArnPattern(target)}`,
        },
      },
      params: { roleName: role.name, trustPolicy: trustPolicy(target) },
    };
  }
  const core = assessCoreActions(role, target);
  const evidence = {
    iamRole: role.name,
    attachedPolicies: role.attachedPolicyArns,
    missingActions: core.missing,
    deniedActions: core.denied,
    conditionalActions: core.conditional,
    ...(core.partial.length ? { partiallyGrantedActions: core.partial } : {}),
    // ssm:UpdateInstanceInformation is asked on the node's ARN; an activation has no node yet, so it is
    // asked on every managed-instance ARN of the account and region (a representative pattern).
    evaluatedOn: core.resources[REGISTRATION_ACTION] ?? nodeArnOf(target),
    ...(node.kind === 'anyHybrid'
      ? { representativeResource: `${nodeArnOf(target)} (every node the activation can register)` }
      : {}),
    decidingStatements: core.deciding.map((d) => ({
      action: d.action,
      decision: d.decision,
      statements: describeStatements(d.statements),
    })),
  };
  if (core.status === 'unknown') {
    const unreadable = unreadablePolicies(`role ${role.name}`, core, evidence);
    return {
      reason: 'POLICY_DOCUMENT_UNAVAILABLE',
      message: unreadable.message,
      evidence: unreadable.evidence,
    };
  }
  const attach = { roleName: role.name, corePolicyArn: arns.core };
  if (core.status === 'incomplete') {
    return {
      reason: 'HYBRID_ROLE_MISSING_ACTIONS',
      message: `${owner}'s role ${role.name} ${core.denied.length ? `denies ${core.denied.join(', ')}` : core.missing.length ? `does not allow ${core.missing.join(', ')}` : `allows ${core.partial.join(', ')} only for some nodes of ${nodeArnOf(target)}`}.`,
      evidence,
      params: attach,
    };
  }
  if (core.status === 'conditional') {
    return {
      reason: 'CONDITIONAL_GRANT',
      message: `${owner}'s role ${role.name} grants ${core.conditional.join(', ')} only under a Condition.`,
      evidence,
      params: attach,
    };
  }
  if (core.usesDeprecatedPolicy) {
    // Seed 004 attaches AmazonEC2RoleforSSM; AWS has since deprecated it in favour of AmazonSSMManagedInstanceCore.
    return {
      reason: 'HYBRID_ROLE_DEPRECATED_POLICY',
      message: `${owner}'s role ${role.name} relies on the deprecated AmazonEC2RoleforSSM; use AmazonSSMManagedInstanceCore.`,
      evidence,
      params: { ...attach, deprecatedPolicyArn: arns.deprecatedEc2RoleForSsm },
    };
  }
  return {
    reason: 'HYBRID_ROLE_OK',
    message: `${owner}'s role ${role.name} trusts ssm.amazonaws.com and grants the core agent actions.`,
    evidence,
  };
}

function evaluateActivations(ctx: RuleContext): Outcome<typeof REASONS>[] {
  return ctx.inventory.activations.map((activation) => ({
    ...assessHybridRole(ctx.inventory, activation.IamRole, {
      kind: 'activation',
      activationId: activation.ActivationId,
    }),
    resourceId: activation.ActivationId,
  }));
}

export default defineRule({
  meta: {
    id: 'hybrid-service-role',
    title: 'IAM service role of hybrid nodes and activations',
    description:
      "Each hybrid node and activation needs an IAM role that trusts ssm.amazonaws.com (Conditions on aws:SourceAccount / aws:SourceArn decided for this account and region) and grants the core agent actions (AmazonSSMManagedInstanceCore) on the node's managed-instance ARN; with the snapshot's organizations section, the service control policies of the chain root → OU(s) → account must let the role make those requests too.",
    severity: 'HIGH',
    appliesTo: ['hybrid', 'account'],
    needs: { hybrid: ['ssm.InstanceInformationList', 'iam'], account: ['ssm.ActivationList', 'iam'] },
    reasons: REASONS,
    docsUrl:
      'https://docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-multicloud-service-role.html',
    references: [
      {
        seed: '004_3d1cc2fbfb211ba3.txt',
        section: 'Create an IAM Service Role',
        quote:
          'Servers and VMs in a hybrid environment require an IAM role to communicate with the Systems Manager SSM service. The role grants AssumeRole trust to the SSM service.',
      },
      {
        seed: '003_83aa51167c137897.txt',
        section: 'Step 2: Create an IAM Service Role for a Hybrid Environment',
        quote: 'Step 2: Create an IAM Service Role for a Hybrid Environment',
      },
    ],
  },
  evaluate(subject, ctx) {
    if (subject.kind === 'account') return evaluateActivations(ctx);
    if (subject.kind !== 'hybrid') throw new Error(`hybrid-service-role does not apply to ${subject.kind}`);
    return assessHybridRole(ctx.inventory, subject.node.roleName, { kind: 'node', nodeId: subject.node.id });
  },
});
