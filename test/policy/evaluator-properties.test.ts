import { seededRandom } from '../support/deterministic';
import type { RequestContext } from '../../shared/policy/conditions';
import { parsePolicyDocument } from '../../shared/policy/document';
import {
  CompiledPolicySet,
  type Decision,
  type NamedPolicy,
  type SetDecision,
} from '../../shared/policy/evaluator';
import { compileGlob, globsContain } from '../../shared/policy/glob';

/**
 * Properties of the evaluator over seeded random policies written in the agent's vocabulary (its actions,
 * its instance and bucket ARNs, Conditions the audit can and cannot decide). Each property is one sentence
 * of the IAM evaluation logic
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html); the random
 * policies are the same on every run (a fixed seed, no clock).
 */

/** Deterministic pseudo-random integers below a bound (the fleet generators' seeded generator; no clock). */
const randomInts = (seed: number): ((below: number) => number) => seededRandom(seed).int;

const ACCOUNT = '123456789012';
const INSTANCE = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0abc`;
const BUCKET_SET = 'arn:aws:s3:::aws-ssm-eu-west-1/*';
const INSTANCE_SET = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*`;

const ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ssmmessages:CreateControlChannel',
  'ec2messages:GetMessages',
  's3:GetObject',
];
const ACTION_PATTERNS = [
  ...ACTIONS,
  '*',
  'ssm:*',
  'ssm:Update*',
  'ssmmessages:*',
  'ec2messages:?etMessages',
  's3:Get*',
];
const RESOURCE_PATTERNS = [
  '*',
  INSTANCE,
  `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0ab?`,
  'arn:aws:ec2:*:*:instance/*',
  'arn:aws:ec2:*:instance/*',
  `arn:aws:ec2:eu-west-1:999999999999:instance/*`,
  BUCKET_SET,
  'arn:aws:s3:::aws-ssm-*/*',
  'arn:aws:s3:::aws-ssm-eu-west-1/?',
  'arn:aws:s3:::aws-ssm-eu-west-1/agent/*',
  'arn:aws:s3:::aws-ssm-eu-west-1/?*',
  'arn:aws:s3:::*',
  'arn:aws:s3:::secrets/*',
];
/** Conditions the audit decides true, decides false, and cannot decide. */
const CONDITIONS = [
  { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } },
  { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
  { StringEquals: { 'aws:SourceVpc': 'vpc-0abc' } },
];
const CONTEXT: RequestContext = {
  'aws:principalaccount': { kind: 'value', value: ACCOUNT },
  'aws:requestedregion': { kind: 'value', value: 'eu-west-1' },
};

type Statement = Record<string, unknown>;

function randomStatement(next: (below: number) => number): Statement {
  const pick = <T>(list: readonly T[]): T => list[next(list.length)]!;
  const some = <T>(list: readonly T[]): T[] => Array.from({ length: 1 + next(2) }, () => pick(list));
  const statement: Statement = { Effect: next(10) < 7 ? 'Allow' : 'Deny' };
  if (next(10) === 0) statement.NotAction = some(ACTION_PATTERNS);
  else statement.Action = some(ACTION_PATTERNS);
  if (next(10) === 0) statement.NotResource = some(RESOURCE_PATTERNS);
  else statement.Resource = some(RESOURCE_PATTERNS);
  if (next(5) === 0) statement.Condition = pick(CONDITIONS);
  return statement;
}

function randomStatements(next: (below: number) => number): Statement[] {
  return Array.from({ length: 1 + next(4) }, () => randomStatement(next));
}

const named = (source: string, statements: Statement[]): NamedPolicy => ({
  source,
  document: parsePolicyDocument({ Version: '2012-10-17', Statement: statements }),
});

function setOf(identity: Statement[], boundary?: Statement[]): CompiledPolicySet {
  return new CompiledPolicySet({
    identityPolicies: [named('identity', identity)],
    ...(boundary ? { permissionsBoundary: named('boundary', boundary) } : {}),
    context: CONTEXT,
  });
}

/** The questions: single resources (the instance, "*", objects) and sets (every object, every instance). */
const SINGLE = [INSTANCE, '*', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/x', 'arn:aws:s3:::aws-ssm-eu-west-1/k'];
const SETS = [BUCKET_SET, INSTANCE_SET];

const granted = (d: Decision | SetDecision) => d === 'allowed';
const mayBeGranted = (d: Decision | SetDecision) => d === 'allowed' || d === 'conditional';
const someGranted = (d: Decision | SetDecision) => d === 'allowed' || d === 'conditional' || d === 'partial';

interface Question {
  action: string;
  resource: string;
  set: boolean;
}
const QUESTIONS: Question[] = ACTIONS.flatMap((action) => [
  ...SINGLE.map((resource) => ({ action, resource, set: false })),
  ...SETS.map((resource) => ({ action, resource, set: true })),
]);

function ask(policies: CompiledPolicySet, q: Question): Decision | SetDecision {
  return q.set
    ? policies.evaluateResourceSet(q.action, q.resource).decision
    : policies.evaluate(q.action, q.resource).decision;
}

const RUNS = 200;

describe('evaluator properties over seeded random policies', () => {
  it('an unconditional Deny of exactly the question wins over anything', () => {
    const next = randomInts(1);
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const statements = randomStatements(next);
      for (const q of QUESTIONS) {
        const denied = setOf([...statements, { Effect: 'Deny', Action: q.action, Resource: q.resource }]);
        const decision = ask(denied, q);
        if (decision !== 'explicitDeny')
          failures.push(`${JSON.stringify(statements)} ${q.action} ${q.resource}: ${decision}`);
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('adding an Allow never removes a grant; adding a Deny never adds one', () => {
    const next = randomInts(2);
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const statements = randomStatements(next);
      const extra = randomStatement(next);
      const before = setOf(statements);
      const after = setOf([...statements, extra]);
      for (const q of QUESTIONS) {
        const [b, a] = [ask(before, q), ask(after, q)];
        const broken =
          extra.Effect === 'Allow'
            ? (granted(b) && !granted(a)) ||
              (mayBeGranted(b) && !mayBeGranted(a)) ||
              (someGranted(b) && !someGranted(a))
            : (granted(a) && !granted(b)) ||
              (mayBeGranted(a) && !mayBeGranted(b)) ||
              (someGranted(a) && !someGranted(b));
        if (broken)
          failures.push(`${JSON.stringify([...statements, extra])} ${q.action} ${q.resource}: ${b} → ${a}`);
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('a permissions boundary is an intersection: granted with it ⇒ granted by the identity and by the boundary', () => {
    const next = randomInts(3);
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const identity = randomStatements(next);
      const boundary = randomStatements(next);
      const both = setOf(identity, boundary);
      const alone = setOf(identity);
      const boundaryAlone = setOf(boundary);
      for (const q of QUESTIONS) {
        const d = ask(both, q);
        const broken =
          (granted(d) && !(granted(ask(alone, q)) && granted(ask(boundaryAlone, q)))) ||
          (someGranted(d) && !(someGranted(ask(alone, q)) && someGranted(ask(boundaryAlone, q))));
        if (broken)
          failures.push(`${JSON.stringify({ identity, boundary })} ${q.action} ${q.resource}: ${d}`);
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('containment is monotone: if X contains Y and an Allow on Y grants every member, an Allow on X does too', () => {
    const next = randomInts(4);
    const failures: string[] = [];
    const patterns = [
      ...RESOURCE_PATTERNS,
      'arn:aws:s3:::aws-ssm-eu-west-1/*?',
      'arn:aws:s3:::aws-ssm-eu-west-?/*',
    ];
    for (let run = 0; run < RUNS; run += 1) {
      const [x, y] = [patterns[next(patterns.length)]!, patterns[next(patterns.length)]!];
      if (globsContain([compileGlob(x, { arn: true })], [compileGlob(y, { arn: true })]) !== true) continue;
      const context = randomStatements(next).filter((s) => s.Effect === 'Allow');
      for (const resources of SETS) {
        const viaY = setOf([...context, { Effect: 'Allow', Action: 's3:GetObject', Resource: y }]);
        const viaX = setOf([...context, { Effect: 'Allow', Action: 's3:GetObject', Resource: x }]);
        const [dy, dx] = [
          viaY.evaluateResourceSet('s3:GetObject', resources),
          viaX.evaluateResourceSet('s3:GetObject', resources),
        ];
        if (granted(dy.decision) && !granted(dx.decision))
          failures.push(`${x} ⊇ ${y} on ${resources}: ${dy.decision} → ${dx.decision}`);
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('a literal ARN pattern equal to the resource grants it (one resource and as a one-member set)', () => {
    const literals = [
      INSTANCE,
      'arn:aws:s3:::aws-ssm-eu-west-1/agent/x',
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/mi-0abc`,
    ];
    for (const resource of literals) {
      const policies = setOf([
        { Effect: 'Allow', Action: 'ssm:UpdateInstanceInformation', Resource: resource },
      ]);
      expect(policies.evaluate('ssm:UpdateInstanceInformation', resource).decision).toBe('allowed');
      expect(policies.evaluateResourceSet('ssm:UpdateInstanceInformation', resource).decision).toBe(
        'allowed',
      );
    }
  });

  it('differential: a one-member set answers like the single resource, and a set answer holds for sampled members', () => {
    const next = randomInts(5);
    const failures: string[] = [];
    // Members of bucket/* and instance/*: keys with '/', ':' and characters no policy names.
    const members = (pattern: string) =>
      ['', 'k', 'agent/x', 'a:b/c', 'ab', 'x', 'i-0abc', 'i-0abd', 'agent/'].map((tail) =>
        pattern.replace(/\*$/, tail),
      );
    for (let run = 0; run < RUNS; run += 1) {
      const statements = randomStatements(next);
      const boundary = next(3) === 0 ? randomStatements(next) : undefined;
      const policies = setOf(statements, boundary);
      for (const action of ACTIONS) {
        for (const resource of [INSTANCE, 'arn:aws:s3:::aws-ssm-eu-west-1/agent/x']) {
          const single = policies.evaluate(action, resource).decision;
          const asSet = policies.evaluateResourceSet(action, resource).decision;
          if (single !== asSet)
            failures.push(
              `${JSON.stringify({ statements, boundary })} ${action} ${resource}: ${single} vs ${asSet}`,
            );
        }
        for (const set of SETS) {
          const decision = policies.evaluateResourceSet(action, set).decision;
          for (const member of members(set)) {
            const single = policies.evaluate(action, member).decision;
            const broken =
              (decision === 'allowed' && single !== 'allowed') ||
              (decision === 'conditional' && !mayBeGranted(single)) ||
              ((decision === 'notAllowed' || decision === 'explicitDeny') && mayBeGranted(single)) ||
              (decision === 'explicitDeny' && !failures.length && single === 'allowed');
            if (broken)
              failures.push(
                `${JSON.stringify({ statements, boundary })} ${action} ${set} ∋ ${member}: set ${decision}, member ${single}`,
              );
          }
        }
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });
});
