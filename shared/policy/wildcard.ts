/**
 * IAM wildcard matching (`*` = any run of characters, `?` = exactly one), written by hand so that no policy
 * text ever becomes a backtracking RegExp: a pattern such as `ssm:******x` made V8's regex engine explode
 * (3x slower per extra star). The matcher here is a greedy chunk matcher:
 *
 *   pattern = HEAD * MID1 * MID2 * ... * TAIL     (chunks contain literals and `?`, never `*`)
 *
 * HEAD must match at the start, TAIL at the end, and each MID at its leftmost position after the previous
 * one (leftmost is always safe: a later `*` can absorb whatever an earlier choice skipped). Nothing
 * backtracks across stars: the search for each MID resumes where the previous one ended. MIDs without `?`
 * are found with KMP and MIDs with `?` with bit-parallel Shift-And, and the searches never overlap, so a
 * match costs O(pattern + text) when no chunk with `?` is longer than 32 characters, and
 * O(pattern + text x longest chunk) at worst (usually divided by 32).
 *
 * Characters are UTF-16 code units (as `.` in a RegExp without the `u` flag), and `*`/`?` match any of
 * them, line terminators included.
 */

import {
  compileGlob as compileAtoms,
  compileGlobMatcher,
  hasExpandingSegmentStar,
  tokenizeGlob,
  type GlobToken,
} from './glob';

export type WildcardToken = GlobToken;

export interface WildcardOptions {
  /** Compare lower-cased (IAM action names). The pattern is lower-cased once, the text on every call. */
  ignoreCase?: boolean;
  /**
   * ARN semantics (Resource / NotResource): when the pattern begins with the literal `arn:`, its first five
   * colon-separated segments (arn:partition:service:region:account) are matched one by one, so `?` and an
   * inner `*` there never match a ':'; the resource part after the fifth colon is a free glob in which `*`
   * spans '/' and ':'. A pattern with fewer than six segments treats its last segment as the free part.
   * The IAM User Guide adds: "If the * wildcard is the last character of a resource ARN segment, it can
   * expand to match beyond the colon boundaries"
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html), so such
   * a star (`arn:aws:ec2:*:instance/*`) may span colons. Other patterns are free globs throughout.
   */
  arn?: boolean;
}

/** Work done by a match, for tests and benchmarks: one step per character examined. */
export interface WildcardStats {
  steps: number;
}

/** Tests a text against a compiled pattern; `stats`, when given, accumulates the work done. */
export type WildcardMatcher = (text: string, stats?: WildcardStats) => boolean;

/** `?` in a compiled chunk. Literal characters are their (non-negative) UTF-16 code units. */
const ONE = -1;
/** `*` in the flattened pattern (never inside a chunk). */
const STAR = -2;
const COLON = 0x3a;
/** arn:partition:service:region:account: the colons after which the free resource part begins. */
const ARN_SEGMENT_COLONS = 5;
/** Memory budget of the bit-parallel masks of one chunk, in 32-bit words (256 KiB). */
const SHIFT_AND_MAX_WORDS = 1 << 16;

/** Splits a pattern written with `*` and `?` into tokens (every other character is literal). */
export const parseWildcard = (pattern: string): WildcardToken[] => tokenizeGlob(pattern);

/** Flattens tokens into code units, ONE and STAR (runs of stars collapse into one). */
function flatten(tokens: readonly WildcardToken[], ignoreCase: boolean): number[] {
  const codes: number[] = [];
  for (const token of tokens) {
    if (token.kind === 'star') {
      if (codes[codes.length - 1] !== STAR) codes.push(STAR);
    } else if (token.kind === 'one') {
      codes.push(ONE);
    } else {
      const text = ignoreCase ? token.text.toLowerCase() : token.text;
      for (let i = 0; i < text.length; i += 1) codes.push(text.charCodeAt(i));
    }
  }
  return codes;
}

/** A star-free glob piece: code units and ONE. */
type Chunk = Int32Array;

/** Does `chunk` match `text` at `at`? The caller guarantees it fits before the end of the range. */
function chunkAt(chunk: Chunk, text: string, at: number, stats: WildcardStats | undefined): boolean {
  const length = chunk.length;
  let i = 0;
  while (i < length) {
    const code = chunk[i]!;
    if (code !== ONE && code !== text.charCodeAt(at + i)) break;
    i += 1;
  }
  if (stats !== undefined) stats.steps += i < length ? i + 1 : length;
  return i === length;
}

/** The leftmost start of a chunk within text[from, to), or -1. */
type Finder = (text: string, from: number, to: number, stats: WildcardStats | undefined) => number;

/**
 * A chunk without `?` is searched with Knuth-Morris-Pratt: at most two comparisons per text character,
 * whatever the chunk. A chunk with `?` (which KMP's failure table cannot express) is searched with the
 * bit-parallel Shift-And algorithm: one 32-bit word operation per text character and 32 chunk characters,
 * so linear for chunks up to 32 characters and O(text x chunk / 32) beyond (O(text x chunk) past the
 * mask memory budget).
 */
function compileFinder(chunk: Chunk): Finder {
  const length = chunk.length;
  if (chunk.includes(ONE)) {
    // Shift-And keeps one mask per distinct character, each as long as the chunk: memory grows with
    // distinct x length. Past a budget (only a long chunk of many different characters gets there) try the
    // chunk at each position instead: no memory, O(text x chunk).
    const distinct = new Set(chunk).size; // ONE counts once, for the mask of every other character
    if (distinct * Math.ceil(length / 32) <= SHIFT_AND_MAX_WORDS) return compileShiftAnd(chunk);
    return (text, from, to, stats) => {
      for (let at = from; at + length <= to; at += 1) if (chunkAt(chunk, text, at, stats)) return at;
      return -1;
    };
  }
  // failure[i]: the length of the longest proper prefix of chunk[0..i] that is also its suffix.
  const failure = new Int32Array(length);
  for (let i = 1, k = 0; i < length; i += 1) {
    while (k > 0 && chunk[i] !== chunk[k]) k = failure[k - 1]!;
    if (chunk[i] === chunk[k]) k += 1;
    failure[i] = k;
  }
  return (text, from, to, stats) => {
    let matched = 0;
    let steps = 0;
    let found = -1;
    for (let i = from; i < to; i += 1) {
      const code = text.charCodeAt(i);
      steps += 1;
      while (matched > 0 && chunk[matched] !== code) {
        matched = failure[matched - 1]!;
        steps += 1;
      }
      if (chunk[matched] === code) matched += 1;
      if (matched === length) {
        found = i + 1 - length;
        break;
      }
    }
    if (stats !== undefined) stats.steps += steps;
    return found;
  };
}

/** Shift-And: bit j of the state is set when chunk[0..j] matches the text ending at the current character. */
function compileShiftAnd(chunk: Chunk): Finder {
  const length = chunk.length;
  const words = Math.ceil(length / 32);
  // The mask of a character has bit j set when chunk[j] is that character or `?`.
  const anyMask = new Int32Array(words);
  for (let j = 0; j < length; j += 1) if (chunk[j] === ONE) anyMask[j >>> 5]! |= 1 << (j & 31);
  const masks = new Map<number, Int32Array>();
  for (let j = 0; j < length; j += 1) {
    const code = chunk[j]!;
    if (code === ONE) continue;
    let mask = masks.get(code);
    if (mask === undefined) masks.set(code, (mask = Int32Array.from(anyMask)));
    mask[j >>> 5]! |= 1 << (j & 31);
  }
  const lastWord = words - 1;
  const lastBit = 1 << ((length - 1) & 31);
  const state = new Int32Array(words); // reused: matching is synchronous and never re-entered

  return (text, from, to, stats) => {
    state.fill(0);
    let found = -1;
    let i = from;
    for (; i < to; i += 1) {
      const mask = masks.get(text.charCodeAt(i)) ?? anyMask;
      // Shift the state up one bit (high word first, so no carry is kept), then keep the bits whose chunk
      // character accepts this text character. Bit 0 comes in set: a match may start at every character.
      for (let w = lastWord; w > 0; w -= 1) state[w] = ((state[w]! << 1) | (state[w - 1]! >>> 31)) & mask[w]!;
      state[0] = ((state[0]! << 1) | 1) & mask[0]!;
      if ((state[lastWord]! & lastBit) !== 0) {
        found = i + 1 - length;
        break;
      }
    }
    if (stats !== undefined) stats.steps += (Math.min(i + 1, to) - from) * words;
    return found;
  };
}

/** A free glob (no segment structure) over code units, tested against text[from, to). */
interface Glob {
  (text: string, from: number, to: number, stats: WildcardStats | undefined): boolean;
}

function compileGlob(codes: readonly number[]): Glob {
  const chunks: Chunk[] = [];
  let current: number[] = [];
  for (const code of codes) {
    if (code === STAR) {
      chunks.push(Int32Array.from(current));
      current = [];
    } else {
      current.push(code);
    }
  }
  chunks.push(Int32Array.from(current));

  const head = chunks[0]!;
  if (chunks.length === 1) {
    // No star: the text must be exactly as long as the pattern.
    return (text, from, to, stats) => to - from === head.length && chunkAt(head, text, from, stats);
  }
  const tail = chunks[chunks.length - 1]!;
  const middles = chunks
    .slice(1, -1)
    .filter((chunk) => chunk.length > 0)
    .map((chunk) => ({ length: chunk.length, find: compileFinder(chunk) }));
  const minimum = chunks.reduce((sum, chunk) => sum + chunk.length, 0);

  return (text, from, to, stats) => {
    if (to - from < minimum) return false;
    if (!chunkAt(head, text, from, stats)) return false;
    const end = to - tail.length;
    if (!chunkAt(tail, text, end, stats)) return false;
    // Leftmost placement of each middle chunk between the head and the tail.
    let position = from + head.length;
    for (const chunk of middles) {
      const at = chunk.find(text, position, end, stats);
      if (at === -1) return false;
      position = at + chunk.length;
    }
    return true;
  };
}

function startsWithArn(codes: readonly number[]): boolean {
  return codes[0] === 0x61 && codes[1] === 0x72 && codes[2] === 0x6e && codes[3] === COLON; // 'arn:'
}

/**
 * Compiles a pattern (a string with `*` and `?`, or tokens from a caller that handles escapes and
 * variables itself) into a matcher. Compiling is linear in the pattern; so is memory.
 */
export function compileWildcard(
  pattern: string | readonly WildcardToken[],
  options: WildcardOptions = {},
): WildcardMatcher {
  const ignoreCase = options.ignoreCase === true;
  const tokens =
    typeof pattern === 'string' ? parseWildcard(ignoreCase ? pattern.toLowerCase() : pattern) : pattern;
  // A string pattern was lower-cased whole above (as the text will be); tokens are lower-cased per literal.
  const codes = flatten(tokens, ignoreCase && typeof pattern !== 'string');
  const prepare = ignoreCase ? (text: string) => text.toLowerCase() : (text: string) => text;

  const segmentColons =
    options.arn === true && startsWithArn(codes)
      ? Math.min(
          codes.reduce((count, code) => count + (code === COLON ? 1 : 0), 0),
          ARN_SEGMENT_COLONS,
        )
      : 0;
  if (segmentColons > 0) {
    // A segment's last `*` may cross colons, so the pattern's colons no longer pin the text's: match the
    // whole automaton instead (bit-parallel, O(text x pattern / 32), still no backtracking).
    const atoms = compileAtoms(tokens, { arn: true, ignoreCase: ignoreCase && typeof pattern !== 'string' });
    if (hasExpandingSegmentStar(atoms)) {
      const match = compileGlobMatcher(atoms);
      return (text, stats) => match(prepare(text), stats);
    }
  }
  if (segmentColons === 0) {
    const glob = compileGlob(codes);
    return (text, stats) => {
      const subject = prepare(text);
      return glob(subject, 0, subject.length, stats);
    };
  }

  // Wildcards in the segments cannot produce a ':', so the pattern's k-th literal colon must meet the
  // text's k-th colon: split both there and match the pieces independently.
  const segments: Glob[] = [];
  let start = 0;
  for (let i = 0; i < codes.length && segments.length < segmentColons; i += 1) {
    if (codes[i] === COLON) {
      segments.push(compileGlob(codes.slice(start, i)));
      start = i + 1;
    }
  }
  const rest = compileGlob(codes.slice(start));
  return (text, stats) => {
    const subject = prepare(text);
    let from = 0;
    for (const segment of segments) {
      const colon = subject.indexOf(':', from);
      if (stats !== undefined) stats.steps += (colon === -1 ? subject.length : colon + 1) - from;
      if (colon === -1 || !segment(subject, from, colon, stats)) return false;
      from = colon + 1;
    }
    return rest(subject, from, subject.length, stats);
  };
}

/**
 * Does `text` match the IAM wildcard `pattern`? Linear-time in practice, O(pattern x text) at worst.
 * For many texts against one pattern, compile it once with compileWildcard.
 */
export function matchesWildcard(
  pattern: string,
  text: string,
  options: WildcardOptions & { stats?: WildcardStats } = {},
): boolean {
  return compileWildcard(pattern, options)(text, options.stats);
}
