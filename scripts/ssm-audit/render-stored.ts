import { stringify } from 'csv-stringify/sync';
import { createColors } from 'picocolors';
import { statusPainter, toCsv, toJson, type Format } from './report';
import type { StoredFinding } from '../../shared/store/diff';
import type { RunRecord } from '../../shared/store/findings-store';

/** Output of `ssm-audit findings`: stored findings, one resource's history, run summaries. */

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - text.length));

function columns(rows: string[][], header: string[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : pad(cell, widths[i]!))).join('  '),
  );
}

export function renderStoredFindings(
  items: readonly StoredFinding[],
  format: Format,
  color: boolean,
): string {
  if (format === 'json') return toJson(items);
  if (format === 'csv') return toCsv(items);
  const c = createColors(color);
  const paint = statusPainter(c);
  if (items.length === 0) return 'No findings match.\n';
  const rows = items.map((f) => [
    f.status,
    f.severity,
    f.ruleId,
    f.resourceId,
    `${f.accountId}/${f.region}`,
    f.statusChangedAt,
    f.reason,
  ]);
  const lines = columns(rows, [
    'STATUS',
    'SEVERITY',
    'RULE',
    'RESOURCE',
    'ACCOUNT/REGION',
    'SINCE',
    'REASON',
  ]);
  const out = [c.bold(lines[0]!)];
  items.forEach((f, i) => {
    const line = lines[i + 1]!;
    out.push(paint[f.status](f.status) + line.slice(f.status.length), c.dim(`    ${f.message}`));
  });
  out.push('', `${items.length} finding${items.length === 1 ? '' : 's'}.`);
  return `${out.join('\n')}\n`;
}

const HISTORY_FIELDS = [
  'changedAt',
  'accountId',
  'region',
  'ruleId',
  'fromStatus',
  'toStatus',
  'severity',
  'reason',
  'message',
  'runId',
] as const;

export function renderHistory(
  resourceId: string,
  items: readonly Record<string, unknown>[],
  format: Format,
): string {
  const rows = items.map((h) => Object.fromEntries(HISTORY_FIELDS.map((k) => [k, h[k] ?? null])));
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'csv')
    return stringify(
      rows.map((r) => HISTORY_FIELDS.map((k) => r[k])),
      { header: true, columns: [...HISTORY_FIELDS] },
    );
  if (rows.length === 0) return `No history for ${resourceId}.\n`;
  const lines = columns(
    rows.map((r) => [
      String(r.changedAt),
      String(r.ruleId),
      `${r.fromStatus ?? 'new'} -> ${r.toStatus}`,
      String(r.severity),
      String(r.reason),
    ]),
    ['CHANGED AT', 'RULE', 'STATUS', 'SEVERITY', 'REASON'],
  );
  return `History of ${resourceId} (oldest first)\n${lines.join('\n')}\n`;
}

export function renderRuns(items: readonly RunRecord[], format: Format): string {
  if (format === 'json')
    return `${JSON.stringify(
      items.map(({ ...r }) => stripKeys(r)),
      null,
      2,
    )}\n`;
  const rows = items.map((r) => [
    r.startedAt,
    `${r.accountId}/${r.region}`,
    r.scope,
    String(r.counts.findings ?? 0),
    String(r.counts.new ?? 0),
    String(r.counts.changed ?? 0),
    String(r.counts.closed ?? 0),
    String(r.counts.unchanged ?? 0),
    String(r.writes?.findingWrites ?? 0),
    String(r.alerts?.messages ?? 0),
  ]);
  const header = [
    'STARTED',
    'ACCOUNT/REGION',
    'SCOPE',
    'FINDINGS',
    'NEW',
    'CHANGED',
    'CLOSED',
    'UNCHANGED',
    'WRITES',
    'MESSAGES',
  ];
  if (format === 'csv') return stringify(rows, { header: true, columns: header });
  if (rows.length === 0) return 'No runs recorded.\n';
  return `${columns(rows, header).join('\n')}\n`;
}

function stripKeys(record: object): Record<string, unknown> {
  const { pk: _pk, sk: _sk, type: _type, expiresAt: _e, ...rest } = record as Record<string, unknown>;
  return rest;
}
