/**
 * Benchmark section: IAM wildcard matching (issue 9, "no input can stall an audit"). Patterns come from
 * customer policies; the matcher (shared/policy/wildcard.ts) must stay fast on hostile ones. Each case is
 * compiled once, then matched repeatedly; the figure is the median over several rounds of the time per
 * match, printed with the matcher's own work count (characters examined). Figures are printed, never
 * asserted. Run alone with `node -r tsx/cjs scripts/dev/bench-patterns.ts`.
 */
import { performance } from 'node:perf_hooks';
import { compileWildcard, type WildcardOptions, type WildcardStats } from '../../shared/policy/wildcard';

/** Issue 9: a 10,000-character pattern with 2,000 stars matches a 10,000-character text in under 10 ms. */
export const PATTERN_TARGET_MS = 10;

const ROUNDS = 7;
/** Each round repeats the match until it has run at least this long, so short matches are measurable. */
const ROUND_MS = 20;

interface PatternCase {
  name: string;
  pattern: string;
  text: string;
  options: WildcardOptions;
  targetMs?: number;
}

export interface PatternRow {
  name: string;
  patternChars: number;
  stars: number;
  textChars: number;
  matched: boolean;
  steps: number;
  msPerMatch: number;
  targetMs: number | undefined;
}

/** `prefix`, then `stars` groups of `*` + 'a' filler, then `last`: exactly `length` characters. */
function starPattern(prefix: string, stars: number, length: number, last: string): string {
  const filler = length - prefix.length - stars - last.length;
  const groups = Array.from(
    { length: stars },
    (_, i) => '*' + 'a'.repeat(Math.floor(filler / stars) + (i < filler % stars ? 1 : 0)),
  );
  return prefix + groups.join('') + last;
}

function patternCases(): PatternCase[] {
  const s3 = 'arn:aws:s3:::bucket/';
  const longPattern = starPattern(s3, 2000, 10_000, 'b');
  const starry = 'ssm:' + '*'.repeat(20) + 'x';
  // Still 10,000 characters and 2,000 stars, but one 7,980-character chunk that almost matches everywhere:
  // the worst shape for the chunk searches (KMP without `?`, bit-parallel Shift-And with one).
  const longChunk = s3 + '*' + 'a'.repeat(7979) + 'b' + '*'.repeat(1999);
  const longChunkWithOne = s3 + '*' + 'a'.repeat(3989) + '?' + 'a'.repeat(3989) + 'b' + '*'.repeat(1999);
  return [
    {
      name: '10,000-char Resource, 2,000 stars, no match',
      pattern: longPattern,
      text: s3 + 'a'.repeat(10_000 - s3.length),
      options: { arn: true },
      targetMs: PATTERN_TARGET_MS,
    },
    {
      name: '10,000-char Resource, 2,000 stars, match',
      pattern: longPattern,
      text: s3 + 'a'.repeat(10_000 - s3.length - 1) + 'b',
      options: { arn: true },
      targetMs: PATTERN_TARGET_MS,
    },
    {
      name: '10,000-char Resource, 2,000 stars, one 7,980-char chunk',
      pattern: longChunk,
      text: s3 + 'a'.repeat(10_000 - s3.length),
      options: { arn: true },
      targetMs: PATTERN_TARGET_MS,
    },
    {
      name: '10,000-char Resource, 2,000 stars, one 7,980-char chunk with ?',
      pattern: longChunkWithOne,
      text: s3 + 'a'.repeat(10_000 - s3.length),
      options: { arn: true },
      targetMs: PATTERN_TARGET_MS,
    },
    {
      name: 'Action ssm: + 20 stars + x, 5,004-char action, no match',
      pattern: starry,
      text: 'ssm:' + 'a'.repeat(5000),
      options: { ignoreCase: true },
    },
    {
      name: 'Action ssm: + 20 stars + x, 5,005-char action, match',
      pattern: starry,
      text: 'ssm:' + 'a'.repeat(5000) + 'x',
      options: { ignoreCase: true },
    },
    {
      name: 'typical Resource arn:aws:s3:::aws-ssm-*/*',
      pattern: 'arn:aws:s3:::aws-ssm-*/*',
      text: 'arn:aws:s3:::aws-ssm-eu-west-1/aws:runShellScript/document.json',
      options: { arn: true },
    },
    {
      name: 'typical Resource arn:aws:ssm:*:123456789012:parameter/app/*',
      pattern: 'arn:aws:ssm:*:123456789012:parameter/app/*',
      text: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/password',
      options: { arn: true },
    },
    {
      name: 'typical Action ssmmessages:*',
      pattern: 'ssmmessages:*',
      text: 'ssmmessages:CreateControlChannel',
      options: { ignoreCase: true },
    },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function measureCase(c: PatternCase): PatternRow {
  const match = compileWildcard(c.pattern, c.options);
  const stats: WildcardStats = { steps: 0 };
  const matched = match(c.text, stats);
  let sink = 0;
  const perMatch: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let runs = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      if (match(c.text)) sink++;
      runs++;
      elapsed = performance.now() - start;
    } while (elapsed < ROUND_MS);
    perMatch.push(elapsed / runs);
  }
  if (sink < 0) throw new Error('unreachable'); // keeps the loop's result observable
  return {
    name: c.name,
    patternChars: c.pattern.length,
    stars: [...c.pattern].filter((ch) => ch === '*').length,
    textChars: c.text.length,
    matched,
    steps: stats.steps,
    msPerMatch: median(perMatch),
    targetMs: c.targetMs,
  };
}

export function measurePatterns(): PatternRow[] {
  return patternCases().map(measureCase);
}

export function renderPatternRows(rows: readonly PatternRow[]): string {
  const headers = ['case', 'pattern', 'stars', 'text', 'match', 'steps', 'ms/match', 'target'];
  const cells = rows.map((r) => [
    r.name,
    r.patternChars.toLocaleString('en-US'),
    String(r.stars),
    r.textChars.toLocaleString('en-US'),
    r.matched ? 'yes' : 'no',
    r.steps.toLocaleString('en-US'),
    r.msPerMatch < 0.01 ? r.msPerMatch.toExponential(2) : r.msPerMatch.toFixed(3),
    r.targetMs === undefined ? '' : `< ${r.targetMs} ms ${r.msPerMatch < r.targetMs ? 'met' : 'MISSED'}`,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    `(median of ${ROUNDS} rounds of >= ${ROUND_MS} ms; compiled once; steps = characters the matcher examined)`,
  ].join('\n');
}

/** Measures and renders the section (what `npm run bench` prints under its heading). */
export function patternReport(): string {
  return renderPatternRows(measurePatterns());
}

/** Prints the wildcard-matching figures. */
export async function benchPatterns(): Promise<void> {
  process.stdout.write(`${patternReport()}\n`);
}

if (require.main === module) {
  benchPatterns().catch((err: unknown) => {
    process.stderr.write(
      `bench-patterns: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  });
}
