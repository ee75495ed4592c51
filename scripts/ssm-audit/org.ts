import type { EC2Client } from '@aws-sdk/client-ec2';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { MemberCredentials } from '../../shared/aws/assume';
import type { AwsClients } from '../../shared/aws/clients';
import { describeFailure, mapLimit, type CallFailure } from '../../shared/aws/faults';
import { collectSnapshot, type CollectResult } from '../../shared/collect/collect';
import type { ProgressEvent } from '../../shared/collect/context';
import {
  enabledRegions,
  OrganizationReader,
  regionNotEnabled,
  type AccountListing,
  type AccountScps,
  type AccountSelection,
  type OrgAccount,
} from '../../shared/collect/organization';
import { EVALUATOR_FETCH_PLAN } from '../../shared/engine/fetch-plan';
import type { Finding } from '../../shared/model';
import { memberAccessFinding } from '../../shared/pipeline/org';

/**
 * Organization mode of the CLI (DESIGN §7): every selected account × region collected with the member
 * role's credentials, with bounded concurrency; one account's failure (AssumeRole denied, a region not
 * enabled, an unexpected error) never stops the others. The same runner drives `scan --org`,
 * `collect --org` and the benchmark's in-process simulation; what to do with each collected snapshot is
 * the caller's `onSnapshot`.
 */

export interface OrgRunOptions {
  /** Read the account list (and each account's SCPs) from AWS Organizations. */
  organization: boolean;
  selection: AccountSelection;
  /** Default: every region enabled for the calling (management) account. */
  regions?: readonly string[];
  roleName: string;
  externalId?: string;
  concurrency: number;
  partition: string;
  /** Time of the collections and of the access findings. */
  clock?: () => Date;
}

export interface OrgRunDeps {
  /** The management / delegated-administrator principal's clients. */
  sts: STSClient;
  ec2: EC2Client;
  organizations?: OrganizationsClient;
  /** Clients for one member account-region; destroyed after its collection. */
  clientsFor(region: string, credentials: AwsCredentialIdentityProvider): AwsClients;
  destroy(clients: AwsClients): void;
}

export type OrgJobStatus = 'audited' | 'access-denied' | 'region-not-enabled' | 'failed';

export interface OrgJobOutcome {
  accountId: string;
  region: string;
  status: OrgJobStatus;
  /** API calls of the collection (AssumeRole not included). */
  calls: number;
  error?: string;
  /** Collected but failed calls (denied or errors), by IAM action. */
  failedCalls?: Record<string, CallFailure>;
}

export interface OrgRunHooks {
  /** A collected account-region (region enabled, role assumed). Awaited before the job counts as done. */
  onSnapshot(result: CollectResult, account: OrgAccount): Promise<void> | void;
  /** The job has started, progressed or ended. */
  onProgress?(state: OrgProgress): void;
}

export interface OrgProgress {
  done: number;
  total: number;
  accountsDone: number;
  accounts: number;
  current?: { accountId: string; region: string; phase: string; calls: number };
}

export interface OrgRunResult {
  listing: AccountListing;
  regions: string[];
  jobs: OrgJobOutcome[];
  /** One ERROR finding per account whose member role could not be assumed. */
  accessFindings: Finding[];
  /** AssumeRole requests sent. */
  assumed: number;
  /** Organizations requests sent, by action. */
  organizationCalls: Map<string, number>;
}

export async function runOrganization(
  options: OrgRunOptions,
  deps: OrgRunDeps,
  hooks: OrgRunHooks,
): Promise<OrgRunResult> {
  const clock = options.clock ?? (() => new Date());
  const reader = deps.organizations ? new OrganizationReader(deps.organizations) : undefined;
  const listing: AccountListing =
    options.organization && reader
      ? await reader.listAccounts(options.selection)
      : {
          accounts: (options.selection.accounts ?? [])
            .filter((id) => !(options.selection.excludeAccounts ?? []).includes(id))
            .map((id) => ({ id })),
          inactive: [],
          complete: true,
          failures: {},
        };
  const regions = options.regions?.length ? [...options.regions] : await enabledRegions(deps.ec2);
  const members = new MemberCredentials(
    deps.sts,
    { roleName: options.roleName, ...(options.externalId ? { externalId: options.externalId } : {}) },
    { partition: options.partition, clock },
  );

  // Once per account: its credentials (one AssumeRole), and its SCPs (read by the reader's cache).
  const access = new Map<string, Promise<{ ok: true } | { ok: false; failure: CallFailure }>>();
  const accessOf = (accountId: string) => {
    let p = access.get(accountId);
    if (!p) {
      p = members
        .forAccount(accountId)()
        .then(
          () => ({ ok: true as const }),
          (err: unknown) => ({ ok: false as const, failure: describeFailure(err) }),
        );
      access.set(accountId, p);
    }
    return p;
  };
  const scps = new Map<string, Promise<AccountScps>>();
  const scpsOf = (account: OrgAccount) => {
    let p = scps.get(account.id);
    if (!p && reader && options.organization) {
      p = reader.scpsFor(account);
      scps.set(account.id, p);
    }
    return p;
  };

  const jobs = listing.accounts.flatMap((account) => regions.map((region) => ({ account, region })));
  const remaining = new Map(listing.accounts.map((a) => [a.id, regions.length]));
  const progress: OrgProgress = {
    done: 0,
    total: jobs.length,
    accountsDone: 0,
    accounts: listing.accounts.length,
  };
  const accessFindings: Finding[] = [];
  const finish = (outcome: OrgJobOutcome): OrgJobOutcome => {
    progress.done += 1;
    const left = (remaining.get(outcome.accountId) ?? 1) - 1;
    remaining.set(outcome.accountId, left);
    if (left === 0) progress.accountsDone += 1;
    hooks.onProgress?.({ ...progress, current: undefined });
    return outcome;
  };

  const outcomes = await mapLimit(jobs, Math.max(1, options.concurrency), async ({ account, region }) => {
    const base = { accountId: account.id, region, calls: 0 };
    const granted = await accessOf(account.id);
    if (!granted.ok) {
      // One finding per account, in the first region of the run.
      if (region === regions[0]) {
        accessFindings.push(
          memberAccessFinding(
            { accountId: account.id, region },
            members.roleArn(account.id),
            granted.failure,
            undefined,
            clock().toISOString(),
          ),
        );
      }
      return finish({ ...base, status: 'access-denied', error: granted.failure.error });
    }
    const clients = deps.clientsFor(region, members.forAccount(account.id));
    try {
      const organizations = await scpsOf(account);
      const result = await collectSnapshot(clients, {
        region,
        accountId: account.id,
        plan: EVALUATOR_FETCH_PLAN,
        now: clock,
        ...(organizations ? { organizations } : {}),
        onProgress: hooks.onProgress
          ? (event: ProgressEvent) =>
              hooks.onProgress!({
                ...progress,
                current: { accountId: account.id, region, phase: event.phase, calls: event.calls },
              })
          : undefined,
      });
      const calls = result.stats.totalCalls;
      if (regionNotEnabled(result.snapshot.calls))
        return finish({ ...base, calls, status: 'region-not-enabled' });
      await hooks.onSnapshot(result, account);
      const failedCalls = Object.keys(result.snapshot.calls).length
        ? { ...result.snapshot.calls }
        : undefined;
      return finish({ ...base, calls, status: 'audited', ...(failedCalls ? { failedCalls } : {}) });
    } catch (err) {
      return finish({ ...base, status: 'failed', error: describeFailure(err).error });
    } finally {
      deps.destroy(clients);
    }
  });
  return {
    listing,
    regions,
    jobs: outcomes,
    accessFindings: accessFindings.sort((a, b) => a.accountId.localeCompare(b.accountId)),
    assumed: members.assumed,
    organizationCalls: reader?.counts ?? new Map(),
  };
}

/** What stderr says after an Organization run: counts, then each kind of skip once. */
export function describeOrgRun(run: OrgRunResult, seconds: number): string {
  const lines: string[] = [];
  const count = (status: OrgJobStatus) => run.jobs.filter((j) => j.status === status).length;
  const calls = run.jobs.reduce((n, j) => n + j.calls, 0);
  const orgCalls = [...run.organizationCalls.values()].reduce((a, b) => a + b, 0);
  lines.push(
    `Collected ${count('audited')} of ${run.jobs.length} account-regions (${run.listing.accounts.length} accounts × ${run.regions.length} regions: ${run.regions.join(', ')}) in ${seconds.toFixed(1)} s: ${calls} API calls, ${run.assumed} AssumeRole, ${orgCalls} Organizations calls.`,
  );
  if (!run.listing.complete) {
    const failed = Object.entries(run.listing.failures).map(([a, f]) => `${a} (${f.error})`);
    lines.push(`  The account list is incomplete: ${failed.join(', ') || 'a listing failed'}.`);
  }
  if (run.listing.inactive.length) {
    lines.push(
      `  Skipped ${run.listing.inactive.length} account${run.listing.inactive.length === 1 ? '' : 's'} that ${run.listing.inactive.length === 1 ? 'is' : 'are'} not ACTIVE (suspended or closing): ${run.listing.inactive.map((a) => a.id).join(', ')}.`,
    );
  }
  for (const f of run.accessFindings) lines.push(`  Account ${f.accountId}: ${f.message} (an ERROR finding)`);
  // A region not enabled for an account: said once per region, listing the accounts.
  const notEnabled = new Map<string, string[]>();
  for (const j of run.jobs)
    if (j.status === 'region-not-enabled')
      notEnabled.set(j.region, [...(notEnabled.get(j.region) ?? []), j.accountId]);
  for (const [region, accounts] of notEnabled)
    lines.push(
      `  ${region} is not enabled for account${accounts.length === 1 ? '' : 's'} ${accounts.join(', ')}: skipped.`,
    );
  for (const j of run.jobs) {
    if (j.status === 'failed')
      lines.push(`  ${j.accountId} ${j.region}: the collection failed (${j.error}).`);
    for (const [action, record] of Object.entries(j.failedCalls ?? {}))
      lines.push(
        `  ${j.accountId} ${j.region}: ${action} ${record.status === 'denied' ? 'was denied' : 'failed'} (${record.error}): the findings that need it are ERROR.`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** `--accounts FILE`: account ids one per line (# comments, blank lines ignored) or a JSON array of strings. */
export function parseAccountList(text: string, file: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let ids: unknown[];
  if (body.trimStart().startsWith('[')) {
    try {
      ids = JSON.parse(body) as unknown[];
    } catch (err) {
      throw new AccountListError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(ids)) throw new AccountListError(`${file}: expected a JSON array of account ids`);
  } else {
    ids = body
      .split(/\r?\n/)
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean);
  }
  const out: string[] = [];
  ids.forEach((id, i) => {
    if (typeof id !== 'string' || !/^\d{12}$/.test(id.trim()))
      throw new AccountListError(
        `${file}: entry ${i + 1} ${JSON.stringify(id)?.slice(0, 40)} is not an account id (12 digits, as a string)`,
      );
    out.push(id.trim());
  });
  if (out.length === 0) throw new AccountListError(`${file} lists no account id`);
  return [...new Set(out)];
}

export class AccountListError extends Error {
  readonly hint = '--accounts takes a file of 12-digit account ids, one per line or a JSON array of strings';
}
