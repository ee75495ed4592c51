import { randomUUID } from 'node:crypto';
import { digestMessage, transitionMessage, type AlertMessage } from '../alerts/messages';
import type { AlertPublisher, PublishOutcome } from '../alerts/publisher';
import { scopedResourceIds } from '../engine/audit';
import type { AuditResult } from '../engine/evaluate';
import type { RuleId, Status } from '../model';
import { diffFindings, type PendingAlert, type StoredFinding } from '../store/diff';
import {
  LeaseLostError,
  type AuditLease,
  type FindingsStore,
  type RunRecord,
  type WriteCounters,
} from '../store/findings-store';
import { planFactsOf } from '../snapshot/plan-facts';
import type { ExportTarget } from './export';
import { findingId } from '../store/keys';
import type { Snapshot } from '../snapshot/schema';

/**
 * diff → store → alert for one audit (DESIGN §1 data flow): the stored findings of the audit's coverage
 * are compared with the new ones; only changes are written (conditionally); transitions are recorded in
 * the outbox with the write, then published, then cleared; a run summary is kept.
 */

export interface RecordAuditOptions {
  store: FindingsStore;
  /** Without a publisher nothing is sent; alerts stay in the outbox for a run that has one. */
  publisher?: AlertPublisher;
  snapshot: Snapshot;
  result: AuditResult;
  /** The rules whose findings the audit reports (default: all that ran and emitted). */
  ruleIds: readonly RuleId[];
  /** The resources the audit was limited to (`--instance`, ad-hoc ids), if any. */
  resourceIds?: readonly string[];
  runId?: string;
  now?: Date;
  /** Individual alert messages per run; transitions beyond it are delivered in the digest only. Default 50. */
  maxAlertsPerRun?: number;
  /** What the audit is as of. Default: its findings' `evaluatedAt`, else `now`. */
  asOf?: string;
  /** The clock for the run summary's finish time. Default: `now`. */
  clock?: () => Date;
  /**
   * Security Hub (or another target) receives every change the store marked for export; only what it
   * accepted is cleared from the outbox.
   */
  exporter?: ExportTarget;
  /** The HTML report this run will be part of (its S3 console link), named in the digest. */
  reportUrl?: string;
  /**
   * Keep the facts the fix plan needs with a whole-region audit, so `ssm-audit plan --table` works from
   * the table alone. Default true.
   */
  savePlanFacts?: boolean;
}

/**
 * Exports the changes pending in the outbox. The first export of an account/region (the feature was
 * just enabled) sends every open finding of it once, in pages, then records that it did.
 */
async function exportPending(
  store: FindingsStore,
  exporter: ExportTarget,
  outbox: ReadonlyMap<string, StoredFinding>,
  run: { accountId: string; region: string; coverage: Coverage; lease: AuditLease; now: Date },
) {
  const pending = [...outbox.values()].filter((f) => f.pendingExport !== undefined);
  const initial = run.coverage.kind === 'region' && !(await store.exportStartedAt(run.accountId, run.region));
  const all = new Map(pending.map((f) => [findingId(f), f]));
  if (initial)
    for (const f of await store.inScope(run.accountId, run.region))
      if (!all.has(findingId(f))) all.set(findingId(f), f);
  await store.keepLease(run.lease);
  const outcome = await exporter.export([...all.values()]);
  if (initial && outcome.failed.length === 0)
    await store.markExportStarted(run.accountId, run.region, run.now, run.lease);
  return {
    accepted: outcome.accepted,
    summary: {
      target: exporter.name,
      sent: all.size,
      accepted: outcome.accepted.size,
      failed: outcome.failed.length,
      initialImport: initial,
      ...(outcome.failed.length ? { errors: outcome.failed.slice(0, 5) } : {}),
    },
  };
}

export interface RunReport extends RunRecord {
  publish?: PublishOutcome;
  messages: AlertMessage[];
}

type Coverage = { kind: 'region' } | { kind: 'resources'; resourceIds: string[] };

/** What part of the account the audit speaks for: stored findings outside it are not touched. */
export function coverageOf(snapshot: Snapshot, resourceIds?: readonly string[]): Coverage {
  const scoped = scopedResourceIds(snapshot);
  if (scoped) {
    const ids = resourceIds ? resourceIds.filter((id) => scoped.has(id)) : [...scoped];
    return { kind: 'resources', resourceIds: ids };
  }
  return resourceIds ? { kind: 'resources', resourceIds: [...resourceIds] } : { kind: 'region' };
}

/** Which resource listings the snapshot holds completely: only those can prove a resource is gone. */
/**
 * Account-level resources: the account itself and its listings (`<account>:ec2-instances`,
 * `<account>:hybrid-nodes`, where an unavailable instance list is reported). A whole-region audit speaks
 * for them whatever it could list.
 */
export const isAccountLevelId = (resourceId: string, accountId: string) =>
  resourceId === accountId || resourceId.startsWith(`${accountId}:`);

export function listingsOf(snapshot: Snapshot) {
  const complete = (call: string, present: unknown) =>
    present !== undefined && snapshot.calls[call] === undefined;
  return {
    ec2: complete('ec2:DescribeInstances', snapshot.ec2?.Reservations),
    hybrid: complete('ssm:DescribeInstanceInformation', snapshot.ssm?.InstanceInformationList),
    activations: complete('ssm:DescribeActivations', snapshot.ssm?.ActivationList),
  };
}

function describeCoverage(snapshot: Snapshot, coverage: Coverage): string {
  if (coverage.kind === 'region') return 'whole region';
  const scope = snapshot.scope;
  if (scope?.kind === 'vpc') return `VPC ${scope.vpcId}`;
  if (scope?.kind === 'role') return `role ${scope.roleName}`;
  const ids = coverage.resourceIds;
  return ids.length <= 3 ? ids.join(', ') : `${ids.length} resources`;
}

function writesSince(before: WriteCounters, after: WriteCounters): WriteCounters {
  const out = { ...after };
  for (const key of Object.keys(out) as (keyof WriteCounters)[]) out[key] = after[key] - before[key];
  return out;
}

/**
 * Above this many resources a scoped audit (a role used by thousands of instances) loads the region's
 * findings with one paginated Query and keeps its own, instead of one Query per resource.
 */
export const PER_RESOURCE_LOAD_LIMIT = 100;

async function loadCoverage(store: FindingsStore, accountId: string, region: string, coverage: Coverage) {
  if (coverage.kind === 'resources' && coverage.resourceIds.length <= PER_RESOURCE_LOAD_LIMIT) {
    return store.loadResources(accountId, region, coverage.resourceIds);
  }
  const all = await store.loadRegion(accountId, region);
  if (coverage.kind === 'region') return all;
  const wanted = new Set(coverage.resourceIds);
  return new Map([...all].filter(([, f]) => wanted.has(f.resourceId)));
}

export async function recordAudit(options: RecordAuditOptions): Promise<RunReport> {
  const { store, snapshot, result } = options;
  const now = options.now ?? new Date();
  const clock = options.clock ?? (() => now);
  const runId = options.runId ?? randomUUID();
  const startedAt = now.toISOString();
  const accountId = snapshot.accountId;
  const region = snapshot.region;
  const coverage = coverageOf(snapshot, options.resourceIds);
  const listed = listingsOf(snapshot);
  const before = { ...store.counters };
  // An audit is as new as its evaluation (the deployed product evaluates as of the collection): that is
  // what "newest evaluation wins" compares.
  const asOf = options.asOf ?? result.findings[0]?.evaluatedAt ?? now.toISOString();

  const lease = await store.acquireLease(accountId, region, runId);
  try {
    const marks = await store.watermarks(accountId, region);
    const regionNewer = marks.region !== undefined && marks.region > asOf;
    // What a newer audit already decided is left to it, also where it found nothing to change.
    const decidedByNewer = (resourceId: string) =>
      regionNewer || (marks.resources.get(resourceId) ?? '') > asOf;

    const stored = await loadCoverage(store, accountId, region, coverage);
    const ours = new Map([...stored].filter(([, f]) => !decidedByNewer(f.resourceId)));
    const findings = result.findings.filter((f) => !decidedByNewer(f.resourceId));
    const terminated = result.closedResourceIds.filter((id) => !decidedByNewer(id));
    const skipped = result.findings.length - findings.length;

    if (coverage.kind === 'region') {
      if (!regionNewer) await store.markAudit(lease, asOf, coverage, now);
    } else {
      const mine = coverage.resourceIds.filter((id) => !decidedByNewer(id));
      if (mine.length) await store.markAudit(lease, asOf, { kind: 'resources', resourceIds: mine }, now);
    }

    const diff = diffFindings({
      stored: ours,
      findings,
      terminated,
      rulesRun: new Set(options.ruleIds),
      asOf,
      listed: (f) =>
        f.resourceType === 'EC2Instance'
          ? listed.ec2
          : f.resourceType === 'ManagedInstance'
            ? listed.hybrid
            : isAccountLevelId(f.resourceId, f.accountId) || listed.activations,
    });
    const { applied, superseded } = await store.apply([...diff.created, ...diff.changed, ...diff.closed], {
      runId,
      now,
      lease,
      exportChanges: Boolean(options.exporter),
    });

    // The fix plan's facts, as of this audit (a newer audit's are kept). Failing to save them leaves the
    // previous ones and does not fail the audit: the run record says why.
    let planFacts: RunRecord['planFacts'];
    if (coverage.kind === 'region' && !regionNewer && options.savePlanFacts !== false) {
      try {
        planFacts = await store.savePlanFacts(planFactsOf(snapshot), {
          asOf,
          runId,
          now,
          lease,
        });
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        planFacts = { error: err instanceof Error ? err.message : String(err) };
      }
    }

    const suppressed = result.findings.filter((f) => f.suppressed).length;
    const counts: { [key: string]: number; new: number; changed: number; closed: number } = {
      findings: result.findings.length,
      new: applied.filter((a) => a.change.type === 'new').length,
      changed: applied.filter((a) => a.change.type === 'changed').length,
      closed: applied.filter((a) => a.change.type === 'closed').length,
      unchanged: diff.unchanged,
      superseded: superseded + diff.newerStored + skipped,
      statusChanges: applied.filter((a) => a.change.statusChanged).length,
      // Suppressed findings are counted apart, never as failures (DESIGN §8).
      ...(suppressed > 0 ? { suppressed } : {}),
      // Nodes Systems Manager cannot manage (managed-status FAIL, not suppressed): the report's trend.
      unmanaged: result.findings.filter(
        (f) => f.ruleId === 'managed-status' && f.status === 'FAIL' && !f.suppressed,
      ).length,
    };
    const byStatus: Partial<Record<Status, number>> = {};
    for (const f of result.findings) if (!f.suppressed) byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;

    // The outbox: this run's transitions, and any earlier ones a failed or cut run left behind.
    const outbox = new Map<string, StoredFinding>();
    for (const { item } of applied)
      if (item.pendingAlerts?.length || item.pendingHistory?.length || item.pendingExport !== undefined)
        outbox.set(findingId(item), item);
    const writtenHistory = new Set(applied.flatMap((a) => (a.item.pendingHistory ?? []).map((h) => h.sk)));
    for (const item of await store.pendingAlerts(accountId, region, outbox)) {
      const id = findingId(item);
      const known = outbox.get(id);
      if (!known || known.version < item.version) outbox.set(id, item);
    }
    // History records a cut run left uncopied (this run's were copied by apply).
    const leftover = [...outbox.values()].flatMap((f) =>
      (f.pendingHistory ?? []).filter((h) => !writtenHistory.has(h.sk)),
    );
    await store.writeHistory(leftover, lease);

    let publish: PublishOutcome | undefined;
    const messages: AlertMessage[] = [];
    let transitions: { finding: StoredFinding; alert: PendingAlert }[] = [];
    if (options.publisher) {
      transitions = [...outbox.values()]
        .flatMap((finding) => (finding.pendingAlerts ?? []).map((alert) => ({ finding, alert })))
        .sort((a, b) => a.alert.at.localeCompare(b.alert.at) || a.alert.id.localeCompare(b.alert.id));
      const cap = options.maxAlertsPerRun ?? 50;
      const individual = transitions.slice(0, cap);
      const summarized = transitions.slice(cap);
      messages.push(...individual.map((t) => transitionMessage(t.finding, t.alert)));
      const changedAnything = counts.new + counts.changed + counts.closed > 0;
      if (changedAnything || transitions.length > 0) {
        messages.push(
          digestMessage({
            accountId,
            region,
            runId,
            scope: describeCoverage(snapshot, coverage),
            finishedAt: clock().toISOString(),
            counts,
            byStatus,
            transitions,
            summarizedAlertIds: summarized.map((t) => t.alert.id),
            ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}),
          }),
        );
      }
      await store.keepLease(lease);
      publish = await options.publisher.publish(messages);
    }
    const exported = options.exporter
      ? await exportPending(store, options.exporter, outbox, { accountId, region, coverage, lease, now })
      : undefined;
    const done = new Map<
      string,
      { finding: StoredFinding; alertIds: Set<string>; historyKeys: Set<string>; exportedVersion?: number }
    >();
    for (const finding of outbox.values()) {
      const alertIds = new Set(
        (finding.pendingAlerts ?? []).map((a) => a.id).filter((id) => publish?.delivered.has(id)),
      );
      const historyKeys = new Set((finding.pendingHistory ?? []).map((h) => h.sk));
      const exportedVersion = exported?.accepted.has(findingId(finding)) ? finding.pendingExport : undefined;
      if (alertIds.size || historyKeys.size || exportedVersion !== undefined)
        done.set(findingId(finding), {
          finding,
          alertIds,
          historyKeys,
          ...(exportedVersion !== undefined ? { exportedVersion } : {}),
        });
    }
    await store.clearOutbox(done, lease);

    const alerts = {
      transitions: transitions.length,
      messages: messages.length,
      delivered: publish ? publish.delivered.size : 0,
      failedMessages: publish ? publish.failed.length : 0,
      pending: transitions.length - (publish ? [...publish.delivered].length : 0),
    };
    const record: RunRecord = {
      runId,
      accountId,
      region,
      startedAt,
      asOf,
      finishedAt: clock().toISOString(),
      scope: describeCoverage(snapshot, coverage),
      rules: [...options.ruleIds],
      counts,
      byStatus,
      writes: writesSince(before, store.counters),
      alerts,
      ...(exported ? { exports: exported.summary } : {}),
      ...(planFacts ? { planFacts } : {}),
    };
    // The summary counts its own write (one BatchWriteItem with the run and the account/region registry)
    // and the lease's release.
    record.writes.runRecords += 1;
    record.writes.batchRequests += 1;
    record.writes.leaseWrites += 1;
    await store.putRun(record, now, lease);
    return { ...record, publish, messages };
  } finally {
    await store.releaseLease(lease).catch(() => undefined);
  }
}
