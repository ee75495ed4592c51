/**
 * IAM policy documents as the auditor receives them: from a snapshot (already-parsed objects, as the
 * AWS CLI prints them), from a JSON string, or straight from the IAM API, which returns
 * `PolicyDocument` / `AssumeRolePolicyDocument` URL-encoded (RFC 3986). `parsePolicyDocument` turns
 * any of these into one normalized shape the evaluator can trust.
 */

export type StringOrList = string | string[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: StringOrList;
  NotAction?: StringOrList;
  Resource?: StringOrList;
  NotResource?: StringOrList;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, unknown>;
}

/** `Statement` is always an array here, even when the source document had a single statement object. */
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
}

export class PolicyDocumentError extends Error {
  override readonly name = 'PolicyDocumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The only two policy language versions IAM accepts; anything else is rejected as MalformedPolicyDocument. */
const POLICY_VERSIONS: readonly string[] = ['2012-10-17', '2008-10-17'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

function decodeText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') throw new PolicyDocumentError('Policy document is an empty string');
  // A JSON policy document always starts with '{'; the IAM API's URL-encoded form starts with '%7B'. Only
  // the latter is decoded, so a literal '%' inside a plain JSON document (e.g. a Condition value) survives.
  let json = trimmed;
  if (!trimmed.startsWith('{')) {
    try {
      json = decodeURIComponent(trimmed).trim();
    } catch (cause) {
      throw new PolicyDocumentError('Policy document is neither JSON nor URL-encoded JSON', { cause });
    }
  }
  try {
    return JSON.parse(json) as unknown;
  } catch (cause) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    throw new PolicyDocumentError(`Policy document is not valid JSON${detail}`, { cause });
  }
}

function readStringOrList(value: unknown, path: string): StringOrList {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new PolicyDocumentError(`${path} must not be an empty list`);
    const list: string[] = [];
    for (const [i, item] of value.entries()) {
      if (typeof item !== 'string') {
        throw new PolicyDocumentError(`${path}[${i}] must be a string, got ${describe(item)}`);
      }
      list.push(item);
    }
    return list;
  }
  throw new PolicyDocumentError(`${path} must be a string or a list of strings, got ${describe(value)}`);
}

/** Exactly-one / at-most-one checks for the paired elements (Action/NotAction, ...) IAM refuses to combine. */
function readPair(
  statement: Record<string, unknown>,
  path: string,
  positive: 'Action' | 'Resource',
  negative: 'NotAction' | 'NotResource',
  required: boolean,
): { positive?: StringOrList; negative?: StringOrList } {
  const hasPositive = statement[positive] !== undefined;
  const hasNegative = statement[negative] !== undefined;
  if (hasPositive && hasNegative) {
    throw new PolicyDocumentError(`${path} must not have both ${positive} and ${negative}`);
  }
  if (required && !hasPositive && !hasNegative) {
    throw new PolicyDocumentError(`${path} must have ${positive} or ${negative}`);
  }
  if (hasPositive) return { positive: readStringOrList(statement[positive], `${path}.${positive}`) };
  if (hasNegative) return { negative: readStringOrList(statement[negative], `${path}.${negative}`) };
  return {};
}

function readStatement(value: unknown, index: number): PolicyStatement {
  const path = `Statement[${index}]`;
  if (!isRecord(value)) throw new PolicyDocumentError(`${path} must be an object, got ${describe(value)}`);

  const effect = value.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') {
    // IAM compares Effect case-sensitively: "allow" is a malformed document, not an Allow.
    throw new PolicyDocumentError(`${path}.Effect must be "Allow" or "Deny", got ${describe(effect)}`);
  }
  const statement: PolicyStatement = { Effect: effect };

  if (value.Sid !== undefined) {
    if (typeof value.Sid !== 'string') {
      throw new PolicyDocumentError(`${path}.Sid must be a string, got ${describe(value.Sid)}`);
    }
    statement.Sid = value.Sid;
  }

  const action = readPair(value, path, 'Action', 'NotAction', true);
  if (action.positive !== undefined) statement.Action = action.positive;
  if (action.negative !== undefined) statement.NotAction = action.negative;

  // Resource is optional here: trust policies and some resource-based policies (VPC endpoint policies
  // written by hand) omit it. The evaluator reads a missing Resource as "*".
  const resource = readPair(value, path, 'Resource', 'NotResource', false);
  if (resource.positive !== undefined) statement.Resource = resource.positive;
  if (resource.negative !== undefined) statement.NotResource = resource.negative;

  if (value.Principal !== undefined && value.NotPrincipal !== undefined) {
    throw new PolicyDocumentError(`${path} must not have both Principal and NotPrincipal`);
  }
  if (value.Principal !== undefined) statement.Principal = value.Principal;
  if (value.NotPrincipal !== undefined) statement.NotPrincipal = value.NotPrincipal;

  if (value.Condition !== undefined) {
    if (!isRecord(value.Condition)) {
      throw new PolicyDocumentError(`${path}.Condition must be an object, got ${describe(value.Condition)}`);
    }
    statement.Condition = { ...value.Condition };
  }
  return statement;
}

/**
 * Accepts an object (AWS CLI output), a JSON string, or a URL-encoded JSON string (raw IAM API output,
 * e.g. "%7B%22Version%22..."). Normalizes a single Statement object to an array. Validates Effect, that
 * each statement has exactly one of Action/NotAction and at most one of Resource/NotResource (and of
 * Principal/NotPrincipal). Throws PolicyDocumentError naming the offending element, e.g.
 * 'Statement[2].Effect must be "Allow" or "Deny"'. The input is never mutated; the result shares no
 * arrays with it.
 */
export function parsePolicyDocument(raw: unknown): PolicyDocument {
  const value = typeof raw === 'string' ? decodeText(raw) : raw;
  if (!isRecord(value)) {
    throw new PolicyDocumentError(`Policy document must be a JSON object, got ${describe(value)}`);
  }

  const document: PolicyDocument = { Statement: [] };
  if (value.Version !== undefined) {
    if (typeof value.Version !== 'string' || !POLICY_VERSIONS.includes(value.Version)) {
      throw new PolicyDocumentError(
        `Version must be "2012-10-17" or "2008-10-17", got ${describe(value.Version)}`,
      );
    }
    document.Version = value.Version;
  }
  if (value.Id !== undefined) {
    if (typeof value.Id !== 'string') {
      throw new PolicyDocumentError(`Id must be a string, got ${describe(value.Id)}`);
    }
    document.Id = value.Id;
  }

  const statements = value.Statement;
  if (statements === undefined) throw new PolicyDocumentError('Policy document has no Statement');
  // IAM accepts a lone statement object in place of a one-element list; normalize so callers index freely.
  const list: unknown[] = Array.isArray(statements) ? statements : [statements];
  if (!Array.isArray(statements) && !isRecord(statements)) {
    throw new PolicyDocumentError(
      `Statement must be an object or a list of objects, got ${describe(statements)}`,
    );
  }
  document.Statement = list.map((statement, index) => readStatement(statement, index));
  return document;
}
