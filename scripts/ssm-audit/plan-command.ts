import { Command, Option } from 'commander';
import { createColors } from 'picocolors';
import { RULES } from '../../rules';
import { auditSnapshot } from '../../shared/engine/audit';
import { UsageError } from '../../shared/errors';
import { loadSnapshotFile, parseSnapshot } from '../../shared/snapshot/load';
import type { Snapshot } from '../../shared/snapshot/schema';
import type { Finding } from '../../shared/model';
import { OptionValueError, oneOf, withTableOptions } from './findings-command';
import { checkSources, parseScope, readTableScope, usesTable, type SourceOptions } from './table-source';
import { afterSentence, buildPlan, type Command as PlanCommand, type Fix, type FixPlan } from './plan';
import { DEFAULT_WIDTH, resourceNames, wrapUnits } from './report';

/** `ssm-audit plan`: the fix plan of a snapshot or a live scan, as a table, JSON or a reviewed script. */

export const PLAN_FORMATS = ['table', 'json', 'sh'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

function parsePlanFormat(value: string): PlanFormat {
  if (!PLAN_FORMATS.includes(value as PlanFormat))
    throw new OptionValueError('--format', value, `expected ${oneOf(PLAN_FORMATS)}`);
  return value as PlanFormat;
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted; `$VAR` double-quoted. */
export function shellWord(word: string, forScript = false): string {
  if (/^\$[A-Z_][A-Z0-9_]*$/.test(word)) return forScript ? `"${word}"` : word;
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export const commandLine = (c: PlanCommand, forScript = false) =>
  c.argv.map((w) => shellWord(w, forScript)).join(' ');

const nodesLabel = (ids: readonly string[], names?: ReadonlyMap<string, string>) =>
  ids.map((id) => (names?.get(id) ? `${id} (${names.get(id)})` : id)).join(', ');

export interface PlanRenderOptions {
  color?: boolean;
  width?: number;
  names?: ReadonlyMap<string, string>;
  /** Cap on fixes listed outside the plan and on held-back nodes. */
  maxListed?: number;
  /** Where the findings and ids come from (snapshot, live, findings table), named under the title. */
  source?: string;
}

/** Wraps text between words to `width` columns; a command stays whole (like the scan report). */
function wrapText(text: string, width: number, indent: string, hang = `${indent}  `): string[] {
  const lines: string[] = [];
  let line = indent;
  let empty = true;
  for (const unit of wrapUnits(text)) {
    if (!empty && line.length + 1 + unit.length > width) {
      lines.push(line);
      line = hang;
      empty = true;
    }
    line += (empty ? '' : ' ') + unit;
    empty = false;
  }
  lines.push(line);
  return lines;
}

export function planTable(plan: FixPlan, options: PlanRenderOptions = {}): string {
  const c = createColors(options.color ?? false);
  const width = options.width ?? DEFAULT_WIDTH;
  const max = options.maxListed ?? 50;
  const out: string[] = [];
  const say = (text: string, indent = '', hang?: string) => out.push(...wrapText(text, width, indent, hang));
  out.push(c.bold(`Fix plan: account ${plan.accountId}, ${plan.region}`));
  if (options.source) say(c.dim(`From ${options.source}.`));
  say(`${afterSentence(plan, 0)[0]!.toUpperCase()}${afterSentence(plan, 0).slice(1)}.`);
  if (plan.steps.length === 0)
    say('No fix in reach: nothing this plan can change makes another node manageable.');
  else say(c.bold(`${afterSentence(plan)[0]!.toUpperCase()}${afterSentence(plan).slice(1)}.`));
  out.push('');
  for (const step of plan.steps) {
    const count = step.unblocked.length;
    const gain = count === 0 ? 'with the next fix' : `+${count} manageable`;
    say(
      `${c.bold(`${step.rank}.`)} ${step.fix.title} ${c.dim(`[${step.fix.id}]`)} — ${c.green(gain)}`,
      '',
      '   ',
    );
    if (count > 0) say(`unblocks: ${nodesLabel(step.unblocked, options.names)}`, '   ', '     ');
    const needs = step.fix.nodes.filter((n) => !step.unblocked.includes(n));
    if (needs.length > 0) say(`also needed by: ${nodesLabel(needs, options.names)}`, '   ', '     ');
    for (const note of step.fix.notes ?? []) say(c.yellow(`note: ${note}`), '   ', '     ');
    for (const command of step.fix.commands)
      say(
        `${command.assign ? `${command.assign.variable}=$(` : ''}${commandLine(command)}${command.assign ? ')' : ''}`,
        '   $ ',
        '       ',
      );
    say(c.dim(afterSentence(plan, step.rank)), '   ', '     ');
  }
  if (plan.heldBack.length > 0) {
    out.push('');
    say(c.bold(`Not made manageable by this plan (${plan.heldBack.length})`));
    for (const node of plan.heldBack.slice(0, max)) {
      say(
        `${node.nodeId}${options.names?.get(node.nodeId) ? ` ${options.names.get(node.nodeId)}` : ''}`,
        '  ',
        '    ',
      );
      for (const reason of node.reasons) say(reason, '    ', '      ');
      if (node.reasons.length === 0) say('needs the fixes listed under "Other fixes" too', '    ', '      ');
    }
    if (plan.heldBack.length > max)
      say(`… and ${plan.heldBack.length - max} more (--format json lists them all)`, '  ');
  }
  if (plan.otherFixes.length > 0) {
    out.push('');
    say(c.bold(`Other fixes (${plan.otherFixes.length}: they make no node manageable on their own)`));
    for (const fix of plan.otherFixes.slice(0, max)) {
      say(
        `${fix.title} ${c.dim(`[${fix.id}]`)}${fix.nodes.length ? ` — for ${nodesLabel(fix.nodes, options.names)}` : ''}`,
        '  ',
        '    ',
      );
      for (const command of fix.commands) say(commandLine(command), '    $ ', '        ');
    }
  }
  return `${out.join('\n')}\n`;
}

/** `--format json`: the plan as data (each fix with its change and commands as argv and as a line). */
export function planJson(plan: FixPlan, source?: string): string {
  const fix = (f: Fix) => ({ ...f, commands: f.commands.map((c) => ({ ...c, line: commandLine(c) })) });
  return `${JSON.stringify(
    {
      accountId: plan.accountId,
      region: plan.region,
      ...(source ? { source } : {}),
      summary: afterSentence(plan),
      totals: plan.totals,
      steps: plan.steps.map((s) => ({ ...s, fix: fix(s.fix) })),
      heldBack: plan.heldBack,
      otherFixes: plan.otherFixes.map(fix),
    },
    null,
    2,
  )}\n`;
}

/**
 * `--format sh`: a script to review, then run. It only prints the commands unless DRY_RUN=0; each fix
 * is a block whose comment names the nodes it makes manageable.
 */
export function planScript(
  plan: FixPlan,
  options: { names?: ReadonlyMap<string, string>; source?: string } = {},
): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# SSM readiness fix plan for account ${plan.accountId}, ${plan.region}${options.source ? ` (${options.source})` : ''}.`,
    `# ${afterSentence(plan, 0)}; ${afterSentence(plan)}.`,
    '# Review every command. By default the script only prints them; run it with DRY_RUN=0 to make the changes.',
    'set -euo pipefail',
    'DRY_RUN=${DRY_RUN:-1}',
    '',
    'run() {',
    '  if [ "$DRY_RUN" = 0 ]; then "$@"; else printf \'+\'; printf \' %q\' "$@"; printf \'\\n\'; fi',
    '}',
    "# capture VAR PLACEHOLDER command...: VAR is the command's output (PLACEHOLDER in a dry run).",
    'capture() {',
    '  local var=$1 placeholder=$2',
    '  shift 2',
    '  if [ "$DRY_RUN" = 0 ]; then',
    '    printf -v "$var" \'%s\' "$("$@")"',
    '  else',
    "    printf '+'; printf ' %q' \"$@\"; printf '\\n'",
    '    printf -v "$var" \'%s\' "$placeholder"',
    '  fi',
    '}',
    '',
  ];
  const comment = (text: string) => wrapText(text, 100, '# ', '#   ');
  for (const step of plan.steps) {
    lines.push(...comment(`${step.rank}. ${step.fix.title} [${step.fix.id}]`));
    lines.push(
      ...comment(
        step.unblocked.length > 0
          ? `Unblocks ${step.unblocked.length}: ${nodesLabel(step.unblocked, options.names)}`
          : 'Unblocks no node on its own: the next fix completes them.',
      ),
    );
    const needs = step.fix.nodes.filter((n) => !step.unblocked.includes(n));
    if (needs.length) lines.push(...comment(`Also needed by: ${nodesLabel(needs, options.names)}`));
    for (const note of step.fix.notes ?? []) lines.push(...comment(`Note: ${note}`));
    lines.push(`# Then: ${afterSentence(plan, step.rank)}.`);
    for (const command of step.fix.commands) {
      const words = command.argv.map((w) => shellWord(w, true)).join(' ');
      lines.push(
        command.assign
          ? `capture ${command.assign.variable} ${command.assign.placeholder} ${words}`
          : `run ${words}`,
      );
    }
    lines.push('');
  }
  if (plan.heldBack.length > 0) {
    lines.push(`# Not made manageable by this script (${plan.heldBack.length}):`);
    for (const node of plan.heldBack)
      lines.push(...comment(`  ${node.nodeId}: ${node.reasons.join('; ') || 'needs the other fixes below'}`));
    lines.push('');
  }
  if (plan.otherFixes.length > 0) {
    lines.push('# Other fixes, not run (they make no node manageable on their own); uncomment to run:');
    for (const fix of plan.otherFixes) {
      lines.push(...comment(`${fix.title} [${fix.id}]`));
      for (const command of fix.commands)
        lines.push(`# run ${command.argv.map((w) => shellWord(w, true)).join(' ')}`);
    }
    lines.push('');
  }
  lines.push(
    'if [ "$DRY_RUN" = 0 ]; then echo "Done." >&2; else echo "Dry run: nothing was changed; DRY_RUN=0 makes the changes." >&2; fi',
  );
  return `${lines.join('\n')}\n`;
}

export interface PlanIo {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
  columns?: number;
}

interface PlanOptions extends SourceOptions {
  format: PlanFormat;
  now?: Date;
  color?: boolean;
  width?: number;
}

/**
 * The plan of one account-region of the findings table: its open findings, filled in from the facts its
 * last whole-region audit kept with them (shared/store/plan-facts.ts).
 */
async function fromTable(
  options: PlanOptions,
): Promise<{ findings: Finding[]; snapshot: Snapshot; source: string }> {
  return readTableScope(options, async (store, { accountId, region, tableName }) => {
    const saved = await store.planFacts(accountId, region);
    if (!saved)
      throw Object.assign(
        new UsageError(`the findings table ${tableName} holds no plan facts for ${accountId}/${region}`),
        {
          hint: 'each whole-region audit saves them (the scheduled audit, or `npm run demo` for --local); or plan from a live scan (--region) or a snapshot (--snapshot)',
        },
      );
    let snapshot: Snapshot;
    try {
      snapshot = parseSnapshot(saved.facts, `the plan facts of ${accountId}/${region}`);
    } catch (err) {
      throw new UsageError(
        `the plan facts stored for ${accountId}/${region} are unreadable (${(err as Error).message}); the next whole-region audit replaces them`,
      );
    }
    const findings = [...(await store.loadRegion(accountId, region)).values()].filter((f) => !f.closedAt);
    const runs = await store.runs(accountId, region, 1);
    const asOf = runs[0]?.asOf ?? runs[0]?.finishedAt;
    return {
      findings,
      snapshot,
      source: `findings table ${tableName}${asOf ? `, findings as of ${asOf}` : ''}, ids as of ${new Date(saved.head.collectedAt).toISOString()}`,
    };
  });
}

/** The audit and plan behind every format. */
export async function planFor(
  options: PlanOptions,
  collect: (options: { region?: string; profile?: string }) => Promise<Snapshot>,
): Promise<{ plan: FixPlan; snapshot: Snapshot; source: string }> {
  checkSources(options, 'plans from a saved snapshot');
  const table = usesTable(options);
  if (table) {
    if (options.now)
      throw new UsageError('--now applies to a snapshot or a live scan: the table holds evaluated findings');
    const { findings, snapshot, source } = await fromTable(options);
    return { plan: buildPlan(findings, snapshot), snapshot, source };
  }
  const snapshot = options.snapshot
    ? await loadSnapshotFile(options.snapshot)
    : await collect({ region: options.region, profile: options.profile });
  const now = options.now ?? new Date(snapshot.collectedAt);
  const { findings } = auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now });
  return {
    plan: buildPlan(findings, snapshot),
    snapshot,
    source: `${options.snapshot ? 'snapshot' : 'live'} ${snapshot.collectedAt}`,
  };
}

export function planCommand(
  io: PlanIo,
  setCode: (code: number) => void,
  collect: (options: { region?: string; profile?: string }) => Promise<Snapshot>,
  parse: { now: (v: string) => Date; width: (v: string) => number },
): Command {
  const command = new Command('plan')
    .description(
      'The fewest fixes that make the most nodes manageable, ranked by nodes unblocked, with the AWS CLI commands filled in (--format sh: a reviewed script, dry run by default), from a snapshot (--snapshot), the live account (--region) or the findings table (--table, --local).',
    )
    .option('-s, --snapshot <file>', 'plan from a saved snapshot')
    .option(
      '--scope <account/region>',
      'findings table: this account and region (needed when it holds several)',
      parseScope,
    )
    .addOption(
      new Option(
        '-f, --format <format>',
        'table, json, or sh (a bash script that only prints its commands unless DRY_RUN=0)',
      )
        .choices(PLAN_FORMATS)
        .argParser(parsePlanFormat)
        .default('table'),
    )
    .option('--now <time>', "evaluate as of this time (default: the snapshot's collectedAt)", parse.now)
    .option('--no-color', 'never colour the table')
    .option(
      '--width <columns>',
      'table: wrap to this many columns (default: the terminal, else 100)',
      parse.width,
    );
  // --region and --profile serve the live scan, or with --table/--local/--endpoint-url the table.
  return withTableOptions(command, { liveScan: true }).action(async (opts: PlanOptions) => {
    const { plan, snapshot, source } = await planFor(opts, collect);
    const names = resourceNames(snapshot);
    if (opts.format === 'json') io.out(planJson(plan, source));
    else if (opts.format === 'sh') io.out(planScript(plan, { names, source }));
    else
      io.out(
        planTable(plan, {
          color: opts.color === false ? false : io.isTTY,
          names,
          source,
          width: opts.width ?? (io.columns && io.columns > 0 ? io.columns : undefined),
        }),
      );
    setCode(0);
  });
}
