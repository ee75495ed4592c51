import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { RULES } from '../../rules';
import { auditSnapshot } from '../../shared/engine/audit';
import type { CollectResult } from '../../shared/collect/collect';
import { UsageError } from '../../shared/errors';
import type { Finding } from '../../shared/model';
import { renderHtmlReport, type TrendPoint } from '../../shared/report/html';
import { instanceVpcs, trendFromRuns } from '../../shared/report/trend';
import { loadSnapshotFile } from '../../shared/snapshot/load';
import { REGION_NAME, type Snapshot } from '../../shared/snapshot/schema';
import { OptionValueError, openTable, withTableOptions, type TableOptions } from './findings-command';
import { resourceNames } from './report';

/**
 * `ssm-audit report --html FILE`: the self-contained HTML report (DESIGN §8) of a saved snapshot, a
 * live scan or the findings table (with the trend of its recorded runs).
 */

/** The findings table module loads the AWS SDK: required when the table is read (see cli.ts). */
const storeModule = () =>
  require('../../shared/store/findings-store') as typeof import('../../shared/store/findings-store');

export interface ReportIo {
  out(text: string): void;
  err(text: string): void;
  /** The present, written in the report as its generation time; tests pass a fixed clock. */
  now?: () => Date;
}

interface ReportOptions extends TableOptions {
  html: string;
  snapshot?: string;
  scope?: string;
  title?: string;
  now?: Date;
}

/** The live collection of `scan --region` (cli.ts), passed in so this module never loads the AWS SDK itself. */
export type CollectLive = (options: { region?: string; profile?: string }) => Promise<CollectResult>;

const RULE_TITLES: Record<string, string> = Object.fromEntries(RULES.map((r) => [r.meta.id, r.meta.title]));

const usesTable = (o: ReportOptions) =>
  o.table !== undefined || o.local !== undefined || o.endpointUrl !== undefined;

interface ReportSource {
  title: string;
  findings: readonly Finding[];
  names?: ReadonlyMap<string, string>;
  vpcOf?: ReadonlyMap<string, string>;
  trend?: TrendPoint[];
}

function fromSnapshot(snapshot: Snapshot, source: string, now: Date | undefined): ReportSource {
  const at = now ?? new Date(snapshot.collectedAt);
  const result = auditSnapshot(snapshot, { rules: RULES, now: at, evaluatedAt: at });
  return {
    title: `SSM readiness: account ${snapshot.accountId}, ${snapshot.region} (${source})`,
    findings: result.findings,
    names: resourceNames(snapshot),
    vpcOf: instanceVpcs(snapshot),
  };
}

/** The account-region of the table a command reads: `--scope`, else the only one the table holds. */
export async function tableScope(
  store: import('../../shared/store/findings-store').FindingsStore,
  tableName: string,
  scope: string | undefined,
): Promise<{ accountId: string; region: string }> {
  if (scope) {
    const [accountId = '', region = ''] = scope.split('/');
    return { accountId, region };
  }
  const scopes = await store.scopes();
  if (scopes.length !== 1)
    throw Object.assign(
      new UsageError(
        scopes.length === 0
          ? `the findings table ${tableName} holds no audit yet`
          : `the findings table holds ${scopes.length} account-regions: choose one with --scope`,
      ),
      {
        hint:
          scopes.length === 0
            ? 'record an audit first (the deployed scheduled audit, or `npm run demo` for --local)'
            : `e.g. --scope ${scopes[0]!.accountId}/${scopes[0]!.region}`,
      },
    );
  return { accountId: scopes[0]!.accountId, region: scopes[0]!.region };
}

/** The open findings of one account-region of the table, and the unmanaged nodes of its recent runs. */
async function fromTable(options: ReportOptions): Promise<ReportSource> {
  const { FindingsStore, FindingsStoreError } = storeModule();
  const opened = await openTable(options);
  try {
    const store = new FindingsStore({ client: opened.doc, tableName: opened.tableName });
    const { accountId, region } = await tableScope(store, opened.tableName, options.scope);
    const stored = [...(await store.loadRegion(accountId, region)).values()].filter((f) => !f.closedAt);
    const runs = await store.runs(accountId, region, 10);
    const asOf = runs[0]?.asOf ?? runs[0]?.finishedAt;
    return {
      title: `SSM readiness: account ${accountId}, ${region} (findings table ${opened.tableName}${asOf ? `, as of ${asOf}` : ''})`,
      findings: stored,
      trend: trendFromRuns(runs, stored),
    };
  } catch (err) {
    if (err instanceof FindingsStoreError) throw new UsageError(err.message, { cause: err });
    throw err;
  } finally {
    await opened.close();
  }
}

export async function runReport(
  options: ReportOptions,
  io: ReportIo,
  collectLive: CollectLive,
): Promise<number> {
  const table = usesTable(options);
  if (options.snapshot && (table || options.region || options.profile))
    throw new UsageError(
      '--snapshot reports on a saved snapshot; --region/--profile (live scan) and --table/--local/--endpoint-url (findings table) are other sources',
    );
  if (options.scope && !table)
    throw new UsageError(
      '--scope chooses an account-region of the findings table: add --table, --local or --endpoint-url',
    );
  let source: ReportSource;
  if (options.snapshot) {
    source = fromSnapshot(
      await loadSnapshotFile(options.snapshot),
      `snapshot ${options.snapshot}`,
      options.now,
    );
  } else if (table) {
    source = await fromTable(options);
  } else {
    const { snapshot } = await collectLive({ region: options.region, profile: options.profile });
    source = fromSnapshot(snapshot, `live, ${snapshot.collectedAt}`, options.now);
  }
  const html = renderHtmlReport({
    title: options.title ?? source.title,
    generatedAt: (io.now?.() ?? new Date()).toISOString(),
    findings: source.findings,
    names: source.names,
    vpcOf: source.vpcOf,
    trend: source.trend,
    ruleTitles: RULE_TITLES,
  });
  try {
    await writeFile(options.html, html);
  } catch (err) {
    throw new UsageError(`cannot write ${options.html}: ${(err as Error).message}`);
  }
  io.err(`HTML report written to ${options.html} (${Math.round(Buffer.byteLength(html) / 1024)} KB).\n`);
  return 0;
}

export function parseScope(value: string): string {
  const [account = '', region = ''] = value.split('/');
  if (!/^\d{12}$/.test(account) || !REGION_NAME.test(region) || value.split('/').length !== 2)
    throw new OptionValueError('--scope', value, 'expected ACCOUNT/REGION, e.g. 123456789012/eu-west-1');
  return value;
}

export function parseNow(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new OptionValueError('--now', value, 'expected an ISO 8601 time such as 2026-11-23T10:00:00Z');
  return date;
}

export function reportCommand(
  io: ReportIo,
  setCode: (code: number) => void,
  collectLive: CollectLive,
): Command {
  const command = new Command('report')
    .description(
      'Write the self-contained HTML report (headline, charts, sortable and filterable table of unmanaged nodes) of a snapshot (--snapshot), the live account (--region) or the findings table (--table, --local).',
    )
    .requiredOption('--html <file>', 'where to write the HTML report')
    .option('-s, --snapshot <file>', 'report on this saved snapshot')
    .option(
      '--scope <account/region>',
      'findings table: this account and region (needed when it holds several)',
      parseScope,
    )
    .option('--title <text>', 'the report title')
    .option(
      '--now <time>',
      "snapshot or live: evaluate as of this time (default: the snapshot's collectedAt)",
      parseNow,
    );
  // --region and --profile serve the live scan, or with --table/--local/--endpoint-url the table.
  return withTableOptions(command, { liveScan: true }).action(async (opts: ReportOptions) => {
    setCode(await runReport(opts, io, collectLive));
  });
}
