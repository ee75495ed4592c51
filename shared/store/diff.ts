import { createHash } from 'node:crypto';
import type { Finding, RuleId, Severity, Status } from '../model';
import { FAILING_STATUSES, findingId } from './keys';

/** DESIGN §5: alerts go out on transitions only. */
export type AlertKind = 'NEW_FAILURE' | 'REGRESSION' | 'RESOLVED';

/** An alert recorded on the finding's own item in the same write as the transition (the outbox). */
export interface PendingAlert {
  /** `<findingId>#v<version>`: one per transition, so a redelivered alert is recognisable. */
  id: string;
  kind: AlertKind;
  fromStatus: Status | null;
  /** `CLOSED` when the resource is gone or terminated. */
  toStatus: Status | 'CLOSED';
  at: string;
  runId: string;
  version: number;
  /** The severity of the failing side: a resolved HIGH failure is still a HIGH alert for filter policies. */
  severity?: Severity;
}

export type CloseReason = 'RESOURCE_GONE' | 'TERMINATED' | 'NO_LONGER_REPORTED';

/**
 * A status change's history record. It is recorded on the finding's own item in the same conditional
 * write as the change (like the alert outbox), then copied to its own item (idempotently: its key is
 * fixed by the change), then cleared; a run that dies in between leaves it for the next run to finish.
 */
export interface HistoryRecord {
  pk: string;
  sk: string;
  type: 'HISTORY';
  accountId: string;
  region: string;
  resourceId: string;
  resourceType: string;
  ruleId: string;
  fromStatus: Status | null;
  toStatus: Status | 'CLOSED';
  severity: Severity;
  reason: string;
  message: string;
  changedAt: string;
  runId: string;
  version: number;
  expiresAt: number;
}

/** A finding as stored: the DESIGN §3 fields plus its bookkeeping. */
export interface StoredFinding extends Finding {
  version: number;
  /** Hash of everything that makes a finding "changed" (not evaluatedAt). */
  hash: string;
  firstSeenAt: string;
  statusChangedAt: string;
  previousStatus?: Status | null;
  lastRunId?: string;
  /** Set when the resource is gone or terminated: the item stays as a tombstone until its TTL. */
  closedAt?: string;
  closeReason?: CloseReason;
  pendingAlerts?: PendingAlert[];
  /** History records not yet copied to their own items. */
  pendingHistory?: HistoryRecord[];
  /** Security Hub export outbox: the version still to be imported (absent when exported or export off). */
  pendingExport?: number;
}

export type Change =
  | {
      type: 'new';
      id: string;
      finding: Finding;
      previous?: StoredFinding;
      statusChanged: true;
      alert?: AlertKind;
    }
  | {
      type: 'changed';
      id: string;
      finding: Finding;
      previous: StoredFinding;
      statusChanged: boolean;
      alert?: AlertKind;
    }
  | {
      type: 'closed';
      id: string;
      previous: StoredFinding;
      reason: CloseReason;
      statusChanged: true;
      alert?: AlertKind;
    };

export interface FindingsDiff {
  /** New findings, including findings of a resource that reappeared after being closed. */
  created: Change[];
  changed: Change[];
  /** Findings whose resource is gone or terminated, or that a rule no longer reports. */
  closed: Change[];
  unchanged: number;
  /** Stored findings newer than this audit, left as they are. */
  newerStored: number;
}

export interface DiffInput {
  /** Stored findings of the audit's coverage (open ones and tombstones), by findingId. */
  stored: ReadonlyMap<string, StoredFinding>;
  findings: readonly Finding[];
  /** Instances that are terminated or shutting down: all their findings close. */
  terminated: readonly string[];
  /** The rules whose findings this audit reports: a stored finding of another rule is left alone. */
  rulesRun: ReadonlySet<RuleId | string>;
  /**
   * Whether the audit listed every resource of the stored finding's kind: only then does absence mean
   * "gone". A run whose DescribeInstances was denied must not close every instance's findings.
   */
  listed: (stored: StoredFinding) => boolean;
  /**
   * The audit's evaluation time. A stored finding that changed after it (a newer audit already
   * recorded) is left alone: an older evaluation never overwrites or closes a newer one.
   */
  asOf?: string;
}

const isFailing = (status: Status | 'CLOSED' | null | undefined) =>
  status !== null && status !== undefined && status !== 'CLOSED' && FAILING_STATUSES.includes(status);

/** New failure, regression or resolution, or nothing (DESIGN §5). `null` = absent or closed. */
export function alertFor(from: Status | null, to: Status | 'CLOSED'): AlertKind | undefined {
  if (isFailing(to)) {
    if (isFailing(from)) return undefined;
    return from === null ? 'NEW_FAILURE' : 'REGRESSION';
  }
  return isFailing(from) ? 'RESOLVED' : undefined;
}

/**
 * The alert of a finding's change when suppressions are in play (DESIGN §8). A suppressed finding
 * raises nothing: not when it becomes suppressed (no RESOLVED), not while it stays so, whatever its
 * status does. A finding whose suppression ended (the entry expired or was removed) is judged as if it
 * had just appeared: still failing → NEW_FAILURE, once (the next audit finds it unchanged). Without
 * suppressions this is `alertFor(previous status, new status)`.
 */
export function alertForChange(previous: StoredFinding | undefined, finding: Finding): AlertKind | undefined {
  if (finding.suppressed) return undefined;
  const open = previous && !previous.closedAt ? previous : undefined;
  return alertFor(open && !open.suppressed ? open.status : null, finding.status);
}

/** A finding closing: a suppressed one resolves silently, as it failed silently. */
export const alertForClose = (previous: StoredFinding): AlertKind | undefined =>
  previous.suppressed ? undefined : alertFor(previous.status, 'CLOSED');

/** Whether two findings carry the same suppression (none, or the same entry with the same terms). */
export const sameSuppression = (a: Finding['suppressed'], b: Finding['suppressed']) =>
  stableStringify(a ?? null) === stableStringify(b ?? null);

/** JSON with sorted keys, so equal evidence hashes equally whatever order a rule built it in. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What decides "changed": everything a reader sees except the evaluation time. */
export function findingHash(f: Finding): string {
  return createHash('sha256')
    .update(
      stableStringify({
        resourceType: f.resourceType,
        status: f.status,
        severity: f.severity,
        reason: f.reason,
        message: f.message,
        evidence: f.evidence,
        remediation: f.remediation,
        reference: f.reference,
        // Absent on an unsuppressed finding, so its hash is what it was before suppressions existed.
        suppressed: f.suppressed,
      }),
    )
    .digest('base64url')
    .slice(0, 22);
}

/** Compares one new finding with its stored state (also used to re-decide after a write conflict). */
export function diffOne(finding: Finding, previous: StoredFinding | undefined): Change | undefined {
  const id = findingId(finding);
  if (!previous || previous.closedAt) {
    return {
      type: 'new',
      id,
      finding,
      previous,
      statusChanged: true,
      alert: alertForChange(previous, finding),
    };
  }
  if (previous.hash === findingHash(finding)) {
    // The hash covers the suppression, so this change was decided (and alerted) by an earlier write;
    // only the stored `suppressed` attribute may lag behind it (see store/suppressions.ts): write it
    // again, without an alert.
    if (sameSuppression(previous.suppressed, finding.suppressed)) return undefined;
    return { type: 'changed', id, finding, previous, statusChanged: false };
  }
  const statusChanged = previous.status !== finding.status;
  return {
    type: 'changed',
    id,
    finding,
    previous,
    statusChanged,
    alert: alertForChange(previous, finding),
  };
}

/**
 * new / changed / unchanged / closed between the stored findings of an audit's coverage and its new
 * findings. Pure: the store applies the result with conditional writes.
 */
export function diffFindings(input: DiffInput): FindingsDiff {
  const out: FindingsDiff = { created: [], changed: [], closed: [], unchanged: 0, newerStored: 0 };
  const newer = (previous: StoredFinding | undefined) =>
    input.asOf !== undefined && previous !== undefined && previous.evaluatedAt > input.asOf;
  const seen = new Set<string>();
  const present = new Set<string>();
  for (const finding of input.findings) {
    const id = findingId(finding);
    seen.add(id);
    present.add(finding.resourceId);
    const previous = input.stored.get(id);
    if (newer(previous)) {
      out.newerStored++;
      continue;
    }
    const change = diffOne(finding, previous);
    if (!change) out.unchanged++;
    else if (change.type === 'new') out.created.push(change);
    else out.changed.push(change);
  }
  const terminated = new Set(input.terminated);
  for (const [id, previous] of input.stored) {
    if (seen.has(id) || previous.closedAt || !input.rulesRun.has(previous.ruleId)) continue;
    if (newer(previous)) {
      out.newerStored++;
      continue;
    }
    let reason: CloseReason | undefined;
    if (terminated.has(previous.resourceId)) reason = 'TERMINATED';
    else if (present.has(previous.resourceId)) reason = 'NO_LONGER_REPORTED';
    else if (input.listed(previous)) reason = 'RESOURCE_GONE';
    if (!reason) continue;
    out.closed.push({
      type: 'closed',
      id,
      previous,
      reason,
      statusChanged: true,
      alert: alertForClose(previous),
    });
  }
  return out;
}
