import type { Finding } from '../model';

/**
 * The facts every report opens with — how many running instances and hybrid nodes cannot be managed,
 * and why — read from the managed-status findings. The text report (`scan --format table`) and the HTML
 * report both state them, so they are counted in one place.
 */

export interface Cause {
  ruleId: string;
  reason: string;
  message: string;
  remediation: string;
  /** managed-status named a failing prerequisite; otherwise the cause is its own reason. */
  found: boolean;
}

/** The cause managed-status names in its evidence (its first failing prerequisite), else its own reason. */
export function causeOf(f: Finding): Cause {
  const rootCauses = (f.evidence as { rootCauses?: unknown }).rootCauses;
  const first: unknown = Array.isArray(rootCauses) ? rootCauses[0] : undefined;
  if (first && typeof first === 'object') {
    const c = first as Record<string, unknown>;
    if (typeof c.ruleId === 'string' && typeof c.reason === 'string') {
      return {
        ruleId: c.ruleId,
        reason: c.reason,
        message: typeof c.message === 'string' ? c.message : f.message,
        remediation: typeof c.remediation === 'string' ? c.remediation : f.remediation,
        found: true,
      };
    }
  }
  return { ruleId: f.ruleId, reason: f.reason, message: f.message, remediation: f.remediation, found: false };
}

export interface Unmanaged {
  finding: Finding;
  cause: Cause;
}

export interface CauseGroup {
  /** `<ruleId> <reason>` of the cause. */
  key: string;
  cause: Cause;
  nodes: Unmanaged[];
}

export interface NodeCount {
  total: number;
  unmanaged: number;
  pending: number;
}

export interface FleetState {
  /** Per resource type, in the order the findings first name it. */
  counted: Map<Finding['resourceType'], NodeCount>;
  unmanaged: Unmanaged[];
  /** Largest group first; equal groups in the order of the findings. */
  byCause: CauseGroup[];
}

export const NODE_NOUN: Partial<Record<Finding['resourceType'], string>> = {
  EC2Instance: 'running instance',
  ManagedInstance: 'hybrid node',
};

/** "1 finding", "5 findings", "0 resources". */
export const countOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** The facts the opening block states, from the managed-status findings (suppressed ones excluded by the caller). */
export function fleetState(findings: readonly Finding[]): FleetState {
  const counted = new Map<Finding['resourceType'], NodeCount>();
  const unmanaged: Unmanaged[] = [];
  for (const f of findings) {
    if (f.ruleId !== 'managed-status') continue;
    const pending = f.reason === 'REGISTRATION_PENDING';
    if (f.status === 'NOT_APPLICABLE' && !pending) continue;
    let row = counted.get(f.resourceType);
    if (!row) counted.set(f.resourceType, (row = { total: 0, unmanaged: 0, pending: 0 }));
    row.total += 1;
    if (pending) row.pending += 1;
    if (f.status === 'FAIL') {
      row.unmanaged += 1;
      unmanaged.push({ finding: f, cause: causeOf(f) });
    }
  }
  const groups = new Map<string, CauseGroup>();
  for (const node of unmanaged) {
    const key = `${node.cause.ruleId} ${node.cause.reason}`;
    const group = groups.get(key);
    if (group) group.nodes.push(node);
    else groups.set(key, { key, cause: node.cause, nodes: [node] });
  }
  // Largest first; a stable sort keeps the order of the findings among equals.
  const byCause = [...groups.values()].sort((a, b) => b.nodes.length - a.nodes.length);
  return { counted, unmanaged, byCause };
}

/**
 * The headline: "17 of 47 running instances and 3 of 844 hybrid nodes cannot be managed by Systems
 * Manager" (no full stop), "All 47 running instances … can be managed …", or undefined when
 * managed-status was not evaluated.
 */
export function headlineOf(state: FleetState): string | undefined {
  const parts = [...state.counted]
    .filter(([type]) => NODE_NOUN[type])
    .map(([type, row]) => `${row.unmanaged} of ${countOf(row.total, NODE_NOUN[type]!)}`);
  if (parts.length === 0) return undefined;
  return state.unmanaged.length === 0
    ? `All ${parts.map((p) => p.replace(/^\d+ of /, '')).join(' and ')} can be managed by Systems Manager`
    : `${parts.join(' and ')} cannot be managed by Systems Manager`;
}

/**
 * The fix that unblocks the most nodes: a found prerequisite's fix beats the generic "check the agent"
 * of a group no prerequisite explains, unless only such groups exist.
 */
export const topFixGroup = (state: FleetState): CauseGroup | undefined =>
  state.byCause.find((g) => g.cause.found) ?? state.byCause[0];
