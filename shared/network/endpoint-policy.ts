import type { PolicyDocument, PolicyStatement } from '../policy/document';
import { CompiledPolicySet, type Decision, type StatementEvidence } from '../policy/evaluator';

/**
 * VPC endpoint policies for the SSM Agent's requests. An endpoint policy is a resource-based policy that
 * "control[s] which AWS principals can use the endpoint to access an AWS service"; it "must contain a
 * Principal element", and an endpoint without one has the default policy, which "grants full access"
 * (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html). The Action / Resource /
 * Condition logic is the shared IAM evaluator's; only the Principal element is decided here, because the
 * evaluator reads identity policies, which have none.
 */

/** Who signs the agent's requests: the role whose credentials it uses (instance profile or DHMC). */
export interface AgentPrincipal {
  partition: string;
  accountId: string;
  /** The role's name (any path stripped); undefined when the audit cannot tell which role it is. */
  roleName?: string;
  /** EC2 role sessions are named after the instance id (assumed-role/<role>/<instance-id>). */
  sessionName: string;
}

export type PrincipalMatch = 'yes' | 'no' | 'unknown';

const ROLE_ARN = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const SESSION_ARN = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

/** One value of a Principal's "AWS" key against the agent's role session. */
function awsValueMatches(value: string, who: AgentPrincipal): PrincipalMatch {
  if (value === '*') return 'yes';
  const role = ROLE_ARN.exec(value);
  const session = role ? undefined : SESSION_ARN.exec(value);
  const parts = role ?? session;
  // An account id, an account root ARN or a user ARN: in an endpoint policy "AWS": "<account-id>" grants
  // "only the AWS account root user, not all users and roles of the account" (vpc-endpoints-access.html).
  if (!parts) return 'no';
  const [, partition, account, name] = parts;
  if (partition !== who.partition || account !== who.accountId) return 'no';
  if (who.roleName === undefined) return 'unknown';
  // IAM role names are unique case-insensitively within an account.
  if (name?.toLowerCase() !== who.roleName.toLowerCase()) return 'no';
  return session && session[4] !== who.sessionName ? 'no' : 'yes';
}

/**
 * Does a Principal element name the agent? `"*"` and `{"AWS": "*"}` name everyone; `{"AWS": <role ARN>}`
 * names that role's sessions; Service, Federated and CanonicalUser principals are never the agent.
 */
export function principalNames(element: unknown, who: AgentPrincipal): PrincipalMatch {
  if (element === '*') return 'yes';
  if (typeof element !== 'object' || element === null || Array.isArray(element)) return 'no';
  const aws = (element as Record<string, unknown>).AWS;
  const values = typeof aws === 'string' ? [aws] : Array.isArray(aws) ? aws : [];
  let result: PrincipalMatch = 'no';
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const match = awsValueMatches(value, who);
    if (match === 'yes') return 'yes';
    if (match === 'unknown') result = 'unknown';
  }
  return result;
}

/** Does the statement apply to the agent's requests? NotPrincipal applies to everyone it does not list. */
export function statementAppliesTo(statement: PolicyStatement, who: AgentPrincipal): PrincipalMatch {
  if (statement.NotPrincipal !== undefined) {
    const listed = principalNames(statement.NotPrincipal, who);
    return listed === 'yes' ? 'no' : listed === 'no' ? 'yes' : 'unknown';
  }
  // Endpoint policies must have a Principal; a statement without one (hand-written, or trimmed by a tool)
  // is read as the default policy's "*" rather than as granting nobody.
  if (statement.Principal === undefined) return 'yes';
  return principalNames(statement.Principal, who);
}

export interface EndpointPolicyDecision {
  decision: Decision;
  /** The deciding statements, indexed into the endpoint's own policy document. */
  statements: StatementEvidence[];
  /** True when the answer depends on which role the agent uses, which the audit could not tell. */
  principalUnknown: boolean;
}

interface CompiledView {
  set: CompiledPolicySet;
  /** Index in the compiled (filtered) document → index in the endpoint's document. */
  originalIndex: number[];
}

/** Filtered documents per endpoint document and per principal-match pattern: instances share roles. */
const views = new WeakMap<PolicyDocument, Map<string, CompiledView>>();

function viewOf(document: PolicyDocument, source: string, keep: readonly boolean[]): CompiledView {
  let perDocument = views.get(document);
  if (!perDocument) views.set(document, (perDocument = new Map()));
  const key = keep.map((k) => (k ? '1' : '0')).join('');
  let view = perDocument.get(key);
  if (!view) {
    const originalIndex: number[] = [];
    const statements: PolicyStatement[] = [];
    document.Statement.forEach((statement, i) => {
      if (!keep[i]) return;
      originalIndex.push(i);
      statements.push(statement);
    });
    const filtered: PolicyDocument = { ...document, Statement: statements };
    view = {
      set: new CompiledPolicySet({ identityPolicies: [{ source, document: filtered }] }),
      originalIndex,
    };
    perDocument.set(key, view);
  }
  return view;
}

function decide(view: CompiledView, action: string, resource: string) {
  const result = view.set.evaluate(action, resource);
  return {
    decision: result.decision,
    statements: result.evidence.map((e) => ({
      ...e,
      statementIndex: view.originalIndex[e.statementIndex] ?? e.statementIndex,
    })),
  };
}

/**
 * The endpoint policy's answer for one agent request. Statements whose principal cannot be decided (the
 * agent's role is unknown) are tried both ways: if that changes the answer, the grant is 'conditional'.
 */
export function evaluateEndpointPolicy(
  document: PolicyDocument,
  source: string,
  who: AgentPrincipal,
  action: string,
  resource: string,
): EndpointPolicyDecision {
  const matches = document.Statement.map((s) => statementAppliesTo(s, who));
  if (!matches.includes('unknown')) {
    const view = viewOf(
      document,
      source,
      matches.map((m) => m === 'yes'),
    );
    return { ...decide(view, action, resource), principalUnknown: false };
  }
  // Best case: the unknown principals are the agent in every Allow and in no Deny; worst case the reverse.
  const withUnknown = (effect: 'Allow' | 'Deny') =>
    viewOf(
      document,
      source,
      matches.map((m, i) => m === 'yes' || (m === 'unknown' && document.Statement[i]?.Effect === effect)),
    );
  const best = decide(withUnknown('Allow'), action, resource);
  const worst = decide(withUnknown('Deny'), action, resource);
  if (best.decision === worst.decision) return { ...best, principalUnknown: false };
  const granted = best.decision === 'allowed' || best.decision === 'conditional';
  return granted
    ? { decision: 'conditional', statements: best.statements, principalUnknown: true }
    : { ...worst, principalUnknown: true };
}
