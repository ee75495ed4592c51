import { stringify } from 'csv-stringify/sync';
import { createColors } from 'picocolors';
import type { Snapshot } from './snapshot/schema';
import { FINDING_FIELDS, RULE_IDS, STATUSES, type Finding, type RuleId, type Status } from './model';

/** Renders findings for `--format json|csv|table`. JSON and CSV carry exactly the DESIGN §3 fields. */

export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** A finding with exactly the contract fields, in contract order, so nothing else ever leaks into the output. */
const contractFields = (f: Finding) => Object.fromEntries(FINDING_FIELDS.map((k) => [k, f[k]]));

/**
 * `--format json` one finding at a time: together exactly the bytes of `JSON.stringify(rows, null, 2)`
 * and a newline, but never one string of them all (100,000 instances' findings exceed V8's ~512 MB
 * string limit).
 */
export function* jsonChunks(findings: Iterable<Finding>): Generator<string> {
  let first = true;
  for (const f of findings) {
    // Strings are escaped in JSON, so every newline here is the pretty-printer's: indent it one level.
    yield `${first ? '[\n' : ',\n'}  ${JSON.stringify(contractFields(f), null, 2).replace(/\n/g, '\n  ')}`;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}

/** `--format csv` a few hundred rows at a time; together exactly the bytes of one csv-stringify call. */
export function* csvChunks(findings: readonly Finding[], rowsPerChunk = 25): Generator<string> {
  const row = (f: Finding) =>
    FINDING_FIELDS.map((k) => (k === 'evidence' ? JSON.stringify(f.evidence) : f[k]));
  yield stringify([], { header: true, columns: [...FINDING_FIELDS] });
  for (let i = 0; i < findings.length; i += rowsPerChunk) {
    yield stringify(findings.slice(i, i + rowsPerChunk).map(row), { columns: [...FINDING_FIELDS] });
  }
}

export function toJson(findings: readonly Finding[]): string {
  return [...jsonChunks(findings)].join('');
}

export function toCsv(findings: readonly Finding[]): string {
  return [...csvChunks(findings)].join('');
}

/**
 * Writes chunks through `write` (which may wait for the destination to drain), gathered into pieces of
 * about `pieceBytes`: a piece is larger only by the one chunk that crossed the mark.
 */
export async function writeChunks(
  chunks: Iterable<string>,
  write: (piece: string) => void | Promise<void>,
  pieceBytes = 64 * 1024,
): Promise<void> {
  let pending: string[] = [];
  let length = 0;
  for (const chunk of chunks) {
    pending.push(chunk);
    length += chunk.length;
    if (length >= pieceBytes) {
      await write(pending.join(''));
      pending = [];
      length = 0;
    }
  }
  if (length > 0) await write(pending.join(''));
}

export interface TableOptions {
  color: boolean;
  /** Cap on resources listed per section, so a 10,000-instance run stays readable. */
  maxListed?: number;
  title?: string;
  /** Display names (EC2 Name tag, hybrid node name) shown next to resource ids. */
  names?: ReadonlyMap<string, string>;
}

/** Names a person recognizes: the EC2 `Name` tag, or a hybrid node's registered name. */
export function resourceNames(snapshot: Snapshot): Map<string, string> {
  const names = new Map<string, string>();
  for (const reservation of snapshot.ec2?.Reservations ?? []) {
    for (const instance of reservation.Instances) {
      const name = instance.Tags?.find((t) => t.Key === 'Name')?.Value;
      if (name) names.set(instance.InstanceId, name);
    }
  }
  for (const info of snapshot.ssm?.InstanceInformationList ?? []) {
    const name = info.Name ?? info.ComputerName;
    if (name && !names.has(info.InstanceId)) names.set(info.InstanceId, name);
  }
  return names;
}

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - text.length));
const padLeft = (text: string, width: number) => ' '.repeat(Math.max(0, width - text.length)) + text;

/** One colour per status, the same in every table the CLI prints. */
export function statusPainter(c: ReturnType<typeof createColors>): Record<Status, (s: string) => string> {
  return { PASS: c.green, FAIL: c.red, WARN: c.yellow, NOT_APPLICABLE: c.dim, ERROR: c.magenta };
}

/** "1 finding", "5 findings", "0 resources". */
const countOf = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function toTable(findings: readonly Finding[], options: TableOptions): string {
  const c = createColors(options.color);
  const paint = statusPainter(c);
  const lines: string[] = [];
  if (options.title) lines.push(c.bold(options.title), '');

  const counts = new Map<RuleId, Record<Status, number>>();
  const resources = new Set<string>();
  for (const f of findings) {
    resources.add(`${f.resourceType}/${f.resourceId}`);
    let row = counts.get(f.ruleId);
    if (!row) counts.set(f.ruleId, (row = { PASS: 0, FAIL: 0, WARN: 0, NOT_APPLICABLE: 0, ERROR: 0 }));
    row[f.status] += 1;
  }
  const ruleWidth = Math.max(4, ...RULE_IDS.map((r) => r.length));
  const header = `${pad('RULE', ruleWidth)}  ${STATUSES.map((s) => padLeft(s === 'NOT_APPLICABLE' ? 'N/A' : s, 6)).join('  ')}`;
  lines.push(c.bold('Summary by rule and status'), c.bold(header));
  const totals: Record<Status, number> = { PASS: 0, FAIL: 0, WARN: 0, NOT_APPLICABLE: 0, ERROR: 0 };
  for (const ruleId of RULE_IDS) {
    const row = counts.get(ruleId);
    if (!row) continue;
    const cells = STATUSES.map((s) => {
      totals[s] += row[s];
      const text = padLeft(String(row[s]), 6);
      return row[s] > 0 ? paint[s](text) : c.dim(text);
    });
    lines.push(`${pad(ruleId, ruleWidth)}  ${cells.join('  ')}`);
  }
  lines.push(`${pad('TOTAL', ruleWidth)}  ${STATUSES.map((s) => padLeft(String(totals[s]), 6)).join('  ')}`);
  lines.push(`${countOf(findings.length, 'finding')} on ${countOf(resources.size, 'resource')}.`, '');

  const sections: { status: Status; title: string }[] = [
    { status: 'FAIL', title: 'Failing resources' },
    { status: 'ERROR', title: 'Could not evaluate' },
    { status: 'WARN', title: 'Warnings' },
  ];
  const max = options.maxListed ?? 200;
  for (const { status, title } of sections) {
    const byResource = new Map<string, Finding[]>();
    for (const f of findings) {
      if (f.status !== status) continue;
      const key = `${f.resourceId}`;
      const list = byResource.get(key);
      if (list) list.push(f);
      else byResource.set(key, [f]);
    }
    if (byResource.size === 0) continue;
    lines.push(c.bold(`${title} (${byResource.size})`));
    let listed = 0;
    for (const [resourceId, list] of byResource) {
      if (listed++ >= max) {
        lines.push(
          c.dim(`  … and ${byResource.size - max} more (use --format json or --instance to see them)`),
        );
        break;
      }
      const name = options.names?.get(resourceId);
      lines.push(`  ${c.bold(resourceId)}${name ? ` ${name}` : ''} ${c.dim(`(${list[0]!.resourceType})`)}`);
      for (const f of list) {
        lines.push(`    ${paint[f.status](f.status)} ${f.ruleId} ${c.dim(f.reason)} [${f.severity}]`);
        lines.push(`      ${f.message}`);
        if (f.status !== 'PASS') lines.push(`      ${c.cyan('fix:')} ${f.remediation}`);
      }
    }
    lines.push('');
  }
  if (totals.FAIL + totals.ERROR + totals.WARN === 0)
    lines.push(c.green('Every evaluated resource passes.'), '');
  return `${lines.join('\n')}\n`;
}

export function render(findings: readonly Finding[], format: Format, options: TableOptions): string {
  if (format === 'json') return toJson(findings);
  if (format === 'csv') return toCsv(findings);
  return toTable(findings, options);
}
