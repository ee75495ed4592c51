/**
 * Role trust policies (AssumeRolePolicyDocument): can an AWS service principal assume the role? The
 * hybrid-activation service role must trust ssm.amazonaws.com, an instance profile role ec2.amazonaws.com.
 * Condition blocks are decided against the request context the caller knows (./conditions): AWS's
 * documented confused-deputy trust (aws:SourceAccount = this account, aws:SourceArn = this account's SSM
 * ARNs in this region) is met, a trust limited to another account or region is not; a block with any
 * other key is 'conditional'. Without a context every Condition is 'conditional'.
 */
import { evaluateCondition, type RequestContext } from './conditions';
import type { PolicyDocument, PolicyStatement } from './document';
import { compileActionMatcher } from './evaluator';

export type TrustDecision = 'trusted' | 'conditional' | 'notTrusted';

export interface TrustResult {
  decision: TrustDecision;
  evidence: {
    statementIndex: number;
    sid?: string;
    effect: 'Allow' | 'Deny';
    conditional: boolean;
    /** With a context: the condition keys it could not decide. */
    undecidedConditionKeys?: string[];
  }[];
  /** With a context: statements naming the service whose Condition is known not to hold, and the keys. */
  unmetConditions?: { statementIndex: number; sid?: string; effect: 'Allow' | 'Deny'; keys: string[] }[];
}

type TrustEvidence = TrustResult['evidence'][number];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function principalValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/**
 * Does a Principal / NotPrincipal element name the service? "*" and {"AWS": "*"} name everyone, services
 * included. IAM allows no partial wildcards in principals, so other values are compared whole; service
 * principal names are DNS names, hence case-insensitive.
 */
function namesService(principal: unknown, serviceLower: string): boolean {
  if (principal === '*') return true;
  if (!isRecord(principal)) return false;
  if (principalValues(principal.AWS).includes('*')) return true;
  return principalValues(principal.Service).some(
    (name) => name === '*' || name.toLowerCase() === serviceLower,
  );
}

function appliesToService(statement: PolicyStatement, serviceLower: string): boolean {
  if (statement.Principal !== undefined) return namesService(statement.Principal, serviceLower);
  // NotPrincipal covers everyone not listed. For an Allow that over-trusts, but it does trust the service.
  if (statement.NotPrincipal !== undefined) return !namesService(statement.NotPrincipal, serviceLower);
  // A trust-policy statement without a principal names nobody (IAM rejects it as malformed).
  return false;
}

/**
 * Does this role trust policy (AssumeRolePolicyDocument) let the given AWS service principal
 * (e.g. 'ssm.amazonaws.com') call the action (default 'sts:AssumeRole')? A matching unconditional Deny
 * wins (notTrusted). A Condition on the allowing statement, or a conditional Deny that could block it,
 * makes the result 'conditional'.
 */
export function trustsService(
  doc: PolicyDocument,
  servicePrincipal: string,
  action: string = 'sts:AssumeRole',
  context?: RequestContext,
): TrustResult {
  const serviceLower = servicePrincipal.toLowerCase();
  const denies: TrustEvidence[] = [];
  const conditionalDenies: TrustEvidence[] = [];
  const allows: TrustEvidence[] = [];
  const conditionalAllows: TrustEvidence[] = [];
  const unmet: NonNullable<TrustResult['unmetConditions']> = [];

  for (const [statementIndex, statement] of doc.Statement.entries()) {
    const patterns = statement.Action ?? statement.NotAction ?? [];
    const listed = compileActionMatcher(patterns)(action) !== undefined;
    // NotAction: the statement covers every action except those listed.
    const actionMatches = statement.Action !== undefined ? listed : !listed;
    if (!actionMatches || !appliesToService(statement, serviceLower)) continue;

    const outcome = evaluateCondition(statement.Condition, context);
    const sid = statement.Sid !== undefined ? { sid: statement.Sid } : {};
    if (outcome.result === 'notMet') {
      // The service's request never satisfies this statement: it neither grants nor denies.
      unmet.push({ statementIndex, ...sid, effect: statement.Effect, keys: outcome.keys });
      continue;
    }
    const conditional = outcome.result === 'unknown';
    const evidence: TrustEvidence = {
      statementIndex,
      ...sid,
      effect: statement.Effect,
      conditional,
      ...(conditional && context !== undefined ? { undecidedConditionKeys: outcome.keys } : {}),
    };
    if (statement.Effect === 'Deny') (conditional ? conditionalDenies : denies).push(evidence);
    else (conditional ? conditionalAllows : allows).push(evidence);
  }

  const extra = unmet.length > 0 ? { unmetConditions: unmet } : {};
  if (denies.length > 0) return { decision: 'notTrusted', evidence: denies, ...extra };
  if (allows.length > 0) {
    return conditionalDenies.length > 0
      ? { decision: 'conditional', evidence: [...allows, ...conditionalDenies], ...extra }
      : { decision: 'trusted', evidence: allows, ...extra };
  }
  if (conditionalAllows.length > 0) {
    return { decision: 'conditional', evidence: [...conditionalAllows, ...conditionalDenies], ...extra };
  }
  return { decision: 'notTrusted', evidence: [], ...extra };
}
