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
import type { Snapshot } from '../../shared/snapshot/schema';
import { OptionValueError, withTableOptions } from './findings-command';
import { checkSources, parseScope, readTableScope, usesTable, type SourceOptions } from './table-source';
import { resourceNames } from './report';

/**
 * `ssm-audit report --html FILE`: the self-contained HTML report (DESIGN §8) of a saved snapshot, a
 * live scan or the findings table (with the trend of its recorded runs).
 */

export interface ReportIo {
  out(text: string): void;
  err(text: string): void;
  /** The present, written in the report as its generation time; tests pass a fixed clock. */
  now?: () => Date;
}

interface ReportOptions extends SourceOptions {
  html: string;
  title?: string;
  now?: Date;
}

/** The live collection of `scan --region` (cli.ts), passed in so this module never loads the AWS SDK itself. */
export type CollectLive = (options: { region?: string; profile?: string }) => Promise<CollectResult>;

const RULE_TITLES: Record<string, string> = Object.fromEntries(RULES.map((r) => [r.meta.id, r.meta.title]));

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

/** The open findings of one account-region of the table, and the unmanaged nodes of its recent runs. */
async function fromTable(options: ReportOptions): Promise<ReportSource> {
  return readTableScope(options, async (store, { accountId, region, tableName }) => {
    const stored = [...(await store.loadRegion(accountId, region)).values()].filter((f) => !f.closedAt);
    const runs = await store.runs(accountId, region, 10);
    const asOf = runs[0]?.asOf ?? runs[0]?.finishedAt;
    return {
      title: `SSM readiness: account ${accountId}, ${region} (findings table ${tableName}${asOf ? `, as of ${asOf}` : ''})`,
      findings: stored,
      trend: trendFromRuns(runs, stored),
    };
  });
}

export async function runReport(
  options: ReportOptions,
  io: ReportIo,
  collectLive: CollectLive,
): Promise<number> {
  checkSources(options, 'reports on a saved snapshot');
  const table = usesTable(options);
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
