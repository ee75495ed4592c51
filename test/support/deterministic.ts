/**
 * Deterministic stand-ins for randomness, so generated fleets are byte-for-byte reproducible: the demo
 * fixture is committed and compared in a test, and benchmark runs must be comparable with each other.
 */

/** FNV-1a over UTF-16 code units, finished with murmur3's avalanche so nearby names give unrelated hashes. */
function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** `length` lowercase hex digits derived from `text`: the same name always gets the same id. */
export function stableHex(text: string, length: number): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    out += hash32(text, Math.imul(round + 1, 0x9e3779b1))
      .toString(16)
      .padStart(8, '0');
  }
  return out.slice(0, length);
}

/** An id in AWS's `<prefix>-0<16 hex>` form (i-, vpc-, subnet-, sg-, rtb-, acl-, vpce-, nat-, igw-, tgw-, mi-). */
export const awsId = (prefix: string, name: string): string =>
  `${prefix}-0${stableHex(`${prefix}:${name}`, 16)}`;

/** A UUID-shaped id, as SSM uses for activations. */
export function stableUuid(name: string): string {
  const hex = stableHex(`uuid:${name}`, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: tiny, fast and good enough to spread a synthetic fleet over configurations. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
  };
}
