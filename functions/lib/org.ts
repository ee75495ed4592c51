import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { RULE_IDS } from '../../rules';
import { partitionOf } from '../../shared/aws/assume';
import { describeFailure, mapLimit } from '../../shared/aws/faults';
import { REGION_SCOPE } from '../../shared/collect/scope';
import { enabledRegions, OrganizationReader, type AccountScps } from '../../shared/collect/organization';
import type { AuditResult } from '../../shared/engine/evaluate';
import { recordAudit } from '../../shared/pipeline/record-audit';
import {
  jobBody,
  MEMBER_ACCESS_CHECK,
  memberAccessFinding,
  memberAccessResourceId,
  orgDigestMessage,
  orgJobSchema,
  planJobs,
  type OrgJob,
} from '../../shared/pipeline/org';
import { parseSnapshot } from '../../shared/snapshot/load';
import type { JobOutcome, OrgRunPlan } from '../../shared/store/org-runs';
import { auditTarget } from './audit-target';
import type { Runtime } from './runtime';

/**
 * Organization mode's two Lambda cores (DESIGN §7). The planner runs on the schedule: it lists the
 * accounts, reads each account's SCP chain once, records the run and sends one SQS FIFO message per
 * account-region. The worker runs one job per message: assume the member role, audit, store, alert,
 * count the job; the job that completes the run sends the Organization digest.
 */

export interface PlanSummary {
  runId: string;
  accounts: number;
  regions: string[];
  jobs: number;
  sent: number;
  failedToSend: number;
  closedAccounts: string[];
  listingComplete: boolean;
}

/** SendMessageBatch takes at most 10 entries and 256 KiB in total (the bodies' sum). */
const SQS_BATCH = 10;
const SQS_BATCH_BYTES = 250_000;

/** Jobs in SendMessageBatch-sized groups: at most 10 each, and at most SQS_BATCH_BYTES of bodies. */
export function sqsBatches(jobs: readonly OrgJob[]): OrgJob[][] {
  const batches: OrgJob[][] = [];
  let current: OrgJob[] = [];
  let bytes = 0;
  for (const job of jobs) {
    const size = Buffer.byteLength(jobBody(job));
    if (current.length && (current.length === SQS_BATCH || bytes + size > SQS_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(job);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}

/**
 * The previous run's digest, if it never came (a job died without being counted, or the digest's
 * sender died): sent now with what was counted, saying how many jobs never reported.
 */
async function finishPreviousRun(rt: Runtime): Promise<void> {
  const previous = await rt.org.runs.latestRunId();
  if (!previous) return;
  const record = await rt.org.runs.run(previous);
  if (!record || record.digestSentAt) return;
  if (!(await rt.org.runs.claimDigest(previous, rt.clock()))) return;
  await publishDigest(rt, record, await rt.org.runs.outcomes(previous));
}

export async function planOrgRun(rt: Runtime, runId: string = randomUUID()): Promise<PlanSummary> {
  const now = rt.clock();
  await finishPreviousRun(rt);
  const reader = new OrganizationReader(rt.org.organizations, { concurrency: rt.env.org.plannerConcurrency });
  const listing = await reader.listAccounts(rt.env.org.selection);
  if (Object.keys(listing.failures).length)
    rt.logger.error('account listing incomplete', { failures: listing.failures });

  const home = rt.env.regions[0]!;
  const regions = rt.env.regionsConfigured ? rt.env.regions : await enabledRegions(rt.clientsFor(home).ec2);

  // One read of each account's SCP chain per run, shared by its regions.
  // Accounts in parallel (Organizations throttles: ORG_PLANNER_CONCURRENCY, default 8); each target
  // and policy is read once however many accounts share it.
  const standalone = Boolean(rt.env.org.selection.accounts);
  const accounts = await mapLimit(listing.accounts, rt.env.org.plannerConcurrency, async (account) => {
    const organizations: AccountScps | undefined = standalone ? undefined : await reader.scpsFor(account);
    if (organizations) await rt.org.runs.saveScps(account.id, organizations, now);
    return {
      id: account.id,
      ...(account.name ? { name: account.name } : {}),
      ...(organizations ? { organizations: organizations as unknown as OrgJob['organizations'] } : {}),
    };
  });
  const jobs = planJobs(runId, accounts, regions);
  const plan: OrgRunPlan = {
    runId,
    startedAt: now.toISOString(),
    jobs: jobs.length,
    accounts: accounts.length,
    regions: [...regions],
    inactive: listing.inactive.map((a) => a.id),
    listingComplete: listing.complete,
    ...(listing.organizationId ? { organizationId: listing.organizationId } : {}),
  };
  await rt.org.runs.start(plan, jobs, now);
  await rt.org.runs.rememberAccounts(accounts.map((a) => a.id));

  let sent = 0;
  let failedToSend = 0;
  await mapLimit(sqsBatches(jobs), rt.env.org.plannerConcurrency, async (batch) => {
    const failed = await sendBatch(rt, batch);
    sent += batch.length - failed.length;
    // A job SQS would not take is counted as failed, so the run still completes and says so.
    for (const job of failed) {
      failedToSend++;
      await finishJob(rt, job, {
        accountId: job.accountId,
        region: job.region,
        status: 'failed',
        error: 'not queued',
      });
    }
  });

  // Only accounts that left the Organization or stopped being ACTIVE, and only on a complete listing:
  // an account merely excluded by the selection, or a static list, closes nothing.
  const closedAccounts =
    listing.complete && listing.allActive ? await closeRemovedAccounts(rt, listing.allActive) : [];
  if (jobs.length === 0 && (await rt.org.runs.claimDigest(runId, now))) await publishDigest(rt, plan, []);
  rt.logger.info('organization run planned', {
    runId,
    accounts: accounts.length,
    regions,
    jobs: jobs.length,
    sent,
    failedToSend,
    closedAccounts,
  });
  return {
    runId,
    accounts: accounts.length,
    regions: [...regions],
    jobs: jobs.length,
    sent,
    failedToSend,
    closedAccounts,
    listingComplete: listing.complete,
  };
}

/** Sends up to 10 jobs; a throttled or failed entry is retried once. Returns the jobs SQS did not take. */
async function sendBatch(rt: Runtime, batch: readonly OrgJob[]): Promise<OrgJob[]> {
  const queueUrl = rt.env.org.queueUrl;
  if (!queueUrl) throw new Error('ORG_JOB_QUEUE_URL is not set: deploy with orgMode=true');
  let pending = [...batch];
  for (let attempt = 0; attempt < 2 && pending.length; attempt++) {
    try {
      const out = await rt.org.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((job, index) => ({
            Id: String(index),
            MessageBody: jobBody(job),
            // One group per account-region: SQS delivers its jobs one at a time, in order.
            MessageGroupId: `${job.accountId}#${job.region}`,
            MessageDeduplicationId: `${job.runId}#${job.accountId}#${job.region}`.slice(0, 128),
          })),
        }),
      );
      const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
      pending = pending.filter((_, index) => failedIds.has(String(index)));
    } catch (err) {
      rt.logger.warn('SendMessageBatch failed', { error: describeFailure(err) });
    }
  }
  return pending;
}

/**
 * Accounts that left the Organization or are no longer ACTIVE: their open findings are closed — only
 * when the account listing was complete, so a failed or partial listing never closes anything.
 */
async function closeRemovedAccounts(rt: Runtime, active: ReadonlySet<string>): Promise<string[]> {
  // Only accounts an Organization run audited: the function's own account, audited by the scheduled
  // function, or accounts audited by hand are never closed here.
  const gone = new Set((await rt.org.runs.knownAccounts()).filter((id) => !active.has(id)));
  const scopes = (await rt.store.scopes()).filter((s) => gone.has(s.accountId));
  for (const { accountId, region } of scopes) {
    const now = rt.clock();
    // An empty, complete listing of the account-region: every finding stored there is no longer reported.
    const snapshot = parseSnapshot({
      schemaVersion: 1,
      accountId,
      region,
      partition: partitionOf(region),
      collectedAt: now.toISOString(),
      calls: {},
      ec2: { Reservations: [] },
      ssm: { InstanceInformationList: [], ActivationList: [] },
    });
    const result: AuditResult = { findings: [], closedResourceIds: [], rulesRun: [...RULE_IDS] };
    await recordAudit({
      store: rt.store,
      publisher: rt.publisher,
      snapshot,
      result,
      ruleIds: [...RULE_IDS, MEMBER_ACCESS_CHECK],
      now,
      clock: rt.clock,
      maxAlertsPerRun: rt.env.maxAlertsPerRun,
    });
  }
  for (const id of gone) await rt.org.runs.forgetAccount(id);
  return [...gone].sort();
}

/** One job: assume the member role, audit the account-region, store, alert; then count it. */
export async function runOrgJob(rt: Runtime, job: OrgJob, remainingMs?: () => number): Promise<JobOutcome> {
  const roleArn = rt.org.credentials.roleArn(job.accountId);
  try {
    await rt.org.credentials.forAccount(job.accountId)();
  } catch (err) {
    const failure = describeFailure(err);
    // Throttling or a network error is not a verdict on the account's trust: SQS delivers the job again.
    if (failure.status !== 'denied') throw err;
    const now = rt.clock();
    rt.logger.warn('member role not assumed', { accountId: job.accountId, roleArn, failure });
    const denied: JobOutcome = {
      accountId: job.accountId,
      region: job.region,
      status: 'access-denied',
      findings: 0,
      unmanaged: 0,
      error: failure.error,
    };
    // One finding per account: recorded by the job of the run's first region only.
    if ((job.primaryRegion ?? job.region) !== job.region) return denied;
    const finding = memberAccessFinding(job, roleArn, failure, undefined, now.toISOString());
    const snapshot = parseSnapshot({
      schemaVersion: 1,
      accountId: job.accountId,
      region: job.region,
      partition: roleArn.split(':')[1],
      collectedAt: now.toISOString(),
      calls: { 'sts:AssumeRole': failure },
    });
    await recordAudit({
      store: rt.store,
      publisher: rt.publisher,
      snapshot,
      result: {
        findings: [finding],
        closedResourceIds: [],
        rulesRun: [MEMBER_ACCESS_CHECK],
      },
      ruleIds: [MEMBER_ACCESS_CHECK],
      resourceIds: [memberAccessResourceId(job.accountId)],
      now,
      clock: rt.clock,
      maxAlertsPerRun: rt.env.maxAlertsPerRun,
    });
    return { ...denied, findings: 1 };
  }
  const outcome = await auditTarget(rt, {
    region: job.region,
    scope: REGION_SCOPE,
    accountId: job.accountId,
    clients: rt.org.clientsFor(job.accountId, job.region),
    ...(job.organizations ? { organizations: job.organizations as unknown as AccountScps } : {}),
    extraChecks: [MEMBER_ACCESS_CHECK],
    ...(remainingMs ? { remainingMs } : {}),
  });
  if (outcome.regionNotEnabled)
    return { accountId: job.accountId, region: job.region, status: 'region-not-enabled' };
  const unmanaged = outcome.findings.filter(
    (f) => f.ruleId === 'managed-status' && f.status === 'FAIL',
  ).length;
  return {
    accountId: job.accountId,
    region: job.region,
    status: 'audited',
    findings: outcome.findings.length,
    unmanaged,
  };
}

async function finishJob(rt: Runtime, job: OrgJob, outcome: JobOutcome): Promise<void> {
  const now = rt.clock();
  const last = await rt.org.runs.finishJob(job.runId, outcome, now);
  if (!last) return;
  const plan = await rt.org.runs.run(job.runId);
  if (plan) await publishDigest(rt, plan, await rt.org.runs.outcomes(job.runId));
}

/**
 * Sends the digest the caller has claimed, then marks it sent. If SNS fails the error propagates (the
 * job is delivered again, and the stale claim is taken again then, or by the next planner).
 */
async function publishDigest(rt: Runtime, plan: OrgRunPlan, outcomes: JobOutcome[]): Promise<void> {
  const message = orgDigestMessage(plan, outcomes, rt.clock().toISOString());
  rt.logger.info('organization run finished', {
    runId: plan.runId,
    ...(message.json as Record<string, unknown>),
  });
  if (rt.publisher) {
    const published = await rt.publisher.publish([message]);
    if (published.failed.length)
      throw new Error(
        `organization digest of run ${plan.runId} not delivered: ${JSON.stringify(published.failed)}`,
      );
  }
  await rt.org.runs.markDigestSent(plan.runId, rt.clock());
}

/**
 * The SQS batch (batch size 1 in the deployment). A job that throws is reported as a
 * batch item failure, so SQS delivers it again and, after ORG_MAX_RECEIVES deliveries, moves it to the
 * dead-letter queue; on that last delivery it is also counted as failed, so the run's digest is still sent.
 */
export async function handleOrgJobs(
  records: readonly SQSRecord[],
  rt: Runtime,
  remainingMs?: () => number,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const failures: { itemIdentifier: string }[] = [];
  for (const record of records) {
    // FIFO: once one message of the batch failed, the later ones are returned too (in order).
    if (failures.length) {
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    let job: OrgJob;
    try {
      job = orgJobSchema.parse(JSON.parse(record.body));
    } catch (err) {
      // A malformed message never becomes valid: drop it (logged), do not loop it through retries.
      rt.logger.error('malformed organization job dropped', {
        messageId: record.messageId,
        error: (err as Error).message.split('\n')[0],
      });
      continue;
    }
    try {
      const outcome = await runOrgJob(rt, job, remainingMs);
      await finishJob(rt, job, outcome);
    } catch (err) {
      const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
      rt.logger.error('organization job failed', {
        accountId: job.accountId,
        region: job.region,
        receives,
        error: describeFailure(err),
      });
      if (receives >= rt.env.org.maxReceives) {
        await finishJob(rt, job, {
          accountId: job.accountId,
          region: job.region,
          status: 'failed',
          error: describeFailure(err).error,
        }).catch((countErr: unknown) =>
          rt.logger.error('failed job not counted', { error: describeFailure(countErr) }),
        );
      }
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
