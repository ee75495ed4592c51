import type { Inventory } from '../shared/inventory';
import { roleByReference } from '../shared/inventory';
import {
  agentTargetOf,
  assessCoreActions,
  assessSsmTrust,
  describeStatements,
  nodeArnOf,
  ssmSourceArnPattern,
  unreadablePoliciesOutcome,
  type AgentNode,
  type AuditScope,
} from '../shared/permissions';
import { defineRule, type Outcome, type RuleContext } from '../shared/rule';
import { REGISTRATION_ACTION, policyArnsFor } from '../shared/ssm-requirements';

/**
 * AWS's trust policy for the hybrid service role, with its confused-deputy conditions ("Be sure to specify
 * your AWS account and the AWS Region in the ARN where you created your hybrid activation",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-multicloud-service-role.html), in the
 * snapshot's partition, region and account.
 */
const trustPolicy = (scope: AuditScope) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'ssm.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': scope.accountId },
          ArnEquals: { 'aws:SourceArn': ssmSourceArnPattern(scope) },
        },
      },
    ],
  });

/**
 * Seed 004 "Create an IAM Service Role": the role must exist, trust ssm.amazonaws.com and grant the core
 * actions. `node` says which node's ARN ssm:UpdateInstanceInformation names: a hybrid node's own, or (for an
 * activation, before any node exists) every managed-instance ARN of the account and region.
 */
export function assessHybridRole(
  inventory: Inventory,
  reference: string | undefined,
  owner: string,
  node: AgentNode = { kind: 'anyHybrid' },
): Outcome {
  const target = agentTargetOf(inventory, node);
  const arns = policyArnsFor(inventory.partition);
  if (!reference) {
    return {
      status: 'WARN',
      reason: 'HYBRID_ROLE_UNKNOWN',
      message: `${owner} does not report its IAM service role; cannot verify it.`,
      evidence: { iamRole: null },
      remediation: 'aws ssm update-managed-instance-role --instance-id <mi-id> --iam-role SSMServiceRole',
    };
  }
  const role = roleByReference(inventory, reference);
  if (!role) {
    return {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_NOT_FOUND',
      message: `${owner} uses IAM role ${reference}, which does not exist.`,
      evidence: { iamRole: reference },
      remediation: `aws iam create-role --role-name ${reference} --assume-role-policy-document '${trustPolicy(target)}' && aws iam attach-role-policy --role-name ${reference} --policy-arn ${arns.core}`,
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
      status: trust.decision === 'conditional' ? 'WARN' : 'FAIL',
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
      remediation: `aws iam update-assume-role-policy --role-name ${role.name} --policy-document '${trustPolicy(target)}'`,
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
  if (core.status === 'unknown') return unreadablePoliciesOutcome(`role ${role.name}`, core, evidence);
  if (core.status === 'incomplete') {
    return {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_MISSING_ACTIONS',
      message: `${owner}'s role ${role.name} ${core.denied.length ? `denies ${core.denied.join(', ')}` : core.missing.length ? `does not allow ${core.missing.join(', ')}` : `allows ${core.partial.join(', ')} only for some nodes of ${nodeArnOf(target)}`}.`,
      evidence,
      remediation: `aws iam attach-role-policy --role-name ${role.name} --policy-arn ${arns.core}`,
    };
  }
  if (core.status === 'conditional') {
    return {
      status: 'WARN',
      reason: 'CONDITIONAL_GRANT',
      message: `${owner}'s role ${role.name} grants ${core.conditional.join(', ')} only under a Condition.`,
      evidence,
      remediation: `Remove the Condition or aws iam attach-role-policy --role-name ${role.name} --policy-arn ${arns.core}`,
    };
  }
  if (core.usesDeprecatedPolicy) {
    // Seed 004 attaches AmazonEC2RoleforSSM; AWS has since deprecated it in favour of AmazonSSMManagedInstanceCore.
    return {
      status: 'WARN',
      severity: 'MEDIUM',
      reason: 'HYBRID_ROLE_DEPRECATED_POLICY',
      message: `${owner}'s role ${role.name} relies on the deprecated AmazonEC2RoleforSSM; use AmazonSSMManagedInstanceCore.`,
      evidence,
      remediation: `aws iam attach-role-policy --role-name ${role.name} --policy-arn ${arns.core} && aws iam detach-role-policy --role-name ${role.name} --policy-arn ${arns.deprecatedEc2RoleForSsm}`,
    };
  }
  return {
    status: 'PASS',
    reason: 'HYBRID_ROLE_OK',
    message: `${owner}'s role ${role.name} trusts ssm.amazonaws.com and grants the core agent actions.`,
    evidence,
  };
}

function evaluateActivations(ctx: RuleContext): Outcome[] {
  return ctx.inventory.activations.map((activation) => ({
    ...assessHybridRole(ctx.inventory, activation.IamRole, `Activation ${activation.ActivationId}`, {
      kind: 'anyHybrid',
    }),
    resourceId: activation.ActivationId,
  }));
}

export default defineRule({
  meta: {
    id: 'hybrid-service-role',
    title: 'IAM service role of hybrid nodes and activations',
    description:
      "Each hybrid node and activation needs an IAM role that trusts ssm.amazonaws.com (Conditions on aws:SourceAccount / aws:SourceArn decided for this account and region) and grants the core agent actions (AmazonSSMManagedInstanceCore) on the node's managed-instance ARN.",
    severity: 'HIGH',
    appliesTo: ['hybrid', 'account'],
    needs: { hybrid: ['ssm.InstanceInformationList', 'iam'], account: ['ssm.ActivationList', 'iam'] },
    remediation:
      'Create the role with the ssm.amazonaws.com trust policy and attach arn:<partition>:iam::aws:policy/AmazonSSMManagedInstanceCore.',
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
    return assessHybridRole(ctx.inventory, subject.node.roleName, `Hybrid node ${subject.node.id}`, {
      kind: 'hybrid',
      nodeId: subject.node.id,
    });
  },
});
