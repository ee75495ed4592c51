import { auditFailedFinding } from '../../shared/pipeline/org';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { RULES } from '../../rules';
import { partitionOf } from '../../shared/aws/assume';
import {
  createAwsClients,
  destroyAwsClients,
  noCredentialsMessage,
  probeAwsSetup,
  SDK_RETRY,
  type AwsClients,
} from '../../shared/aws/clients';
import type { AccountSelection } from '../../shared/collect/organization';
import type { AuditConfig } from '../../shared/config';
import { auditSnapshot } from '../../shared/engine/audit';
import { CollectionError } from '../../shared/errors';
import type { Finding } from '../../shared/model';
import {
  AccountListError,
  describeOrgRun,
  parseAccountList,
  runOrganization,
  type OrgProgress,
  type OrgRunResult,
} from './org';
import { resourceNames } from './report';

/**
 * `ssm-audit scan --org` / `--accounts FILE` and `collect --org --out DIR` (DESIGN §7): the management
 * (or delegated administrator) principal resolves the standard AWS way (--profile…), lists the accounts,
 * assumes the member role in each and collects every account-region. Loaded only by these commands: it
 * brings the AWS SDK with it.
 */

export interface OrgCliOptions {
  org?: boolean;
  accounts?: string;
  roleName: string;
  externalId?: string;
  regions?: string[];
  includeOu?: string[];
  excludeAccount?: string[];
  excludeOu?: string[];
  concurrency: number;
  region?: string;
  profile?: string;
}

export interface OrgIo {
  err(text: string): void;
  errIsTTY?: boolean;
}

/** Input the CLI reports as one line and a hint. */
export class OrgInputError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

async function selectionOf(options: OrgCliOptions): Promise<AccountSelection> {
  let accounts: string[] | undefined;
  if (options.accounts) {
    let text: string;
    try {
      text = await readFile(options.accounts, 'utf8');
    } catch (err) {
      const { code, message } = err as NodeJS.ErrnoException;
      throw new OrgInputError(
        code === 'ENOENT'
          ? `file not found: ${options.accounts}`
          : `cannot read ${options.accounts}: ${message}`,
        new AccountListError('').hint,
      );
    }
    accounts = parseAccountList(text, options.accounts);
  }
  return {
    ...(accounts ? { accounts } : {}),
    ...(options.includeOu?.length ? { includeOus: options.includeOu } : {}),
    ...(options.excludeAccount?.length ? { excludeAccounts: options.excludeAccount } : {}),
    ...(options.excludeOu?.length ? { excludeOus: options.excludeOu } : {}),
  };
}

/** One progress line on stderr, redrawn at most every 100 ms; only on a terminal. */
function orgProgress(io: OrgIo): { onProgress?: (p: OrgProgress) => void; done(): void } {
  if (!io.errIsTTY) return { done: () => undefined };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let last = 0;
  let frame = 0;
  let drawn = false;
  return {
    onProgress: (p) => {
      const now = Date.now();
      // Every finished account is drawn; collection progress at most every 100 ms.
      if (p.current && now - last < 100) return;
      last = now;
      drawn = true;
      const current = p.current
        ? ` — ${p.current.accountId} ${p.current.region}: collecting ${p.current.phase}, ${p.current.calls} API calls`
        : '';
      io.err(
        `\r\x1b[2K${frames[frame++ % frames.length]} accounts ${p.accountsDone}/${p.accounts}, account-regions ${p.done}/${p.total}${current}`,
      );
    },
    done: () => {
      if (drawn) io.err('\r\x1b[2K');
      drawn = false;
    },
  };
}

async function run(
  options: OrgCliOptions,
  io: OrgIo,
  onSnapshot: Parameters<typeof runOrganization>[2]['onSnapshot'],
): Promise<OrgRunResult> {
  const selection = await selectionOf(options);
  let region = options.region ?? options.regions?.[0];
  let mgmt = createAwsClients({ region, profile: options.profile });
  let organizations: OrganizationsClient | undefined;
  const progress = orgProgress(io);
  const started = Date.now();
  try {
    const setup = await probeAwsSetup(mgmt.sts);
    if (setup.credentialsError)
      throw new CollectionError(noCredentialsMessage(options.profile, setup.credentialsError), {
        cause: setup.credentialsError,
      });
    if (!setup.region) {
      // Organizations and STS answer from any region; us-east-1 is their home.
      region = 'us-east-1';
      destroyAwsClients(mgmt);
      mgmt = createAwsClients({ region, profile: options.profile });
    } else region = setup.region;
    if (options.org)
      organizations = new OrganizationsClient({
        region,
        ...(options.profile ? { profile: options.profile } : {}),
        ...SDK_RETRY,
      });
    const result = await runOrganization(
      {
        organization: Boolean(options.org),
        selection,
        ...(options.regions?.length ? { regions: options.regions } : {}),
        roleName: options.roleName,
        ...(options.externalId ? { externalId: options.externalId } : {}),
        concurrency: options.concurrency,
        partition: partitionOf(region),
      },
      {
        sts: mgmt.sts,
        ec2: mgmt.ec2,
        ...(organizations ? { organizations } : {}),
        clientsFor: (r, credentials) => createAwsClients({ region: r, credentials }),
        destroy: (clients: AwsClients) => destroyAwsClients(clients),
      },
      { onSnapshot, onProgress: progress.onProgress },
    );
    progress.done();
    if (result.listing.accounts.length === 0) {
      const failed = Object.entries(result.listing.failures).map(
        ([a, f]) => `${a} ${f.status === 'denied' ? 'was denied' : 'failed'} (${f.error})`,
      );
      throw new OrgInputError(
        failed.length
          ? `cannot list the accounts: ${failed.join(', ')}`
          : 'no ACTIVE account matches the selection',
        failed.length
          ? 'run from the management account or a delegated administrator for AWS Organizations, or give a static list with --accounts FILE'
          : 'check --include-ou, --exclude-ou and --exclude-account',
      );
    }
    io.err(describeOrgRun(result, (Date.now() - started) / 1000));
    return result;
  } finally {
    progress.done();
    organizations?.destroy();
    destroyAwsClients(mgmt);
  }
}

export interface OrgScanResult {
  findings: Finding[];
  names: Map<string, string>;
  title: string;
}

/** `scan --org`: every account-region audited; the findings merged, in account then region order. */
export async function scanOrganization(
  options: OrgCliOptions,
  audit: { config: AuditConfig; ruleIds?: string[]; now?: Date },
  io: OrgIo,
): Promise<OrgScanResult> {
  const byJob = new Map<string, Finding[]>();
  const names = new Map<string, string>();
  let collectedAt: string | undefined;
  const result = await run(options, io, (collected) => {
    const { snapshot } = collected;
    collectedAt ??= snapshot.collectedAt;
    const audited = auditSnapshot(snapshot, {
      rules: RULES,
      ruleIds: audit.ruleIds,
      config: audit.config,
      now: audit.now ?? new Date(snapshot.collectedAt),
      evaluatedAt: new Date(),
    });
    byJob.set(`${snapshot.accountId}/${snapshot.region}`, audited.findings);
    for (const [id, name] of resourceNames(snapshot)) names.set(id, name);
  });
  const findings: Finding[] = [...result.accessFindings];
  for (const job of result.jobs)
    if (job.status === 'failed')
      findings.push(auditFailedFinding(job, job.error ?? 'unknown error', new Date().toISOString()));
  for (const account of result.listing.accounts)
    for (const region of result.regions) findings.push(...(byJob.get(`${account.id}/${region}`) ?? []));
  const org = result.listing.organizationId ? `organization ${result.listing.organizationId}, ` : '';
  const accounts = result.listing.accounts.length;
  return {
    findings,
    names,
    title: `SSM readiness: ${org}${accounts} account${accounts === 1 ? '' : 's'} × ${result.regions.length} region${result.regions.length === 1 ? '' : 's'} (live, ${collectedAt ?? new Date().toISOString()})`,
  };
}

/** `collect --org --out DIR`: one snapshot per account-region, DIR/<account>-<region>.json. */
export async function collectOrganization(
  options: OrgCliOptions & { out: string },
  io: OrgIo,
): Promise<number> {
  try {
    await mkdir(options.out, { recursive: true });
  } catch (err) {
    throw new OrgInputError(
      `cannot create ${options.out}: ${(err as Error).message}`,
      'with --org or --accounts, --out names a directory: one snapshot per account-region is written there',
    );
  }
  const written: string[] = [];
  await run(options, io, async ({ document, snapshot }) => {
    const file = path.join(options.out, `${snapshot.accountId}-${snapshot.region}.json`);
    await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
    written.push(file);
  });
  io.err(
    `${written.length} snapshot${written.length === 1 ? '' : 's'} written to ${options.out}; audit one with: ssm-audit scan --snapshot ${written.sort()[0] ?? path.join(options.out, '<account>-<region>.json')}\n`,
  );
  return 0;
}
