import { RULE_IDS, RULES } from '../../rules';
import { Command, Option } from 'commander';
import { parseRuleIds } from '../../shared/engine/audit';
import { echo, echoList } from '../../shared/echo';
import { UsageError } from '../../shared/errors';
import { SEVERITIES, STATUSES, type Severity, type Status } from '../../shared/model';
import { exportChunks, FORMATS, isExportFormat, type Format } from './report';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FindingsStore } from '../../shared/store/findings-store';
import { queryFindings, queryHistory, queryRuns, type FindingFilters } from '../../shared/store/query';
import { renderHistory, renderRuns, renderStoredFindings } from './render-stored';
import { REGION_NAME } from '../../shared/snapshot/schema';

/** `ssm-audit findings`: query the findings table (deployed, or local with --endpoint-url). */

/** The modules that load the AWS SDK, required when the command runs, not when the CLI starts (see cli.ts). */
const sdk = {
  awsClients: () => require('../../shared/aws/clients') as typeof import('../../shared/aws/clients'),
  client: () => require('../../shared/aws/dynamodb') as typeof import('../../shared/aws/dynamodb'),
  store: () =>
    require('../../shared/store/findings-store') as typeof import('../../shared/store/findings-store'),
  table: () => require('../../shared/store/table') as typeof import('../../shared/store/table'),
  local: () => require('./local-dynamodb') as typeof import('./local-dynamodb'),
};

export interface FindingsIo {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

interface FindingsOptions extends TableOptions {
  status?: Status[];
  rule?: string;
  instance?: string;
  severity?: Severity;
  since?: string;
  history?: string;
  runs?: boolean;
  account?: string;
  scope?: string;
  format: Format;
  explain?: boolean;
  color?: boolean;
}

/** "a, b or c". */
export const oneOf = (items: readonly string[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : (items[0] ?? '');

/**
 * A bad option value, as the CLI reports it: one line naming the option, the value (bounded) and what
 * it expects. Thrown from commander argument parsers, which pass any error but InvalidArgumentError on.
 */
export class OptionValueError extends UsageError {
  constructor(flag: string, value: string, expected: string) {
    super(`invalid ${flag} ${echo(value)}: ${expected}`);
  }
}

/** `--format` of scan and findings. */
export function parseFormat(value: string): Format {
  if (!FORMATS.includes(value as Format))
    throw new OptionValueError('--format', value, `expected ${oneOf(FORMATS)}`);
  return value as Format;
}

const upperList =
  <T extends string>(flag: string, allowed: readonly T[]) =>
  (value: string, previous: T[] = []): T[] => {
    const items = value
      .split(',')
      .map((v) => v.trim().toUpperCase())
      .filter(Boolean);
    const bad = items.filter((v) => !allowed.includes(v as T));
    if (bad.length) throw new UsageError(`invalid ${flag} ${echoList(bad)}: expected ${oneOf(allowed)}`);
    return [...previous, ...(items as T[])];
  };

function parseSeverity(value: string): Severity {
  const upper = value.toUpperCase();
  if (!SEVERITIES.includes(upper as Severity))
    throw new OptionValueError('--severity', value, `expected ${oneOf(SEVERITIES)}`);
  return upper as Severity;
}

/** The same check and message as `scan --rule` (parseRuleIds). */
function parseRule(value: string): string {
  return parseRuleIds([value], RULES)[0]!;
}

/** An ISO time, or a duration back from now: 30m, 24h, 7d. */
export function parseSince(value: string, now = new Date()): string {
  const relative = /^(\d+)\s*([mhd])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(relative[1]) * unit).toISOString();
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new OptionValueError(
      '--since',
      value,
      'expected an ISO 8601 time (2026-11-23T10:00:00Z) or a duration such as 24h or 7d',
    );
  return date.toISOString();
}

function parseScope(value: string): string {
  const [account = '', region = ''] = value.split('/');
  if (!/^\d{12}$/.test(account) || !REGION_NAME.test(region) || value.split('/').length !== 2)
    throw new OptionValueError('--scope', value, 'expected ACCOUNT/REGION, e.g. 123456789012/eu-west-1');
  return value;
}

const parseResource =
  (flag: string) =>
  (value: string): string => {
    if (!/^[\w.:/-]{3,128}$/.test(value) || value.includes('#'))
      throw new OptionValueError(
        flag,
        value,
        'expected a resource id such as i-0123456789abcdef0 or mi-0123456789abcdef0',
      );
    return value;
  };

/** How a command reaches the findings table: `--local [DIR]`, or `--table`/`--endpoint-url`/`--region`/`--profile`. */
export interface TableOptions {
  /** Default: SSM_AUDIT_TABLE, else the deployed table's name. */
  table?: string;
  endpointUrl?: string;
  /** `--local [dir]`: true without a directory. */
  local?: string | true;
  region?: string;
  profile?: string;
}

/** A document client on the findings table, and how to let it go (a local table's server stops). */
export interface OpenTable {
  doc: DynamoDBDocumentClient;
  tableName: string;
  close(): Promise<void>;
}

/**
 * `--local [DIR]`: the table `npm run demo` left on disk, served by dynalite in this process on 127.0.0.1
 * for the duration of the command.
 */
async function openLocal(dir: string): Promise<OpenTable> {
  const { existsSync } = require('node:fs') as typeof import('node:fs');
  if (!existsSync(dir))
    throw Object.assign(new UsageError(`no local findings table at ${dir}`), {
      hint: 'run `npm run demo` first (it leaves its table there), or pass --local DIR',
    });
  let local: Awaited<ReturnType<ReturnType<typeof sdk.local>['startLocalDynamo']>>;
  try {
    local = await sdk.local().startLocalDynamo(undefined, { dir });
  } catch (err) {
    throw Object.assign(
      new UsageError(
        `cannot open the local findings table at ${dir}: ${err instanceof Error ? err.message : String(err)}`,
      ),
      { hint: 'is another `npm run demo` or `ssm-audit findings --local` using it right now?' },
    );
  }
  return { doc: local.doc, tableName: local.tableName, close: local.stop };
}

/** The table; with --endpoint-url (a local DynamoDB) dummy credentials stand in for missing ones. */
async function openRemote(options: TableOptions): Promise<OpenTable> {
  const { NO_REGION, noCredentialsMessage, probeAwsSetup } = sdk.awsClients();
  const { documentClient, dynamoClient } = sdk.client();
  const tableName = options.table ?? process.env.SSM_AUDIT_TABLE ?? sdk.table().DEFAULT_TABLE_NAME;
  const probe = dynamoClient({
    region: options.region,
    endpoint: options.endpointUrl,
    profile: options.profile,
  });
  const { region, credentialsError } = await probeAwsSetup(probe);
  const opened = (client: ReturnType<typeof dynamoClient>): OpenTable => ({
    doc: documentClient(client),
    tableName,
    close: async () => client.destroy(),
  });
  if (region && !credentialsError) return opened(probe);
  probe.destroy();
  if (!options.endpointUrl) {
    throw new UsageError(region ? noCredentialsMessage(options.profile, credentialsError!) : NO_REGION);
  }
  // A local DynamoDB (--endpoint-url) accepts any signature and any region.
  return opened(
    dynamoClient({
      region: region ?? 'us-east-1',
      endpoint: options.endpointUrl,
      credentials: credentialsError ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined,
      profile: options.profile,
    }),
  );
}

/** The findings table as the options name it (shared by `findings` and `suppress`). */
export function openTable(options: TableOptions): Promise<OpenTable> {
  return options.local !== undefined
    ? openLocal(options.local === true ? sdk.local().LOCAL_TABLE_DIR : options.local)
    : openRemote(options);
}

/** The table options of `findings` and `suppress`. */
export function withTableOptions(command: Command, options: { liveScan?: boolean } = {}): Command {
  return command
    .option('--table <name>', 'the findings table (default: SSM_AUDIT_TABLE or ssm-audit-findings)')
    .option('--endpoint-url <url>', 'a DynamoDB endpoint other than AWS, e.g. a local DynamoDB')
    .option(
      '--local [dir]',
      'the table `npm run demo` left on disk (default .ssm-audit/local-table); no AWS account needed',
    )
    .option(
      '--region <region>',
      options.liveScan
        ? "live scan of this region, or with --table/--endpoint-url the table's region (default: AWS_REGION or the profile's region)"
        : "the table's AWS region (default: AWS_REGION or the profile's region)",
    )
    .option('--profile <name>', 'AWS named profile (default: AWS_PROFILE or the default chain)');
}

export async function runFindings(options: FindingsOptions, io: FindingsIo): Promise<number> {
  const chosen = [options.history ? '--history' : '', options.runs ? '--runs' : ''].filter(Boolean);
  if (chosen.length > 1) throw new UsageError('choose --history or --runs, not both');
  if (chosen.length && isExportFormat(options.format))
    throw Object.assign(
      new UsageError(`--format ${options.format} applies to findings, not to ${chosen[0]}`),
      { hint: 'use --format table, json or csv with --history and --runs' },
    );
  const [accountId, region] = options.scope ? options.scope.split('/') : [options.account, undefined];
  const { FindingsStoreError } = sdk.store();
  const color = options.color ?? io.isTTY;
  let text: string;
  let plan: string[];
  let close: (() => Promise<void>) | undefined;
  try {
    const opened = await openTable(options);
    close = () => opened.close();
    const store: FindingsStore = new (sdk.store().FindingsStore)({
      client: opened.doc,
      tableName: opened.tableName,
    });
    if (options.history) {
      const outcome = await queryHistory(store, options.history);
      plan = outcome.plan;
      text = renderHistory(options.history, outcome.items, options.format);
    } else if (options.runs) {
      const outcome = await queryRuns(store, { accountId, region });
      plan = outcome.plan;
      text = renderRuns(outcome.items, options.format);
    } else {
      const filters: FindingFilters = {
        status: options.status,
        ruleId: options.rule,
        instance: options.instance,
        severity: options.severity,
        since: options.since,
        accountId,
        region,
      };
      const outcome = await queryFindings(store, filters, RULE_IDS);
      plan = outcome.plan;
      // ASFF and OCSF: each stored finding with its bookkeeping (first seen, closed, suppressed);
      // the partition follows its region.
      text = isExportFormat(options.format)
        ? [...exportChunks(outcome.items, options.format)].join('')
        : renderStoredFindings(outcome.items, options.format, color);
    }
  } catch (err) {
    // The table's own errors (missing table, throttling) are the operator's to fix, like bad input.
    if (err instanceof FindingsStoreError) throw new UsageError(err.message, { cause: err });
    throw err;
  } finally {
    await close?.();
  }
  if (options.explain) for (const line of plan) io.err(`${line}\n`);
  io.out(text);
  return 0;
}

export function findingsCommand(io: FindingsIo, setCode: (code: number) => void): Command {
  const command = new Command('findings')
    .description(
      'Query the findings table: by default every failing finding (FAIL, ERROR, WARN), most severe first. Each filter is served by a DynamoDB Query.',
    )
    .option(
      '--status <status>',
      `only these statuses (${STATUSES.join(', ')}; repeatable or comma-separated)`,
      upperList('--status', STATUSES),
    )
    .option('--rule <id>', 'only this rule', parseRule)
    .option(
      '--instance <id>',
      'every rule for one instance or hybrid node (or account-level resource)',
      parseResource('--instance'),
    )
    .option('--severity <severity>', `only this severity (${SEVERITIES.join(', ')})`, parseSeverity)
    .option(
      '--since <time>',
      'only findings whose status changed since then (ISO time, or 30m, 24h, 7d)',
      (v) => parseSince(v),
    )
    .option('--history <id>', 'the status history of one resource, oldest first', parseResource('--history'))
    .option('--runs', 'summaries of the most recent audit runs')
    .option('--account <id>', 'only this AWS account')
    .option('--scope <account/region>', 'only this account and region', parseScope)
    .addOption(
      new Option(
        '-f, --format <format>',
        'output format; asff (Security Hub AwsSecurityFinding) and ocsf (OCSF Compliance Finding) are JSON arrays',
      )
        .choices(FORMATS)
        .argParser(parseFormat)
        .default('table'),
    );
  return withTableOptions(command)
    .option('--explain', 'print the DynamoDB Queries made, on stderr')
    .option('--no-color', 'never colour the table')
    .action(async (opts: FindingsOptions & { color: boolean }) => {
      setCode(await runFindings({ ...opts, color: opts.color === false ? false : undefined }, io));
    });
}
