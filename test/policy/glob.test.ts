import { seededRandom } from '../support/deterministic';
import {
  compileGlob,
  compileGlobMatcher,
  globsContain,
  globsIntersect,
  type GlobOptions,
} from '../../shared/policy/glob';

/**
 * Globs as sets: containment ("does the Allow cover every key of bucket/*?") and intersection ("does the
 * Deny touch any key?"), checked against brute force over every short string of a tiny alphabet.
 */

/** Deterministic pseudo-random integers below a bound (the fleet generators' seeded generator; no clock). */
const randomInts = (seed: number): ((below: number) => number) => seededRandom(seed).int;

/**
 * The IAM User Guide's ARN semantics as a RegExp (safe: the generated patterns are tiny): in the first
 * five segments `?` and an inner `*` stop at ':', a segment's last `*` "can expand to match beyond the colon
 * boundaries", the resource part is free. Non-ARN patterns are free throughout.
 */
function referenceRegExp(pattern: string, arn: boolean): RegExp {
  const colons = pattern.split(':').length - 1;
  const segmentColons = arn && pattern.startsWith('arn:') ? Math.min(colons, 5) : 0;
  let seen = 0;
  let source = '';
  for (const [i, ch] of [...pattern].entries()) {
    const constrained = seen < segmentColons;
    const lastOfSegment = pattern.slice(i).replace(/^\*+/, '').startsWith(':');
    if (ch === '*') source += constrained && !lastOfSegment ? '[^:]*' : '.*';
    else if (ch === '?') source += constrained ? '[^:]' : '.';
    else {
      if (ch === ':') seen += 1;
      source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

/** Every string over `alphabet` of length 0..max, each prefixed. */
function allStrings(alphabet: string, max: number, prefix = ''): string[] {
  const out = [prefix];
  let layer = [prefix];
  for (let length = 1; length <= max; length += 1) {
    layer = layer.flatMap((s) => [...alphabet].map((c) => s + c));
    out.push(...layer);
  }
  return out;
}

function randomPattern(next: (below: number) => number, alphabet: string, max: number): string {
  return Array.from({ length: next(max + 1) }, () => alphabet[next(alphabet.length)]).join('');
}

describe('glob matching', () => {
  it.each([
    ['arn:aws:ec2:*:instance/*', 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc', true],
    ['arn:aws:ec2:eu-*-1:instance/*', 'arn:aws:ec2:eu-west:1-1:instance/i', false],
    ['arn:aws:ec2:?:instance/*', 'arn:aws:ec2:::instance/i', false],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a:b/c', true],
    ['arn:aws:s3:::bucket/?', 'arn:aws:s3:::bucket/ab', false],
  ])('%j matches %j: %s', (pattern, text, expected) => {
    expect(compileGlobMatcher(compileGlob(pattern, { arn: true }))(text)).toBe(expected);
  });

  it('agrees with the reference on 3,000 generated ARN patterns and every short text', () => {
    const next = randomInts(2024);
    const texts = allStrings('a:c', 6, 'arn:');
    const disagreements: [string, string][] = [];
    for (let i = 0; i < 3000; i += 1) {
      const pattern = `arn:${randomPattern(next, 'a:*?', 6)}`;
      const match = compileGlobMatcher(compileGlob(pattern, { arn: true }));
      const reference = referenceRegExp(pattern, true);
      for (const text of texts) if (match(text) !== reference.test(text)) disagreements.push([pattern, text]);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});

/**
 * Brute force: P contains S when every string S matches (up to a length) P matches too; they intersect
 * when some string matches both. The alphabet has a literal ('a'), the colon and a character neither
 * pattern names ('c'); strings up to length 7 (after the prefix) are enough to find a counterexample or a
 * witness for the patterns generated here (at most four characters after the prefix).
 */
describe.each<{ mode: string; options: GlobOptions; prefix: string; seed: number }>([
  { mode: 'free globs', options: {}, prefix: '', seed: 42 },
  { mode: 'ARN globs', options: { arn: true }, prefix: 'arn:', seed: 77 },
])('glob set questions against brute force ($mode)', ({ options, prefix, seed }) => {
  const arn = options.arn === true;
  const texts = allStrings('a:c', 7, prefix);
  const next = randomInts(seed);
  const pairs = Array.from({ length: 1500 }, () => {
    const [p, q] = [prefix + randomPattern(next, 'a:*?', 4), prefix + randomPattern(next, 'a:*?', 4)];
    const [rp, rq] = [referenceRegExp(p, arn), referenceRegExp(q, arn)];
    // Which texts each pattern matches, once.
    return { p, q, inP: texts.map((t) => rp.test(t)), inQ: texts.map((t) => rq.test(t)) };
  });

  it('containment (P ⊇ Q) agrees on 1,500 generated pairs', () => {
    const disagreements: string[] = [];
    for (const { p, q, inP, inQ } of pairs) {
      const expected = inQ.every((matched, i) => !matched || inP[i]);
      const actual = globsContain([compileGlob(p, options)], [compileGlob(q, options)]);
      if (actual !== expected) disagreements.push(`${p} ⊇ ${q}: expected ${expected}, got ${actual}`);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
  });

  it('intersection agrees on 1,500 generated pairs', () => {
    const disagreements: string[] = [];
    for (const { p, q, inP, inQ } of pairs) {
      const expected = inQ.some((matched, i) => matched && inP[i]);
      const actual = globsIntersect([compileGlob(p, options), compileGlob(q, options)]);
      if (actual !== expected) disagreements.push(`${p} ∩ ${q}: expected ${expected}, got ${actual}`);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});

describe('glob set questions', () => {
  const g = (pattern: string) => compileGlob(pattern, { arn: true });
  it.each([
    // The agent's view of a bucket: every object key.
    ['arn:aws:s3:::aws-ssm-eu-west-1/*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', true],
    ['arn:aws:s3:::aws-ssm-*/*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', true],
    ['arn:aws:s3:::*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', true],
    ['*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', true],
    // `?` is one character: it covers one-character keys, not the set.
    ['arn:aws:s3:::aws-ssm-eu-west-1/?', 'arn:aws:s3:::aws-ssm-eu-west-1/*', false],
    ['arn:aws:s3:::aws-ssm-eu-west-1/agent/*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', false],
    // Patterns with both wildcards: `?*` and `*?` are the same set, `a*a` is inside `a?*`.
    ['arn:aws:s3:::b/*?', 'arn:aws:s3:::b/?*', true],
    ['arn:aws:s3:::b/a?*', 'arn:aws:s3:::b/a*a', true],
    ['arn:aws:s3:::b/a??*', 'arn:aws:s3:::b/a*a', false],
    // A segment's last `*` expands: arn:aws:ec2:*:instance/* covers every instance of every account.
    ['arn:aws:ec2:*:instance/*', 'arn:aws:ec2:eu-west-1:123456789012:instance/*', true],
    ['arn:aws:ec2:*:*:instance/*', 'arn:aws:ec2:*:instance/*', false],
  ])('%j contains %j: %s', (container, contained, expected) => {
    expect(globsContain([g(container)], [g(contained)])).toBe(expected);
  });

  it('a union can cover what no single pattern does', () => {
    const parts = [g('arn:aws:s3:::b/a*'), g('arn:aws:s3:::b/'), g('arn:aws:s3:::b/?*')];
    expect(globsContain(parts.slice(1), [g('arn:aws:s3:::b/*')])).toBe(true);
    expect(globsContain([parts[0]!], [g('arn:aws:s3:::b/*')])).toBe(false);
  });

  it.each([
    ['arn:aws:s3:::aws-ssm-eu-west-1/agent/*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', true],
    ['arn:aws:s3:::secrets/*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', false],
    ['arn:aws:s3:::aws-ssm-??-west-1/*', 'arn:aws:s3:::aws-ssm-eu-west-1/*', true],
  ])('%j intersects %j: %s', (a, b, expected) => {
    expect(globsIntersect([g(a), g(b)])).toBe(expected);
  });

  it('answers undefined (could not decide) past its budget instead of running on', () => {
    // `?`s after a literal make the sets of positions explode; a budget of 10 states is far too small.
    const container = compileGlob(`*a${'?'.repeat(12)}`);
    const contained = compileGlob(`*a${'?'.repeat(11)}*`);
    expect(globsContain([container], [contained], 10)).toBeUndefined();
    expect(globsIntersect([container, contained], 2)).toBeUndefined();
  });
});
