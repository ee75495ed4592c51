/**
 * A small IAM policy evaluator for one principal: its identity policies plus an optional permissions
 * boundary (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 * Condition blocks are decided against the request context the caller knows (./conditions: the account,
 * region, source ARN ... of the snapshot); a block with any other key (source VPC, tags, time of day ...)
 * is reported as 'conditional', because the auditor cannot know what the agent's request will carry.
 * Without a context every Condition is 'conditional'.
 *
 * Two kinds of question: one resource ("may the role call ssm:UpdateInstanceInformation on
 * arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc?"), and a set of resources named by a pattern
 * ("s3:GetObject on every object of arn:aws:s3:::aws-ssm-eu-west-1/*?"), answered with glob containment
 * and intersection (./glob): an Allow grants the set only if its patterns cover every member, a Deny that
 * touches any member makes the grant partial.
 *
 * Hot path: 100,000 instances share a few hundred roles, and each instance asks the same couple of dozen
 * (action, resource) questions. So documents are compiled once (cached per document object) and each set
 * memoizes its answers. Wildcards are matched by the hand-written matcher in ./wildcard, never by a RegExp
 * built from policy text: patterns come from customers, and a backtracking regex can stall for minutes.
 */
import { evaluateCondition, type RequestContext } from './conditions';
import type { PolicyDocument, PolicyStatement, StringOrList } from './document';
import { compileGlob, globsContain, globsIntersect, type Glob } from './glob';
import { compileWildcard, type WildcardMatcher, type WildcardToken } from './wildcard';

export type { RequestContext } from './conditions';

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
  /** With a request context: the condition keys it could not decide (what makes the grant conditional). */
  undecidedConditionKeys?: string[];
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
  /**
   * What the audit knows of the request (./conditions). A statement whose Condition is decided false does
   * not apply; decided true, it applies as if it had none; undecided, it is 'conditional'. Without a
   * context every Condition is undecided.
   */
  context?: RequestContext;
}

/**
 * The answer for a set of resources (every object of `bucket/*`, every node an activation registers):
 * - allowed: every member is allowed, unconditionally;
 * - conditional: every member may be allowed, but a Condition (or a policy variable) decides it;
 * - partial: some members are allowed and others are not (an Allow that covers only some keys, or a Deny
 *   that touches some): never a PASS;
 * - notAllowed / explicitDeny: no member is allowed.
 */
export type SetDecision = 'allowed' | 'conditional' | 'partial' | 'notAllowed' | 'explicitDeny';

export interface ResourceSetDecision {
  decision: SetDecision;
  /** The set asked about, as given (an ARN pattern). */
  resources: string;
  /** The Allow statements whose resources overlap the set, then the Deny statements that touch it. */
  evidence: StatementEvidence[];
  /** For notAllowed and partial: the side whose Allows fall short. */
  missingIn?: 'identity' | 'boundary';
  /** True when a set question ran past its budget: the answer is the cautious one, not a proven one. */
  undecided?: boolean;
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
  /** The pattern as a set (a variable reads as `*`: the widest value it can take), for set questions. */
  glob: () => Glob;
}

function lazyGlob(tokens: readonly WildcardToken[]): () => Glob {
  let glob: Glob | undefined;
  return () => (glob ??= compileGlob(tokens, { arn: true }));
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
  const glob = lazyGlob(tokens);
  if (matchesEverything) return { pattern, usesVariable, matchesEverything, test: () => true, glob };

  if (tokens.every((token) => token.kind === 'literal')) {
    const literal = tokens.map((token) => (token.kind === 'literal' ? token.text : '')).join('');
    return { pattern, usesVariable, matchesEverything, test: (resource) => resource === literal, glob };
  }

  return { pattern, usesVariable, matchesEverything, test: compileWildcard(tokens, { arn: true }), glob };
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

/** The statement's resources: everything (no Resource element), a Resource list or a NotResource list. */
type ResourceScope =
  { kind: 'all' } | { kind: 'resource' | 'notResource'; patterns: readonly ResourcePattern[] };

function resourceScopeOf(statement: PolicyStatement, variablesEnabled: boolean): ResourceScope {
  if (statement.Resource === undefined && statement.NotResource === undefined) return { kind: 'all' };
  const patterns = toList(statement.Resource ?? statement.NotResource ?? []).map((p) =>
    compileResourcePattern(p, variablesEnabled),
  );
  return { kind: statement.Resource === undefined ? 'notResource' : 'resource', patterns };
}

function compileResourceMatcher(scope: ResourceScope): ResourceMatcher {
  if (scope.kind === 'all') {
    // No Resource element (endpoint and trust policies): the statement covers every resource.
    const always: ResourceMatch = { label: '*', uncertain: false };
    return () => always;
  }
  const certain = scope.patterns.filter((p) => !p.usesVariable);
  const withVariables = scope.patterns.filter((p) => p.usesVariable);

  if (scope.kind === 'notResource') {
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
  /** The Condition block, when it constrains anything (an empty block constrains nothing). */
  condition: Readonly<Record<string, unknown>> | undefined;
  matchAction: ActionMatch;
  matchResource: ResourceMatcher;
  resources: ResourceScope;
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
  const resources = resourceScopeOf(statement, variablesEnabled);
  return {
    index,
    sid: statement.Sid,
    effect: statement.Effect,
    condition:
      statement.Condition !== undefined && Object.keys(statement.Condition).length > 0
        ? statement.Condition
        : undefined,
    matchAction,
    matchResource: compileResourceMatcher(resources),
    resources,
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
  /** The Condition could not be decided (or there is no context to decide it with). */
  conditionUnknown: boolean;
  /** With a context: the undecided keys, reported in evidence. */
  undecidedKeys: string[] | undefined;
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

/**
 * Binds a policy's statements to a scope and decides their Conditions once: a statement whose Condition
 * is known to be false can never apply to this principal's requests, so it is left out.
 */
function bind(policy: NamedPolicy, scope: Scope, context: RequestContext | undefined): BoundStatement[] {
  const bound: BoundStatement[] = [];
  for (const statement of compileDocument(policy.document)) {
    if (statement.condition === undefined) {
      bound.push({
        statement,
        source: policy.source,
        scope,
        conditionUnknown: false,
        undecidedKeys: undefined,
      });
      continue;
    }
    const outcome = evaluateCondition(statement.condition, context);
    if (outcome.result === 'notMet') continue;
    bound.push({
      statement,
      source: policy.source,
      scope,
      conditionUnknown: outcome.result === 'unknown',
      undecidedKeys: context !== undefined && outcome.result === 'unknown' ? outcome.keys : undefined,
    });
  }
  return bound;
}

function evidenceOf(
  bound: BoundStatement,
  matchedAction: string,
  matchedResource: string,
  conditional: boolean,
): StatementEvidence {
  const { statement, source, scope } = bound;
  return {
    source,
    statementIndex: statement.index,
    ...(statement.sid !== undefined ? { sid: statement.sid } : {}),
    effect: statement.effect,
    matchedAction,
    matchedResource,
    conditional,
    scope,
    ...(conditional && bound.undecidedKeys !== undefined && bound.undecidedKeys.length > 0
      ? { undecidedConditionKeys: bound.undecidedKeys }
      : {}),
  };
}

function collect(statements: readonly BoundStatement[], actionLower: string, resource: string): SideMatches {
  const matches: SideMatches = { denies: [], conditionalDenies: [], allows: [], conditionalAllows: [] };
  for (const bound of statements) {
    const { statement } = bound;
    const matchedAction = statement.matchAction(actionLower);
    if (matchedAction === undefined) continue;
    const resourceMatch = statement.matchResource(resource);
    if (resourceMatch === undefined) continue;
    const conditional = bound.conditionUnknown || resourceMatch.uncertain;
    const evidence = evidenceOf(bound, matchedAction, resourceMatch.label, conditional);
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

function freezeDecision<D extends { evidence: StatementEvidence[] }>(decision: D): D {
  for (const item of decision.evidence) Object.freeze(item);
  Object.freeze(decision.evidence);
  return Object.freeze(decision);
}

const MEMO_LIMIT = 4096;

// ---------------------------------------------------------------------------------------------------
// Set questions

/** A statement's resources within the set asked about: patterns, everything, or an inexpressible part. */
type Region = Glob[] | 'all' | 'part';

/** How one statement's resources relate to the set asked about. */
interface SetRelation {
  /** Some member may be among the statement's resources. */
  overlaps: boolean;
  /** The members surely among them (a policy variable read as its narrowest value). */
  certain: Region;
  /** The members possibly among them (a policy variable read as its widest value). */
  possible: Region;
  /** Only a policy variable decides whether some members are among them. */
  uncertain: boolean;
  /** A set question ran past its budget: the relation is the cautious guess. */
  overBudget: boolean;
  /** The pattern to show in evidence. */
  label: string;
}

const ANY: Glob = compileGlob('*');

function relateToSet(scope: ResourceScope, set: Glob): SetRelation {
  if (scope.kind === 'all') {
    return {
      overlaps: true,
      certain: 'all',
      possible: 'all',
      uncertain: false,
      overBudget: false,
      label: '*',
    };
  }
  let overBudget = false;
  const intersects = (p: ResourcePattern) => {
    const answer = globsIntersect([p.glob(), set]);
    if (answer === undefined) overBudget = true;
    return answer !== false;
  };
  const covers = (patterns: readonly ResourcePattern[]) => {
    if (patterns.length === 0) return false;
    const answer = globsContain(
      patterns.map((p) => p.glob()),
      [set],
    );
    if (answer === undefined) overBudget = true;
    return answer === true;
  };
  const certainPatterns = scope.patterns.filter((p) => !p.usesVariable);
  const variablePatterns = scope.patterns.filter((p) => p.usesVariable);
  const variableOverlaps = variablePatterns.some(intersects);

  if (scope.kind === 'resource') {
    const overlapping = certainPatterns.filter(intersects);
    const coversAll = covers(certainPatterns);
    const certain: Region = coversAll ? 'all' : overlapping.map((p) => p.glob());
    const possible: Region = coversAll
      ? 'all'
      : [...overlapping, ...variablePatterns.filter(intersects)].map((p) => p.glob());
    return {
      overlaps: overlapping.length > 0 || variableOverlaps,
      certain,
      possible,
      uncertain: !coversAll && variableOverlaps,
      overBudget,
      label: (overlapping[0] ?? variablePatterns.find(intersects) ?? scope.patterns[0])?.pattern ?? '',
    };
  }
  // NotResource: the statement covers the members outside every listed pattern. A variable pattern may
  // exclude anything it can stand for (certain region) or nothing (possible region).
  const region = (excluded: readonly ResourcePattern[]): Region => {
    if (!excluded.some(intersects)) return 'all';
    return covers(excluded) ? [] : 'part';
  };
  const certain = region(scope.patterns);
  const possible = region(certainPatterns);
  return {
    overlaps: possible === 'all' || possible === 'part',
    certain,
    possible,
    uncertain: variableOverlaps && certain !== possible,
    overBudget,
    label: 'NotResource',
  };
}

/** The members a region names, as globs to intersect with; a part of a complement over-approximates as all. */
function regionGlobs(region: Region): Glob[] {
  return region === 'all' || region === 'part' ? [ANY] : region;
}

interface SetSide {
  /** Unconditional grants, as globs (a partial NotResource cannot be one and only counts as "some"). */
  certainPatterns: Glob[];
  /** Every grant, conditional ones included. */
  possiblePatterns: Glob[];
  /** Every overlapping Allow: what "is any member allowed at all" is asked of. */
  overlapping: Region[];
  evidence: StatementEvidence[];
}

/**
 * Compiles wildcard patterns once so evaluating many (action, resource) pairs against the
 * same set is cheap. Decisions are memoized per (action, resource) and returned frozen: they may be shared
 * between calls, so callers must copy before modifying.
 */
export class CompiledPolicySet {
  private readonly identity: BoundStatement[];
  private readonly boundary: BoundStatement[] | undefined;
  private readonly memo = new Map<string, PolicyDecision>();
  private readonly setMemo = new Map<string, ResourceSetDecision>();

  constructor(input: PolicySetInput) {
    this.identity = input.identityPolicies.flatMap((policy) => bind(policy, 'identity', input.context));
    this.boundary =
      input.permissionsBoundary === undefined
        ? undefined
        : bind(input.permissionsBoundary, 'boundary', input.context);
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

  /**
   * The answer for every resource an ARN pattern names at once, e.g. `arn:aws:s3:::aws-ssm-eu-west-1/*`
   * ("every object the agent may fetch"). The pattern is read with the Resource element's ARN rules.
   */
  evaluateResourceSet(action: string, resources: string): ResourceSetDecision {
    const actionLower = action.toLowerCase();
    const key = `${actionLower}\u0000${resources}`;
    let decision = this.setMemo.get(key);
    if (decision === undefined) {
      decision = freezeDecision(this.decideSet(actionLower, resources));
      if (this.setMemo.size >= MEMO_LIMIT) this.setMemo.clear();
      this.setMemo.set(key, decision);
    }
    return decision;
  }

  private decideSet(actionLower: string, resources: string): ResourceSetDecision {
    const set = compileGlob(resources, { arn: true });
    let undecided = false;
    const certainDenyPatterns: Glob[] = [];
    const denyEvidence: StatementEvidence[] = [];
    let certainDenyOverlaps = false;
    let conditionalDenyOverlaps = false;

    const sideOf = (statements: readonly BoundStatement[]): SetSide => {
      const side: SetSide = { certainPatterns: [], possiblePatterns: [], overlapping: [], evidence: [] };
      for (const bound of statements) {
        const matchedAction = bound.statement.matchAction(actionLower);
        if (matchedAction === undefined) continue;
        const relation = relateToSet(bound.statement.resources, set);
        if (relation.overBudget) undecided = true;
        if (!relation.overlaps) continue;
        const conditional = bound.conditionUnknown || relation.uncertain;
        const evidence = evidenceOf(bound, matchedAction, relation.label, conditional);
        if (bound.statement.effect === 'Deny') {
          denyEvidence.push(evidence);
          if (conditional) conditionalDenyOverlaps = true;
          if (relation.certain === 'part' || (Array.isArray(relation.certain) && relation.certain.length > 0))
            certainDenyOverlaps ||= !bound.conditionUnknown;
          if (relation.certain === 'all') certainDenyOverlaps ||= !bound.conditionUnknown;
          // Only what a Deny surely takes, unconditionally, can be subtracted from the grants.
          if (!bound.conditionUnknown && relation.certain !== 'part')
            certainDenyPatterns.push(...(relation.certain === 'all' ? [ANY] : relation.certain));
          continue;
        }
        side.evidence.push(evidence);
        side.overlapping.push(relation.possible);
        if (!bound.conditionUnknown && relation.certain !== 'part')
          side.certainPatterns.push(...(relation.certain === 'all' ? [ANY] : relation.certain));
        if (relation.possible !== 'part')
          side.possiblePatterns.push(...(relation.possible === 'all' ? [ANY] : relation.possible));
      }
      return side;
    };

    const identity = sideOf(this.identity);
    const boundary = this.boundary === undefined ? undefined : sideOf(this.boundary);
    const coversSet = (patterns: Glob[]): boolean => {
      if (patterns.length === 0) return false;
      const covered = globsContain(patterns, [set]);
      if (covered === undefined) undecided = true;
      return covered === true;
    };
    const sides = boundary === undefined ? [identity] : [identity, boundary];
    const allCertain = sides.every((side) => coversSet(side.certainPatterns));
    const allPossible = allCertain || sides.every((side) => coversSet(side.possiblePatterns));
    const deniedAll = coversSet(certainDenyPatterns);

    const evidence = [...identity.evidence, ...(boundary?.evidence ?? []), ...denyEvidence];
    const result = (decision: SetDecision, missingIn?: 'identity' | 'boundary'): ResourceSetDecision => ({
      decision,
      resources,
      evidence: decision === 'explicitDeny' ? denyEvidence : decision === 'notAllowed' ? [] : evidence,
      ...(missingIn !== undefined ? { missingIn } : {}),
      ...(undecided ? { undecided: true } : {}),
    });

    // Every member explicitly denied: nothing else matters.
    if (deniedAll) return result('explicitDeny');
    if (identity.overlapping.length === 0) return result('notAllowed', 'identity');
    if (boundary !== undefined && boundary.overlapping.length === 0) return result('notAllowed', 'boundary');
    if (allCertain && !certainDenyOverlaps && !conditionalDenyOverlaps) return result('allowed');
    if (allPossible && !certainDenyOverlaps) return result('conditional');

    // Not every member: is any member allowed at all? It must be taken by an identity Allow and by a
    // boundary Allow, and no unconditional Deny may take it back.
    const survives = (contained: Glob[]): boolean => {
      if (certainDenyPatterns.length > 0) {
        const swallowed = globsContain(certainDenyPatterns, contained);
        if (swallowed === undefined) undecided = true;
        return swallowed !== true;
      }
      const nonEmpty = globsIntersect(contained);
      if (nonEmpty === undefined) undecided = true;
      return nonEmpty !== false;
    };
    const identityGlobs = identity.overlapping.flatMap(regionGlobs);
    const boundaryGlobs = boundary === undefined ? [ANY] : boundary.overlapping.flatMap(regionGlobs);
    const some = identityGlobs.some((a) => boundaryGlobs.some((b) => survives([set, a, b])));
    if (some) {
      const short =
        sides.find((side) => !coversSet(side.possiblePatterns)) === boundary ? 'boundary' : 'identity';
      return result('partial', allPossible ? undefined : short);
    }
    return certainDenyOverlaps ? result('explicitDeny') : result('notAllowed', 'identity');
  }
}

/** One-shot convenience; prefer a long-lived CompiledPolicySet when asking many questions of one role. */
export function evaluatePolicies(
  input: PolicySetInput & { action: string; resource?: string },
): PolicyDecision {
  return new CompiledPolicySet(input).evaluate(input.action, input.resource);
}

/** One-shot set question; prefer CompiledPolicySet.evaluateResourceSet for many. */
export function evaluatePoliciesOnSet(
  input: PolicySetInput & { action: string; resources: string },
): ResourceSetDecision {
  return new CompiledPolicySet(input).evaluateResourceSet(input.action, input.resources);
}
