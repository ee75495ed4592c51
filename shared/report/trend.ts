import type { Finding, Status } from '../model';
import type { Snapshot } from '../snapshot/schema';
import type { TrendPoint } from './html';

/** The VPC of each EC2 instance of a snapshot (hybrid nodes have none). */
export function instanceVpcs(snapshot: Snapshot): Map<string, string> {
  const vpcs = new Map<string, string>();
  for (const reservation of snapshot.ec2?.Reservations ?? [])
    for (const instance of reservation.Instances)
      if (instance.VpcId) vpcs.set(instance.InstanceId, instance.VpcId);
  return vpcs;
}

/** What the trend needs of a run summary in the findings table (RunRecord). */
export interface RunSummary {
  asOf?: string;
  finishedAt: string;
  counts: Record<string, number>;
}

/** What the trend needs of a stored managed-status finding (StoredFinding). */
export interface StoredStatus extends Pick<Finding, 'ruleId' | 'resourceType' | 'status'> {
  previousStatus?: Status | null;
  statusChangedAt: string;
  firstSeenAt: string;
}

/**
 * Unmanaged nodes at each recorded run. A run that recorded its count (`counts.unmanaged`) gives it;
 * otherwise it is read back from the open managed-status findings: a node counts at a run's time when
 * it was first seen by then and its status then — the current one if it changed at or before that
 * time, else the one before — was FAIL. That is exact for a node whose status changed at most once
 * over the runs shown; nodes closed since (terminated, gone) are no longer in the table and not counted.
 */
export function trendFromRuns(runs: readonly RunSummary[], stored: readonly StoredStatus[]): TrendPoint[] {
  const nodes = stored.filter(
    (f) =>
      f.ruleId === 'managed-status' &&
      (f.resourceType === 'EC2Instance' || f.resourceType === 'ManagedInstance'),
  );
  return runs
    .map((run) => {
      const at = run.asOf ?? run.finishedAt;
      const recorded = run.counts.unmanaged;
      if (typeof recorded === 'number') return { at, unmanaged: recorded };
      let unmanaged = 0;
      for (const f of nodes) {
        if (f.firstSeenAt > at) continue;
        const status = f.statusChangedAt <= at ? f.status : f.previousStatus;
        if (status === 'FAIL') unmanaged += 1;
      }
      return { at, unmanaged };
    })
    .sort((a, b) => a.at.localeCompare(b.at));
}
