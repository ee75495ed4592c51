import type { Evidence, Severity, Status } from '../model';
import type { RequestContext } from '../policy/conditions';
import {
  CompiledPolicySet,
  type NamedPolicy,
  type SetDecision,
  type StatementEvidence,
} from '../policy/evaluator';
import { CORE_AGENT_ACTIONS, agentActionResource } from '../knowledge/ssm-requirements';
import type { Inventory, OrganizationsView, RoleView, ScpLevel, ScpTarget } from '../snapshot/inventory';
import { SECTIONS } from '../snapshot/schema';
import { agentRequestContext, nodeArnOf, type AgentTarget } from './permissions';

/**
 * Service control policies as one more layer for the agent's requests (DESIGN §7), decided with the same
 * IAM evaluator and the same questions as the role's own policies (each core action on the resource its
 * request names). What AWS documents (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html):
 * - "For a permission to be allowed for a specific account, there must be an explicit Allow statement at
 *   every level from the root through each OU in the direct path to the account (including the target
 *   account itself)": each level of the chain is its own policy set, and a level whose SCPs allow nothing
 *   denies implicitly (FullAWSAccess is the usual Allow *);
 * - an explicit Deny at any level denies;
 * - SCPs do not affect users or roles in the management account, nor service-linked roles
 *   (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html).
 * A policy or a level the snapshot could not read is never guessed: the answer is 'unreadable' unless a
 * readable part already denies for certain.
 */

export const SCP_EVALUATION_URL =
  'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html';
export const SCP_OVERVIEW_URL =
  'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html';

/** Where a statement of an SCP lives: the policy, the target it is attached to, its index and Sid. */
export interface ScpStatementRef extends Omit<StatementEvidence, 'source' | 'scope'> {
  policyId: string;
  policyName?: string;
  target: ScpTarget;
}

/** One core action that one level of the chain does not let through. */
export interface ScpBlock {
  action: string;
  /** The resource the agent's request names ("*" for the message services; a pattern for activations). */
  resource: string;
  /**
   * explicitDeny: a Deny statement applies; notAllowed: no SCP of the level allows it; partial: allowed for
   * some of the resources asked about only; conditional: a Condition the audit cannot decide decides it.
   */
  decision: 'explicitDeny' | 'notAllowed' | 'partial' | 'conditional';
  target: ScpTarget;
  /** The Deny statements (explicitDeny, partial), or the statements under undecided Conditions. */
  statements: ScpStatementRef[];
  /** The SCPs attached at that level (what an implicit deny is about). */
  attached: { id: string; name?: string }[];
}

/** Something the snapshot lacks for the decision. */
export interface ScpGap {
  kind: 'chain' | 'targetPolicies' | 'policyContent' | 'managementAccount';
  detail: string;
  /** The call whose result is missing (what to grant the auditor). */
  call: string;
  target?: ScpTarget;
  policyId?: string;
}

export type ScpAssessment =
  /** No `organizations` section: the layer is not evaluated (single-account use). */
  | { status: 'notCollected' }
  | { status: 'notApplicable'; why: 'managementAccount' | 'serviceLinkedRole' | 'noScpAttached' }
  | { status: 'allowed'; chain: ScpTarget[] }
  | { status: 'conditional'; chain: ScpTarget[]; blocks: ScpBlock[] }
  /** Certain: a readable Deny, or a fully readable level without an Allow. `gaps` lists what was unreadable besides. */
  | { status: 'denied'; chain: ScpTarget[]; blocks: ScpBlock[]; gaps: ScpGap[] }
  /** `blocks` may hold denials that stay undecided only because the management account is unknown. */
  | { status: 'unreadable'; chain: ScpTarget[]; gaps: ScpGap[]; blocks: ScpBlock[] };

const [LIST_PARENTS, LIST_POLICIES, DESCRIBE_POLICY] = SECTIONS.organizations;
const DESCRIBE_ORGANIZATION = 'organizations:DescribeOrganization';

const TYPE_LABEL: Record<ScpTarget['type'], string> = {
  ROOT: 'root',
  ORGANIZATIONAL_UNIT: 'OU',
  ACCOUNT: 'account',
};

/** `OU Workloads (ou-ab12-11111111)`, `root Root (r-ab12)`, `account prod (123456789012)`. */
export function targetLabel(target: ScpTarget): string {
  return `${TYPE_LABEL[target.type]} ${target.name ? `${target.name} (${target.id})` : target.id}`;
}

/** `FullAWSAccess (p-FullAWSAccess)`. */
export function scpLabel(policy: { id: string; name?: string }): string {
  return policy.name ? `${policy.name} (${policy.id})` : policy.id;
}

/** `Statement[0] (DenySsm)`. */
export function statementLabel(statement: { statementIndex: number; sid?: string }): string {
  return `Statement[${statement.statementIndex}]${statement.sid ? ` (${statement.sid})` : ''}`;
}

/** `Deny SCP DenySsm (p-1) attached to OU Workloads (ou-1) Statement[0] (DenySsm)`. */
export function describeScpStatement(statement: ScpStatementRef): string {
  const keys = statement.undecidedConditionKeys;
  const condition = statement.conditional
    ? keys !== undefined && keys.length > 0
      ? ` with Condition on ${keys.join(', ')}`
      : ' with Condition'
    : '';
  return `${statement.effect} SCP ${scpLabel({ id: statement.policyId, name: statement.policyName })} attached to ${targetLabel(statement.target)} ${statementLabel(statement)}${condition}`;
}

/** Service-linked roles live under /aws-service-role/ (IAM User Guide, "Using service-linked roles"). */
function isServiceLinked(role: RoleView): boolean {
  return role.arn.includes(':role/aws-service-role/');
}

/**
 * What the audit knows of the agent's request as SCP conditions see it: the agent's account and region,
 * the role it signs with (aws:PrincipalArn is "the ARN of the role, not the ARN of the user that assumed
 * the role", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html) and
 * the Organization it belongs to.
 */
function scpRequestContext(target: AgentTarget, role: RoleView, organizationId?: string): RequestContext {
  return {
    ...agentRequestContext(target),
    'aws:principalarn': { kind: 'value', value: role.arn },
    ...(organizationId !== undefined
      ? { 'aws:principalorgid': { kind: 'value', value: organizationId } }
      : {}),
  };
}

interface CompiledLevel {
  target: ScpTarget;
  attached: { id: string; name?: string }[];
  /** Every attached SCP was listed and read: a missing Allow is a certain implicit deny. */
  complete: boolean;
  set: CompiledPolicySet;
  names: ReadonlyMap<string, string | undefined>;
}

type Collected = Extract<OrganizationsView, { state: 'collected' }>;

const compiledLevels = new WeakMap<Collected, Map<string, CompiledLevel[]>>();

function levelsFor(view: Collected, chain: readonly ScpLevel[], context: RequestContext, key: string) {
  let perKey = compiledLevels.get(view);
  if (!perKey) compiledLevels.set(view, (perKey = new Map()));
  let levels = perKey.get(key);
  if (!levels) {
    levels = chain.map((level) => {
      const policies = level.policies ?? [];
      const readable: NamedPolicy[] = policies.flatMap((p) =>
        p.document ? [{ source: p.id, document: p.document }] : [],
      );
      return {
        target: { id: level.id, type: level.type, ...(level.name ? { name: level.name } : {}) },
        attached: policies.map((p) => ({ id: p.id, ...(p.name ? { name: p.name } : {}) })),
        complete: level.policies !== undefined && readable.length === policies.length && policies.length > 0,
        set: new CompiledPolicySet({ identityPolicies: readable, context }),
        names: new Map(policies.map((p) => [p.id, p.name])),
      };
    });
    if (perKey.size >= 1024) perKey.clear();
    perKey.set(key, levels);
  }
  return levels;
}

function gapsOf(view: Collected, accountId: string): ScpGap[] {
  const failure = (call: string) => {
    const record = view.failedCalls.find((f) => f.call === call);
    return record
      ? ` (${call} ${record.status === 'denied' ? 'was denied' : 'failed'}: ${record.error})`
      : '';
  };
  const gaps: ScpGap[] = [];
  const chain = view.chain;
  if (chain === undefined || chain.length === 0) {
    gaps.push({
      kind: 'chain',
      call: LIST_PARENTS!,
      detail: `the chain root → OU(s) → account is not in the snapshot${failure(LIST_PARENTS!)}`,
    });
    return gaps;
  }
  if (chain[0]!.type !== 'ROOT')
    gaps.push({
      kind: 'chain',
      call: LIST_PARENTS!,
      detail: `the chain does not start at the organization root${failure(LIST_PARENTS!)}`,
    });
  const last = chain[chain.length - 1]!;
  if (last.type !== 'ACCOUNT' || last.id !== accountId)
    gaps.push({
      kind: 'chain',
      call: LIST_PARENTS!,
      detail: `the chain does not end at account ${accountId}${failure(LIST_PARENTS!)}`,
    });
  for (const level of chain) {
    const target: ScpTarget = { id: level.id, type: level.type, ...(level.name ? { name: level.name } : {}) };
    if (level.policies === undefined) {
      gaps.push({
        kind: 'targetPolicies',
        call: LIST_POLICIES!,
        target,
        detail: `the SCPs attached to ${targetLabel(target)} are not in the snapshot${failure(LIST_POLICIES!)}`,
      });
      continue;
    }
    if (level.policies.length === 0) {
      // Organizations keeps at least one SCP on every target while SCPs are enabled: an empty list among
      // non-empty ones is a collection gap, not an Allow-nothing level.
      gaps.push({
        kind: 'targetPolicies',
        call: LIST_POLICIES!,
        target,
        detail: `no SCP is listed for ${targetLabel(target)}, although every target keeps at least one while SCPs are enabled`,
      });
    }
    for (const policy of level.policies) {
      if (policy.document === undefined)
        gaps.push({
          kind: 'policyContent',
          call: DESCRIBE_POLICY!,
          target,
          policyId: policy.id,
          detail: `the content of SCP ${scpLabel(policy)} attached to ${targetLabel(target)} is not in the snapshot${failure(DESCRIBE_POLICY!)}`,
        });
    }
  }
  return gaps;
}

function refsOf(
  evidence: readonly StatementEvidence[],
  level: CompiledLevel,
  effect?: 'Allow' | 'Deny',
): ScpStatementRef[] {
  return evidence
    .filter((e) => effect === undefined || e.effect === effect)
    .map((e) => ({
      policyId: e.source,
      ...(level.names.get(e.source) ? { policyName: level.names.get(e.source)! } : {}),
      target: level.target,
      statementIndex: e.statementIndex,
      ...(e.sid !== undefined ? { sid: e.sid } : {}),
      effect: e.effect,
      ...(e.matchedAction !== undefined ? { matchedAction: e.matchedAction } : {}),
      ...(e.matchedResource !== undefined ? { matchedResource: e.matchedResource } : {}),
      conditional: e.conditional,
      ...(e.undecidedConditionKeys ? { undecidedConditionKeys: e.undecidedConditionKeys } : {}),
    }));
}

/**
 * Do the SCPs in force for the account let the agent, signing with `role`, make its core requests for
 * `target`? Each action is asked on the resource its request names, at every level of the chain.
 */
export function assessScp(inventory: Inventory, role: RoleView, target: AgentTarget): ScpAssessment {
  const view = inventory.organizations;
  if (view.state === 'notCollected') return { status: 'notCollected' };
  if (view.state === 'unavailable') {
    const { call, status, error } = view.availability;
    return {
      status: 'unreadable',
      chain: [],
      blocks: [],
      gaps: [
        {
          kind: 'chain',
          call,
          detail: `the SCPs of the account could not be read (${call} ${status === 'denied' ? 'was denied' : 'failed'}${error ? `: ${error}` : ''})`,
        },
      ],
    };
  }
  // "SCPs don't affect users or roles in the management account."
  if (view.managementAccountId === target.accountId)
    return { status: 'notApplicable', why: 'managementAccount' };
  // "SCPs do not affect any service-linked role."
  if (isServiceLinked(role)) return { status: 'notApplicable', why: 'serviceLinkedRole' };

  const chainLevels = view.chain ?? [];
  const chain: ScpTarget[] = chainLevels.map((l) => ({
    id: l.id,
    type: l.type,
    ...(l.name ? { name: l.name } : {}),
  }));
  // No SCP attached anywhere: the SCP policy type is not enabled, so nothing restricts the account.
  if (chainLevels.length > 0 && chainLevels.every((l) => l.policies !== undefined && l.policies.length === 0))
    return { status: 'notApplicable', why: 'noScpAttached' };

  const gaps = gapsOf(view, target.accountId);
  const context = scpRequestContext(target, role, view.organizationId);
  const levels = levelsFor(view, chainLevels, context, `${role.arn}|${target.region}|${target.accountId}`);
  const nodeArn = nodeArnOf(target);
  const certain: ScpBlock[] = [];
  const conditional: ScpBlock[] = [];
  for (const action of CORE_AGENT_ACTIONS) {
    const resource = agentActionResource(action, nodeArn);
    for (const level of levels) {
      let decision: SetDecision;
      let evidence: readonly StatementEvidence[];
      if (target.node.kind === 'anyHybrid' && resource !== '*') {
        const answer = level.set.evaluateResourceSet(action, resource);
        decision = answer.undecided && answer.decision === 'allowed' ? 'conditional' : answer.decision;
        evidence = answer.evidence;
      } else {
        const answer = level.set.evaluate(action, resource);
        decision = answer.decision;
        evidence = answer.evidence;
      }
      if (decision === 'allowed') continue;
      const block = (kind: ScpBlock['decision'], statements: ScpStatementRef[]): ScpBlock => ({
        action,
        resource,
        decision: kind,
        target: level.target,
        statements,
        attached: level.attached,
      });
      if (decision === 'explicitDeny') {
        // A readable Deny denies whatever the unreadable policies say.
        certain.push(block('explicitDeny', refsOf(evidence, level, 'Deny')));
      } else if (decision === 'notAllowed' || decision === 'partial') {
        // Without an Allow the level denies, unless the Allow hides in a policy the snapshot lacks.
        if (level.complete) certain.push(block(decision, refsOf(evidence, level, 'Deny')));
      } else {
        conditional.push(
          block(
            'conditional',
            refsOf(evidence, level).filter((s) => s.conditional),
          ),
        );
      }
    }
  }
  if (certain.length > 0) {
    // A denial holds only outside the management account: unknown which account that is, it is not a finding.
    if (view.managementAccountId === undefined)
      return {
        status: 'unreadable',
        chain,
        blocks: certain,
        gaps: [
          ...gaps,
          {
            kind: 'managementAccount',
            call: DESCRIBE_ORGANIZATION,
            detail: `the snapshot does not say which account is the organization's management account, where SCPs do not apply`,
          },
        ],
      };
    return { status: 'denied', chain, blocks: certain, gaps };
  }
  if (gaps.length > 0) return { status: 'unreadable', chain, gaps, blocks: [] };
  if (conditional.length > 0) return { status: 'conditional', chain, blocks: conditional };
  return { status: 'allowed', chain };
}

// ---------------------------------------------------------------------------------------------------
// The SCP reasons, declared once for every rule that checks the agent's credentials

const ATTACH_SCP_URL = 'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_policies_attach.html';

/** The reason declarations (ReasonTable-shaped) the permission rules spread into their `meta.reasons`. */
export const SCP_REASONS = {
  SCP_DENIES_AGENT: {
    status: 'FAIL',
    remediation: {
      // `{name}` placeholders are filled from the outcome's params.
      explicitDeny: `In the organization's management account, remove or narrow {statement} of SCP {policyName} ({policyId}) attached to {targetLabel} so it no longer denies {actions} to role {roleName} (aws organizations describe-policy --policy-id {policyId}, then aws organizations update-policy --policy-id {policyId} --content file://scp.json); an explicit Deny in any SCP of the chain root → OU → account wins (${SCP_EVALUATION_URL}).`,
      notAllowed: `In the organization's management account, attach an SCP that allows {actions} to {targetLabel}, e.g. FullAWSAccess: aws organizations attach-policy --policy-id p-FullAWSAccess --target-id {targetId}. SCPs need an Allow at every level from the root to the account (${SCP_EVALUATION_URL}, ${ATTACH_SCP_URL}).`,
    },
  },
  SCP_CONDITIONAL: {
    status: 'WARN',
    remediation: `Check that the Conditions of {statements} let role {roleName} call {actions}, or exempt the role from them; the audit cannot decide {conditionKeys} (${SCP_EVALUATION_URL}).`,
  },
  SCP_UNREADABLE: {
    status: 'ERROR',
    remediation: `Let the auditor read the service control policies of the account: allow {calls} for its principal in the organization's management account or a delegated administrator account, then re-run the audit (${SCP_OVERVIEW_URL}).`,
  },
} as const satisfies {
  readonly [code: string]: {
    readonly status: Status;
    readonly severity?: Severity;
    readonly remediation: string | { readonly [variant: string]: string };
  };
};

/** What an SCP assessment adds to a finding that otherwise stands: its evidence, and an override when it decides. */
export type ScpOverride =
  | {
      reason: 'SCP_DENIES_AGENT';
      message: string;
      evidence: Evidence;
      variant: 'explicitDeny';
      params: {
        statement: string;
        policyName: string;
        policyId: string;
        targetLabel: string;
        actions: string;
        roleName: string;
      };
    }
  | {
      reason: 'SCP_DENIES_AGENT';
      message: string;
      evidence: Evidence;
      variant: 'notAllowed';
      params: { actions: string; targetLabel: string; targetId: string };
    }
  | {
      reason: 'SCP_CONDITIONAL';
      message: string;
      evidence: Evidence;
      params: { statements: string; roleName: string; actions: string; conditionKeys: string };
    }
  | { reason: 'SCP_UNREADABLE'; message: string; evidence: Evidence; params: { calls: string } };

const NOT_APPLICABLE_NOTE: Record<Extract<ScpAssessment, { status: 'notApplicable' }>['why'], string> = {
  managementAccount: `does not apply: the management account (SCPs do not affect it, ${SCP_OVERVIEW_URL})`,
  serviceLinkedRole: `does not apply: a service-linked role (SCPs do not affect it, ${SCP_OVERVIEW_URL})`,
  noScpAttached: 'does not apply: no SCP is attached anywhere in the chain (SCPs are not enabled)',
};

/** The `scp` evidence of a finding the SCP layer leaves as it is. */
export function scpNote(assessment: ScpAssessment): Evidence[string] {
  switch (assessment.status) {
    case 'notCollected':
      return 'not collected';
    case 'notApplicable':
      return NOT_APPLICABLE_NOTE[assessment.why];
    case 'allowed':
      return { decision: 'allows', chain: assessment.chain.map(targetLabel) };
    default:
      return { decision: assessment.status };
  }
}

/** Blocks grouped by level, decision and deciding statements: one entry per cause, with its actions. */
function blockEvidence(blocks: readonly ScpBlock[]) {
  const groups = new Map<string, { blocks: ScpBlock[]; statements: string[] }>();
  for (const b of blocks) {
    const statements = b.statements.map(describeScpStatement);
    const key = `${b.target.id}|${b.decision}|${statements.join(';')}`;
    const group = groups.get(key);
    if (group) group.blocks.push(b);
    else groups.set(key, { blocks: [b], statements });
  }
  return [...groups.values()].map(({ blocks: members, statements }) => {
    const first = members[0]!;
    return {
      target: targetLabel(first.target),
      decision: first.decision,
      actions: members.map((b) => (b.resource === '*' ? b.action : `${b.action} on ${b.resource}`)),
      ...(statements.length > 0 ? { statements } : {}),
      ...(first.decision === 'notAllowed' || first.decision === 'partial'
        ? { attachedScps: first.attached.map(scpLabel) }
        : {}),
    };
  });
}

const unique = <T>(items: readonly T[]) => [...new Set(items)];

/**
 * The outcome facts when the SCP layer decides the finding (denied, conditional, unreadable), else
 * undefined: the finding stands with `scpNote` in its evidence. `roleName` is the role the agent signs with.
 */
export function scpOverride(assessment: ScpAssessment, roleName: string): ScpOverride | undefined {
  if (assessment.status === 'denied') {
    const evidence: Evidence = {
      scp: 'denies',
      role: roleName,
      chain: assessment.chain.map(targetLabel),
      blockedBy: blockEvidence(assessment.blocks),
      ...(assessment.gaps.length ? { unreadable: assessment.gaps.map((g) => g.detail) } : {}),
      reference: SCP_EVALUATION_URL,
    };
    // A Deny statement names the fix (explicitDeny, or partial because a Deny takes some resources).
    const explicit = assessment.blocks.find((b) => b.statements.some((s) => s.effect === 'Deny'));
    if (explicit) {
      const statement = explicit.statements.find((s) => s.effect === 'Deny')!;
      // Every action this same statement denies, each with the resource its request names.
      const denied = assessment.blocks.filter((b) =>
        b.statements.some(
          (s) =>
            s.policyId === statement.policyId &&
            s.target.id === statement.target.id &&
            s.statementIndex === statement.statementIndex,
        ),
      );
      const actions = unique(denied.map((b) => b.action));
      const asked = unique(
        denied.map((b) => (b.resource === '*' ? b.action : `${b.action} on ${b.resource}`)),
      );
      const others = unique(assessment.blocks.map((b) => b.action)).filter((a) => !actions.includes(a));
      const policy = scpLabel({ id: statement.policyId, name: statement.policyName });
      return {
        reason: 'SCP_DENIES_AGENT',
        message: `SCP ${policy} attached to ${targetLabel(statement.target)} denies ${asked.join(', ')} to role ${roleName}: ${statementLabel(statement)}${others.length ? `; the SCPs also block ${others.join(', ')}` : ''}.`,
        evidence,
        variant: 'explicitDeny',
        params: {
          statement: statementLabel(statement),
          policyName: statement.policyName ?? statement.policyId,
          policyId: statement.policyId,
          targetLabel: targetLabel(statement.target),
          actions: actions.join(', '),
          roleName,
        },
      };
    }
    const first = assessment.blocks[0]!;
    const actions = unique(
      assessment.blocks.filter((b) => b.target.id === first.target.id).map((b) => b.action),
    );
    const others = unique(assessment.blocks.map((b) => b.action)).filter((a) => !actions.includes(a));
    const how = first.decision === 'partial' ? 'allows only for some of the resources asked' : 'allows';
    return {
      reason: 'SCP_DENIES_AGENT',
      message: `No SCP attached to ${targetLabel(first.target)} ${how} ${actions.join(', ')} (attached: ${first.attached.map(scpLabel).join(', ')}); SCPs need an Allow at every level from the root to the account, so the agent's role ${roleName} is denied${others.length ? `; the SCPs also block ${others.join(', ')}` : ''}.`,
      evidence,
      variant: 'notAllowed',
      params: {
        actions: actions.join(', '),
        targetLabel: targetLabel(first.target),
        targetId: first.target.id,
      },
    };
  }
  if (assessment.status === 'conditional') {
    const statements = unique(assessment.blocks.flatMap((b) => b.statements.map(describeScpStatement)));
    const keys = unique(
      assessment.blocks.flatMap((b) => b.statements.flatMap((s) => s.undecidedConditionKeys ?? [])),
    );
    const actions = unique(assessment.blocks.map((b) => b.action));
    return {
      reason: 'SCP_CONDITIONAL',
      message: `The SCPs let role ${roleName} call ${actions.join(', ')} only under a Condition the audit cannot decide (${statements.join('; ')}).`,
      evidence: {
        scp: 'conditional',
        role: roleName,
        chain: assessment.chain.map(targetLabel),
        conditional: blockEvidence(assessment.blocks),
        reference: SCP_EVALUATION_URL,
      },
      params: {
        statements: statements.join('; ') || 'the SCPs of the chain',
        roleName,
        actions: actions.join(', '),
        conditionKeys: keys.join(', ') || 'the condition keys',
      },
    };
  }
  if (assessment.status === 'unreadable') {
    const calls = unique(assessment.gaps.map((g) => g.call));
    return {
      reason: 'SCP_UNREADABLE',
      message: `Cannot decide whether the service control policies let the agent's role ${roleName} in: ${assessment.gaps.map((g) => g.detail).join('; ')}.`,
      evidence: {
        scp: 'unreadable',
        role: roleName,
        chain: assessment.chain.map(targetLabel),
        unreadable: assessment.gaps.map((g) => g.detail),
        calls,
        ...(assessment.blocks.length ? { wouldBlock: blockEvidence(assessment.blocks) } : {}),
      },
      params: { calls: calls.join(', ') },
    };
  }
  return undefined;
}
