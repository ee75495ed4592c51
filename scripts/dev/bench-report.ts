/**
 * Benchmark section: the HTML report and the fix plan of a large fleet (issue 14: "< 2 MB for 10,000
 * nodes"). For each size a synthetic snapshot is audited once; then the report is rendered, the plan
 * built, and the plan's facts encoded as the findings table keeps them. Figures are printed, never
 * asserted. Run alone with `node -r tsx/cjs scripts/dev/bench-report.ts [sizes]`.
 */
import { performance } from 'node:perf_hooks';
import { RULES } from '../../rules';
import { buildPlan } from '../ssm-audit/plan';
import { auditSnapshot } from '../../shared/engine/audit';
import { renderHtmlReport } from '../../shared/report/html';
import { instanceVpcs } from '../../shared/report/trend';
import { parseSnapshot } from '../../shared/snapshot/load';
import { planFactsOf } from '../../shared/snapshot/plan-facts';
import { encodeFacts } from '../../shared/store/plan-facts';
import { resourceNames } from '../ssm-audit/report';
import { buildSyntheticSnapshot } from '../../test/support/synthetic';

/** Issue 14: the report of 10,000 nodes stays under 2 MB. */
export const REPORT_TARGET_BYTES = 2 * 1024 * 1024;

export interface ReportRow {
  instances: number;
  nodes: number;
  reportBytes: number;
  reportSeconds: number;
  planSeconds: number;
  steps: number;
  factsBytes: number;
  factsParts: number;
  factsSeconds: number;
}

export function measureReport(instances: number, seed = 1): ReportRow {
  const snapshot = parseSnapshot(buildSyntheticSnapshot({ instances, seed }));
  const now = new Date(snapshot.collectedAt);
  const { findings } = auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now });
  const t0 = performance.now();
  const html = renderHtmlReport({
    title: `bench ${instances}`,
    generatedAt: snapshot.collectedAt,
    findings,
    names: resourceNames(snapshot),
    vpcOf: instanceVpcs(snapshot),
  });
  const t1 = performance.now();
  const plan = buildPlan(findings, snapshot);
  const t2 = performance.now();
  const facts = encodeFacts(planFactsOf(snapshot));
  const t3 = performance.now();
  return {
    instances,
    nodes: Object.values(plan.totals).reduce((n, row) => n + row.total, 0),
    reportBytes: Buffer.byteLength(html),
    reportSeconds: (t1 - t0) / 1000,
    planSeconds: (t2 - t1) / 1000,
    steps: plan.steps.length,
    factsBytes: facts.bytes,
    factsParts: facts.parts.length,
    factsSeconds: (t3 - t2) / 1000,
  };
}

export function renderReportRows(rows: readonly ReportRow[]): string {
  const headers = [
    'instances',
    'nodes counted',
    'HTML KB',
    'render s',
    'HTML target',
    'plan s',
    'plan steps',
    'plan facts KB (gzip)',
    'items',
    'encode s',
  ];
  const body = rows.map((r) => [
    r.instances.toLocaleString('en-US'),
    r.nodes.toLocaleString('en-US'),
    (r.reportBytes / 1024).toFixed(0),
    r.reportSeconds.toFixed(2),
    r.reportBytes < REPORT_TARGET_BYTES ? 'ok (< 2 MB)' : 'OVER 2 MB',
    r.planSeconds.toFixed(2),
    String(r.steps),
    (r.factsBytes / 1024).toFixed(0),
    String(r.factsParts + 1),
    r.factsSeconds.toFixed(2),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(headers), ...body.map(line)].join('\n');
}

if (require.main === module) {
  const sizes = (process.argv[2] ?? '1000,10000').split(',').map(Number);
  process.stdout.write(`${renderReportRows(sizes.map((n) => measureReport(n)))}\n`);
}
