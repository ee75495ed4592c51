import { ANY_IPV4, parseCidr, rangeContains, rangesOverlap, type Ipv4Range } from '../snapshot/ipv4';
import type { IpPermissionRaw, NetworkAclRaw, SecurityGroupRaw } from '../snapshot/schema';

/**
 * Security group and network ACL reasoning for one TCP flow. `partial` means some but not all of the
 * traffic in question is allowed (e.g. only some destination ranges): the rule reports it as
 * "cannot verify", never as a pass.
 */
export type FlowVerdict = 'allowed' | 'denied' | 'partial';

export interface PortRange {
  from: number;
  to: number;
}

export const HTTPS: PortRange = { from: 443, to: 443 };
/** DESIGN §3 R2: return traffic arrives on ephemeral ports 1024-65535. */
export const EPHEMERAL: PortRange = { from: 1024, to: 65535 };

const isTcp = (protocol: string) => protocol === '-1' || protocol === '6' || protocol.toLowerCase() === 'tcp';

function permissionPorts(p: IpPermissionRaw): PortRange {
  if (p.IpProtocol === '-1' || p.FromPort === undefined || p.FromPort === -1) return { from: 0, to: 65535 };
  return { from: p.FromPort, to: p.ToPort ?? p.FromPort };
}

const coversPorts = (outer: PortRange, inner: PortRange) => outer.from <= inner.from && inner.to <= outer.to;
const overlapsPorts = (a: PortRange, b: PortRange) => a.from <= b.to && b.from <= a.to;

export interface Peer {
  /** Address range of the other side (ANY_IPV4 for "the internet"). */
  range: Ipv4Range;
  /** Security groups of the other side, for rules that reference groups. */
  groupIds?: readonly string[];
}

/**
 * Security groups are allow-lists: the union of their rules decides. A rule naming one of the peer's
 * groups allows it fully; CIDR rules must cover the whole peer range to count as "allowed".
 */
export function securityGroupsAllow(
  groups: readonly SecurityGroupRaw[],
  direction: 'ingress' | 'egress',
  ports: PortRange,
  peer: Peer,
): { verdict: FlowVerdict; matched?: string } {
  let partial: string | undefined;
  for (const group of groups) {
    const permissions = (direction === 'ingress' ? group.IpPermissions : group.IpPermissionsEgress) ?? [];
    for (const permission of permissions) {
      if (!isTcp(permission.IpProtocol) || !coversPorts(permissionPorts(permission), ports)) continue;
      for (const pair of permission.UserIdGroupPairs ?? []) {
        if (pair.GroupId && peer.groupIds?.includes(pair.GroupId)) {
          return { verdict: 'allowed', matched: `${group.GroupId} ${direction} ${pair.GroupId}` };
        }
      }
      for (const ipRange of permission.IpRanges ?? []) {
        const range = parseCidr(ipRange.CidrIp);
        if (!range) continue;
        if (rangeContains(range, peer.range)) {
          return { verdict: 'allowed', matched: `${group.GroupId} ${direction} ${ipRange.CidrIp}` };
        }
        if (rangesOverlap(range, peer.range)) partial ??= `${group.GroupId} ${direction} ${ipRange.CidrIp}`;
      }
      // A prefix list may or may not contain the SSM endpoints' addresses: it cannot be proven here.
      for (const list of permission.PrefixListIds ?? [])
        partial ??= `${group.GroupId} ${direction} ${list.PrefixListId}`;
    }
  }
  return partial ? { verdict: 'partial', matched: partial } : { verdict: 'denied' };
}

type AclEntry = NonNullable<NetworkAclRaw['Entries']>[number];
const ordered = new WeakMap<NetworkAclRaw, Record<'ingress' | 'egress', AclEntry[]>>();
/** IPv4 entries by direction in rule-number order, computed once per ACL. */
function orderedEntries(acl: NetworkAclRaw): Record<'ingress' | 'egress', AclEntry[]> {
  let hit = ordered.get(acl);
  if (!hit) {
    const pick = (egress: boolean) =>
      (acl.Entries ?? [])
        .filter((e) => e.Egress === egress && e.CidrBlock !== undefined)
        .sort((a, b) => a.RuleNumber - b.RuleNumber);
    hit = { ingress: pick(false), egress: pick(true) };
    ordered.set(acl, hit);
  }
  return hit;
}

/**
 * Network ACLs are ordered: the lowest-numbered rule that matches decides. A deny that overlaps part of
 * the traffic makes the flow at best partial; an allow must cover the whole port and address range.
 */
export function networkAclAllows(
  acl: NetworkAclRaw,
  direction: 'ingress' | 'egress',
  ports: PortRange,
  peer: Ipv4Range = ANY_IPV4,
): { verdict: FlowVerdict; ruleNumber?: number } {
  const entries = orderedEntries(acl)[direction];
  let partialAllow: number | undefined;
  for (const entry of entries) {
    if (!isTcp(entry.Protocol)) continue;
    const entryPorts =
      entry.Protocol === '-1' || !entry.PortRange
        ? { from: 0, to: 65535 }
        : { from: entry.PortRange.From ?? 0, to: entry.PortRange.To ?? 65535 };
    const range = parseCidr(entry.CidrBlock!);
    if (!range || !overlapsPorts(entryPorts, ports) || !rangesOverlap(range, peer)) continue;
    const full = coversPorts(entryPorts, ports) && rangeContains(range, peer);
    if (entry.RuleAction === 'deny') {
      return {
        verdict: full && partialAllow === undefined ? 'denied' : 'partial',
        ruleNumber: entry.RuleNumber,
      };
    }
    if (full) return { verdict: 'allowed', ruleNumber: entry.RuleNumber };
    partialAllow ??= entry.RuleNumber;
  }
  // The implicit final rule (*) denies everything not matched.
  return partialAllow !== undefined
    ? { verdict: 'partial', ruleNumber: partialAllow }
    : { verdict: 'denied' };
}
