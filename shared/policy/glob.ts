/**
 * IAM glob patterns as sets of strings: matching, intersection and containment.
 *
 * A pattern compiles to a sequence of atoms: a literal character, `?` (one character) or `*` (any run,
 * the empty one included). In an ARN pattern (Resource, NotResource, the Arn* condition operators) the
 * wildcards of the first five segments (arn:partition:service:region:account) stay inside their segment,
 * except that "If the * wildcard is the last character of a resource ARN segment, it can expand to match
 * beyond the colon boundaries"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards).
 * So a segment's `?` and inner `*` never match ':', a segment's final `*` matches anything, and in the
 * resource part (after the fifth colon) `*` spans '/' and ':'.
 *
 * The set questions the auditor asks are "does this Allow cover every object of `bucket/*`?" (containment)
 * and "does this Deny touch any of them?" (intersection). Both are decided exactly over the whole (infinite)
 * alphabet: characters that no pattern names behave alike, so one fresh character stands for all of them,
 * next to ':' and the literal characters the current positions of the patterns expect.
 * - Intersection is reachability in the product of the patterns' automata: O(|P| x |Q|) states.
 * - Containment L(S1 ∩ ... ∩ Sk) ⊆ L(P1 ∪ ... ∪ Pn) explores pairs (state of the product of the S
 *   automata, set of P states reached), keeping only the smallest sets per S state (antichains: a smaller
 *   set can only accept less). For the sets the auditor asks about (a literal ARN prefix and a trailing
 *   `*`) the P sets along the prefix are single sets and the loop adds few; but inclusion between patterns
 *   with both `*` and `?` is not known to be polynomial in general (the `?`s after a literal make the
 *   P sets encode positions), so the search has a budget and answers `undefined` ("could not decide")
 *   past it. Callers treat that as "not contained" / "may intersect": never a PASS they cannot prove.
 *
 * Nothing here builds a RegExp from policy text, and every search is bounded.
 */

/** How a pattern is tokenized by its reader (policy variables and escapes are the caller's business). */
export type GlobToken = { kind: 'literal'; text: string } | { kind: 'star' } | { kind: 'one' };

/** Atom kinds. */
const CHAR = 0;
/** `?` anywhere. */
const ONE = 1;
/** `?` in an ARN segment: any character but ':'. */
const ONE_NO_COLON = 2;
/** `*` anywhere (or as the last character of an ARN segment). */
const STAR = 3;
/** `*` inside an ARN segment: a run without ':'. */
const STAR_NO_COLON = 4;

const COLON = 0x3a;
/** arn:partition:service:region:account: the colons after which the free resource part begins. */
const ARN_SEGMENT_COLONS = 5;

/** A compiled pattern: parallel arrays of atom kinds and (for CHAR) character codes. */
export interface Glob {
  readonly kinds: Uint8Array;
  readonly codes: Int32Array;
  /** The pattern as written, for evidence and debugging. */
  readonly source: string;
}

export interface GlobOptions {
  /** ARN semantics (see the module comment) when the pattern begins with the literal `arn:`. */
  arn?: boolean;
  /** Lower-case the literal characters (the caller lower-cases the texts): the *IgnoreCase operators. */
  ignoreCase?: boolean;
  /**
   * Whether a segment's last `*` may cross colons (default true: the Resource element). The Arn* condition
   * operators check "each of the six colon-delimited components of the ARN ... separately"
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN),
   * so they pass false.
   */
  segmentEndExpands?: boolean;
}

/** Splits a pattern written with `*` and `?` into tokens (every other character is literal). */
export function tokenizeGlob(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  let literal = '';
  for (const ch of pattern) {
    if (ch !== '*' && ch !== '?') {
      literal += ch;
      continue;
    }
    if (literal !== '') tokens.push({ kind: 'literal', text: literal });
    literal = '';
    tokens.push(ch === '*' ? { kind: 'star' } : { kind: 'one' });
  }
  if (literal !== '') tokens.push({ kind: 'literal', text: literal });
  return tokens;
}

/** Raw items before ARN classification: a code unit, or -1 for `?`, -2 for `*`. */
const RAW_ONE = -1;
const RAW_STAR = -2;

function rawItems(tokens: readonly GlobToken[], ignoreCase: boolean): number[] {
  const items: number[] = [];
  for (const token of tokens) {
    if (token.kind === 'star') items.push(RAW_STAR);
    else if (token.kind === 'one') items.push(RAW_ONE);
    else {
      const text = ignoreCase ? token.text.toLowerCase() : token.text;
      for (let i = 0; i < text.length; i += 1) items.push(text.charCodeAt(i));
    }
  }
  return items;
}

function startsWithArn(items: readonly number[]): boolean {
  return items[0] === 0x61 && items[1] === 0x72 && items[2] === 0x6e && items[3] === COLON; // 'arn:'
}

/** Compiles tokens (or a pattern string) into atoms; runs of stars collapse into one. */
export function compileGlob(pattern: string | readonly GlobToken[], options: GlobOptions = {}): Glob {
  const tokens = typeof pattern === 'string' ? tokenizeGlob(pattern) : pattern;
  const source =
    typeof pattern === 'string'
      ? pattern
      : pattern.map((t) => (t.kind === 'literal' ? t.text : t.kind === 'star' ? '*' : '?')).join('');
  const items = rawItems(tokens, options.ignoreCase === true);
  const segmentColons =
    options.arn === true && startsWithArn(items)
      ? Math.min(
          items.reduce((count, item) => count + (item === COLON ? 1 : 0), 0),
          ARN_SEGMENT_COLONS,
        )
      : 0;

  const kinds: number[] = [];
  const codes: number[] = [];
  let colonsSeen = 0;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i]!;
    const inSegment = colonsSeen < segmentColons;
    if (item === RAW_STAR) {
      let kind = STAR;
      if (inSegment) {
        // The star is the segment's last character when the next non-star item is the segment's colon.
        let next = i + 1;
        while (items[next] === RAW_STAR) next += 1;
        kind = items[next] === COLON && options.segmentEndExpands !== false ? STAR : STAR_NO_COLON;
      }
      const last = kinds.length - 1;
      if (last >= 0 && (kinds[last] === STAR || kinds[last] === STAR_NO_COLON)) {
        // `[^:]*` followed by `.*` is `.*`.
        if (kind === STAR) kinds[last] = STAR;
        continue;
      }
      kinds.push(kind);
      codes.push(0);
    } else if (item === RAW_ONE) {
      kinds.push(inSegment ? ONE_NO_COLON : ONE);
      codes.push(0);
    } else {
      kinds.push(CHAR);
      codes.push(item);
      if (item === COLON) colonsSeen += 1;
    }
  }
  return { kinds: Uint8Array.from(kinds), codes: Int32Array.from(codes), source };
}

/** A pattern without wildcards: the set of one string. */
export function literalGlob(text: string): Glob {
  const codes = new Int32Array(text.length);
  for (let i = 0; i < text.length; i += 1) codes[i] = text.charCodeAt(i);
  return { kinds: new Uint8Array(text.length), codes, source: text };
}

/** True when some atom is a `*` that may cross a colon inside the first five ARN segments. */
export function hasExpandingSegmentStar(glob: Glob): boolean {
  let colons = 0;
  for (let i = 0; i < glob.kinds.length && colons < ARN_SEGMENT_COLONS; i += 1) {
    const kind = glob.kinds[i]!;
    if (kind === CHAR && glob.codes[i] === COLON) colons += 1;
    else if (kind === STAR && glob.kinds[i + 1] === CHAR && glob.codes[i + 1] === COLON) return true;
  }
  return false;
}

function isStar(kind: number): boolean {
  return kind === STAR || kind === STAR_NO_COLON;
}

/** Does the atom accept the character (for a star: may its run continue with it)? */
function accepts(glob: Glob, at: number, code: number): boolean {
  const kind = glob.kinds[at]!;
  if (kind === CHAR) return glob.codes[at] === code;
  if (kind === ONE || kind === STAR) return true;
  return code !== COLON;
}

// ---------------------------------------------------------------------------------------------------
// Matching: a bit-parallel simulation of the pattern's automaton

/** Work done by a match, for tests and benchmarks. */
export interface GlobStats {
  steps: number;
}

/**
 * A matcher for one pattern. State j (bit j) means "the first j atoms matched the text so far"; a star
 * atom j keeps its run going in state j + 1. Each text character costs one pass over ceil((m + 1) / 32)
 * words, whatever the pattern: O(text x pattern / 32), no backtracking.
 */
export function compileGlobMatcher(glob: Glob): (text: string, stats?: GlobStats) => boolean {
  const m = glob.kinds.length;
  const words = Math.ceil((m + 1) / 32);
  const bit = (j: number) => [j >>> 5, 1 << (j & 31)] as const;
  const newMask = () => new Int32Array(words);
  // Per character class: atoms that consume it and move on (bit j: atom j single), stars that keep it
  // (bit j + 1: the state after star j).
  const advanceOther = newMask();
  const loopOther = newMask();
  const advanceColon = newMask();
  const loopColon = newMask();
  const starBefore = newMask();
  const literalAdvance = new Map<number, Int32Array>();
  for (let j = 0; j < m; j += 1) {
    const kind = glob.kinds[j]!;
    const [w, b] = bit(j);
    const [w1, b1] = bit(j + 1);
    if (kind === CHAR) {
      const code = glob.codes[j]!;
      if (code === COLON) advanceColon[w]! |= b;
      else {
        let mask = literalAdvance.get(code);
        if (!mask) literalAdvance.set(code, (mask = newMask()));
        mask[w]! |= b;
      }
    } else if (kind === ONE) {
      advanceOther[w]! |= b;
      advanceColon[w]! |= b;
    } else if (kind === ONE_NO_COLON) {
      advanceOther[w]! |= b;
    } else {
      starBefore[w]! |= b;
      loopOther[w1]! |= b1;
      if (kind === STAR) loopColon[w1]! |= b1;
    }
  }
  // A literal character is also consumed by every `?` and star that takes "other" characters.
  for (const mask of literalAdvance.values()) for (let w = 0; w < words; w += 1) mask[w]! |= advanceOther[w]!;
  const [acceptWord, acceptBit] = bit(m);
  const state = newMask();
  const next = newMask();

  const close = (d: Int32Array) => {
    // Epsilon: before a star is also after it (stars never follow stars, so one pass suffices).
    let carry = 0;
    for (let w = 0; w < words; w += 1) {
      const moved = d[w]! & starBefore[w]!;
      const shifted = (moved << 1) | carry;
      carry = moved >>> 31;
      d[w]! |= shifted;
    }
  };

  return (text, stats) => {
    state.fill(0);
    state[0] = 1;
    close(state);
    for (let i = 0; i < text.length; i += 1) {
      const code = text.charCodeAt(i);
      const advance = code === COLON ? advanceColon : (literalAdvance.get(code) ?? advanceOther);
      const loop = code === COLON ? loopColon : loopOther;
      let carry = 0;
      let any = 0;
      for (let w = 0; w < words; w += 1) {
        const moved = state[w]! & advance[w]!;
        next[w] = (moved << 1) | carry | (state[w]! & loop[w]!);
        carry = moved >>> 31;
        any |= next[w]!;
      }
      if (stats !== undefined) stats.steps += words;
      if (any === 0) return false;
      state.set(next);
      close(state);
    }
    return (state[acceptWord]! & acceptBit) !== 0;
  };
}

// ---------------------------------------------------------------------------------------------------
// Set questions

/** Default bound on the states a set question may explore before answering `undefined`. */
export const DEFAULT_GLOB_BUDGET = 20_000;

/** A character none of the patterns names: it stands for every such character. */
function freshCode(globs: readonly Glob[]): number {
  const codes = new Set<number>();
  for (const glob of globs) {
    for (let i = 0; i < glob.kinds.length; i += 1) if (glob.kinds[i] === CHAR) codes.add(glob.codes[i]!);
  }
  let fresh = 0xe000; // private use area: no policy names it in practice, and the loop makes sure
  while (codes.has(fresh)) fresh += 1;
  return fresh;
}

/**
 * The characters worth trying from some positions: the literals those positions expect, ':' and the fresh
 * character. Any other character is treated exactly like the fresh one by every atom there (a literal
 * rejects it, `?` and `*` accept it), so it leads to the same successor.
 */
function localAlphabet(into: Set<number>, glob: Glob, position: number): void {
  if (position < glob.kinds.length && glob.kinds[position] === CHAR) into.add(glob.codes[position]!);
}

/** The product automaton of several patterns: a state is one position per pattern, packed in a number. */
class Product {
  private readonly radix: number[];
  constructor(readonly globs: readonly Glob[]) {
    this.radix = globs.map((g) => g.kinds.length + 1);
  }
  get start(): number {
    return 0;
  }
  positions(state: number): number[] {
    const out: number[] = [];
    let rest = state;
    for (const r of this.radix) {
      out.push(rest % r);
      rest = Math.floor(rest / r);
    }
    return out;
  }
  pack(positions: readonly number[]): number {
    let state = 0;
    for (let i = positions.length - 1; i >= 0; i -= 1) state = state * this.radix[i]! + positions[i]!;
    return state;
  }
  accepting(state: number): boolean {
    return this.positions(state).every((p, i) => p === this.globs[i]!.kinds.length);
  }
  /** Epsilon successors: one star skipped in one pattern. */
  epsilon(state: number): number[] {
    const positions = this.positions(state);
    const out: number[] = [];
    positions.forEach((p, i) => {
      const glob = this.globs[i]!;
      if (p < glob.kinds.length && isStar(glob.kinds[p]!)) {
        const moved = [...positions];
        moved[i] = p + 1;
        out.push(this.pack(moved));
      }
    });
    return out;
  }
  /** Adds the literal characters the state's positions expect. */
  alphabet(state: number, into: Set<number>): void {
    this.positions(state).forEach((p, i) => localAlphabet(into, this.globs[i]!, p));
  }
  /** The successor on one character, or -1 when some pattern cannot take it here. */
  consume(state: number, code: number): number {
    const positions = this.positions(state);
    for (let i = 0; i < positions.length; i += 1) {
      const glob = this.globs[i]!;
      const p = positions[i]!;
      if (p === glob.kinds.length || !accepts(glob, p, code)) return -1;
      if (!isStar(glob.kinds[p]!)) positions[i] = p + 1;
    }
    return this.pack(positions);
  }
}

/**
 * Is there a string every pattern matches? Exact; `undefined` only when the product has more states than
 * the budget allows (patterns of thousands of wildcards).
 */
export function globsIntersect(globs: readonly Glob[], budget = DEFAULT_GLOB_BUDGET): boolean | undefined {
  if (globs.length === 0) return true;
  const product = new Product(globs);
  const fresh = freshCode(globs);
  const seen = new Set<number>([product.start]);
  const queue = [product.start];
  while (queue.length > 0) {
    const state = queue.pop()!;
    if (product.accepting(state)) return true;
    const successors = product.epsilon(state);
    const alphabet = new Set<number>([COLON, fresh]);
    product.alphabet(state, alphabet);
    for (const code of alphabet) {
      const next = product.consume(state, code);
      if (next !== -1) successors.push(next);
    }
    for (const next of successors) {
      if (seen.has(next)) continue;
      if (seen.size >= budget) return undefined;
      seen.add(next);
      queue.push(next);
    }
  }
  return false;
}

/** The union of several patterns' automata, stepped as a set of states (a bitset). */
class Union {
  private readonly owner: Int32Array;
  private readonly position: Int32Array;
  readonly size: number;
  readonly words: number;
  constructor(private readonly globs: readonly Glob[]) {
    const owners: number[] = [];
    const positions: number[] = [];
    globs.forEach((glob, g) => {
      for (let p = 0; p <= glob.kinds.length; p += 1) {
        owners.push(g);
        positions.push(p);
      }
    });
    this.owner = Int32Array.from(owners);
    this.position = Int32Array.from(positions);
    this.size = owners.length;
    this.words = Math.max(1, Math.ceil(this.size / 32));
  }
  private add(set: Uint32Array, s: number): void {
    set[s >>> 5]! |= 1 << (s & 31);
  }
  /** Calls `visit` for each state in the set, in increasing order (whole empty words skipped). */
  private each(set: Uint32Array, visit: (s: number) => void): void {
    for (let w = 0; w < set.length; w += 1) {
      if (set[w] === 0) continue;
      for (let b = 0; b < 32; b += 1) {
        const s = (w << 5) | b;
        // Re-read the word: `close` may add the next state while walking.
        if ((set[w]! & (1 << b)) !== 0 && s < this.size) visit(s);
      }
    }
  }
  private close(set: Uint32Array): void {
    this.each(set, (s) => {
      const glob = this.globs[this.owner[s]!]!;
      const p = this.position[s]!;
      if (p < glob.kinds.length && isStar(glob.kinds[p]!)) this.add(set, s + 1);
    });
  }
  start(): Uint32Array {
    const set = new Uint32Array(this.words);
    let s = 0;
    for (const glob of this.globs) {
      this.add(set, s);
      s += glob.kinds.length + 1;
    }
    this.close(set);
    return set;
  }
  step(set: Uint32Array, code: number): Uint32Array {
    const next = new Uint32Array(this.words);
    this.each(set, (s) => {
      const glob = this.globs[this.owner[s]!]!;
      const p = this.position[s]!;
      if (p === glob.kinds.length || !accepts(glob, p, code)) return;
      this.add(next, isStar(glob.kinds[p]!) ? s : s + 1);
    });
    this.close(next);
    return next;
  }
  /** Adds the literal characters the set's positions expect. */
  alphabet(set: Uint32Array, into: Set<number>): void {
    this.each(set, (s) => localAlphabet(into, this.globs[this.owner[s]!]!, this.position[s]!));
  }
  accepting(set: Uint32Array): boolean {
    let found = false;
    this.each(set, (s) => {
      if (this.position[s] === this.globs[this.owner[s]!]!.kinds.length) found = true;
    });
    return found;
  }
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w += 1) if ((a[w]! & ~b[w]!) !== 0) return false;
  return true;
}

/**
 * Is every string that all of `contained` match also matched by one of `containers`? With one contained
 * pattern S and one container P: "does P cover the whole set S?". Exact; `undefined` past the budget.
 */
export function globsContain(
  containers: readonly Glob[],
  contained: readonly Glob[],
  budget = DEFAULT_GLOB_BUDGET,
): boolean | undefined {
  const left = new Product(contained);
  const right = new Union(containers);
  const fresh = freshCode([...containers, ...contained]);
  // Per left state, the minimal right sets already explored: a superset can only accept more.
  const explored = new Map<number, Uint32Array[]>();
  const queue: [number, Uint32Array][] = [];
  let visited = 0;
  const visit = (state: number, set: Uint32Array): boolean => {
    const sets = explored.get(state);
    if (sets?.some((known) => isSubset(known, set))) return true;
    visited += 1;
    if (visited > budget) return false;
    if (sets) {
      const kept = sets.filter((known) => !isSubset(set, known));
      kept.push(set);
      explored.set(state, kept);
    } else explored.set(state, [set]);
    queue.push([state, set]);
    return true;
  };
  if (!visit(left.start, right.start())) return undefined;
  while (queue.length > 0) {
    const [state, set] = queue.pop()!;
    // A string in every contained pattern that no container matches: a counterexample.
    if (left.accepting(state) && !right.accepting(set)) return false;
    for (const next of left.epsilon(state)) if (!visit(next, set)) return undefined;
    const alphabet = new Set<number>([COLON, fresh]);
    left.alphabet(state, alphabet);
    right.alphabet(set, alphabet);
    for (const code of alphabet) {
      const next = left.consume(state, code);
      if (next !== -1 && !visit(next, right.step(set, code))) return undefined;
    }
  }
  return true;
}
