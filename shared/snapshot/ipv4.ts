/** Minimal IPv4 CIDR arithmetic for security group and network ACL reasoning (IPv6 is reported, not evaluated). */

export interface Ipv4Range {
  start: number;
  end: number;
}

export function parseIpv4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

const cidrCache = new Map<string, Ipv4Range | undefined>();

/** Parsed once per distinct CIDR text: security group and ACL checks ask for the same few thousand. */
export function parseCidr(cidr: string): Ipv4Range | undefined {
  if (cidrCache.has(cidr)) return cidrCache.get(cidr);
  const range = parseCidrUncached(cidr);
  if (cidrCache.size < 100_000) cidrCache.set(cidr, range);
  return range;
}

function parseCidrUncached(cidr: string): Ipv4Range | undefined {
  const [address, bitsText = '32'] = cidr.split('/');
  const base = address === undefined ? undefined : parseIpv4(address);
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const start = Math.floor(base / size) * size;
  return { start, end: start + size - 1 };
}

export const ANY_IPV4: Ipv4Range = { start: 0, end: 2 ** 32 - 1 };

export function rangeContains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.start <= b.end && b.start <= a.end;
}
