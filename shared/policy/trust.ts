/**
 * Role trust policies (AssumeRolePolicyDocument): can an AWS service principal assume the role? The
 * hybrid-activation service role must trust ssm.amazonaws.com, an instance profile role ec2.amazonaws.com.
 * Like the evaluator, Condition blocks are reported, not evaluated.
 */
import type { PolicyDocument, PolicyStatement } from './document';
import { compileActionMatcher } from './evaluator';

export type TrustDecision = 'trusted' | 'conditional' | 'notTrusted';

export interface TrustResult {
  decision: TrustDecision;
  evidence: { statementIndex: number; sid?: string; effect: 'Allow' | 'Deny'; conditional: boolean }[];
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
): TrustResult {
  const serviceLower = servicePrincipal.toLowerCase();
  const denies: TrustEvidence[] = [];
  const conditionalDenies: TrustEvidence[] = [];
  const allows: TrustEvidence[] = [];
  const conditionalAllows: TrustEvidence[] = [];

  for (const [statementIndex, statement] of doc.Statement.entries()) {
    const patterns = statement.Action ?? statement.NotAction ?? [];
    const listed = compileActionMatcher(patterns)(action) !== undefined;
    // NotAction: the statement covers every action except those listed.
    const actionMatches = statement.Action !== undefined ? listed : !listed;
    if (!actionMatches || !appliesToService(statement, serviceLower)) continue;

    const conditional = statement.Condition !== undefined && Object.keys(statement.Condition).length > 0;
    const evidence: TrustEvidence = {
      statementIndex,
      ...(statement.Sid !== undefined ? { sid: statement.Sid } : {}),
      effect: statement.Effect,
      conditional,
    };
    if (statement.Effect === 'Deny') (conditional ? conditionalDenies : denies).push(evidence);
    else (conditional ? conditionalAllows : allows).push(evidence);
  }

  if (denies.length > 0) return { decision: 'notTrusted', evidence: denies };
  if (allows.length > 0) {
    return conditionalDenies.length > 0
      ? { decision: 'conditional', evidence: [...allows, ...conditionalDenies] }
      : { decision: 'trusted', evidence: allows };
  }
  if (conditionalAllows.length > 0) {
    return { decision: 'conditional', evidence: [...conditionalAllows, ...conditionalDenies] };
  }
  return { decision: 'notTrusted', evidence: [] };
}
