import type { Ec2Instance, Inventory, RoleView, SectionAvailability } from '../snapshot/inventory';
import type { Evidence } from '../model';
import type { RequestContext } from '../policy/conditions';
import {
  CompiledPolicySet,
  type Decision,
  type PolicyDecision,
  type ResourceSetDecision,
  type StatementEvidence,
} from '../policy/evaluator';
import { trustsService, type TrustResult } from '../policy/trust';
import {
  CORE_AGENT_ACTIONS,
  REGISTRATION_ACTION,
  SSM_SERVICE_PRINCIPAL,
  agentActionResource,
  anyManagedInstanceArn,
  ec2InstanceArn,
  managedInstanceArn,
  partitionOfArn,
  policyArnsFor,
} from '../knowledge/ssm-requirements';

/**
 * Role-level assessments shared by the rules. Roles are shared by many instances, so each assessment
 * is computed once per role object (WeakMap memo): evaluation cost grows with roles, not instances.
 * The questions are the ones AWS asks: each agent action on the resource its request names (the node's
 * own ARN for ssm:UpdateInstanceInformation, "*" for ssmmessages and ec2messages), with the conditions
 * whose keys the snapshot answers (account, region, source ARN) decided rather than guessed.
 */

/** The account, region and partition a snapshot describes: what ARNs and condition keys are built from. */
export interface AuditScope {
  partition: string;
  region: string;
  accountId: string;
}

/** The node whose agent uses a role: its ARN is what ssm:UpdateInstanceInformation names. */
export type AgentNode =
  | { kind: 'ec2'; instanceId: string }
  | { kind: 'hybrid'; nodeId: string }
  /** An activation: every node it may register, asked as a set (no node exists yet). */
  | { kind: 'anyHybrid' };

export interface AgentTarget extends AuditScope {
  node: AgentNode;
}

export function scopeOf(inventory: Inventory): AuditScope {
  return { partition: inventory.partition, region: inventory.region, accountId: inventory.accountId };
}

export function agentTargetOf(inventory: Inventory, node: AgentNode): AgentTarget {
  return { ...scopeOf(inventory), node };
}

/** The node's ARN (a pattern for anyHybrid). */
export function nodeArnOf(target: AgentTarget): string {
  const { partition, region, accountId, node } = target;
  if (node.kind === 'ec2') return ec2InstanceArn(partition, region, accountId, node.instanceId);
  if (node.kind === 'hybrid') return managedInstanceArn(partition, region, accountId, node.nodeId);
  return anyManagedInstanceArn(partition, region, accountId);
}

/**
 * What the audit knows of the agent's own requests (signed with the role's credentials): the principal's
 * account and the region it calls (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html:
 * aws:PrincipalAccount, aws:RequestedRegion). Source keys (aws:SourceArn, aws:SourceAccount,
 * aws:SourceOrgID) and everything else stay unknown: a grant that depends on them is 'conditional'.
 */
export function agentRequestContext(scope: AuditScope): RequestContext {
  return {
    'aws:principalaccount': { kind: 'value', value: scope.accountId },
    'aws:requestedregion': { kind: 'value', value: scope.region },
  };
}

/**
 * What the audit knows when Systems Manager assumes a role on the account's behalf (DHMC, hybrid
 * activations): aws:SourceAccount is this account and aws:SourceArn one of this account's Systems Manager
 * ARNs in this region, the form of AWS's own confused-deputy trust policy ("aws:SourceArn":
 * "arn:aws:ssm:us-east-2:123456789012:*",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-multicloud-service-role.html). Which
 * SSM ARN exactly is not documented, so a trust narrower than `arn:<partition>:ssm:<region>:<account>:*`
 * stays 'conditional'. aws:SourceOrgID is unknown (the snapshot has no Organization id).
 */
export function ssmServiceContext(scope: AuditScope): RequestContext {
  return {
    'aws:sourceaccount': { kind: 'value', value: scope.accountId },
    'aws:sourcearn': { kind: 'oneOf', pattern: ssmSourceArnPattern(scope) },
  };
}

export function ssmSourceArnPattern(scope: AuditScope): string {
  return `arn:${scope.partition}:ssm:${scope.region}:${scope.accountId}:*`;
}

/**
 * AWS's trust policy for the hybrid service role, with its confused-deputy conditions ("Be sure to specify
 * your AWS account and the AWS Region in the ARN where you created your hybrid activation",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-multicloud-service-role.html), in the
 * scope's partition, region and account.
 */
export const hybridTrustPolicy = (scope: AuditScope) => ({
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

const scopeKey = (scope: AuditScope | undefined) =>
  scope === undefined ? '' : `${scope.partition}|${scope.region}|${scope.accountId}`;

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
  /** Granted for some of the resources asked about but not all (an activation's future nodes). */
  partial: string[];
  /** Managed policies whose documents the snapshot lacks; a negative answer is not provable with them. */
  unresolved: string[];
  usesDeprecatedPolicy: boolean;
  /** The statements behind each non-allowed or conditional decision, for the finding's evidence. */
  deciding: {
    action: string;
    decision: Decision | 'partial';
    statements: StatementEvidence[];
    /** Not allowed because the permissions boundary does not allow it (the identity policies do). */
    missingIn?: 'identity' | 'boundary';
  }[];
  /** The resource each action was asked on ("*" for all without a target). */
  resources: Readonly<Record<string, string>>;
}

const compiled = new WeakMap<RoleView, Map<string, CompiledPolicySet>>();

/** The role's compiled policies; with a scope, Conditions on the agent's known request keys are decided. */
export function policySetOf(role: RoleView, scope?: AuditScope): CompiledPolicySet {
  let perScope = compiled.get(role);
  if (!perScope) compiled.set(role, (perScope = new Map()));
  const key = scopeKey(scope);
  let set = perScope.get(key);
  if (!set) {
    set = new CompiledPolicySet({
      identityPolicies: role.identityPolicies,
      permissionsBoundary: role.permissionsBoundary,
      ...(scope !== undefined ? { context: agentRequestContext(scope) } : {}),
    });
    perScope.set(key, set);
  }
  return set;
}

export function evaluateRoleAction(
  role: RoleView,
  action: string,
  resource = '*',
  scope?: AuditScope,
): PolicyDecision {
  return policySetOf(role, scope).evaluate(action, resource);
}

/** The role's answer for every resource an ARN pattern names (e.g. every object of `bucket/*`). */
export function evaluateRoleActionOnSet(
  role: RoleView,
  action: string,
  resources: string,
  scope?: AuditScope,
): ResourceSetDecision {
  return policySetOf(role, scope).evaluateResourceSet(action, resources);
}

/** Is the deprecated AmazonEC2RoleforSSM attached, in the role's own partition? */
function attachesDeprecated(role: RoleView, partition: string | undefined): boolean {
  const deprecated = policyArnsFor(partition ?? partitionOfArn(role.arn) ?? 'aws').deprecatedEc2RoleForSsm;
  return role.attachedPolicyArns.includes(deprecated);
}

const coreCache = new WeakMap<RoleView, Map<string, CoreAssessment>>();
const CORE_CACHE_LIMIT = 4096;

/**
 * Does the role grant the core agent actions (what AmazonSSMManagedInstanceCore grants)? With a target,
 * each action is asked on the resource the agent's request names (the node's ARN for ssm:*, "*" for the
 * message services) with the agent's known condition keys; without one, every action is asked on "*".
 */
export function assessCoreActions(role: RoleView, target?: AgentTarget): CoreAssessment {
  let perTarget = coreCache.get(role);
  if (!perTarget) coreCache.set(role, (perTarget = new Map()));
  const nodeArn = target === undefined ? undefined : nodeArnOf(target);
  const key = target === undefined ? '' : `${nodeArn}|${scopeKey(target)}`;
  const hit = perTarget.get(key);
  if (hit) return hit;

  const missing: string[] = [];
  const denied: string[] = [];
  const conditional: string[] = [];
  const partial: string[] = [];
  const deciding: CoreAssessment['deciding'] = [];
  const resources: Record<string, string> = {};
  let registration: Decision = 'notAllowed';
  for (const action of CORE_AGENT_ACTIONS) {
    const resource = nodeArn === undefined ? '*' : agentActionResource(action, nodeArn);
    resources[action] = resource;
    let decision: Decision | 'partial';
    let statements: StatementEvidence[];
    let missingIn: 'identity' | 'boundary' | undefined;
    if (target?.node.kind === 'anyHybrid' && resource !== '*') {
      const answer = evaluateRoleActionOnSet(role, action, resource, target);
      decision = answer.decision;
      statements = answer.evidence;
      missingIn = answer.missingIn;
    } else {
      const answer = evaluateRoleAction(role, action, resource, target);
      decision = answer.decision;
      statements = answer.evidence;
      missingIn = answer.missingIn;
    }
    if (action === REGISTRATION_ACTION) registration = decision === 'partial' ? 'conditional' : decision;
    if (decision === 'allowed') continue;
    if (decision === 'explicitDeny') denied.push(action);
    else if (decision === 'conditional') conditional.push(action);
    else if (decision === 'partial') partial.push(action);
    else missing.push(action);
    deciding.push({ action, decision, statements, ...(missingIn === 'boundary' ? { missingIn } : {}) });
  }
  const unresolved = [...role.unresolvedPolicyArns];
  const status: CoreStatus =
    missing.length + denied.length + partial.length === 0
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
    partial,
    unresolved,
    usesDeprecatedPolicy: attachesDeprecated(role, target?.partition),
    deciding,
    resources,
  };
  if (perTarget.size >= CORE_CACHE_LIMIT) perTarget.clear();
  perTarget.set(key, assessment);
  return assessment;
}

const trustCache = new WeakMap<RoleView, Map<string, TrustResult>>();
/**
 * Does the role trust ssm.amazonaws.com for sts:AssumeRole (DHMC and hybrid service roles)? With a
 * scope, the Conditions on aws:SourceAccount / aws:SourceArn are decided for this account and region.
 */
export function assessSsmTrust(role: RoleView, scope?: AuditScope): TrustResult {
  let perScope = trustCache.get(role);
  if (!perScope) trustCache.set(role, (perScope = new Map()));
  const key = scopeKey(scope);
  const hit = perScope.get(key);
  if (hit) return hit;
  const result: TrustResult = role.trust
    ? trustsService(
        role.trust,
        SSM_SERVICE_PRINCIPAL,
        'sts:AssumeRole',
        scope === undefined ? undefined : ssmServiceContext(scope),
      )
    : { decision: 'notTrusted', evidence: [] };
  perScope.set(key, result);
  return result;
}

/** Which credentials the agent on this instance ends up with (seed 002: profile first, then DHMC). */
export type CredentialSource =
  | { source: 'profile'; role: RoleView; profileArn: string }
  | { source: 'dhmc'; role?: RoleView; roleName: string }
  /** The profile cannot register the agent and the DHMC setting could not be read: nobody can tell. */
  | { source: 'unknown'; availability: SectionAvailability }
  | { source: 'none' };

export function credentialSourceOf(inventory: Inventory, instance: Ec2Instance): CredentialSource {
  if (instance.instanceProfileArn) {
    const profile = inventory.instanceProfiles.get(instance.instanceProfileArn);
    const role = profile ? inventory.roles.get(profile.roleName.toLowerCase()) : undefined;
    if (role) {
      // The agent registers with the profile when its role allows UpdateInstanceInformation on this instance.
      const target = agentTargetOf(inventory, { kind: 'ec2', instanceId: instance.id });
      const registration = assessCoreActions(role, target).registration;
      if (registration === 'allowed' || registration === 'conditional') {
        return { source: 'profile', role, profileArn: instance.instanceProfileArn };
      }
    }
  }
  if (inventory.dhmc.state === 'on') {
    const roleName = inventory.dhmc.roleName;
    return { source: 'dhmc', roleName, role: inventory.roles.get(roleName.toLowerCase()) };
  }
  if (inventory.dhmc.state === 'unknown')
    return { source: 'unknown', availability: inventory.dhmc.availability };
  return { source: 'none' };
}

/** Compact evidence for statements: where each deciding statement lives. */
export function describeStatements(statements: readonly StatementEvidence[]): string[] {
  return statements.map((s) => {
    const keys = s.undecidedConditionKeys;
    const condition = s.conditional
      ? keys !== undefined && keys.length > 0
        ? ` with Condition on ${keys.join(', ')}`
        : ' with Condition'
      : '';
    return `${s.effect} ${s.source} Statement[${s.statementIndex}]${s.sid ? ` (${s.sid})` : ''}${condition}${s.scope === 'boundary' ? ' [permissions boundary]' : ''}`;
  });
}

/**
 * The facts for a role whose decisive policy documents are not in the snapshot (the rules report it as
 * ERROR POLICY_DOCUMENT_UNAVAILABLE, never a guess).
 */
export function unreadablePolicies(
  roleLabel: string,
  core: CoreAssessment,
  evidence: Evidence,
): { message: string; evidence: Evidence } {
  return {
    message: `Cannot decide ${roleLabel}: policies ${core.unresolved.join(', ')} are not in the snapshot.`,
    evidence: { ...evidence, unreadablePolicies: core.unresolved },
  };
}
