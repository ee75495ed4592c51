import type { Ec2Instance, Inventory, RoleView } from './inventory';
import type { Evidence } from './model';
import type { Outcome } from './rule';
import {
  CompiledPolicySet,
  type Decision,
  type PolicyDecision,
  type StatementEvidence,
} from './policy/evaluator';
import { trustsService, type TrustResult } from './policy/trust';
import {
  CORE_AGENT_ACTIONS,
  POLICY_ARNS,
  REGISTRATION_ACTION,
  SSM_SERVICE_PRINCIPAL,
} from './ssm-requirements';

/**
 * Role-level assessments shared by the rules. Roles are shared by many instances, so each assessment
 * is computed once per role object (WeakMap memo): evaluation cost grows with roles, not instances.
 */

export interface ActionCheck {
  action: string;
  decision: Decision;
  evidence: StatementEvidence[];
}

export type CoreStatus = 'complete' | 'conditional' | 'incomplete' | 'unknown';

export interface CoreAssessment {
  status: CoreStatus;
  /** The decision for ssm:UpdateInstanceInformation: whether the agent will try this role at all. */
  registration: Decision;
  missing: string[];
  denied: string[];
  conditional: string[];
  /** Managed policies whose documents the snapshot lacks; a negative answer is not provable with them. */
  unresolved: string[];
  usesDeprecatedPolicy: boolean;
  /** The statements behind each non-allowed or conditional decision, for the finding's evidence. */
  deciding: { action: string; decision: Decision; statements: StatementEvidence[] }[];
}

const compiled = new WeakMap<RoleView, CompiledPolicySet>();
export function policySetOf(role: RoleView): CompiledPolicySet {
  let set = compiled.get(role);
  if (!set) {
    set = new CompiledPolicySet({
      identityPolicies: role.identityPolicies,
      permissionsBoundary: role.permissionsBoundary,
    });
    compiled.set(role, set);
  }
  return set;
}

export function evaluateRoleAction(role: RoleView, action: string, resource = '*'): PolicyDecision {
  return policySetOf(role).evaluate(action, resource);
}

const coreCache = new WeakMap<RoleView, CoreAssessment>();

/** Does the role grant the core agent actions (what AmazonSSMManagedInstanceCore grants)? */
export function assessCoreActions(role: RoleView): CoreAssessment {
  const hit = coreCache.get(role);
  if (hit) return hit;
  const missing: string[] = [];
  const denied: string[] = [];
  const conditional: string[] = [];
  const deciding: CoreAssessment['deciding'] = [];
  let registration: Decision = 'notAllowed';
  for (const action of CORE_AGENT_ACTIONS) {
    const result = evaluateRoleAction(role, action);
    if (action === REGISTRATION_ACTION) registration = result.decision;
    if (result.decision === 'allowed') continue;
    if (result.decision === 'explicitDeny') denied.push(action);
    else if (result.decision === 'conditional') conditional.push(action);
    else missing.push(action);
    deciding.push({ action, decision: result.decision, statements: result.evidence });
  }
  const unresolved = [...role.unresolvedPolicyArns];
  const status: CoreStatus =
    missing.length + denied.length === 0
      ? conditional.length === 0
        ? 'complete'
        : 'conditional'
      : // A missing grant may hide in a policy document we could not read.
        missing.length > 0 && unresolved.length > 0
        ? 'unknown'
        : 'incomplete';
  const assessment: CoreAssessment = {
    status,
    registration,
    missing,
    denied,
    conditional,
    unresolved,
    usesDeprecatedPolicy: role.attachedPolicyArns.includes(POLICY_ARNS.deprecatedEc2RoleForSsm),
    deciding,
  };
  coreCache.set(role, assessment);
  return assessment;
}

const trustCache = new WeakMap<RoleView, TrustResult>();
/** Does the role trust ssm.amazonaws.com for sts:AssumeRole (DHMC and hybrid service roles)? */
export function assessSsmTrust(role: RoleView): TrustResult {
  const hit = trustCache.get(role);
  if (hit) return hit;
  const result: TrustResult = role.trust
    ? trustsService(role.trust, SSM_SERVICE_PRINCIPAL, 'sts:AssumeRole')
    : { decision: 'notTrusted', evidence: [] };
  trustCache.set(role, result);
  return result;
}

/** Which credentials the agent on this instance ends up with (seed 002: profile first, then DHMC). */
export type CredentialSource =
  | { source: 'profile'; role: RoleView; profileArn: string }
  | { source: 'dhmc'; role?: RoleView; roleName: string }
  | { source: 'none' };

export function credentialSourceOf(inventory: Inventory, instance: Ec2Instance): CredentialSource {
  if (instance.instanceProfileArn) {
    const profile = inventory.instanceProfiles.get(instance.instanceProfileArn);
    const role = profile ? inventory.roles.get(profile.roleName.toLowerCase()) : undefined;
    if (role) {
      const registration = assessCoreActions(role).registration;
      if (registration === 'allowed' || registration === 'conditional') {
        return { source: 'profile', role, profileArn: instance.instanceProfileArn };
      }
    }
  }
  if (inventory.dhmc.state === 'on') {
    const roleName = inventory.dhmc.roleName;
    return { source: 'dhmc', roleName, role: inventory.roles.get(roleName.toLowerCase()) };
  }
  return { source: 'none' };
}

/** Compact evidence for statements: where each deciding statement lives. */
export function describeStatements(statements: readonly StatementEvidence[]): string[] {
  return statements.map(
    (s) =>
      `${s.effect} ${s.source} Statement[${s.statementIndex}]${s.sid ? ` (${s.sid})` : ''}${s.conditional ? ' with Condition' : ''}${s.scope === 'boundary' ? ' [permissions boundary]' : ''}`,
  );
}

/** A role whose decisive policy documents are not in the snapshot: ERROR, never a guess. */
export function unreadablePoliciesOutcome(
  roleLabel: string,
  core: CoreAssessment,
  evidence: Evidence,
): Outcome {
  return {
    status: 'ERROR',
    reason: 'POLICY_DOCUMENT_UNAVAILABLE',
    message: `Cannot decide ${roleLabel}: policies ${core.unresolved.join(', ')} are not in the snapshot.`,
    evidence: { ...evidence, unreadablePolicies: core.unresolved },
    remediation:
      'Collect IAM with iam:GetAccountAuthorizationDetails (or iam:GetPolicyVersion for these policies).',
  };
}
