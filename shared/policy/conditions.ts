/**
 * Condition blocks decided against what the audit knows of the request, not guessed
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
 *
 * The request context lists the keys whose value the audit knows (the snapshot's account, region and
 * partition give aws:PrincipalAccount, aws:RequestedRegion, aws:SourceAccount, aws:SourceArn ...). A value
 * may be a set ("some SSM ARN of this account and region") when the audit knows its shape but not its
 * exact text: a condition is then met only if it holds for every member, and not met only if it holds
 * for none. A key the context does not list, an operator this module does not implement, or a value
 * with a policy variable leaves the block 'unknown': the caller reports the grant as conditional (WARN),
 * never as a PASS.
 */
import { compileGlob, globsContain, globsIntersect, literalGlob, type Glob } from './glob';

/** What the audit knows about one condition key in the request. */
export type ContextValue =
  /** The key is not in the request context (e.g. aws:SourceArn when no service acts on anyone's behalf). */
  | { kind: 'absent' }
  /** The exact value. */
  | { kind: 'value'; value: string }
  /** Some member of an ARN pattern's set (e.g. `arn:aws:ssm:eu-west-1:123456789012:*`), not known exactly. */
  | { kind: 'oneOf'; pattern: string };

/** Known keys, lower-cased ("Condition key names are not case-sensitive"). Unlisted keys are unknown. */
export type RequestContext = Readonly<Record<string, ContextValue>>;

export type ConditionResult = 'met' | 'notMet' | 'unknown';

export interface ConditionOutcome {
  result: ConditionResult;
  /** For notMet: the keys whose test failed; for unknown: the keys the audit could not decide. */
  keys: string[];
}

type Truth = 'true' | 'false' | 'unknown';

interface Operator {
  /** How the policy values are read. */
  match: 'equals' | 'equalsIgnoreCase' | 'like' | 'arn';
  negated: boolean;
}

/** The string and ARN operators; everything else (Numeric, Date, Bool, IpAddress, Binary) is 'unknown'. */
const OPERATORS: Readonly<Record<string, Operator>> = {
  StringEquals: { match: 'equals', negated: false },
  StringNotEquals: { match: 'equals', negated: true },
  StringEqualsIgnoreCase: { match: 'equalsIgnoreCase', negated: false },
  StringNotEqualsIgnoreCase: { match: 'equalsIgnoreCase', negated: true },
  StringLike: { match: 'like', negated: false },
  StringNotLike: { match: 'like', negated: true },
  // "ArnEquals, ArnLike: Case-sensitive matching of the ARN. Each of the six colon-delimited components of
  // the ARN is checked separately and each can include multi-character match wildcards (*) or
  // single-character match wildcards (?)": both take wildcards.
  ArnEquals: { match: 'arn', negated: false },
  ArnLike: { match: 'arn', negated: false },
  ArnNotEquals: { match: 'arn', negated: true },
  ArnNotLike: { match: 'arn', negated: true },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Condition values: a string (or number / boolean, which IAM reads as text) or a list of them. */
function readValues(raw: unknown): string[] | undefined {
  const list = Array.isArray(raw) ? raw : [raw];
  const values: string[] = [];
  for (const item of list) {
    if (typeof item === 'string') values.push(item);
    else if (typeof item === 'number' || typeof item === 'boolean') values.push(String(item));
    else return undefined;
  }
  return values;
}

function contextGlob(value: Exclude<ContextValue, { kind: 'absent' }>, ignoreCase: boolean): Glob {
  if (value.kind === 'value') return literalGlob(ignoreCase ? value.value.toLowerCase() : value.value);
  return compileGlob(value.pattern, { arn: true, ignoreCase });
}

function patternGlob(value: string, operator: Operator): Glob {
  switch (operator.match) {
    case 'equals':
      return literalGlob(value);
    case 'equalsIgnoreCase':
      return literalGlob(value.toLowerCase());
    case 'like':
      return compileGlob(value);
    case 'arn':
      return compileGlob(value, { arn: true, segmentEndExpands: false });
  }
}

/** Does the (possibly set-valued) context value match one of the policy values: always, never, or it depends? */
function matchesAny(
  value: Exclude<ContextValue, { kind: 'absent' }>,
  values: string[],
  operator: Operator,
): Truth {
  const subject = contextGlob(value, operator.match === 'equalsIgnoreCase');
  const patterns = values.map((v) => patternGlob(v, operator));
  const all = globsContain(patterns, [subject]);
  if (all === true) return 'true';
  let none = true;
  for (const pattern of patterns) {
    const overlap = globsIntersect([pattern, subject]);
    if (overlap !== false) none = false;
  }
  return none ? 'false' : 'unknown';
}

function not(truth: Truth): Truth {
  return truth === 'unknown' ? 'unknown' : truth === 'true' ? 'false' : 'true';
}

/** One operator / key / values triple. */
function decideKey(operatorName: string, key: string, raw: unknown, context: RequestContext): Truth {
  const known = context[key.toLowerCase()];
  if (known === undefined) return 'unknown';
  const values = readValues(raw);
  // A policy variable (${aws:username} ...) takes its value from the request: not decidable here.
  if (values === undefined || values.some((v) => v.includes('${'))) return 'unknown';

  if (operatorName === 'Null') {
    // "Null": {"key": "true"} holds when the key is absent, "false" when it is present.
    if (values.length !== 1) return 'unknown';
    const wantsAbsent = values[0]!.toLowerCase() === 'true';
    return (known.kind === 'absent') === wantsAbsent ? 'true' : 'false';
  }

  let name = operatorName;
  let qualifier: 'ForAnyValue' | 'ForAllValues' | undefined;
  for (const prefix of ['ForAnyValue:', 'ForAllValues:'] as const) {
    if (name.startsWith(prefix)) {
      qualifier = prefix === 'ForAnyValue:' ? 'ForAnyValue' : 'ForAllValues';
      name = name.slice(prefix.length);
    }
  }
  const ifExists = name.endsWith('IfExists');
  if (ifExists) name = name.slice(0, -'IfExists'.length);
  const operator = OPERATORS[name];
  if (operator === undefined) return 'unknown';

  if (known.kind === 'absent') {
    // "If the key that you specify in a policy condition is not present in the request context, the values
    // do not match and the condition is false. If the policy condition requires that the key is not
    // matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition is
    // true." ...IfExists is true when the key is absent; ForAllValues is true on an empty set of values,
    // ForAnyValue false.
    if (ifExists) return 'true';
    if (qualifier === 'ForAllValues') return 'true';
    if (qualifier === 'ForAnyValue') return 'false';
    return operator.negated ? 'true' : 'false';
  }
  // The keys the context knows are single-valued, so ForAnyValue / ForAllValues test the one value.
  // Several values for one key are ORed; for a negated operator the key must match none of them.
  const matched = matchesAny(known, values, operator);
  return operator.negated ? not(matched) : matched;
}

/**
 * Decides a statement's Condition block: every operator and every key must hold (AND), a key holds when
 * its value matches any listed value (OR). No context at all: any non-empty block is 'unknown'.
 */
export function evaluateCondition(
  condition: Readonly<Record<string, unknown>> | undefined,
  context: RequestContext | undefined,
): ConditionOutcome {
  if (condition === undefined || Object.keys(condition).length === 0) return { result: 'met', keys: [] };
  const failed: string[] = [];
  const unknown: string[] = [];
  for (const [operatorName, block] of Object.entries(condition)) {
    if (!isRecord(block)) {
      unknown.push(operatorName);
      continue;
    }
    for (const [key, raw] of Object.entries(block)) {
      const truth = context === undefined ? 'unknown' : decideKey(operatorName, key, raw, context);
      if (truth === 'false') failed.push(key);
      else if (truth === 'unknown') unknown.push(key);
    }
  }
  if (failed.length > 0) return { result: 'notMet', keys: failed };
  if (unknown.length > 0) return { result: 'unknown', keys: unknown };
  return { result: 'met', keys: [] };
}
