import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { RULE_IDS } from '../../rules';
import { echo } from '../../shared/echo';
import { UsageError } from '../../shared/errors';
import type { SuppressionEntry } from '../../shared/model';
import {
  MAX_SUPPRESSION_DAYS,
  SuppressionError,
  isActive,
  parseSuppressionEntry,
} from '../../shared/engine/suppressions';
import type { StoredSuppression } from '../../shared/store/suppressions';
import { OptionValueError, openTable, withTableOptions, type TableOptions } from './findings-command';

/**
 * `ssm-audit suppress add|list|remove`: the suppression entries every deployed audit reads, stored in
 * the findings table (pk SUPPRESSION; see shared/store/suppressions.ts). The AWS SDK is loaded when a
 * subcommand runs, not when the CLI starts.
 */

const store = () =>
  require('../../shared/store/suppressions') as typeof import('../../shared/store/suppressions');
const findingsStore = () =>
  require('../../shared/store/findings-store') as typeof import('../../shared/store/findings-store');

export interface SuppressIo {
  out(text: string): void;
  err(text: string): void;
  /** The present: the maximum expiry is counted from it. Tests pass a fixed one. */
  now?: () => Date;
}

const MATCH_KEYS = {
  account: 'accountId',
  region: 'region',
  resource: 'resourceId',
  rule: 'ruleId',
  reason: 'reason',
  tag: 'tag',
} as const;
type MatchKey = keyof typeof MATCH_KEYS;

const MATCH_HINT =
  '--match takes key=value pairs, comma-separated or repeated: account, region, resource, rule, reason, tag (tag=Key or tag=Key=Value), e.g. --match rule=network-path,resource=i-0123456789abcdef0';

/** `--match rule=network-path,resource=i-…,tag=env=dev` (repeatable) → the entry's `match`. */
export function parseMatch(specs: readonly string[]): Record<string, unknown> {
  const match: Record<string, unknown> = {};
  for (const spec of specs) {
    for (const part of spec
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)) as MatchKey;
      const value = eq < 0 ? '' : part.slice(eq + 1);
      if (!(key in MATCH_KEYS))
        throw Object.assign(new UsageError(`invalid --match ${echo(part)}: unknown key ${echo(key)}`), {
          hint: MATCH_HINT,
        });
      if (!value)
        throw Object.assign(new UsageError(`invalid --match ${echo(part)}: ${key} needs a value`), {
          hint: MATCH_HINT,
        });
      const field = MATCH_KEYS[key];
      if (match[field] !== undefined)
        throw Object.assign(new UsageError(`invalid --match: ${key} given twice`), { hint: MATCH_HINT });
      if (field === 'tag') {
        const tagEq = value.indexOf('=');
        match.tag =
          tagEq < 0 ? { key: value } : { key: value.slice(0, tagEq), value: value.slice(tagEq + 1) };
      } else match[field] = value;
    }
  }
  return match;
}

/** The entry's JSON path as the command line spells it (`match.ruleId` → `--match rule`). */
function flagOf(path: string): string {
  const fields: Record<string, string> = {
    expiresAt: '--expires',
    reason: '--reason',
    owner: '--owner',
    id: '--id',
  };
  if (fields[path]) return fields[path];
  const m = /^match(?:\.(\w+))?/.exec(path);
  if (!m) return path;
  const key = Object.entries(MATCH_KEYS).find(([, field]) => field === m[1])?.[0];
  return key ? `--match ${key}` : '--match';
}

interface AddOptions extends TableOptions {
  match: string[];
  reason: string;
  owner: string;
  expires: string;
  id?: string;
}

export function newSuppressionId(): string {
  return `sup-${randomBytes(5).toString('hex')}`;
}

/** The entry `suppress add` would store, validated like a file's entries (one line naming the flag). */
export function entryFromOptions(options: AddOptions, now: Date): SuppressionEntry {
  const raw = {
    id: options.id ?? newSuppressionId(),
    match: parseMatch(options.match),
    reason: options.reason,
    owner: options.owner,
    expiresAt: options.expires,
  };
  try {
    return parseSuppressionEntry(raw, { source: 'the command line', now, ruleIds: RULE_IDS });
  } catch (err) {
    if (!(err instanceof SuppressionError)) throw err;
    const m = /^invalid suppression in the command line at ([\w.[\]]+): ([\s\S]*)$/.exec(err.message);
    throw new SuppressionError(m ? `invalid ${flagOf(m[1]!)}: ${m[2]}` : err.message, err.hint);
  }
}

const describeMatch = (e: SuppressionEntry) =>
  [
    e.match.accountId !== undefined ? `account=${e.match.accountId}` : '',
    e.match.region !== undefined ? `region=${e.match.region}` : '',
    e.match.resourceId !== undefined ? `resource=${e.match.resourceId}` : '',
    e.match.ruleId !== undefined ? `rule=${e.match.ruleId}` : '',
    e.match.reason !== undefined ? `reason=${e.match.reason}` : '',
    e.match.tag
      ? `tag=${e.match.tag.key}${e.match.tag.value !== undefined ? `=${e.match.tag.value}` : ''}`
      : '',
  ]
    .filter(Boolean)
    .join(',');

export function renderSuppressions(
  entries: readonly StoredSuppression[],
  now: Date,
  format: 'table' | 'json',
): string {
  if (format === 'json')
    return `${JSON.stringify(
      entries.map((e) => ({ ...e, active: isActive(e, now) })),
      null,
      2,
    )}\n`;
  if (entries.length === 0) return 'No suppressions.\n';
  const lines = entries.map(
    (e) =>
      `${e.id}  ${describeMatch(e)}\n  reason: ${e.reason}\n  owner: ${e.owner}  expires: ${e.expiresAt}${isActive(e, now) ? '' : ' (expired: suppresses nothing)'}`,
  );
  const active = entries.filter((e) => isActive(e, now)).length;
  return `${lines.join('\n')}\n${entries.length} suppression${entries.length === 1 ? '' : 's'}, ${active} in force.\n`;
}

/** Runs `fn` on the suppression store of the table the options name, mapping the table's errors to one line. */
async function withStore<T>(
  options: TableOptions,
  fn: (s: import('../../shared/store/suppressions').SuppressionStore) => Promise<T>,
): Promise<T> {
  const opened = await openTable(options);
  try {
    return await fn(new (store().SuppressionStore)(opened.doc, opened.tableName));
  } catch (err) {
    if (err instanceof findingsStore().FindingsStoreError)
      throw Object.assign(new UsageError(err.message, { cause: err }), {
        hint: '`ssm-audit suppress list` shows the entries; --table NAME (or --local) selects the table',
      });
    throw err;
  } finally {
    await opened.close();
  }
}

function parseFormat(value: string): 'table' | 'json' {
  if (value !== 'table' && value !== 'json')
    throw new OptionValueError('--format', value, 'expected table or json');
  return value;
}

export function suppressCommand(io: SuppressIo, setCode: (code: number) => void): Command {
  const now = () => (io.now ? io.now() : new Date());
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  const command = new Command('suppress').description(
    `Manage the suppressions every deployed audit reads (stored in the findings table): a suppressed finding keeps its status, raises no alert and counts as no failure until its entry expires (at most ${MAX_SUPPRESSION_DAYS} days).`,
  );
  withTableOptions(
    command
      .command('add')
      .description('Add a suppression entry.')
      .requiredOption(
        '--match <pairs>',
        'what it suppresses: account, region, resource, rule, reason, tag (tag=Key or tag=Key=Value); comma-separated or repeated, every pair must match',
        collect,
      )
      .requiredOption('--reason <text>', 'why the exception is accepted')
      .requiredOption('--owner <who>', 'who answers for it (a person or team)')
      .requiredOption(
        '--expires <date>',
        `when it ends: a date (2027-03-01, the start of that day UTC) or an ISO time; at most ${MAX_SUPPRESSION_DAYS} days ahead`,
      )
      .option('--id <id>', 'the entry id (default: sup-<random>)'),
  ).action(async (opts: AddOptions) => {
    const at = now();
    const entry = entryFromOptions(opts, at);
    const stored = await withStore(opts, (s) => s.add(entry, at));
    io.out(
      `Added suppression ${stored.id} (${describeMatch(stored)}), owner ${stored.owner}, until ${stored.expiresAt}. Every audit from now on applies it.\n`,
    );
    setCode(0);
  });
  withTableOptions(
    command
      .command('list')
      .description('List the suppression entries (expired ones until the table deletes them, 30 days later).')
      .addOption(
        new Option('-f, --format <format>', 'output format (table or json)')
          .argParser(parseFormat)
          .default('table'),
      ),
  ).action(async (opts: TableOptions & { format: 'table' | 'json' }) => {
    const entries = await withStore(opts, (s) => s.list());
    io.out(renderSuppressions(entries, now(), opts.format));
    setCode(0);
  });
  withTableOptions(
    command
      .command('remove')
      .description('Remove a suppression entry: the next audit reports (and alerts) what it suppressed.')
      .argument('<id>', 'the entry id (`ssm-audit suppress list` shows them)'),
  ).action(async (id: string, opts: TableOptions) => {
    const removed = await withStore(opts, (s) => s.remove(id));
    io.out(`Removed suppression ${removed.id} (${describeMatch(removed)}).\n`);
    setCode(0);
  });
  return command;
}
