import { z } from 'zod';
import type { AlertMessage } from '../alerts/messages';
import type { CallFailure } from '../aws/faults';
import type { Finding } from '../model';
import type { JobOutcome, OrgRunPlan } from '../store/org-runs';

/**
 * Organization mode (DESIGN §7): the scheduled planner lists the accounts and hands one job per
 * account-region to an SQS FIFO queue (one message group per account-region, so SQS itself serializes
 * the audits of one account-region); workers assume the member role, audit, store and alert; the job
 * that finishes the run sends the Organization's digest.
 */

/** A finding about the auditor's access to a member account (not a rule of the registry: like the
 * listing errors, it is the engine's own, reported when no rule could run at all). */
export const MEMBER_ACCESS_CHECK = 'member-access';

export const memberAccessResourceId = (accountId: string) => `${accountId}:member-role`;

const callFailureSchema = z.object({
  status: z.enum(['denied', 'error']),
  error: z.string(),
  message: z.string().optional(),
});

/** The SQS message of one job. */
export const orgJobSchema = z.object({
  runId: z.string().min(1).max(64),
  accountId: z.string().regex(/^\d{12}$/),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/),
  accountName: z.string().optional(),
  /** The run's first region: the job that records an account-level finding (member access) once. */
  primaryRegion: z.string().optional(),
  /** The account's `organizations` snapshot section (SCP chain), read once per run by the planner. */
  organizations: z
    .object({ section: z.record(z.string(), z.unknown()), calls: z.record(z.string(), callFailureSchema) })
    .optional(),
});
export type OrgJob = z.infer<typeof orgJobSchema>;

/** SQS's limit for one message body; the planner keeps well under it. */
export const MAX_JOB_BYTES = 250_000;

export function jobKey(job: { accountId: string; region: string }): string {
  return `${job.accountId}#${job.region}`;
}

/** One job per account and region, in a stable order. */
export function planJobs(
  runId: string,
  accounts: readonly { id: string; name?: string; organizations?: OrgJob['organizations'] }[],
  regions: readonly string[],
): OrgJob[] {
  return accounts.flatMap((account) =>
    regions.map((region) => ({
      runId,
      accountId: account.id,
      region,
      primaryRegion: regions[0],
      ...(account.name ? { accountName: account.name } : {}),
      ...(account.organizations ? { organizations: account.organizations } : {}),
    })),
  );
}

/**
 * The job body as sent: when the SCP section would make it too large for SQS (an Organization with very
 * large SCPs), the section is left out and its absence recorded as a failed read, so the rules report
 * ERROR for the SCP layer instead of judging without it.
 */
export function jobBody(job: OrgJob): string {
  const body = JSON.stringify(job);
  if (Buffer.byteLength(body) <= MAX_JOB_BYTES) return body;
  const { organizations: _dropped, ...rest } = job;
  const failure: CallFailure = {
    status: 'error',
    error: 'too large',
    message: `the SCPs of account ${job.accountId} exceed one SQS message (${MAX_JOB_BYTES} bytes)`,
  };
  return JSON.stringify({
    ...rest,
    organizations: {
      section: { TargetChain: [], Policies: [] },
      calls: { 'organizations:DescribePolicy': failure },
    },
  });
}

/**
 * AssumeRole into the member account failed: one ERROR finding for the account, naming the role and
 * what to fix (its trust policy, or the StackSet instance missing in that account). The other jobs go on.
 */
export function memberAccessFinding(
  job: { accountId: string; region: string },
  roleArn: string,
  failure: CallFailure,
  auditorPrincipal: string | undefined,
  evaluatedAt: string,
): Finding {
  const denied = failure.status === 'denied';
  return {
    accountId: job.accountId,
    region: job.region,
    resourceType: 'Account',
    resourceId: memberAccessResourceId(job.accountId),
    ruleId: MEMBER_ACCESS_CHECK,
    status: 'ERROR',
    severity: 'HIGH',
    reason: denied ? 'ASSUME_ROLE_DENIED' : 'ASSUME_ROLE_FAILED',
    message: denied
      ? `Cannot audit account ${job.accountId}: sts:AssumeRole on ${roleArn} was denied (${failure.error}); none of its nodes were evaluated.`
      : `Cannot audit account ${job.accountId}: sts:AssumeRole on ${roleArn} failed (${failure.error}${failure.message ? `: ${failure.message}` : ''}); none of its nodes were evaluated.`,
    evidence: { roleArn, call: 'sts:AssumeRole', callStatus: failure.status, error: failure.error },
    remediation: denied
      ? `Deploy the member-role StackSet to account ${job.accountId} (aws cloudformation create-stack-instances --stack-set-name ssm-readiness-auditor-member --deployment-targets Accounts=${job.accountId} --regions <region>), and make sure the trust policy of ${roleArn} allows ${auditorPrincipal ?? "the auditor's role"} (and its aws:PrincipalOrgID or sts:ExternalId condition matches).`
      : `Retry the audit; if it keeps failing, check that STS is reachable and that ${roleArn} exists.`,
    reference: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html',
    evaluatedAt,
  };
}

/**
 * An account-region whose audit failed as a whole (the collection threw): unknown, so ERROR — never a
 * silent gap in the report or a zero exit code.
 */
export function auditFailedFinding(
  job: { accountId: string; region: string },
  error: string,
  evaluatedAt: string,
): Finding {
  return {
    accountId: job.accountId,
    region: job.region,
    resourceType: 'Account',
    resourceId: `${job.accountId}:audit`,
    ruleId: MEMBER_ACCESS_CHECK,
    status: 'ERROR',
    severity: 'HIGH',
    reason: 'AUDIT_FAILED',
    message: `Cannot audit account ${job.accountId} in ${job.region}: the collection failed (${error}); none of its nodes were evaluated.`,
    evidence: { error },
    remediation:
      'Run the audit again; if it keeps failing, check the network path to the AWS endpoints and the member role.',
    reference:
      'https://docs.aws.amazon.com/systems-manager/latest/userguide/troubleshooting-managed-nodes.html',
    evaluatedAt,
  };
}

/** One message per Organization run: accounts audited and failed, unmanaged nodes by account. */
export function orgDigestMessage(
  plan: OrgRunPlan,
  outcomes: readonly JobOutcome[],
  finishedAt: string,
): AlertMessage {
  const byAccount = new Map<string, { unmanaged: number; regions: number; problems: string[] }>();
  const count: Record<JobOutcome['status'], number> = {
    audited: 0,
    'access-denied': 0,
    'region-not-enabled': 0,
    failed: 0,
  };
  for (const o of outcomes) {
    count[o.status] += 1;
    const entry = byAccount.get(o.accountId) ?? { unmanaged: 0, regions: 0, problems: [] };
    entry.regions += 1;
    entry.unmanaged += o.unmanaged ?? 0;
    if (o.status === 'access-denied' || o.status === 'failed')
      entry.problems.push(`${o.region}: ${o.status}${o.error ? ` (${o.error})` : ''}`);
    byAccount.set(o.accountId, entry);
  }
  const accounts = [...byAccount.entries()].sort(
    (a, b) => b[1].unmanaged - a[1].unmanaged || a[0].localeCompare(b[0]),
  );
  const unmanaged = accounts.reduce((n, [, e]) => n + e.unmanaged, 0);
  const failedAccounts = accounts.filter(([, e]) => e.problems.length > 0);
  const lines = [
    `Organization audit ${plan.runId}${plan.organizationId ? ` of ${plan.organizationId}` : ''}, started ${plan.startedAt}, finished ${finishedAt}.`,
    `${plan.accounts} account${plan.accounts === 1 ? '' : 's'} × ${plan.regions.length} region${plan.regions.length === 1 ? '' : 's'} = ${plan.jobs} job${plan.jobs === 1 ? '' : 's'}: ${count.audited} audited, ${count['access-denied']} without access, ${count.failed} failed, ${count['region-not-enabled']} in regions not enabled.`,
    `${unmanaged} running node${unmanaged === 1 ? '' : 's'} cannot be managed by Systems Manager.`,
    ...(outcomes.length < plan.jobs
      ? [
          `${plan.jobs - outcomes.length} job${plan.jobs - outcomes.length === 1 ? '' : 's'} never reported (timed out or lost); the next run audits them again.`,
        ]
      : []),
    ...(plan.listingComplete ? [] : ['The account list was incomplete: no account was treated as removed.']),
    ...(plan.inactive.length
      ? [
          `Not audited (not ACTIVE): ${plan.inactive.slice(0, 20).join(', ')}${plan.inactive.length > 20 ? ` and ${plan.inactive.length - 20} more` : ''}.`,
        ]
      : []),
    '',
    'Unmanaged nodes by account:',
    ...accounts
      .filter(([, e]) => e.unmanaged > 0)
      .slice(0, 50)
      .map(([id, e]) => `  ${id}  ${e.unmanaged}`),
    ...(failedAccounts.length
      ? [
          '',
          'Accounts not (fully) audited:',
          ...failedAccounts.slice(0, 50).map(([id, e]) => `  ${id}  ${e.problems.join('; ')}`),
        ]
      : []),
  ];
  const json = {
    kind: 'ORG_DIGEST',
    runId: plan.runId,
    organizationId: plan.organizationId,
    startedAt: plan.startedAt,
    finishedAt,
    jobs: plan.jobs,
    counts: count,
    unreported: plan.jobs - outcomes.length,
    unmanaged,
    unmanagedByAccount: Object.fromEntries(
      accounts
        .filter(([, e]) => e.unmanaged > 0)
        .slice(0, 500)
        .map(([id, e]) => [id, e.unmanaged]),
    ),
    failedAccounts: failedAccounts.slice(0, 500).map(([id, e]) => ({ accountId: id, problems: e.problems })),
    inactiveAccounts: plan.inactive.slice(0, 500),
    listingComplete: plan.listingComplete,
  };
  return {
    alertIds: [],
    subject:
      `SSM readiness: Organization audit, ${unmanaged} unmanaged node${unmanaged === 1 ? '' : 's'}, ${failedAccounts.length} account${failedAccounts.length === 1 ? '' : 's'} not audited`.slice(
        0,
        99,
      ),
    text: lines.join('\n'),
    json,
    attributes: {
      severity: failedAccounts.length || unmanaged ? 'HIGH' : 'INFORMATIONAL',
      ruleId: 'all',
      status: failedAccounts.length ? 'ERROR' : unmanaged ? 'FAIL' : 'PASS',
      accountId: 'organization',
      region: 'all',
      kind: 'DIGEST',
    },
  };
}
