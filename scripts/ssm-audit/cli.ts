import { readFile, writeFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { version } from '../../package.json';
import { RULES } from '../../rules';
import { EVALUATOR_FETCH_PLAN } from '../../shared/engine/fetch-plan';
import { auditSnapshot, parseResourceIds, parseRuleIds } from '../../shared/engine/audit';
import { ConfigError, parseConfigDocument, resolveConfig, type AuditConfig } from '../../shared/config';
import type { CollectResult } from '../../shared/collect/collect';
import type { ProgressEvent } from '../../shared/collect/context';
import { describeScope, REGION_SCOPE, scopeSchema, type CollectionScope } from '../../shared/collect/scope';
import { echo, echoList, echoValue } from '../../shared/echo';
import { CollectionError, SnapshotValidationError, UsageError } from '../../shared/errors';
import { STATUS_RANK, type Finding, type Status } from '../../shared/model';
import { formatReference } from '../../shared/engine/rule';
import { findingChunks, FORMATS, render, resourceNames, writeChunks, type Format } from './report';
import { loadSnapshotFile } from '../../shared/snapshot/load';
import type { Snapshot } from '../../shared/snapshot/schema';
import type { OrgCliOptions } from './org-command';
import { findingsCommand, oneOf, OptionValueError, parseFormat } from './findings-command';
import { suppressCommand } from './suppress-command';
import { reportCommand } from './html-command';
import { planCommand } from './plan-command';
import {
  BUILT_IN_EXEMPTIONS,
  DISABLED_EXEMPTIONS_ENV,
  parseExemptionIds,
  UnknownExemptionError,
} from '../../shared/engine/exemptions';
import { isActive, parseSuppressionsDocument, SuppressionError } from '../../shared/engine/suppressions';
import type { SuppressionEntry } from '../../shared/model';

/**
 * `ssm-audit`: the CLI contract of DESIGN §2. Exit 0 = nothing at/above --fail-on, 1 = something is, 2 = bad input.
 * Bad input is reported as one line and one hint, never the help text (that is --help's job). The AWS
 * SDK is imported only by the commands that call AWS (live scan, collect, findings), so `rules` and
 * `scan --snapshot` start without it.
 */

export const EXIT = { OK: 0, FINDINGS: 1, BAD_INPUT: 2 } as const;

const FAIL_ON: readonly Status[] = ['WARN', 'FAIL', 'ERROR'];

const collectList = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

// The AWS SDK is most of the start-up time and only the live commands need it, so its modules are
// required on first use: a plain require() stays lazy under tsx's require hook, ts-jest and the esbuild
// bundle alike (a dynamic import() does not resolve .ts files under `node -r tsx/cjs`).
const awsClients = () => require('../../shared/aws/clients') as typeof import('../../shared/aws/clients');
const collector = () =>
  require('../../shared/collect/collect') as typeof import('../../shared/collect/collect');
const orgCommands = () => require('./org-command') as typeof import('./org-command');

/** Bad input with what to do about it: printed as the error line and a `hint:` line. */
export class CliInputError extends UsageError {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function parseFailOn(value: string): Status | 'none' {
  const upper = value.toUpperCase();
  if (upper === 'NONE') return 'none';
  if (FAIL_ON.includes(upper as Status)) return upper as Status;
  throw new OptionValueError('--fail-on', value, `expected ${oneOf([...FAIL_ON, 'none'])}`);
}

function parseNow(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new OptionValueError('--now', value, 'expected an ISO 8601 time such as 2026-11-23T10:00:00Z');
  return date;
}

function parseWidth(value: string): number {
  const width = Number(value);
  if (!/^\d+$/.test(value) || width < 40)
    throw new OptionValueError('--width', value, 'expected a number of columns, 40 or more');
  return width;
}

const CONFIG_HINT = '--config takes a JSON file of rule settings, such as {"tierWarnPercent": 90}';

async function loadConfig(file: string | undefined): Promise<AuditConfig> {
  if (!file) return resolveConfig();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new ConfigError(
      code === 'ENOENT' ? `file not found: ${file}` : `cannot read config ${file}: ${message}`,
      CONFIG_HINT,
      { cause: err },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new ConfigError(`config ${file} is not valid JSON: ${(err as Error).message}`, CONFIG_HINT, {
      cause: err,
    });
  }
  return parseConfigDocument(json, file);
}

/** The exit status for a set of findings: 1 when any unsuppressed one is at or above the threshold. */
export function exitStatusFor(findings: readonly Finding[], failOn: Status | 'none'): number {
  if (failOn === 'none') return EXIT.OK;
  const threshold = STATUS_RANK[failOn];
  return findings.some((f) => !f.suppressed && STATUS_RANK[f.status] >= threshold) ? EXIT.FINDINGS : EXIT.OK;
}

/** `--suppressions FILE`: JSON, validated; the first bad field is one line naming its JSON path. */
export async function loadSuppressionsFile(file: string, now: Date): Promise<SuppressionEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new SuppressionError(
      code === 'ENOENT' ? `file not found: ${file}` : `cannot read suppressions ${file}: ${message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new SuppressionError(`suppressions ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseSuppressionsDocument(json, { source: file, now, ruleIds: RULES.map((r) => r.meta.id) });
}

/** The built-in exemptions switched off: `--no-exemption ID` (repeatable) and SSM_AUDIT_DISABLED_EXEMPTIONS. */
export function disabledExemptions(flags: readonly string[], env: string | undefined): string[] {
  const hint = `the built-in exemptions are ${BUILT_IN_EXEMPTIONS.map((e) => e.id).join(', ')}; \`ssm-audit rules --exemptions\` describes them`;
  try {
    return [...new Set([...parseExemptionIds(flags.join(',')), ...parseExemptionIds(env)])];
  } catch (err) {
    if (err instanceof UnknownExemptionError)
      throw new CliInputError(
        `${flags.length && !(env ?? '').trim() ? '--no-exemption' : DISABLED_EXEMPTIONS_ENV}: ${err.message}`,
        hint,
      );
    throw err;
  }
}

interface LiveOptions {
  region?: string;
  profile?: string;
  instance?: string[];
  vpc?: string;
  role?: string;
}

/** Organization mode (DESIGN §7): many accounts and regions through a member role. */
type OrgOptions = Omit<OrgCliOptions, 'region' | 'profile'>;

const DEFAULT_MEMBER_ROLE = 'SsmReadinessAuditorMember';
const DEFAULT_ORG_CONCURRENCY = 8;

function parseRegions(value: string, previous: string[] = []): string[] {
  const regions = collectList(value, previous);
  const bad = regions.find((r) => !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r));
  if (bad !== undefined)
    throw new OptionValueError('--regions', bad, 'expected region names such as eu-west-1,us-east-1');
  return regions;
}

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64)
    throw new OptionValueError('--concurrency', value, 'expected a number of account-regions from 1 to 64');
  return n;
}

function parseAccountIds(value: string, previous: string[] = []): string[] {
  const ids = collectList(value, previous);
  const bad = ids.find((id) => !/^\d{12}$/.test(id));
  if (bad !== undefined)
    throw new OptionValueError('--exclude-account', bad, 'expected 12-digit account ids');
  return ids;
}

function parseOuIds(flag: string) {
  return (value: string, previous: string[] = []): string[] => {
    const ids = collectList(value, previous);
    const bad = ids.find((id) => !/^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/.test(id));
    if (bad !== undefined)
      throw new OptionValueError(flag, bad, 'expected an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)');
    return ids;
  };
}

const isOrgRun = (options: Partial<OrgOptions>) => Boolean(options.org || options.accounts);

/** Organization options that make sense only together, checked before any call. */
function checkOrgOptions(options: Partial<OrgOptions> & LiveOptions & { snapshot?: string }): void {
  const orgOnly = [
    options.includeOu?.length ? '--include-ou' : '',
    options.excludeOu?.length ? '--exclude-ou' : '',
  ].filter(Boolean);
  if (orgOnly.length && !options.org)
    throw new CliInputError(
      `${orgOnly.join(' and ')} select${orgOnly.length === 1 ? 's' : ''} accounts of the Organization: add --org`,
      '`ssm-audit scan --org --include-ou ou-xxxx-xxxxxxxx` audits the accounts under that OU',
    );
  if (!isOrgRun(options)) {
    const memberOnly = [
      options.regions?.length ? '--regions' : '',
      options.excludeAccount?.length ? '--exclude-account' : '',
      options.externalId ? '--external-id' : '',
      options.roleName && options.roleName !== DEFAULT_MEMBER_ROLE ? '--role-name' : '',
    ].filter(Boolean);
    if (memberOnly.length)
      throw new CliInputError(
        `${memberOnly.join(' and ')} ${memberOnly.length === 1 ? 'is' : 'are'} for many accounts: add --org or --accounts FILE`,
        '`ssm-audit scan --org --regions eu-west-1,us-east-1` audits every account of the Organization',
      );
    return;
  }
  const conflicting = [
    options.snapshot ? '--snapshot' : '',
    options.instance?.length ? '--instance' : '',
    options.vpc ? '--vpc' : '',
    options.role ? '--role' : '',
  ].filter(Boolean);
  if (conflicting.length)
    throw new CliInputError(
      `${options.org ? '--org' : '--accounts'} audits whole account-regions; ${conflicting.join(' and ')} cannot be combined with it`,
      'scan one collected account-region with `ssm-audit scan --snapshot DIR/<account>-<region>.json` and these options',
    );
}

interface ScanOptions extends LiveOptions, OrgOptions {
  snapshot?: string;
  format: Format;
  rule?: string[];
  failOn: Status | 'none';
  config?: string;
  now?: Date;
  color?: boolean;
  width?: number;
  summary?: boolean;
  suppressions?: string;
  securityHub?: boolean;
  /** `--no-exemption ID`: the ids (commander gives `true` when the flag is absent). */
  exemption?: string[] | true;
}

/** The collection scope the live options ask for: at most one of --instance, --vpc, --role. */
export function scopeOf(options: LiveOptions): CollectionScope {
  const chosen = [
    options.instance?.length ? '--instance' : '',
    options.vpc ? '--vpc' : '',
    options.role ? '--role' : '',
  ].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`choose one scope, not ${chosen.join(' and ')}`);
  const scope = options.instance?.length
    ? { kind: 'instances', instanceIds: options.instance }
    : options.vpc
      ? { kind: 'vpc', vpcId: options.vpc }
      : options.role
        ? { kind: 'role', roleName: options.role }
        : REGION_SCOPE;
  const parsed = scopeSchema.safeParse(scope);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = chosen[0] ?? '--region';
    const index = issue.path[1];
    const value =
      typeof index === 'number' && options.instance ? options.instance[index] : (options.vpc ?? options.role);
    throw new UsageError(`invalid ${flag} ${echoValue(value)}: ${issue.message}`);
  }
  return parsed.data;
}

/** A one-line progress indicator on stderr, redrawn at most every 100 ms; only when stderr is a terminal. */
function progressReporter(io: Io): { onProgress?: (event: ProgressEvent) => void; done(): void } {
  if (!io.errIsTTY) return { done: () => undefined };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let last = 0;
  let frame = 0;
  let drawn = false;
  return {
    onProgress: (event) => {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      drawn = true;
      io.err(
        `\r\x1b[2K${frames[frame++ % frames.length]} collecting ${event.phase} — ${event.calls} API calls`,
      );
    },
    done: () => {
      if (drawn) io.err('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** Collects a live snapshot with the standard AWS credential, region and endpoint resolution. */
async function collectLive(options: LiveOptions, io: Io): Promise<CollectResult> {
  const scope = scopeOf(options);
  const { createAwsClients, destroyAwsClients, resolveAwsTarget } = awsClients();
  const { collectSnapshot } = collector();
  const clients = createAwsClients({ region: options.region, profile: options.profile });
  const progress = progressReporter(io);
  try {
    const { region } = await resolveAwsTarget(clients, options.profile);
    const result = await collectSnapshot(clients, {
      region,
      scope,
      onProgress: progress.onProgress,
      plan: EVALUATOR_FETCH_PLAN,
    });
    progress.done();
    io.err(
      `Collected ${describeScope(scope)} of account ${result.snapshot.accountId} in ${region}: ${result.stats.totalCalls} API calls in ${(result.stats.durationMs / 1000).toFixed(1)} s.\n`,
    );
    for (const [action, record] of Object.entries(result.snapshot.calls)) {
      io.err(
        `  ${action} ${record.status === 'denied' ? 'was denied' : 'failed'} (${record.error}): the findings that need it are ERROR.\n`,
      );
    }
    return result;
  } finally {
    progress.done();
    destroyAwsClients(clients);
  }
}

/** `scan` with neither a snapshot nor a region (flag, environment or profile): say both ways to give input. */
async function collectForScan(options: ScanOptions, io: Io): Promise<CollectResult> {
  const bare = !options.region && !options.profile && !options.vpc && !options.role && !options.instance;
  try {
    return await collectLive(options, io);
  } catch (err) {
    if (bare && err instanceof CollectionError && err.message === awsClients().NO_REGION) {
      throw new CliInputError(
        'nothing to scan: pass --snapshot FILE (a saved snapshot) or --region R (the live account)',
        "`ssm-audit collect --region R --out FILE` saves a snapshot; AWS_REGION or your AWS profile's region also selects a live scan",
      );
    }
    throw err;
  }
}

async function collectCommand(options: LiveOptions & OrgOptions & { out: string }, io: Io): Promise<number> {
  checkOrgOptions(options);
  if (isOrgRun(options)) return orgCommands().collectOrganization(options, io);
  const result = await collectLive(options, io);
  try {
    await writeFile(options.out, `${JSON.stringify(result.document, null, 2)}\n`);
  } catch (err) {
    throw new UsageError(`cannot write ${options.out}: ${(err as Error).message}`);
  }
  io.err(`Snapshot written to ${options.out}; audit it with: ssm-audit scan --snapshot ${options.out}\n`);
  return EXIT.OK;
}

/** `--instance` ids: a malformed one is an error quoting at most a few of them, each cut short. */
function checkInstanceIds(ids: readonly string[]): void {
  parseResourceIds(ids);
}

async function scan(options: ScanOptions, io: Io): Promise<number> {
  checkOrgOptions(options);
  if (options.snapshot && (options.region || options.profile || options.vpc || options.role)) {
    throw new UsageError(
      '--snapshot scans a saved snapshot; --region, --profile, --vpc and --role are for live scans',
    );
  }
  const config = await loadConfig(options.config);
  // Bad suppressions and exemption ids fail before any AWS call, like bad rule ids. The maximum expiry
  // is counted from the present (or --now).
  const suppressions = options.suppressions
    ? await loadSuppressionsFile(options.suppressions, options.now ?? io.now?.() ?? new Date())
    : [];
  const disabled = disabledExemptions(
    Array.isArray(options.exemption) ? options.exemption : [],
    process.env[DISABLED_EXEMPTIONS_ENV],
  );
  // Bad ids fail before any AWS call is made.
  if (options.rule) parseRuleIds(options.rule, RULES);
  if (options.instance) checkInstanceIds(options.instance);
  if (isOrgRun(options) && options.suppressions)
    throw new CliInputError(
      '--suppressions applies to one account-region scan; with --org or --accounts it is not supported yet',
      'scan each collected account-region with `ssm-audit scan --snapshot FILE --suppressions FILE`',
    );
  if (isOrgRun(options) && options.securityHub)
    throw new CliInputError(
      "--security-hub imports one account-region scan; with --org or --accounts it is not supported (Security Hub takes an account's findings only from that account)",
      "import each account with `ssm-audit scan --snapshot FILE --security-hub` using that account's credentials",
    );
  if (isOrgRun(options)) return scanOrg(options, config, io);
  let snapshot: Snapshot;
  let source: string;
  if (options.snapshot) {
    snapshot = await loadSnapshotFile(options.snapshot);
    source = `snapshot ${snapshot.collectedAt}`;
  } else {
    snapshot = (await collectForScan(options, io)).snapshot;
    source = `live, ${snapshot.collectedAt}`;
  }
  // A saved snapshot is judged as of its collection time, so re-running it gives the same answer.
  const now = options.now ?? new Date(snapshot.collectedAt);
  const result = auditSnapshot(snapshot, {
    rules: RULES,
    ruleIds: options.rule,
    resourceIds: options.instance,
    config,
    now,
    evaluatedAt: new Date(),
    suppressions,
    exemptions: { disabled },
  });
  const expired = suppressions.filter((e) => !isActive(e, now));
  if (expired.length)
    io.err(
      `ssm-audit: ${expired.length === 1 ? `suppression ${expired[0]!.id} has` : `${expired.length} suppressions (${expired.map((e) => e.id).join(', ')}) have`} expired as of ${now.toISOString()}: ${expired.length === 1 ? 'it suppresses' : 'they suppress'} nothing\n`,
    );
  if (options.instance && result.findings.length === 0 && result.closedResourceIds.length === 0) {
    throw new UsageError(
      `no instance ${echoList(options.instance)} in ${options.snapshot ?? `account ${snapshot.accountId} ${snapshot.region}`}`,
    );
  }
  const color = options.color ?? io.isTTY;
  if (options.format === 'table') {
    io.out(
      render(result.findings, options.format, {
        color,
        names: resourceNames(snapshot),
        title: `SSM readiness: account ${snapshot.accountId}, ${snapshot.region} (${source})`,
        // The terminal's width on a terminal, else the default; --width overrides both.
        width: options.width ?? (io.columns && io.columns > 0 ? io.columns : undefined),
        summaryOnly: options.summary,
      }),
    );
  } else {
    // Streamed: the findings of a large fleet are more text than one string can hold.
    const chunks = findingChunks(result.findings, options.format, { partition: snapshot.partition });
    await writeChunks(chunks, io.write ?? ((piece) => io.out(piece)));
  }
  if (options.securityHub) {
    const failed = await importToSecurityHub(result.findings, snapshot, options.profile, io);
    if (failed) return 2;
  }
  if (options.format === 'table' && !options.summary && result.closedResourceIds.length > 0) {
    const closed = result.closedResourceIds.length;
    io.out(
      closed === 1
        ? '1 terminated/shutting-down instance skipped: its findings are closed.\n'
        : `${closed} terminated/shutting-down instances skipped: their findings are closed.\n`,
    );
  }
  return exitStatusFor(result.findings, options.failOn);
}

/**
 * `scan --security-hub`: the scan's findings into Security Hub CSPM as ASFF (passing and suppressed ones
 * ARCHIVED), in the snapshot's region with the standard credentials. Security Hub keeps one finding per
 * Id, so importing again updates it. Returns how many were not imported (each named on stderr).
 */
async function importToSecurityHub(
  findings: readonly Finding[],
  snapshot: Snapshot,
  profile: string | undefined,
  io: Io,
) {
  const { SecurityHubClient } =
    require('@aws-sdk/client-securityhub') as typeof import('@aws-sdk/client-securityhub');
  const { SecurityHubImporter, SecurityHubSink } =
    require('../../shared/alerts/security-hub') as typeof import('../../shared/alerts/security-hub');
  const { toAsff } = require('../../shared/alerts/asff') as typeof import('../../shared/alerts/asff');
  const client = new SecurityHubClient({ region: snapshot.region, ...(profile ? { profile } : {}) });
  try {
    const asff = findings.map((f) =>
      toAsff(f, {
        partition: snapshot.partition,
        auditorVersion: version,
        ruleTitle: (id) => RULES.find((r) => r.meta.id === id)?.meta.title,
      }),
    );
    const outcome = await new SecurityHubImporter(new SecurityHubSink(client)).import(asff);
    io.err(
      `Security Hub (${snapshot.region}): imported ${outcome.imported.size} of ${asff.length} findings in ${outcome.requests} request${outcome.requests === 1 ? '' : 's'}${outcome.failed.length ? `; ${outcome.failed.length} not imported` : ''}.\n`,
    );
    for (const f of outcome.failed.slice(0, 5)) io.err(`  ${f.Id}: ${f.ErrorCode} ${f.ErrorMessage}\n`);
    return outcome.failed.length;
  } finally {
    client.destroy();
  }
}

/** `scan --org` / `--accounts`: one report for every account-region, with account and region per resource. */
async function scanOrg(options: ScanOptions, config: AuditConfig, io: Io): Promise<number> {
  const { findings, names, title } = await orgCommands().scanOrganization(
    options,
    { config, ruleIds: options.rule, now: options.now },
    io,
  );
  if (options.format === 'table') {
    io.out(
      render(findings, 'table', {
        color: options.color ?? io.isTTY,
        names,
        title,
        width: options.width ?? (io.columns && io.columns > 0 ? io.columns : undefined),
        summaryOnly: options.summary,
        multiAccount: true,
      }),
    );
  } else {
    // Each finding's partition follows its region.
    const chunks = findingChunks(findings, options.format);
    await writeChunks(chunks, io.write ?? ((piece) => io.out(piece)));
  }
  return exitStatusFor(findings, options.failOn);
}

/** The Organization-mode options, shared by scan and collect. */
function withOrgOptions(command: Command): Command {
  return command
    .option(
      '--org',
      'every ACTIVE account of the AWS Organization (from the management or a delegated administrator account), with its SCPs',
    )
    .option(
      '--accounts <file>',
      'these accounts only: a file of account ids, one per line or a JSON array (standalone accounts; with --org, a subset)',
    )
    .option(
      '--role-name <name>',
      'the member role assumed in each account (deployed by the StackSet)',
      DEFAULT_MEMBER_ROLE,
    )
    .option(
      '--external-id <id>',
      'sts:ExternalId for member roles whose trust requires one (standalone accounts)',
    )
    .option(
      '--regions <list>',
      'with --org/--accounts: these regions (comma-separated; default: every region enabled for the calling account)',
      parseRegions,
    )
    .option(
      '--include-ou <id>',
      'with --org: only the accounts under this OU or root (repeatable)',
      parseOuIds('--include-ou'),
    )
    .option(
      '--exclude-ou <id>',
      'with --org: not the accounts under this OU (repeatable)',
      parseOuIds('--exclude-ou'),
    )
    .option('--exclude-account <id>', 'with --org/--accounts: not this account (repeatable)', parseAccountIds)
    .option(
      '--concurrency <n>',
      'with --org/--accounts: account-regions collected at once',
      parseConcurrency,
      DEFAULT_ORG_CONCURRENCY,
    );
}

export interface Io {
  out(text: string): void;
  /** Writes one piece of a long output, resolving when the destination can take more (backpressure). */
  write?(piece: string): Promise<void>;
  err(text: string): void;
  isTTY: boolean;
  /** stdout's columns when it is a terminal: the table report fits them. */
  columns?: number;
  /** stderr is a terminal: show the collection progress indicator. */
  errIsTTY?: boolean;
  /** The present (suppression expiry limits); tests pass a fixed clock. Default: the system clock. */
  now?: () => Date;
}

export function buildProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('ssm-audit')
    .description(
      'Tells you, for every EC2 instance and hybrid node, whether AWS Systems Manager can manage it — and if not, why and how to fix it.',
    )
    .version(version, '-V, --version', 'print the version')
    // main() reports errors: one line and a hint, no help text after them.
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: () => undefined,
    });

  const scanCommand = program
    .command('scan')
    .description(
      'Audit a saved snapshot (--snapshot), the live account (--region) or every account of an Organization (--org, --accounts FILE) and print the findings.',
    )
    .option('-s, --snapshot <file>', 'snapshot JSON file (format: README "Snapshot format")')
    .option('--region <region>', "live scan of this region (default: AWS_REGION or the profile's region)")
    .option(
      '--profile <name>',
      'AWS named profile for a live scan (default: AWS_PROFILE or the default chain)',
    )
    .option('--vpc <id>', 'live scan of the instances of one VPC only')
    .option('--role <name>', 'live scan of the instances and hybrid nodes that use one IAM role only')
    .addOption(
      new Option(
        '-f, --format <format>',
        'output format; asff (Security Hub AwsSecurityFinding) and ocsf (OCSF Compliance Finding) are JSON arrays',
      )
        .choices(FORMATS)
        .argParser(parseFormat)
        .default('table'),
    )
    .option('-r, --rule <id>', 'only this rule (repeatable or comma-separated)', collectList)
    .option(
      '-i, --instance <id>',
      'only this instance or hybrid node (repeatable or comma-separated)',
      collectList,
    )
    .option(
      '--fail-on <status>',
      'exit 1 when a finding is at or above this status (WARN, FAIL, ERROR or none)',
      parseFailOn,
      'FAIL' as const,
    )
    .option(
      '-c, --config <file>',
      'JSON file with rule settings (activationExpiryWarningDays, tierWarnPercent, staleHybridDays, registrationGraceMinutes, exemptionTagKey, outputBuckets)',
    )
    .option('--now <time>', "evaluate as of this time (default: the snapshot's collectedAt)", parseNow)
    .option(
      '--suppressions <file>',
      'JSON file of suppression entries ({"suppressions": [{match, reason, owner, expiresAt}]}): matching findings keep their status but count as no failure',
    )
    .option(
      '--no-exemption <id>',
      `switch off a built-in exemption (repeatable; also ${DISABLED_EXEMPTIONS_ENV}); \`ssm-audit rules --exemptions\` lists them`,
      (value: string, previous: unknown) => [
        ...(Array.isArray(previous) ? (previous as string[]) : []),
        value,
      ],
    )
    .option(
      '--security-hub',
      "also import the findings into AWS Security Hub CSPM (BatchImportFindings on the account's default product, in the snapshot's region; the standard credentials)",
    )
    .option('--no-color', 'never colour the table')
    .option(
      '--summary',
      'table: print only the opening block (how many cannot be managed, root causes, top fix)',
    )
    .option(
      '--width <columns>',
      'table: wrap to this many columns (default: the terminal, else 100)',
      parseWidth,
    );
  withOrgOptions(scanCommand).action(async (opts: ScanOptions & { color: boolean }) => {
    setCode(await scan({ ...opts, color: opts.color === false ? false : undefined }, io));
  });

  const collect = program
    .command('collect')
    .description(
      'Collect a snapshot of a live account and region into a file, or with --org/--accounts one file per account-region into a directory (read-only AWS calls).',
    )
    // With --org/--accounts --out names a directory (the command's description says so).
    .requiredOption('-o, --out <file>', 'where to write the snapshot JSON')
    .option('--region <region>', "region to collect (default: AWS_REGION or the profile's region)")
    .option('--profile <name>', 'AWS named profile (default: AWS_PROFILE or the default chain)')
    .option(
      '-i, --instance <id>',
      'collect only these instances or hybrid nodes (repeatable or comma-separated)',
      collectList,
    )
    .option('--vpc <id>', 'collect only one VPC and its instances')
    .option('--role <name>', 'collect only the instances and hybrid nodes that use one IAM role');
  withOrgOptions(collect).action(async (opts: LiveOptions & OrgOptions & { out: string }) => {
    setCode(await collectCommand(opts, io));
  });

  program.addCommand(findingsCommand(io, setCode).copyInheritedSettings(program));

  program.addCommand(suppressCommand(io, setCode).copyInheritedSettings(program));

  program.addCommand(
    reportCommand(io, setCode, (options) => collectLive(options, io)).copyInheritedSettings(program),
  );

  program.addCommand(
    planCommand(io, setCode, async (live) => (await collectLive(live, io)).snapshot, {
      now: parseNow,
      width: parseWidth,
    }).copyInheritedSettings(program),
  );

  program
    .command('rules')
    .description('List the rules with their severity and the AWS documentation page each implements.')
    .option(
      '--exemptions',
      'list the built-in exemptions instead (nodes AWS runs for itself, not managed by Systems Manager)',
    )
    .action((opts: { exemptions?: boolean }) => {
      if (opts.exemptions) {
        const disabled = disabledExemptions([], process.env[DISABLED_EXEMPTIONS_ENV]);
        for (const e of BUILT_IN_EXEMPTIONS) {
          io.out(
            `${e.id} [${disabled.includes(e.id) ? `off: ${DISABLED_EXEMPTIONS_ENV}` : 'on'}] — ${e.title}\n  recognised by: ${e.recognisedBy}\n${e.references.map((r) => `  ${r}\n`).join('')}`,
          );
        }
        io.out(
          `Switch one off with \`scan --no-exemption ID\` or ${DISABLED_EXEMPTIONS_ENV}=ID[,ID] (also read by the deployed audits).\n`,
        );
        setCode(EXIT.OK);
        return;
      }
      for (const { meta } of RULES) {
        io.out(
          `${meta.id} [${meta.severity}] — ${meta.title}\n  applies to: ${meta.appliesTo.join(', ')}\n  ${formatReference(meta)}\n`,
        );
      }
      setCode(EXIT.OK);
    });
  return program;
}

/** The command a command line names (its first operand), if it names one. */
function commandOf(program: Command, args: readonly string[]): Command | undefined {
  const name = args.find((a) => !a.startsWith('-'));
  return program.commands.find((c) => c.name() === name);
}

/** The long form of an option's flags ('-s, --snapshot <file>' → '--snapshot <file>'). */
const longFlags = (flags: string) => flags.replace(/^-\w,?\s*/, '');

/**
 * commander's own errors (unknown option or command, missing value, extra operand) as one line and a
 * hint; its messages are rebuilt here so that echoed input is bounded (shared/echo.ts).
 */
function describeCommanderError(
  err: CommanderError,
  program: Command,
  args: readonly string[],
): { message: string; hint: string } {
  const command = commandOf(program, args);
  const help = command
    ? `\`ssm-audit ${command.name()} --help\` lists its options`
    : '`ssm-audit --help` lists the commands and options';
  const text = err.message.replace(/^error: /, '');
  const suggestion = (m: string | undefined) => (m ? `; did you mean ${m}?` : '');
  switch (err.code) {
    case 'commander.unknownOption': {
      const m = /^unknown option '([\s\S]*?)'(?:\n\(Did you mean ([\s\S]+)\?\))?$/.exec(text);
      if (m) return { message: `unknown option ${echo(m[1]!)}${suggestion(m[2])}`, hint: help };
      break;
    }
    case 'commander.unknownCommand': {
      const m = /^unknown command '([\s\S]*?)'(?:\n\(Did you mean ([\s\S]+)\?\))?$/.exec(text);
      const names = program.commands.map((c) => c.name()).join(', ');
      if (m)
        return {
          message: `unknown command ${echo(m[1]!)}${suggestion(m[2])}`,
          hint: `the commands are ${names}; \`ssm-audit --help\` describes them`,
        };
      break;
    }
    case 'commander.optionMissingArgument': {
      const m = /^option '(.+)' argument missing$/.exec(text);
      if (m) return { message: `${longFlags(m[1]!)}: the value is missing`, hint: help };
      break;
    }
    case 'commander.missingMandatoryOptionValue': {
      const m = /^required option '(.+)' not specified$/.exec(text);
      const option = command?.options.find((o) => o.flags === m?.[1]);
      if (m)
        return {
          message: `${command?.name() ?? 'this command'} needs ${longFlags(m[1]!)}${option ? ` (${option.description})` : ''}`,
          hint: help,
        };
      break;
    }
    case 'commander.excessArguments': {
      const extra = command?.args ?? [];
      const first = extra[0] ?? '';
      return {
        message: `unexpected argument${extra.length > 1 ? 's' : ''} ${echoList(extra)}`,
        hint:
          command?.name() === 'scan' && first.endsWith('.json')
            ? `a snapshot file is given with --snapshot: ssm-audit scan --snapshot ${echo(first)}`
            : `${command?.name() ?? 'ssm-audit'} takes options only; ${help}`,
      };
    }
  }
  return { message: text.split('\n')[0]!, hint: help };
}

const SNAPSHOT_FORMAT_HINT =
  'the format is in the README ("Snapshot format"); `ssm-audit collect --region R --out FILE` writes a valid snapshot';

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => (code = c));
  const args = argv.slice(2);
  const fail = (message: string, hint?: string) => {
    io.err(`ssm-audit: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
    return EXIT.BAD_INPUT;
  };
  if (args.length === 0) {
    return fail(
      'no command given',
      'try `ssm-audit scan --snapshot FILE` or `ssm-audit rules`; `ssm-audit --help` lists the commands',
    );
  }
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (err.exitCode === 0) return EXIT.OK;
      const { message, hint } = describeCommanderError(err, program, args);
      return fail(message, hint);
    }
    const hint = (err as { hint?: unknown }).hint;
    if (typeof hint === 'string') return fail((err as Error).message, hint);
    if (err instanceof SnapshotValidationError) return fail(err.message, SNAPSHOT_FORMAT_HINT);
    if (err instanceof UsageError) {
      const command = commandOf(program, args);
      return fail(
        err.message,
        /^unknown rule id/.test(err.message)
          ? '`ssm-audit rules` describes each rule'
          : `\`ssm-audit ${command ? `${command.name()} ` : ''}--help\` lists the options`,
      );
    }
    // The reader went away (`| head`): end quietly with the status of a Unix filter killed by SIGPIPE
    // (141), never 0 — a gate must not pass because its output was cut.
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return EXIT_PIPE_CLOSED;
    // Credentials, region: the message already says what to configure.
    if (err instanceof CollectionError) return fail(err.message);
    // An AWS or network failure outside the collectors (e.g. the findings table's endpoint): one line.
    const aws = err as { $metadata?: unknown; code?: unknown; name?: string; message?: string };
    if (aws && (aws.$metadata !== undefined || typeof aws.code === 'string')) {
      return fail(
        `AWS call failed: ${aws.name ?? 'Error'}${aws.code ? ` (${String(aws.code)})` : ''}: ${aws.message}`,
      );
    }
    io.err(`ssm-audit: internal error: ${(err as Error).stack ?? err}\n`);
    return EXIT.BAD_INPUT;
  }
}

/** Writes to a stream, waiting for 'drain' when its buffer is full; rejects if the stream fails or closes. */
export function streamWriter(stream: NodeJS.WritableStream): (piece: string) => Promise<void> {
  return (piece) =>
    new Promise<void>((resolve, reject) => {
      if (stream.write(piece)) {
        resolve();
        return;
      }
      const done = (err?: unknown) => {
        stream.off('drain', onDrain);
        stream.off('error', onError);
        stream.off('close', onClose);
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve();
      };
      const onDrain = () => done();
      const onError = (err: unknown) => done(err);
      const onClose = () => done(new Error('output closed before everything was written'));
      stream.on('drain', onDrain);
      stream.on('error', onError);
      stream.on('close', onClose);
    });
}

/** 128 + SIGPIPE: what a shell reports for a filter whose reader closed the pipe. */
export const EXIT_PIPE_CLOSED = 141;

function defaultIo(): Io {
  // A reader that closes early (`ssm-audit rules | head -1`) ends the command quietly, not with a stack.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_PIPE_CLOSED);
    throw err;
  });
  return {
    out: (text) => process.stdout.write(text),
    write: streamWriter(process.stdout),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    errIsTTY: Boolean(process.stderr.isTTY),
  };
}
