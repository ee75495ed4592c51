import type { Inventory } from '../shared/inventory';
import { roleByReference } from '../shared/inventory';
import {
  assessCoreActions,
  assessSsmTrust,
  describeStatements,
  unreadablePoliciesOutcome,
} from '../shared/permissions';
import { defineRule, type Outcome, type RuleContext } from '../shared/rule';
import { POLICY_ARNS } from '../shared/ssm-requirements';

const TRUST_POLICY =
  '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}}';

/** Seed 004 "Create an IAM Service Role": the role must exist, trust ssm.amazonaws.com and grant the core actions. */
export function assessHybridRole(
  inventory: Inventory,
  reference: string | undefined,
  owner: string,
): Outcome {
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
      remediation: `aws iam create-role --role-name ${reference} --assume-role-policy-document '${TRUST_POLICY}' && aws iam attach-role-policy --role-name ${reference} --policy-arn ${POLICY_ARNS.core}`,
    };
  }
  const trust = assessSsmTrust(role);
  if (trust.decision !== 'trusted') {
    return {
      status: trust.decision === 'conditional' ? 'WARN' : 'FAIL',
      reason:
        trust.decision === 'conditional' ? 'HYBRID_ROLE_TRUST_CONDITIONAL' : 'HYBRID_ROLE_TRUST_MISSING',
      message: `${owner}'s role ${role.name} ${trust.decision === 'conditional' ? 'trusts ssm.amazonaws.com only under a Condition' : 'does not trust ssm.amazonaws.com for sts:AssumeRole'}.`,
      evidence: { iamRole: role.name, trust: trust.evidence },
      remediation: `aws iam update-assume-role-policy --role-name ${role.name} --policy-document '${TRUST_POLICY}'`,
    };
  }
  const core = assessCoreActions(role);
  const evidence = {
    iamRole: role.name,
    attachedPolicies: role.attachedPolicyArns,
    missingActions: core.missing,
    deniedActions: core.denied,
    conditionalActions: core.conditional,
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
      message: `${owner}'s role ${role.name} ${core.denied.length ? `denies ${core.denied.join(', ')}` : `does not allow ${core.missing.join(', ')}`}.`,
      evidence,
      remediation: `aws iam attach-role-policy --role-name ${role.name} --policy-arn ${POLICY_ARNS.core}`,
    };
  }
  if (core.status === 'conditional') {
    return {
      status: 'WARN',
      reason: 'CONDITIONAL_GRANT',
      message: `${owner}'s role ${role.name} grants ${core.conditional.join(', ')} only under a Condition.`,
      evidence,
      remediation: `Remove the Condition or aws iam attach-role-policy --role-name ${role.name} --policy-arn ${POLICY_ARNS.core}`,
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
      remediation: `aws iam attach-role-policy --role-name ${role.name} --policy-arn ${POLICY_ARNS.core} && aws iam detach-role-policy --role-name ${role.name} --policy-arn ${POLICY_ARNS.deprecatedEc2RoleForSsm}`,
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
    ...assessHybridRole(ctx.inventory, activation.IamRole, `Activation ${activation.ActivationId}`),
    resourceId: activation.ActivationId,
  }));
}

export default defineRule({
  meta: {
    id: 'hybrid-service-role',
    title: 'IAM service role of hybrid nodes and activations',
    description:
      'Each hybrid node and activation needs an IAM role that trusts ssm.amazonaws.com and grants the core agent actions (AmazonSSMManagedInstanceCore).',
    severity: 'HIGH',
    appliesTo: ['hybrid', 'account'],
    needs: { hybrid: ['ssm.InstanceInformationList', 'iam'], account: ['ssm.ActivationList', 'iam'] },
    remediation: `Create the role with the ssm.amazonaws.com trust policy and attach ${POLICY_ARNS.core}.`,
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
    return assessHybridRole(ctx.inventory, subject.node.roleName, `Hybrid node ${subject.node.id}`);
  },
});
