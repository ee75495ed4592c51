import { partitionOf } from '../../shared/knowledge/partition';
import { RULE_IDS, RULES } from '../../rules';
import { stringify } from 'csv-stringify/sync';
import { createColors } from 'picocolors';
import { version as auditorVersion } from '../../package.json';
import { toAsff, type ExportableFinding } from '../../shared/alerts/asff';
import { toOcsf } from '../../shared/alerts/ocsf';
import type { Snapshot } from '../../shared/snapshot/schema';
import {
  countOf,
  fleetState,
  headlineOf,
  topFixGroup,
  type CauseGroup,
} from '../../shared/report/fleet-state';
import {
  FINDING_FIELDS,
  STATUSES,
  SUPPRESSED_FIELD,
  type Finding,
  type RuleId,
  type Status,
} from '../../shared/model';

/**
 * Renders findings for `--format table|json|csv|asff|ocsf`. JSON and CSV carry exactly the DESIGN §3
 * fields; `asff` is a JSON array of AwsSecurityFinding (what BatchImportFindings would receive) and
 * `ocsf` a JSON array of OCSF Compliance Finding events (DESIGN §8).
 */

export const FORMATS = ['table', 'json', 'csv', 'asff', 'ocsf'] as const;
export type Format = (typeof FORMATS)[number];
/** The formats for Security Hub and security data lakes. */
export type ExportFormat = Extract<Format, 'asff' | 'ocsf'>;
export const isExportFormat = (format: Format): format is ExportFormat =>
  format === 'asff' || format === 'ocsf';

const RULE_TITLES: ReadonlyMap<string, string> = new Map(RULES.map((r) => [r.meta.id, r.meta.title]));
export const ruleTitle = (ruleId: string): string | undefined => RULE_TITLES.get(ruleId);

/**
 * `--format asff|ocsf` one finding at a time, as a pretty-printed JSON array (like `--format json`).
 * `partition`: the snapshot's; without it, each finding's region decides (a stored finding, an
 * Organization scan).
 */
export function* exportChunks(
  findings: Iterable<ExportableFinding>,
  format: ExportFormat,
  options: { partition?: string } = {},
): Generator<string> {
  let first = true;
  for (const f of findings) {
    const context = {
      partition: options.partition ?? partitionOf(f.region),
      auditorVersion,
      ruleTitle,
    };
    const item = format === 'asff' ? toAsff(f, context) : toOcsf(f, context);
    yield `${first ? '[\n' : ',\n'}  ${JSON.stringify(item, null, 2).replace(/\n/g, '\n  ')}`;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}

/**
 * A finding with exactly the contract fields, in contract order, so nothing else ever leaks into the
 * output — plus `suppressed` after them on a suppressed finding (DESIGN §8). CSV keeps the contract's
 * columns only.
 */
const contractFields = (f: Finding) => ({
  ...Object.fromEntries(FINDING_FIELDS.map((k) => [k, f[k]])),
  ...(f.suppressed ? { [SUPPRESSED_FIELD]: f.suppressed } : {}),
});

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
  /** Columns to fit (default 100): text wraps between words, never inside an id, ARN or command. */
  width?: number;
  /** Only the opening block: how many nodes cannot be managed, the root causes, the top fix. */
  summaryOnly?: boolean;
  /**
   * Findings of several accounts and regions (Organization mode): each resource is labelled with its
   * account and region, and the opening block adds the accounts and regions with the most unmanaged nodes.
   */
  multiAccount?: boolean;
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

export const DEFAULT_WIDTH = 100;

/** Words that start a shell command in a remediation: the command is copied whole, so it is never wrapped. */
const COMMAND_START = /^(aws|sudo|systemctl|Start-Service|Get-Service)$/;

/**
 * The units text may wrap between: words, except that a command (`aws ssm send-command --instance-ids i-…`)
 * is one unit up to the punctuation or parenthesis that ends it, so it can be pasted from one line.
 */
export function wrapUnits(text: string): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const units: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const next = words[i + 1];
    if (!COMMAND_START.test(word) || next === undefined || !/^[a-z][\w-]*$/.test(next)) {
      units.push(word);
      continue;
    }
    const command = [word];
    while (i + 1 < words.length) {
      const part = words[i + 1]!;
      if (part.startsWith('(') || part === '/' || part === 'or' || part === 'and') break;
      command.push(part);
      i++;
      // `a && b`: two commands, each whole; `&&` stays with the first.
      if (/[,;.]$/.test(part) || part === '&&') break;
    }
    units.push(command.join(' '));
  }
  return units;
}

/** A run of text with one style; `wrap` keeps each unit's style. */
interface Span {
  text: string;
  style?: (s: string) => string;
}

/**
 * Fills lines of at most `width` columns: the first starts with `indent`, the next with `hang`. A unit
 * longer than the room left goes to a new line; one longer than a whole line stands alone, unbroken.
 */
function wrap(spans: readonly Span[], width: number, indent: string, hang = indent): string[] {
  const lines: string[] = [];
  let plainLength = indent.length;
  let line = indent;
  let empty = true;
  for (const span of spans) {
    for (const unit of wrapUnits(span.text)) {
      const styled = span.style ? span.style(unit) : unit;
      if (!empty && plainLength + 1 + unit.length > width) {
        lines.push(line);
        line = hang;
        plainLength = hang.length;
        empty = true;
      }
      line += (empty ? '' : ' ') + styled;
      plainLength += (empty ? 0 : 1) + unit.length;
      empty = false;
    }
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/** Says so when no failing prerequisite explains a group: its cause is then managed-status's own reason. */
const notFound = (group: CauseGroup): { text: string }[] =>
  group.cause.found ? [] : [{ text: '— no failing prerequisite found' }];

const same = <T>(values: readonly T[]) => values.every((v) => v === values[0]);

export function toTable(all: readonly Finding[], options: TableOptions): string {
  // Suppressed findings are listed on their own at the end and counted nowhere else (DESIGN §8).
  const findings = all.filter((f) => !f.suppressed);
  const suppressed = all.filter((f) => f.suppressed);
  const c = createColors(options.color);
  const paint = statusPainter(c);
  const width = Math.max(20, options.width ?? DEFAULT_WIDTH);
  const max = options.maxListed ?? 200;
  const lines: string[] = [];
  const say = (spans: Span[] | string, indent = '', hang = `${indent}  `) =>
    lines.push(...wrap(typeof spans === 'string' ? [{ text: spans }] : spans, width, indent, hang));
  const nameOf = (id: string) => options.names?.get(id);
  const multi = options.multiAccount === true;
  /** A resource's key: its id, or in a multi-account report account/region/id (ids repeat across accounts). */
  const keyOf = (f: Finding) => (multi ? `${f.accountId}/${f.region}/${f.resourceId}` : f.resourceId);
  const label = (f: Finding): Span[] => {
    const name = nameOf(f.resourceId);
    return [
      { text: f.resourceId, style: c.bold },
      ...(name ? [{ text: name }] : []),
      ...(multi ? [{ text: `[${f.accountId} ${f.region}]`, style: c.dim }] : []),
    ];
  };

  if (options.title) say([{ text: options.title, style: c.bold }]);

  // The opening block: the answer first.
  const { counted, unmanaged, byCause } = fleetState(findings);
  const headline = headlineOf({ counted, unmanaged, byCause });
  const pending = [...counted].reduce((n, [, row]) => n + row.pending, 0);
  if (headline !== undefined) say([{ text: `${headline}.`, style: c.bold }]);
  // The fix that unblocks the most nodes (shared/report/fleet-state.ts).
  const top = topFixGroup({ counted, unmanaged, byCause });
  if (top) {
    const fixes = top.nodes.map((n) => n.cause.remediation);
    say(
      [
        {
          text: `Top fix (${countOf(top.nodes.length, 'node')}, ${top.key}${same(fixes) ? '' : ', per node'}):`,
          style: c.cyan,
        },
        { text: fixes[0]! },
      ],
      '',
      '  ',
    );
    if (pending > 0) say(`Pending: ${pending} still registering, not counted as unmanaged yet.`);
    say('Root causes:');
    for (const group of byCause.slice(0, max)) {
      const count = String(group.nodes.length);
      say(
        [{ text: count, style: c.red }, { text: group.key }, ...notFound(group)],
        ' '.repeat(Math.max(1, 4 - count.length)),
        '       ',
      );
    }
    if (byCause.length > max)
      say([{ text: `… and ${byCause.length - max} more causes`, style: c.dim }], '  ');
    if (multi) {
      const byScope = new Map<string, number>();
      for (const node of unmanaged) {
        const key = `${node.finding.accountId} ${node.finding.region}`;
        byScope.set(key, (byScope.get(key) ?? 0) + 1);
      }
      const worst = [...byScope].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      say(`Most unmanaged nodes (${countOf(byScope.size, 'account-region')} with any):`);
      for (const [key, n] of worst.slice(0, 10))
        say(
          [{ text: String(n), style: c.red }, { text: key }],
          ' '.repeat(Math.max(1, 4 - String(n).length)),
        );
      if (worst.length > 10) say([{ text: `… and ${worst.length - 10} more`, style: c.dim }], '  ');
    }
  } else if (headline === undefined) {
    const failing = new Set(
      findings.filter((f) => f.status === 'FAIL' || f.status === 'ERROR').map((f) => f.resourceId),
    );
    say(
      `Managed status not evaluated (\`--rule managed-status\` adds it); ${countOf(failing.size, 'resource')} with a failing finding.`,
    );
  }
  lines.push('');
  if (options.summaryOnly) return `${lines.join('\n')}\n`;

  const listedAbove = new Set<string>();
  const findingsOf = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = findingsOf.get(keyOf(f));
    if (list) list.push(f);
    else findingsOf.set(keyOf(f), [f]);
  }
  /** A finding as the lines under its resource: status, rule, reason, severity, message, fix. */
  const findingLines = (f: Finding, indent: string) => {
    say(
      [
        { text: f.status, style: paint[f.status] },
        { text: f.ruleId },
        { text: f.reason, style: c.dim },
        { text: `[${f.severity}]` },
        { text: f.message },
      ],
      indent,
      `${indent}  `,
    );
    say([{ text: 'fix:', style: c.cyan }, { text: f.remediation }], `${indent}  `, `${indent}    `);
  };

  // Unmanaged nodes, by root cause; each with its other failing and warning findings.
  if (byCause.length > 0) {
    say([{ text: `Cannot be managed (${unmanaged.length}), by root cause`, style: c.bold }]);
    let listed = 0;
    for (const group of byCause) {
      if (listed >= max) break;
      const messages = group.nodes.map((n) => n.cause.message);
      const fixes = group.nodes.map((n) => n.cause.remediation);
      say([{ text: `${group.key} (${group.nodes.length})`, style: c.red }, ...notFound(group)], '  ', '    ');
      if (same(messages)) say(messages[0]!, '    ', '      ');
      if (same(fixes)) say([{ text: 'fix:', style: c.cyan }, { text: fixes[0]! }], '    ', '      ');
      for (const node of group.nodes) {
        if (listed++ >= max) break;
        const id = keyOf(node.finding);
        listedAbove.add(id);
        say(
          [...label(node.finding), ...(same(messages) ? [] : [{ text: `— ${node.cause.message}` }])],
          '    ',
          '      ',
        );
        if (!same(fixes))
          say([{ text: 'fix:', style: c.cyan }, { text: node.cause.remediation }], '      ', '        ');
        // Its other failures in full; its warnings in one line, as they matter little while it is unmanaged.
        const warnings: string[] = [];
        for (const f of findingsOf.get(id) ?? []) {
          if (f === node.finding || f.status === 'PASS' || f.status === 'NOT_APPLICABLE') continue;
          if (f.ruleId === node.cause.ruleId && f.reason === node.cause.reason) continue;
          if (f.status === 'WARN') warnings.push(`${f.ruleId} ${f.reason}`);
          else
            say(
              [
                { text: `also ${f.status}`, style: paint[f.status] },
                { text: `${f.ruleId} ${f.reason}:` },
                { text: f.message },
                { text: '— fix:', style: c.cyan },
                { text: f.remediation },
              ],
              '      ',
              '        ',
            );
        }
        if (warnings.length > 0)
          say(
            [{ text: 'also WARN', style: paint.WARN }, { text: warnings.join(', ') }],
            '      ',
            '        ',
          );
      }
    }
    if (unmanaged.length > max) {
      say(
        [
          {
            text: `… and ${unmanaged.length - max} more (use --format json or --instance to see them)`,
            style: c.dim,
          },
        ],
        '  ',
      );
    }
    lines.push('');
  }

  // Then every other resource, once, under its worst status: failures first, then warnings.
  const sections: { statuses: readonly Status[]; title: string }[] = [
    { statuses: ['FAIL', 'ERROR'], title: 'Other failures' },
    { statuses: ['WARN'], title: 'Warnings, on resources not listed above' },
  ];
  for (const { statuses, title } of sections) {
    const resources = [...findingsOf].filter(
      ([id, list]) => !listedAbove.has(id) && list.some((f) => statuses.includes(f.status)),
    );
    if (resources.length === 0) continue;
    say([{ text: `${title} (${resources.length})`, style: c.bold }]);
    let listed = 0;
    for (const [id, list] of resources) {
      if (listed++ >= max) {
        say(
          [
            {
              text: `… and ${resources.length - max} more (use --format json or --instance to see them)`,
              style: c.dim,
            },
          ],
          '  ',
        );
        break;
      }
      listedAbove.add(id);
      say([...label(list[0]!), { text: `(${list[0]!.resourceType})`, style: c.dim }], '  ', '    ');
      for (const f of list) {
        if (f.status === 'PASS' || f.status === 'NOT_APPLICABLE') continue;
        findingLines(f, '    ');
      }
    }
    lines.push('');
  }

  const counts = new Map<RuleId, Record<Status, number>>();
  const resources = new Set<string>();
  for (const f of findings) {
    resources.add(`${f.resourceType}/${f.resourceId}`);
    let row = counts.get(f.ruleId);
    if (!row) counts.set(f.ruleId, (row = { PASS: 0, FAIL: 0, WARN: 0, NOT_APPLICABLE: 0, ERROR: 0 }));
    row[f.status] += 1;
  }
  // The registry's rules in their order, then any other check that reported (Organization mode's member access).
  const ruleIds = [...RULE_IDS, ...[...counts.keys()].filter((id) => !RULE_IDS.includes(id))];
  const ruleWidth = Math.max(4, ...ruleIds.map((r) => r.length));
  const header = `${pad('RULE', ruleWidth)}  ${STATUSES.map((s) => padLeft(s === 'NOT_APPLICABLE' ? 'N/A' : s, 6)).join('  ')}`;
  lines.push(c.bold('Summary by rule and status'), c.bold(header));
  const totals: Record<Status, number> = { PASS: 0, FAIL: 0, WARN: 0, NOT_APPLICABLE: 0, ERROR: 0 };
  for (const ruleId of ruleIds) {
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
  if (totals.FAIL + totals.ERROR + totals.WARN === 0)
    lines.push(c.green('Every evaluated resource passes.'), '');
  if (suppressed.length > 0) suppressedSection(suppressed, { c, paint, say, label, max, lines });
  return `${lines.join('\n')}\n`;
}

/**
 * The suppressed findings: which resource, what they would report, and the entry that holds them
 * (reason, owner, expiry). Failing and warning ones are listed; the rest are counted.
 */
function suppressedSection(
  suppressed: readonly Finding[],
  ctx: {
    c: ReturnType<typeof createColors>;
    paint: Record<Status, (s: string) => string>;
    say: (spans: Span[] | string, indent?: string, hang?: string) => void;
    label: (f: Finding) => Span[];
    max: number;
    lines: string[];
  },
): void {
  const { c, paint, say, label, max, lines } = ctx;
  const problems = suppressed.filter((f) => f.status !== 'PASS' && f.status !== 'NOT_APPLICABLE');
  const resources = new Set(suppressed.map((f) => f.resourceId));
  say([
    {
      text: `Suppressed (${countOf(suppressed.length, 'finding')} on ${countOf(resources.size, 'resource')}; not counted above, no alert)`,
      style: c.bold,
    },
  ]);
  for (const f of problems.slice(0, max)) {
    const s = f.suppressed!;
    say(
      [
        ...label(f),
        { text: f.ruleId },
        { text: f.status, style: paint[f.status] },
        { text: f.reason, style: c.dim },
      ],
      '  ',
      '    ',
    );
    say(
      [
        {
          text: `${s.builtIn ? 'built-in exemption' : 'suppression'} ${s.id}: ${s.reason} (owner ${s.owner}${s.builtIn ? '' : `, expires ${s.expiresAt}`})`,
          style: c.dim,
        },
      ],
      '    ',
      '      ',
    );
  }
  if (problems.length > max)
    say(
      [{ text: `… and ${problems.length - max} more (use --format json to see them)`, style: c.dim }],
      '  ',
    );
  if (problems.length < suppressed.length)
    say(
      `  ${countOf(suppressed.length - problems.length, 'passing or not applicable finding')} suppressed too.`,
    );
  lines.push('');
}

/** The streamed formats (all but `table`), chunk by chunk. */
export function findingChunks(
  findings: readonly ExportableFinding[],
  format: Exclude<Format, 'table'>,
  options: { partition?: string } = {},
): Iterable<string> {
  if (format === 'json') return jsonChunks(findings);
  if (format === 'csv') return csvChunks(findings);
  return exportChunks(findings, format, options);
}

export function render(findings: readonly Finding[], format: Format, options: TableOptions): string {
  if (format === 'json') return toJson(findings);
  if (format === 'csv') return toCsv(findings);
  if (isExportFormat(format)) return [...exportChunks(findings, format)].join('');
  return toTable(findings, options);
}
