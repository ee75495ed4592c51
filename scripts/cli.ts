import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { RULES } from '../rules';
import { auditSnapshot } from '../shared/audit';
import { auditConfigSchema, resolveConfig, type AuditConfig } from '../shared/config';
import { SnapshotValidationError, UsageError } from '../shared/errors';
import { STATUS_RANK, type Finding, type Status } from '../shared/model';
import { formatReference } from '../shared/rule';
import { FORMATS, render, resourceNames, type Format } from '../shared/report';
import { loadSnapshotFile } from '../shared/snapshot/load';

/** `ssm-audit`: the CLI contract of DESIGN §2. Exit 0 = nothing at/above --fail-on, 1 = something is, 2 = bad input. */

export const EXIT = { OK: 0, FINDINGS: 1, BAD_INPUT: 2 } as const;

const FAIL_ON: readonly Status[] = ['WARN', 'FAIL', 'ERROR'];

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

function parseFailOn(value: string): Status | 'none' {
  const upper = value.toUpperCase();
  if (upper === 'NONE') return 'none';
  if (FAIL_ON.includes(upper as Status)) return upper as Status;
  throw new InvalidArgumentError(`expected one of ${[...FAIL_ON, 'none'].join(', ')}`);
}

function parseNow(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('expected an ISO 8601 time such as 2026-11-23T10:00:00Z');
  return date;
}

async function loadConfig(file: string | undefined): Promise<AuditConfig> {
  if (!file) return resolveConfig();
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  const parsed = auditConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`invalid config ${file} at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The exit status for a set of findings: 1 when any is at or above the threshold. */
export function exitStatusFor(findings: readonly Finding[], failOn: Status | 'none'): number {
  if (failOn === 'none') return EXIT.OK;
  const threshold = STATUS_RANK[failOn];
  return findings.some((f) => STATUS_RANK[f.status] >= threshold) ? EXIT.FINDINGS : EXIT.OK;
}

interface ScanOptions {
  snapshot?: string;
  format: Format;
  rule?: string[];
  instance?: string[];
  failOn: Status | 'none';
  config?: string;
  now?: Date;
  color?: boolean;
}

async function scan(options: ScanOptions, io: Io): Promise<number> {
  if (!options.snapshot) {
    throw new UsageError(
      'scan needs --snapshot FILE (live scans with --region arrive with the AWS collectors)',
    );
  }
  const config = await loadConfig(options.config);
  const snapshot = await loadSnapshotFile(options.snapshot);
  // A saved snapshot is judged as of its collection time, so re-running it gives the same answer.
  const now = options.now ?? new Date(snapshot.collectedAt);
  const result = auditSnapshot(snapshot, {
    ruleIds: options.rule,
    resourceIds: options.instance,
    config,
    now,
    evaluatedAt: new Date(),
  });
  if (options.instance && result.findings.length === 0 && result.closedResourceIds.length === 0) {
    throw new UsageError(`no instance ${options.instance.join(', ')} in ${options.snapshot}`);
  }
  const color = options.color ?? io.isTTY;
  io.out(
    render(result.findings, options.format, {
      color,
      names: resourceNames(snapshot),
      title: `SSM readiness of account ${snapshot.accountId} in ${snapshot.region} (snapshot ${snapshot.collectedAt})`,
    }),
  );
  if (options.format === 'table' && result.closedResourceIds.length > 0) {
    io.out(
      `${result.closedResourceIds.length} terminated/shutting-down instance(s) skipped: their findings are closed.\n`,
    );
  }
  return exitStatusFor(result.findings, options.failOn);
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

export function buildProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('ssm-audit')
    .description(
      'Tells you, for every EC2 instance and hybrid node, whether AWS Systems Manager can manage it — and if not, why and how to fix it.',
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  program
    .command('scan')
    .description('Audit a snapshot and print the findings.')
    .option('-s, --snapshot <file>', 'snapshot JSON file (format: README "Snapshot format")')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('-r, --rule <id>', 'only this rule (repeatable or comma-separated)', collect)
    .option(
      '-i, --instance <id>',
      'only this instance or hybrid node (repeatable or comma-separated)',
      collect,
    )
    .option(
      '--fail-on <status>',
      'exit 1 when a finding is at or above this status (WARN, FAIL, ERROR or none)',
      parseFailOn,
      'FAIL' as const,
    )
    .option(
      '-c, --config <file>',
      'JSON file with rule settings (activationExpiryWarningDays, tierWarnPercent, staleHybridDays, exemptionTagKey, outputBuckets)',
    )
    .option('--now <time>', "evaluate as of this time (default: the snapshot's collectedAt)", parseNow)
    .option('--no-color', 'never colour the table')
    .action(async (opts: ScanOptions & { color: boolean }) => {
      setCode(await scan({ ...opts, color: opts.color === false ? false : undefined }, io));
    });

  program
    .command('rules')
    .description('List the rules with their severity and the seed section each implements.')
    .action(() => {
      for (const { meta } of RULES) {
        io.out(
          `${meta.id} [${meta.severity}] — ${meta.title}\n  applies to: ${meta.appliesTo.join(', ')}\n  ${formatReference(meta)}\n`,
        );
      }
      setCode(EXIT.OK);
    });
  return program;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT;
    }
    if (err instanceof SnapshotValidationError || err instanceof UsageError) {
      io.err(`ssm-audit: ${err.message}\n`);
      return EXIT.BAD_INPUT;
    }
    io.err(`ssm-audit: internal error: ${(err as Error).stack ?? err}\n`);
    return EXIT.BAD_INPUT;
  }
}

function defaultIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  };
}
