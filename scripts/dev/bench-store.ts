/**
 * Benchmark section: DynamoDB writes per audit (issue 4). A synthetic fleet is audited and recorded in
 * the findings table on a real DynamoDB API (dynalite, in process), first into an empty table, then
 * again with 1 % of its findings changed (status flips and new messages). The store counts every write
 * it makes; the target is that a steady-state run writes no more findings than changed, plus a small
 * constant (its run summary).
 */
import { RULES, RULE_IDS } from '../../rules';
import { performance } from 'node:perf_hooks';
import { AlertPublisher, LocalAlertSink } from '../../shared/alerts/publisher';
import { auditSnapshot } from '../../shared/engine/audit';
import { type Finding } from '../../shared/model';
import { recordAudit, type RunReport } from '../../shared/pipeline/record-audit';
import { parseSnapshot } from '../../shared/snapshot/load';
import { FindingsStore } from '../../shared/store/findings-store';
import { buildSynthetic } from '../../test/support/synthetic';
import { startLocalDynamo } from '../ssm-audit/local-dynamodb';

export const STORE_FLEET = 10_000;
export const CHANGED_SHARE = 0.01;

export interface StoreRow {
  run: string;
  findings: number;
  changed: number;
  report: RunReport;
  seconds: number;
}

/** Changes every 100th finding: a status flip for half of them, a new message for the others. */
export function changeOnePercent(
  findings: readonly Finding[],
  evaluatedAt: string,
): { findings: Finding[]; changed: number } {
  let changed = 0;
  const step = Math.round(1 / CHANGED_SHARE);
  const out = findings.map((f, i) => {
    if (i % step !== 0) return { ...f, evaluatedAt };
    changed++;
    if ((i / step) % 2 === 0) {
      const status = f.status === 'FAIL' ? 'PASS' : 'FAIL';
      return {
        ...f,
        status,
        severity: status === 'FAIL' ? 'HIGH' : 'INFORMATIONAL',
        reason: `${f.reason}_CHANGED`,
        evaluatedAt,
      } as Finding;
    }
    return { ...f, message: `${f.message} (changed)`, evaluatedAt };
  });
  return { findings: out, changed };
}

export async function measureStore(instances: number, seed: number): Promise<StoreRow[]> {
  const { snapshot: input } = buildSynthetic({ instances, seed });
  const snapshot = parseSnapshot(JSON.parse(JSON.stringify(input)));
  const now = new Date(snapshot.collectedAt);
  const result = auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now });
  const local = await startLocalDynamo('bench-findings');
  try {
    const store = new FindingsStore({ client: local.doc, tableName: local.tableName, writeConcurrency: 32 });
    const publisher = new AlertPublisher(new LocalAlertSink());
    const rows: StoreRow[] = [];
    const run = async (label: string, findings: Finding[], changed: number, at: Date) => {
      const t0 = performance.now();
      const report = await recordAudit({
        store,
        publisher,
        snapshot,
        result: { ...result, findings },
        ruleIds: RULE_IDS,
        now: at,
      });
      rows.push({
        run: label,
        findings: findings.length,
        changed,
        report,
        seconds: (performance.now() - t0) / 1000,
      });
    };
    await run('first run (empty table)', result.findings, result.findings.length, now);
    const later = new Date(now.getTime() + 86_400_000);
    await run(
      'unchanged',
      result.findings.map((f) => ({ ...f, evaluatedAt: later.toISOString() })),
      0,
      later,
    );
    const evenLater = new Date(now.getTime() + 2 * 86_400_000);
    const changed = changeOnePercent(result.findings, evenLater.toISOString());
    await run('steady state, 1 % changed', changed.findings, changed.changed, evenLater);
    return rows;
  } finally {
    await local.stop();
  }
}

export function renderStoreRows(
  rows: readonly StoreRow[],
  renderTable: (h: string[], r: string[][]) => string,
): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const table = renderTable(
    [
      'run',
      'findings',
      'changed',
      'finding writes',
      'history records',
      'outbox clears',
      'BatchWriteItem requests',
      'lease + watermark writes',
      'write requests',
      'seconds',
      'target: finding writes <= changed + 1',
    ],
    rows.map((r) => {
      const w = r.report.writes;
      const requests = w.findingWrites + w.alertClears + w.batchRequests + w.leaseWrites;
      const steady = r.run.startsWith('steady') || r.run === 'unchanged';
      return [
        r.run,
        n(r.findings),
        n(r.changed),
        n(w.findingWrites),
        n(w.historyRecords),
        n(w.alertClears),
        n(w.batchRequests),
        n(w.leaseWrites),
        n(requests),
        r.seconds.toFixed(1),
        steady ? (w.findingWrites + w.runRecords <= r.changed + 1 ? 'met' : 'MISSED') : 'n/a (first run)',
      ];
    }),
  );
  return `${table}
(write requests = conditional finding writes + outbox clears + BatchWriteItem requests + lease writes; history
records go 25 to a BatchWriteItem request, one per status change; the run summary is one BatchWriteItem
request; a whole-region audit takes, renews at half-life and releases the account/region's lease and
raises its watermark: O(1) per audit)`;
}
