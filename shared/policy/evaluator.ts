/**
 * A small IAM policy evaluator for one principal: its identity policies plus an optional permissions
 * boundary (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 * It does not evaluate Condition blocks; it reports them instead, as 'conditional', because the auditor
 * cannot know the request context (source VPC, tags, time of day ...) the agent will present.
 *
 * Hot path: 100,000 instances share a few hundred roles, and each instance asks the same couple of dozen
 * (action, resource) questions. So documents are compiled once (cached per document object) and each set
 * memoizes its answers. Wildcards are matched by the hand-written matcher in ./wildcard, never by a RegExp
 * built from policy text: patterns come from customers, and a backtracking regex can stall for minutes.
 */
import type { PolicyDocument, PolicyStatement, StringOrList } from './document';
import { compileWildcard, type WildcardMatcher, type WildcardToken } from './wildcard';

export interface NamedPolicy {
  /** e.g. 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' or 'inline:MyRole/MyPolicy'. */
  source: string;
  document: PolicyDocument;
}

export type Decision = 'allowed' | 'conditional' | 'notAllowed' | 'explicitDeny';

export interface StatementEvidence {
  source: string;
  /** Zero-based index into the document's (normalized) Statement array. */
  statementIndex: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  /** The Action pattern that matched, or 'NotAction'. */
  matchedAction?: string;
  /** The Resource pattern that matched, or 'NotResource' ('*' when the statement has no Resource). */
  matchedResource?: string;
  /** The statement has a Condition, or matched only through a policy variable such as ${aws:username}. */
  conditional: boolean;
  scope: 'identity' | 'boundary';
}

export interface PolicyDecision {
  decision: Decision;
  /**
   * The statements that decided it: the Deny(s) for explicitDeny; the Allow(s) (identity and boundary,
   * plus any conditional Deny that kept it from 'allowed') for allowed/conditional; empty for notAllowed.
   */
  evidence: StatementEvidence[];
  /** For notAllowed: which side failed. */
  missingIn?: 'identity' | 'boundary';
}

export interface PolicySetInput {
  identityPolicies: NamedPolicy[];
  permissionsBoundary?: NamedPolicy;
}

// ---------------------------------------------------------------------------------------------------
// Pattern compilation

function toList(value: StringOrList): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

/** Returns the pattern (as written in the policy) that matched a lower-cased action, or undefined. */
type ActionMatch = (actionLower: string) => string | undefined;

function compileActionList(patterns: readonly string[]): ActionMatch {
  let matchAll: string | undefined;
  const exact = new Map<string, string>();
  const globs: { pattern: string; test: WildcardMatcher }[] = [];
  for (const pattern of patterns) {
    // Action names are case-insensitive in IAM, so both sides are compared lower-cased.
    const lower = pattern.toLowerCase();
    if (lower === '*') {
      matchAll ??= pattern;
    } else if (!lower.includes('*') && !lower.includes('?')) {
      if (!exact.has(lower)) exact.set(lower, pattern);
    } else {
      // In actions `*` may span anything (there is no segment structure to respect); `?` is one character.
      globs.push({ pattern, test: compileWildcard(lower) });
    }
  }
  return (actionLower) => {
    // Report the most specific pattern: an exact name reads better in evidence than 'ssm:*' or '*'.
    const hit = exact.get(actionLower);
    if (hit !== undefined) return hit;
    for (const glob of globs) if (glob.test(actionLower)) return glob.pattern;
    return matchAll;
  };
}

/**
 * Compiles Action-style patterns (`*` and `?` wildcards, case-insensitive) into a matcher that returns the
 * pattern that matched `action`, or undefined. Shared with the trust-policy check.
 */
export function compileActionMatcher(patterns: StringOrList): (action: string) => string | undefined {
  const match = compileActionList(toList(patterns));
  return (action) => match(action.toLowerCase());
}

interface ResourcePattern {
  pattern: string;
  /** The pattern contains a policy variable, so a match only shows the grant *can* apply. */
  usesVariable: boolean;
  /** The pattern is (or reduces to) a bare `*`: the only pattern that covers the resource '*'. */
  matchesEverything: boolean;
  test: (resource: string) => boolean;
}

function tokenizeResource(
  pattern: string,
  variablesEnabled: boolean,
): { tokens: WildcardToken[]; usesVariable: boolean } {
  const tokens: WildcardToken[] = [];
  let usesVariable = false;
  // Once no '}' is left, later '${' cannot open a variable: do not rescan the rest of the pattern for each.
  let closable = true;
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern.charAt(i);
    if (closable && variablesEnabled && ch === '$' && pattern.charAt(i + 1) === '{') {
      const end = pattern.indexOf('}', i + 2);
      if (end === -1) closable = false;
      else {
        const name = pattern.slice(i + 2, end);
        // ${*}, ${?} and ${$} are IAM's escapes for the literal characters, not variables.
        if (name === '*' || name === '?' || name === '$') {
          tokens.push({ kind: 'literal', text: name });
        } else {
          // The value (aws:username, aws:PrincipalTag/x ...) is only known at request time: match it like `*`
          // and let the caller report the grant as conditional.
          tokens.push({ kind: 'star' });
          usesVariable = true;
        }
        i = end + 1;
        continue;
      }
    }
    if (ch === '*') tokens.push({ kind: 'star' });
    else if (ch === '?') tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'literal', text: ch });
    i += 1;
  }
  return { tokens, usesVariable };
}

/**
 * Resource patterns are case-sensitive. In an ARN pattern the first five segments
 * (arn:partition:service:region:account) are matched one by one, so `*` and `?` there never cross a colon
 * (`arn:aws:ssm:*:123456789012:*` must not match another account); the resource part after the fifth
 * colon is a free glob in which `*` spans '/' and ':'. An ARN pattern with fewer than six segments treats
 * its last segment as the free part. Non-ARN patterns are free globs throughout.
 */
function compileResourcePattern(pattern: string, variablesEnabled: boolean): ResourcePattern {
  const { tokens, usesVariable } = tokenizeResource(pattern, variablesEnabled);
  // `*`, `**` or a lone variable: no literal to anchor on, so every value (the literal '*' included) fits.
  const matchesEverything = tokens.length > 0 && tokens.every((token) => token.kind === 'star');
  if (matchesEverything) return { pattern, usesVariable, matchesEverything, test: () => true };

  if (tokens.every((token) => token.kind === 'literal')) {
    const literal = tokens.map((token) => (token.kind === 'literal' ? token.text : '')).join('');
    return { pattern, usesVariable, matchesEverything, test: (resource) => resource === literal };
  }

  return { pattern, usesVariable, matchesEverything, test: compileWildcard(tokens, { arn: true }) };
}

interface ResourceMatch {
  label: string;
  uncertain: boolean;
}

type ResourceMatcher = (resource: string) => ResourceMatch | undefined;

/**
 * The resource '*' stands for "no specific resource" (actions without resource-level permissions, or a
 * question about the action in general). Only a pattern that is `*` itself is read as covering it: a
 * narrower pattern such as `arn:aws:s3:::bucket/*` grants some resources, not every one, so counting it
 * would overstate what the principal can do.
 */
function resourceHits(pattern: ResourcePattern, resource: string): boolean {
  return resource === '*' ? pattern.matchesEverything : pattern.test(resource);
}

function compileResourceMatcher(statement: PolicyStatement, variablesEnabled: boolean): ResourceMatcher {
  if (statement.Resource === undefined && statement.NotResource === undefined) {
    // No Resource element (endpoint and trust policies): the statement covers every resource.
    const always: ResourceMatch = { label: '*', uncertain: false };
    return () => always;
  }
  const negated = statement.Resource === undefined;
  const patterns = toList(statement.Resource ?? statement.NotResource ?? []).map((p) =>
    compileResourcePattern(p, variablesEnabled),
  );
  const certain = patterns.filter((p) => !p.usesVariable);
  const withVariables = patterns.filter((p) => p.usesVariable);

  if (negated) {
    const applies: ResourceMatch = { label: 'NotResource', uncertain: false };
    const mayApply: ResourceMatch = { label: 'NotResource', uncertain: true };
    return (resource) => {
      if (certain.some((p) => resourceHits(p, resource))) return undefined;
      // A variable pattern that could match might exclude the resource at request time, or might not.
      return withVariables.some((p) => resourceHits(p, resource)) ? mayApply : applies;
    };
  }
  const certainMatches = new Map(certain.map((p) => [p, { label: p.pattern, uncertain: false }]));
  const variableMatches = new Map(withVariables.map((p) => [p, { label: p.pattern, uncertain: true }]));
  return (resource) => {
    for (const [p, match] of certainMatches) if (resourceHits(p, resource)) return match;
    for (const [p, match] of variableMatches) if (resourceHits(p, resource)) return match;
    return undefined;
  };
}

interface CompiledStatement {
  index: number;
  sid: string | undefined;
  effect: 'Allow' | 'Deny';
  hasCondition: boolean;
  matchAction: ActionMatch;
  matchResource: ResourceMatcher;
}

function compileStatement(
  statement: PolicyStatement,
  index: number,
  variablesEnabled: boolean,
): CompiledStatement {
  let matchAction: ActionMatch;
  if (statement.Action !== undefined) {
    matchAction = compileActionList(toList(statement.Action));
  } else {
    // NotAction: the statement applies to every action except those listed.
    const excluded = compileActionList(toList(statement.NotAction ?? []));
    matchAction = (actionLower) => (excluded(actionLower) === undefined ? 'NotAction' : undefined);
  }
  return {
    index,
    sid: statement.Sid,
    effect: statement.Effect,
    // An empty Condition block constrains nothing; any condition key at all makes the outcome unknowable here.
    hasCondition: statement.Condition !== undefined && Object.keys(statement.Condition).length > 0,
    matchAction,
    matchResource: compileResourceMatcher(statement, variablesEnabled),
  };
}

/** Compiled statements per document object: managed policies are attached to many roles. */
const compiledDocuments = new WeakMap<PolicyDocument, CompiledStatement[]>();

/** Documents are treated as immutable once compiled. */
function compileDocument(document: PolicyDocument): CompiledStatement[] {
  let compiled = compiledDocuments.get(document);
  if (compiled === undefined) {
    // IAM substitutes ${...} variables only under Version 2012-10-17; otherwise they are literal text.
    const variablesEnabled = document.Version === '2012-10-17';
    compiled = document.Statement.map((statement, index) =>
      compileStatement(statement, index, variablesEnabled),
    );
    compiledDocuments.set(document, compiled);
  }
  return compiled;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

type Scope = StatementEvidence['scope'];

interface BoundStatement {
  statement: CompiledStatement;
  source: string;
  scope: Scope;
}

interface SideMatches {
  denies: StatementEvidence[];
  conditionalDenies: StatementEvidence[];
  allows: StatementEvidence[];
  conditionalAllows: StatementEvidence[];
}

interface SideDecision {
  decision: 'allowed' | 'conditional' | 'notAllowed';
  evidence: StatementEvidence[];
}

const RANK: Record<Decision, number> = { explicitDeny: 0, notAllowed: 1, conditional: 2, allowed: 3 };

function bind(policy: NamedPolicy, scope: Scope): BoundStatement[] {
  return compileDocument(policy.document).map((statement) => ({ statement, source: policy.source, scope }));
}

function collect(statements: readonly BoundStatement[], actionLower: string, resource: string): SideMatches {
  const matches: SideMatches = { denies: [], conditionalDenies: [], allows: [], conditionalAllows: [] };
  for (const { statement, source, scope } of statements) {
    const matchedAction = statement.matchAction(actionLower);
    if (matchedAction === undefined) continue;
    const resourceMatch = statement.matchResource(resource);
    if (resourceMatch === undefined) continue;
    const conditional = statement.hasCondition || resourceMatch.uncertain;
    const evidence: StatementEvidence = {
      source,
      statementIndex: statement.index,
      ...(statement.sid !== undefined ? { sid: statement.sid } : {}),
      effect: statement.effect,
      matchedAction,
      matchedResource: resourceMatch.label,
      conditional,
      scope,
    };
    if (statement.effect === 'Deny')
      (conditional ? matches.conditionalDenies : matches.denies).push(evidence);
    else (conditional ? matches.conditionalAllows : matches.allows).push(evidence);
  }
  return matches;
}

function decideSide(matches: SideMatches): SideDecision {
  // A Deny whose condition may hold cannot be ruled out, so even an unconditional Allow is only 'conditional'.
  if (matches.allows.length > 0) {
    return matches.conditionalDenies.length > 0
      ? { decision: 'conditional', evidence: [...matches.allows, ...matches.conditionalDenies] }
      : { decision: 'allowed', evidence: matches.allows };
  }
  if (matches.conditionalAllows.length > 0) {
    return {
      decision: 'conditional',
      evidence: [...matches.conditionalAllows, ...matches.conditionalDenies],
    };
  }
  return { decision: 'notAllowed', evidence: [] };
}

function freezeDecision(decision: PolicyDecision): PolicyDecision {
  for (const item of decision.evidence) Object.freeze(item);
  Object.freeze(decision.evidence);
  return Object.freeze(decision);
}

const MEMO_LIMIT = 4096;

/**
 * Compiles wildcard patterns once so evaluating many (action, resource) pairs against the
 * same set is cheap. Decisions are memoized per (action, resource) and returned frozen: they may be shared
 * between calls, so callers must copy before modifying.
 */
export class CompiledPolicySet {
  private readonly identity: BoundStatement[];
  private readonly boundary: BoundStatement[] | undefined;
  private readonly memo = new Map<string, PolicyDecision>();

  constructor(input: PolicySetInput) {
    this.identity = input.identityPolicies.flatMap((policy) => bind(policy, 'identity'));
    this.boundary =
      input.permissionsBoundary === undefined ? undefined : bind(input.permissionsBoundary, 'boundary');
  }

  evaluate(action: string, resource: string = '*'): PolicyDecision {
    const actionLower = action.toLowerCase();
    const key = `${actionLower}\u0000${resource}`;
    let decision = this.memo.get(key);
    if (decision === undefined) {
      decision = freezeDecision(this.decide(actionLower, resource));
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(key, decision);
    }
    return decision;
  }

  private decide(actionLower: string, resource: string): PolicyDecision {
    const identity = collect(this.identity, actionLower, resource);
    const boundary = this.boundary === undefined ? undefined : collect(this.boundary, actionLower, resource);

    // An explicit Deny in any policy that applies to the principal ends evaluation, boundary included.
    const denies = [...identity.denies, ...(boundary?.denies ?? [])];
    if (denies.length > 0) return { decision: 'explicitDeny', evidence: denies };

    // No Allow in the identity policies is an implicit deny, whatever the boundary says.
    const identitySide = decideSide(identity);
    if (identitySide.decision === 'notAllowed')
      return { decision: 'notAllowed', evidence: [], missingIn: 'identity' };
    if (boundary === undefined) return identitySide;

    // A boundary only caps permissions: the request must be allowed by both, so the weaker side wins.
    const boundarySide = decideSide(boundary);
    if (boundarySide.decision === 'notAllowed')
      return { decision: 'notAllowed', evidence: [], missingIn: 'boundary' };
    const weaker = RANK[boundarySide.decision] < RANK[identitySide.decision] ? boundarySide : identitySide;
    return { decision: weaker.decision, evidence: [...identitySide.evidence, ...boundarySide.evidence] };
  }
}

/** One-shot convenience; prefer a long-lived CompiledPolicySet when asking many questions of one role. */
export function evaluatePolicies(
  input: PolicySetInput & { action: string; resource?: string },
): PolicyDecision {
  return new CompiledPolicySet(input).evaluate(input.action, input.resource);
}
