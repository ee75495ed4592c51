import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { parsePolicyDocument } from '../../shared/policy/document';
import { evaluatePolicies, type Decision, type PolicySetInput } from '../../shared/policy/evaluator';
import { matchesWildcard, type WildcardOptions, type WildcardStats } from '../../shared/policy/wildcard';

type Row = [pattern: string, text: string, expected: boolean, options?: WildcardOptions];

const CASES: Row[] = [
  // Empty pattern and text.
  ['', '', true],
  ['', 'a', false],
  ['a', '', false],
  ['*', '', true],
  ['**', '', true],
  ['?', '', false],
  ['*?', '', false],
  // `*` and `?`.
  ['*', 'anything at all', true],
  ['?', 'a', true],
  ['?', 'ab', false],
  ['??', 'ab', true],
  ['*?', 'x', true],
  ['?*?', 'x', false],
  ['ssm:Get*', 'ssm:GetParameter', true],
  ['ssm:Get*', 'ssm:PutParameter', false],
  ['ssm:*Parameter', 'ssm:GetParameter', true],
  ['ssm:Get?arameter', 'ssm:GetParameter', true],
  ['ssm:Get?arameter', 'ssm:GetPParameter', false],
  // Several stars; the head and the tail must not overlap.
  ['a*b*c', 'abc', true],
  ['a*b*c', 'aXXbYYc', true],
  ['a*b*c', 'acb', false],
  ['*a*', 'bab', true],
  ['a**b', 'ab', true],
  ['a*a', 'a', false],
  ['a*a', 'aa', true],
  ['ab*ba', 'aba', false],
  ['ab*ba', 'abba', true],
  ['a*ab', 'aab', true],
  ['*ab*abc', 'ababc', true],
  ['*ab*abc', 'abac', false],
  ['*a?c*', 'xxabcxx', true],
  ['*a?c*', 'xxacxx', false],
  // A middle chunk whose start recurs inside it (the search must not skip past an overlapping start).
  ['*aab*', 'aaab', true],
  ['*ababc*', 'abababc', true],
  ['*ababc*', 'ababab', false],
  // Characters that mean something in a RegExp are plain characters here.
  ['ssm:Get.Parameter', 'ssm:GetXParameter', false],
  ['ssm:Get.Parameter', 'ssm:Get.Parameter', true],
  ['*.txt', 'notes.txt', true],
  ['*.txt', 'notesXtxt', false],
  ['.*', 'anything', false],
  ['.*', '.anything', true],
  ['a+', 'aa', false],
  ['a+', 'a+', true],
  ['(x)', 'x', false],
  ['(x)', '(x)', true],
  ['[ab]', 'a', false],
  ['[ab]', '[ab]', true],
  ['a{2}', 'aa', false],
  ['a{2}', 'a{2}', true],
  ['a|b', 'a', false],
  ['a|b', 'a|b', true],
  ['^x', 'x', false],
  ['^x', '^x', true],
  ['x$', 'x', false],
  ['x$', 'x$', true],
  ['a\\b', 'ab', false],
  ['a\\b', 'a\\b', true],
  ['a\\*', 'a\\anything', true],
  // `*` and `?` also match line terminators and non-ASCII characters.
  ['a*b', 'a\nb', true],
  ['?', '\n', true],
  ['caf?', 'café', true],
  // Case: sensitive unless asked (actions are case-insensitive, ARNs are not).
  ['ssm:get*', 'SSM:GetParameter', false],
  ['ssm:get*', 'SSM:GetParameter', true, { ignoreCase: true }],
  ['SSM:GET?ARAMETER', 'ssm:getparameter', true, { ignoreCase: true }],
  ['ssm:Get*', 'ssmmessages:GetX', false, { ignoreCase: true }],
  // ARN patterns: the first five segments are matched one by one, `*` and `?` there never match ':'.
  [
    'arn:aws:ssm:*:123456789012:*',
    'arn:aws:ssm:eu-west-1:123456789012:parameter/app/db',
    true,
    { arn: true },
  ],
  ['arn:aws:ssm:*:123456789012:*', 'arn:aws:ssm:eu-west-1:999999999999:parameter/x', false, { arn: true }],
  // "If the * wildcard is the last character of a resource ARN segment, it can expand to match beyond the
  // colon boundaries" (IAM User Guide, "Using wildcards in resource ARNs"): the region's `*` may take
  // "eu-west-1:x" or "eu-west-1:123456789012".
  ['arn:aws:ssm:*:123456789012:*', 'arn:aws:ssm:eu-west-1:x:123456789012:parameter/x', true, { arn: true }],
  ['arn:aws:ec2:*:instance/*', 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc', true, { arn: true }],
  ['arn:aws:ec2:*:instance/*', 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc', true],
  // Only a segment's last character expands: `eu-*-1` and `?` stay inside the region segment.
  ['arn:aws:ec2:eu-*-1:instance/*', 'arn:aws:ec2:eu-west:x-1:instance/i', false, { arn: true }],
  ['arn:aws:ec2:eu-*-1*:instance/*', 'arn:aws:ec2:eu-west-1:123456789012:instance/i', true, { arn: true }],
  ['arn:aws:ec2:?:instance/*', 'arn:aws:ec2:::instance/i', false, { arn: true }],
  ['arn:aws:ec2:*:*:instance/*', 'arn:aws:ec2:eu-west-1:123456789012:volume/v', false, { arn: true }],
  ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b:c/d', true, { arn: true }],
  ['arn:aws:s3:*:*:bucket/*', 'arn:aws:s3:::bucket/k', true, { arn: true }],
  ['arn:aws:*:*:*:*', 'arn:aws:s3:::b', true, { arn: true }],
  ['arn:aws:s3:::aws-ssm-eu-west-?/*', 'arn:aws:s3:::aws-ssm-eu-west-3/k', true, { arn: true }],
  ['arn:aws:s?:::b', 'arn:aws:s::::b', false, { arn: true }],
  ['arn:aws:s?:::b', 'arn:aws:s::::b', true],
  ['arn:aws:s3:::aws-ssm-*/*', 'arn:aws:s3:::AWS-SSM-eu-west-1/k', false, { arn: true }],
  ['arn:aws:s3:::b', 'arn:aws:s3', false, { arn: true }],
  // Fewer than six segments: the last one is free and `*` there spans colons.
  ['arn:aws:s3*', 'arn:aws:s3:::bucket/key', true, { arn: true }],
  ['arn:*', 'arn:aws:s3:::bucket/key', true, { arn: true }],
  ['arn:aws:s3:*', 'arn:aws:ec2:eu-west-1:1:instance/i', false, { arn: true }],
  // A pattern that does not begin with 'arn:' is a free glob even with the ARN option.
  ['*:123456789012:*', 'arn:aws:ssm:r:999:x:123456789012:y', true, { arn: true }],
];

/** The textbook O(pattern x text) dynamic programme, as an independent oracle. */
function referenceMatch(pattern: string, text: string): boolean {
  let row = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
  for (const p of pattern) {
    const next = Array.from({ length: text.length + 1 }, () => false);
    next[0] = p === '*' && row[0]!;
    for (let j = 1; j <= text.length; j += 1) {
      if (p === '*') next[j] = row[j]! || next[j - 1]!;
      else next[j] = row[j - 1]! && (p === '?' || p === text[j - 1]);
    }
    row = next;
  }
  return row[text.length]!;
}

/** Deterministic pseudo-random strings (no Math.random: the same cases on every run). */
function randomInts(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % below;
  };
}

function* generatedCases(
  count: number,
  patternAlphabet = 'ab*?',
  textAlphabet = 'ab',
): Generator<[string, string]> {
  const next = randomInts(12345);
  const word = (alphabet: string, max: number) =>
    Array.from({ length: next(max + 1) }, () => alphabet[next(alphabet.length)]).join('');
  for (let i = 0; i < count; i += 1) yield [word(patternAlphabet, 10), word(textAlphabet, 14)];
}

/**
 * Long chunks (past the 32-character word of the bit-parallel search): a random text, and a pattern cut
 * from it with some characters turned into `?`, some runs into `*`, and sometimes one character changed.
 */
function* derivedCases(count: number): Generator<[string, string]> {
  const next = randomInts(678);
  for (let i = 0; i < count; i += 1) {
    const text = Array.from({ length: 20 + next(130) }, () => 'ab'[next(2)]).join('');
    let pattern = '';
    for (let j = 0; j < text.length; j += 1) {
      const roll = next(100);
      if (roll < 3) {
        pattern += '*';
        j += next(6);
      } else pattern += roll < 10 ? '?' : text[j];
    }
    if (next(2) === 0) {
      const at = next(pattern.length);
      pattern = pattern.slice(0, at) + (pattern[at] === 'a' ? 'b' : 'a') + pattern.slice(at + 1);
    }
    yield [pattern, text];
  }
}

/**
 * The ARN semantics of the IAM User Guide, with a RegExp (safe here: the generated patterns are short): the
 * first five segments' wildcards stop at ':', except a `*` that is the last character of its segment
 * ("it can expand to match beyond the colon boundaries"); the rest is free.
 */
function referenceArnMatch(pattern: string, text: string): boolean {
  const colons = pattern.split(':').length - 1;
  const segmentColons = pattern.startsWith('arn:') ? Math.min(colons, 5) : 0;
  let seen = 0;
  let source = '';
  for (const [i, ch] of [...pattern].entries()) {
    const constrained = seen < segmentColons;
    const lastOfSegment = pattern.slice(i).replace(/^\*+/, '').startsWith(':');
    if (ch === '*') source += constrained && !lastOfSegment ? '[^:]*' : '.*';
    else if (ch === '?') source += constrained ? '[^:]' : '.';
    else {
      if (ch === ':') seen += 1;
      source += ch; // the generated literals are only 'a', 'r', 'n' and ':'
    }
  }
  return new RegExp(`^${source}$`, 's').test(text);
}

/** A linear bound on the work of one match: a few steps per pattern and text character. */
const linearBound = (pattern: string, text: string) => 10 * (pattern.length + text.length + 1);

describe('matchesWildcard', () => {
  const rows = CASES.map(([pattern, text, expected, options = {}]) => ({
    title: `${JSON.stringify(pattern)} against ${JSON.stringify(text)}${options.arn ? ' (ARN)' : ''}${options.ignoreCase ? ' (ignoring case)' : ''}: ${expected}`,
    pattern,
    text,
    expected,
    options,
  }));
  it.each(rows)('$title', ({ pattern, text, expected, options }) => {
    const stats: WildcardStats = { steps: 0 };
    expect(matchesWildcard(pattern, text, { ...options, stats })).toBe(expected);
    expect(stats.steps).toBeLessThanOrEqual(linearBound(pattern, text));
  });

  it('searches a long chunk with `?` and thousands of distinct characters (no per-character masks)', () => {
    const chars = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    const pattern = `*${chars.slice(0, 1500)}?${chars.slice(1501)}*`;
    expect(matchesWildcard(pattern, `x${chars}y`)).toBe(true);
    expect(matchesWildcard(pattern, `x${chars.slice(0, 2999)}y`)).toBe(false);
    expect(matchesWildcard(pattern, `x${chars.slice(0, 1499)}zz${chars.slice(1501)}`)).toBe(false);
  });

  it('follows the documented ARN segment semantics on 5,000 generated ARN-like cases', () => {
    const disagreements: [string, string][] = [];
    for (const [pattern, text] of generatedCases(5000, 'a:*?', 'a:')) {
      const [arnPattern, arnText] = [`arn:${pattern}`, `arn:${text}`];
      const expected = referenceArnMatch(arnPattern, arnText);
      if (matchesWildcard(arnPattern, arnText, { arn: true }) !== expected)
        disagreements.push([arnPattern, arnText]);
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees with a reference dynamic-programming matcher on 5,000 short and 2,000 long generated cases', () => {
    const disagreements: [string, string][] = [];
    for (const [pattern, text] of [...generatedCases(5000), ...derivedCases(2000)]) {
      if (matchesWildcard(pattern, text) !== referenceMatch(pattern, text))
        disagreements.push([pattern, text]);
    }
    expect(disagreements).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Adversarial patterns, through the real evaluator

/** `prefix`, then `stars` groups of `*` + filler, then `last`: exactly `length` characters. */
function starPattern(prefix: string, stars: number, length: number, last: string): string {
  const filler = length - prefix.length - stars - last.length;
  const groups = Array.from(
    { length: stars },
    (_, i) => '*' + 'a'.repeat(Math.floor(filler / stars) + (i < filler % stars ? 1 : 0)),
  );
  return prefix + groups.join('') + last;
}

const S3_PREFIX = 'arn:aws:s3:::bucket/';
const LONG_RESOURCE_PATTERN = starPattern(S3_PREFIX, 2000, 10_000, 'b');
const LONG_ACTION_PATTERN = starPattern('ssm:', 2000, 10_000, 'x');
const STARRY_ACTION = 'ssm:' + '*'.repeat(30) + 'x';
/** 2,000 stars again, but most of the 10,000 characters in one chunk that almost matches everywhere. */
const LONG_CHUNK_PATTERN = S3_PREFIX + '*' + 'a'.repeat(7979) + 'b' + '*'.repeat(1999);

interface Adversarial {
  case: string;
  statement: Record<string, unknown>;
  action: string;
  resource?: string;
  decision: Decision;
  /** The pattern and text the statement's matcher sees, for counting its work. */
  work: [pattern: string, text: string, options: WildcardOptions];
}

const ADVERSARIAL: Adversarial[] = [
  {
    case: 'Action ssm: + 30 stars + x, action ssm: + 5,000 a (no match)',
    statement: { Effect: 'Allow', Action: STARRY_ACTION, Resource: '*' },
    action: 'ssm:' + 'a'.repeat(5000),
    decision: 'notAllowed',
    work: [STARRY_ACTION, 'ssm:' + 'a'.repeat(5000), { ignoreCase: true }],
  },
  {
    case: 'Action ssm: + 30 stars + x, action ssm: + 4,999 a + x (match)',
    statement: { Effect: 'Allow', Action: STARRY_ACTION, Resource: '*' },
    action: 'ssm:' + 'a'.repeat(4999) + 'x',
    decision: 'allowed',
    work: [STARRY_ACTION, 'ssm:' + 'a'.repeat(4999) + 'x', { ignoreCase: true }],
  },
  {
    case: 'NotAction ssm: + 30 stars + x does not exclude ssm: + 5,000 a',
    statement: { Effect: 'Allow', NotAction: STARRY_ACTION, Resource: '*' },
    action: 'ssm:' + 'a'.repeat(5000),
    decision: 'allowed',
    work: [STARRY_ACTION, 'ssm:' + 'a'.repeat(5000), { ignoreCase: true }],
  },
  {
    case: 'Action of 10,000 characters with 2,000 stars, 10,000-character action (no match)',
    statement: { Effect: 'Allow', Action: LONG_ACTION_PATTERN, Resource: '*' },
    action: 'ssm:' + 'a'.repeat(9996),
    decision: 'notAllowed',
    work: [LONG_ACTION_PATTERN, 'ssm:' + 'a'.repeat(9996), { ignoreCase: true }],
  },
  {
    case: 'Resource of 10,000 characters with 2,000 stars, 10,000-character ARN (no match)',
    statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: LONG_RESOURCE_PATTERN },
    action: 's3:GetObject',
    resource: S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length),
    decision: 'notAllowed',
    work: [LONG_RESOURCE_PATTERN, S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length), { arn: true }],
  },
  {
    case: 'Resource of 10,000 characters with 2,000 stars, 10,000-character ARN (match)',
    statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: LONG_RESOURCE_PATTERN },
    action: 's3:GetObject',
    resource: S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length - 1) + 'b',
    decision: 'allowed',
    work: [LONG_RESOURCE_PATTERN, S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length - 1) + 'b', { arn: true }],
  },
  {
    case: 'Resource of 10,000 characters with 2,000 stars and a 7,980-character chunk (no match)',
    statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: LONG_CHUNK_PATTERN },
    action: 's3:GetObject',
    resource: S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length),
    decision: 'notAllowed',
    work: [LONG_CHUNK_PATTERN, S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length), { arn: true }],
  },
  {
    case: 'NotResource of 10,000 characters with 2,000 stars does not exclude a 10,000-character ARN',
    statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: LONG_RESOURCE_PATTERN },
    action: 's3:GetObject',
    resource: S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length),
    decision: 'allowed',
    work: [LONG_RESOURCE_PATTERN, S3_PREFIX + 'a'.repeat(10_000 - S3_PREFIX.length), { arn: true }],
  },
];

/*
 * The evaluator runs in a worker thread so that jest's timeout can fire while it works: a synchronous
 * call in the test's own thread would block the timer. A backtracking matcher runs for minutes (or far
 * longer) on these inputs, so the test fails on its timeout; the worker is then terminated. No test
 * reads the clock: the timeout is the only time bound, and it is generous for a linear matcher.
 */
const ADVERSARIAL_TIMEOUT_MS = 30_000;
const workers = new Set<Worker>();

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.tsx);
const { evaluatePolicies } = require(workerData.evaluator);
parentPort.postMessage(evaluatePolicies(workerData.input).decision);
`;

function evaluateInWorker(input: PolicySetInput & { action: string; resource?: string }): Promise<Decision> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      tsx: require.resolve('tsx/cjs'),
      evaluator: path.resolve(__dirname, '../../shared/policy/evaluator.ts'),
      input,
    },
  });
  workers.add(worker);
  return new Promise<Decision>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`evaluator worker exited with code ${code}`)));
  });
}

afterEach(async () => {
  await Promise.all([...workers].map((worker) => worker.terminate()));
  workers.clear();
});

describe('adversarial wildcard patterns in the policy evaluator', () => {
  const inputOf = (row: Adversarial) => ({
    identityPolicies: [
      {
        source: 'inline:R/Adversarial',
        document: parsePolicyDocument({ Version: '2012-10-17', Statement: [row.statement] }),
      },
    ],
    action: row.action,
    ...(row.resource !== undefined ? { resource: row.resource } : {}),
  });

  it.each(ADVERSARIAL)(
    '$case: $decision, within the timeout',
    async (row) => {
      await expect(evaluateInWorker(inputOf(row))).resolves.toBe(row.decision);
    },
    ADVERSARIAL_TIMEOUT_MS,
  );

  it.each(ADVERSARIAL)('$case: the matcher does linear work', (row) => {
    const [pattern, text, options] = row.work;
    const stats: WildcardStats = { steps: 0 };
    const matched = matchesWildcard(pattern, text, { ...options, stats });
    // The statement matched iff its pattern did (a NotAction / NotResource row inverts it).
    const inverted = row.statement.NotAction !== undefined || row.statement.NotResource !== undefined;
    expect(matched !== inverted).toBe(row.decision === 'allowed');
    expect(stats.steps).toBeLessThanOrEqual(linearBound(pattern, text));
  });
});

describe('evaluator wildcard semantics', () => {
  const decide = (statement: Record<string, unknown>, action: string, resource?: string) =>
    evaluatePolicies({
      identityPolicies: [
        {
          source: 'inline:R/P',
          document: parsePolicyDocument({ Version: '2012-10-17', Statement: [statement] }),
        },
      ],
      action,
      ...(resource !== undefined ? { resource } : {}),
    }).decision;

  it.each([
    ['Ssm:get*', 'SSM:GetParameter', 'allowed'],
    ['ssm:Get?arameter', 'ssm:GETPARAMETER', 'allowed'],
    ['ssm:Get.Parameter', 'ssm:GetXParameter', 'notAllowed'],
    ['ssm:Get(Parameter)+', 'ssm:GetParameter', 'notAllowed'],
    ['ssm:[GP]et*', 'ssm:GetParameter', 'notAllowed'],
    ['ssm:*$', 'ssm:GetParameter', 'notAllowed'],
  ])('Action %j, action %j: %s', (pattern, action, decision) => {
    expect(decide({ Effect: 'Allow', Action: pattern, Resource: '*' }, action)).toBe(decision);
  });

  it.each([
    ['arn:aws:s3:::b?/${*}', 'arn:aws:s3:::bx/*', 'allowed'],
    ['arn:aws:s3:::b?/${*}', 'arn:aws:s3:::bx/key', 'notAllowed'],
    ['arn:aws:s3:::b?/${?}', 'arn:aws:s3:::bx/?', 'allowed'],
    ['arn:aws:s3:::b?/${?}', 'arn:aws:s3:::bx/k', 'notAllowed'],
    ['arn:aws:s3:::b*/(a)+.[x]', 'arn:aws:s3:::bucket/(a)+.[x]', 'allowed'],
    ['arn:aws:s3:::b*/(a)+.[x]', 'arn:aws:s3:::bucket/aa.x', 'notAllowed'],
    ['arn:aws:s3:::B*', 'arn:aws:s3:::bucket/k', 'notAllowed'],
    ['arn:aws:ssm:*:123456789012:*', 'arn:aws:ssm:eu-west-1:999999999999:parameter/x', 'notAllowed'],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b:c/d', 'allowed'],
    ['arn:aws:s3:::bucket/${aws:username}/*', 'arn:aws:s3:::bucket/alice/k', 'conditional'],
    ['arn:aws:s3:::${a${a${a', 'arn:aws:s3:::${a${a${a', 'allowed'],
  ])('Resource %j, resource %j: %s', (pattern, resource, decision) => {
    expect(
      decide({ Effect: 'Allow', Action: 's3:GetObject', Resource: pattern }, 's3:GetObject', resource),
    ).toBe(decision);
  });
});
