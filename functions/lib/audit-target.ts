import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { auditSnapshot } from '../../shared/engine/audit';
import { collectSnapshot } from '../../shared/collect/collect';
import { regionNotEnabled, type AccountScps } from '../../shared/collect/organization';
import type { AwsClients } from '../../shared/aws/clients';
import { EVALUATOR_FETCH_PLAN } from '../../shared/engine/fetch-plan';
import { DEFAULT_DEADLINE_MS } from '../../shared/collect/context';
import { describeScope, RoleNotFoundError, type CollectionScope } from '../../shared/collect/scope';
import type { NetworkResource } from '../../shared/events/event-plan';
import { RULE_IDS, RULES } from '../../rules';
import { STATUSES, type Finding, type RuleId, type Status } from '../../shared/model';
import { recordAudit, type RunReport } from '../../shared/pipeline/record-audit';
import { resolveConfig } from '../../shared/config';
import { parseSnapshot } from '../../shared/snapshot/load';
import type { Snapshot } from '../../shared/snapshot/schema';
import { pendingRegistrations, type RecheckResult } from './recheck';
import { DISABLED_EXEMPTIONS_ENV, parseExemptionIds } from '../../shared/engine/exemptions';
import { suppressionStoreFor } from '../../shared/store/suppressions';
import type { Runtime } from './runtime';

/** One audit as the Lambda functions run it: collect the scope → evaluate → (unless dry run) store and alert. */

export interface AuditTarget {
  region: string;
  scope: CollectionScope;
  ruleIds?: RuleId[];
  resourceIds?: string[];
  dryRun?: boolean;
  accountId?: string;
  /** The invocation's remaining time (Lambda's `context.getRemainingTimeInMillis`). */
  remainingMs?: () => number;
  /** Organization mode: the member account's clients (assumed role) instead of the function's own. */
  clients?: AwsClients;
  /** Organization mode: the account's SCP chain, read by the planner. */
  organizations?: AccountScps;
  /** Checks beyond the rules whose stored findings this audit speaks for (member-access). */
  extraChecks?: string[];
  /** The HTML report the scheduled audit publishes for this run (named in the digest). */
  reportUrl?: string;
}

/** Time kept back from the collection for evaluating, storing and alerting before Lambda's timeout. */
export const RECORDING_RESERVE_MS = 90_000;

/**
 * The collection's deadline inside a Lambda invocation: what is left of it, less the time the rest of
 * the audit needs, so that an invocation is never cut mid-write by its own timeout when a collection
 * runs long (at least 10 s, at most the collector's default).
 */
export function collectionDeadline(remainingMs: (() => number) | undefined): number | undefined {
  if (!remainingMs) return undefined;
  return Math.min(DEFAULT_DEADLINE_MS, Math.max(10_000, remainingMs() - RECORDING_RESERVE_MS));
}

export interface TargetOutcome {
  region: string;
  scope: string;
  accountId: string;
  /** Unsuppressed findings by status (suppressed ones are counted in `suppressed`). */
  byStatus: Partial<Record<Status, number>>;
  suppressed?: number;
  findings: Finding[];
  apiCalls: number;
  failedCalls: string[];
  report?: RunReport;
  /** Re-checks scheduled for instances within their launch grace (event-audit function only). */
  rechecks?: RecheckResult;
  /** Organization mode: the region is not enabled for the account (nothing audited or stored). */
  regionNotEnabled?: boolean;
  /** What a person should know about this audit beyond its findings (e.g. the scope's role does not exist). */
  note?: string;
}

function countByStatus(findings: readonly Finding[]): Partial<Record<Status, number>> {
  const out: Partial<Record<Status, number>> = {};
  for (const f of findings) if (!f.suppressed) out[f.status] = (out[f.status] ?? 0) + 1;
  return out;
}

/**
 * What every audit applies (DESIGN §8): the findings table's entries (pk SUPPRESSION, managed with
 * `ssm-audit suppress`) in force at the audit's time, read once per audit, and the built-in exemptions
 * not switched off by SSM_AUDIT_DISABLED_EXEMPTIONS. A table that cannot be read fails the audit like
 * any table error: findings are never recorded without their suppressions (that would alert on every
 * accepted exception). A dry run touches no table: it applies the built-in exemptions only.
 */
export async function suppressionsFor(rt: Runtime, now: Date, dryRun?: boolean) {
  return {
    suppressions: dryRun ? [] : await suppressionStoreFor(rt.store).active(now),
    exemptions: { disabled: parseExemptionIds(process.env[DISABLED_EXEMPTIONS_ENV]) },
  };
}

function recordMetrics(rt: Runtime, outcome: TargetOutcome, durationMs: number): void {
  for (const status of STATUSES) {
    const metric = rt.metrics.singleMetric();
    metric.addDimension('Status', status);
    metric.addMetric('Findings', MetricUnit.Count, outcome.byStatus[status] ?? 0);
  }
  rt.metrics.addMetric('AuditDuration', MetricUnit.Milliseconds, durationMs);
  rt.metrics.addMetric('ApiErrors', MetricUnit.Count, outcome.failedCalls.length);
  if (outcome.report) {
    rt.metrics.addMetric('FindingWrites', MetricUnit.Count, outcome.report.writes.findingWrites);
    rt.metrics.addMetric('AlertsDelivered', MetricUnit.Count, outcome.report.alerts.delivered ?? 0);
    rt.metrics.addMetric('AlertsPending', MetricUnit.Count, outcome.report.alerts.pending ?? 0);
  }
}

/**
 * An IAM event's role no longer exists (e.g. DeleteRole) and nothing is registered with it: nothing to
 * audit or store, and the invocation succeeds (a retry would find the same), saying so.
 */
function roleNotFound(rt: Runtime, target: AuditTarget, err: RoleNotFoundError): TargetOutcome {
  rt.logger.warn('role not found', { region: target.region, roleName: err.roleName, note: err.message });
  return {
    region: target.region,
    scope: describeScope(target.scope),
    accountId: target.accountId ?? '',
    byStatus: {},
    findings: [],
    apiCalls: err.stats.apiCalls,
    failedCalls: [],
    note: err.message,
  };
}

/** A region the member account has not enabled: nothing to audit there, and nothing stored is touched. */
function regionDisabled(
  rt: Runtime,
  target: AuditTarget,
  snapshot: Snapshot,
  apiCalls: number,
): TargetOutcome {
  rt.logger.info('region not enabled', { region: target.region, accountId: snapshot.accountId });
  return {
    region: target.region,
    scope: describeScope(target.scope),
    accountId: snapshot.accountId,
    byStatus: {},
    findings: [],
    apiCalls,
    failedCalls: Object.entries(snapshot.calls).map(([action, r]) => `${action} ${r.status} (${r.error})`),
    note: `region ${target.region} is not enabled for account ${snapshot.accountId}`,
    regionNotEnabled: true,
  };
}

async function storedScps(rt: Runtime, accountId: string | undefined): Promise<AccountScps | undefined> {
  if (!accountId) return undefined;
  try {
    return (await rt.org.runs.scpsOf(accountId)) as AccountScps | undefined;
  } catch (err) {
    rt.logger.warn('stored SCPs not read', {
      accountId,
      error: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
}

export async function auditTarget(rt: Runtime, target: AuditTarget): Promise<TargetOutcome> {
  const started = performance.now();
  // The SCP layer as the newest Organization run read it, for audits outside a run (an event in a
  // member account): judged with the same SCPs, a finding never flips back and forth.
  const organizations = target.organizations ?? (await storedScps(rt, target.accountId));
  let collected: Awaited<ReturnType<typeof collectSnapshot>>;
  try {
    collected = await collectSnapshot(target.clients ?? rt.clientsFor(target.region), {
      ...(organizations ? { organizations } : {}),
      region: target.region,
      scope: target.scope,
      accountId: target.accountId,
      now: rt.clock,
      plan: EVALUATOR_FETCH_PLAN,
      deadlineMs: collectionDeadline(target.remainingMs),
    });
  } catch (err) {
    if (err instanceof RoleNotFoundError) return roleNotFound(rt, target, err);
    throw err;
  }
  const { snapshot, stats } = collected;
  if (target.clients && regionNotEnabled(snapshot.calls))
    return regionDisabled(rt, target, snapshot, stats.totalCalls);
  const now = new Date(snapshot.collectedAt);
  const result = auditSnapshot(snapshot, {
    ...(await suppressionsFor(rt, now, target.dryRun)),
    rules: RULES,
    ruleIds: target.ruleIds,
    resourceIds: target.resourceIds,
    config: resolveConfig({ registrationGraceMinutes: rt.env.registrationGraceMinutes }),
    now,
    evaluatedAt: now,
  });
  const report = target.dryRun
    ? undefined
    : await recordAudit({
        store: rt.store,
        publisher: rt.publisher,
        snapshot,
        result,
        ruleIds: [...(target.ruleIds ?? RULE_IDS), ...(target.extraChecks ?? [])],
        resourceIds: target.resourceIds,
        now,
        clock: rt.clock,
        maxAlertsPerRun: rt.env.maxAlertsPerRun,
        // Security Hub takes an account's findings only from that account: a member's audit exports nothing.
        exporter: target.clients ? undefined : rt.exporterFor(target.region),
        ...(target.reportUrl ? { reportUrl: target.reportUrl } : {}),
      });
  // After the findings are stored: a re-check never runs ahead of the audit that asked for it.
  const rechecks = target.dryRun ? undefined : await scheduleRechecks(rt, snapshot, result.findings);
  const outcome: TargetOutcome = {
    region: target.region,
    scope: describeScope(target.scope),
    accountId: snapshot.accountId,
    byStatus: countByStatus(result.findings),
    suppressed: result.findings.filter((f) => f.suppressed).length,
    findings: result.findings,
    apiCalls: stats.totalCalls,
    failedCalls: Object.entries(snapshot.calls).map(([action, r]) => `${action} ${r.status} (${r.error})`),
    report,
    ...(rechecks ? { rechecks } : {}),
  };
  const durationMs = Math.round(performance.now() - started);
  recordMetrics(rt, outcome, durationMs);
  rt.logger.info('audit finished', {
    region: outcome.region,
    scope: outcome.scope,
    dryRun: Boolean(target.dryRun),
    durationMs,
    apiCalls: outcome.apiCalls,
    failedCalls: outcome.failedCalls,
    findings: outcome.byStatus,
    stored: report?.counts,
    writes: report?.writes,
    alerts: report?.alerts,
    rechecks,
  });
  return outcome;
}

/**
 * DESIGN §3 R7: a REGISTRATION_PENDING instance is audited again once its grace is over, by a one-time
 * schedule (see ./recheck). Where no scheduler is configured (the scheduled and ad-hoc functions, the
 * CLI), the next audit that sees it finds it. A schedule that cannot be created is logged and counted,
 * never fails the audit: its findings are stored, and the next scheduled audit still reports the
 * instance if it never registers.
 */
async function scheduleRechecks(
  rt: Runtime,
  snapshot: Snapshot,
  findings: readonly Finding[],
): Promise<RecheckResult | undefined> {
  if (!rt.rechecks || pendingRegistrations(findings).length === 0) return undefined;
  const result = await rt.rechecks.scheduleAll(
    {
      accountId: snapshot.accountId,
      region: snapshot.region,
      partition: snapshot.partition,
      now: rt.clock(),
      findings,
    },
    (instanceId, err) =>
      rt.logger.error('re-check not scheduled', {
        instanceId,
        region: snapshot.region,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      }),
  );
  rt.metrics.addMetric('RechecksScheduled', MetricUnit.Count, result.scheduled);
  rt.metrics.addMetric('RechecksFailed', MetricUnit.Count, result.failed);
  return result;
}

/**
 * A terminated instance: its findings close without any AWS call (DESIGN §3 "terminated … close every
 * open finding"); failing ones resolve with an alert.
 */
export async function closeInstances(
  rt: Runtime,
  input: { region: string; accountId: string; instanceIds: string[]; at: string; member?: boolean },
): Promise<RunReport> {
  const snapshot = parseSnapshot({
    schemaVersion: 1,
    accountId: input.accountId,
    region: input.region,
    collectedAt: input.at,
    scope: { kind: 'instances', instanceIds: input.instanceIds },
  });
  const report = await recordAudit({
    store: rt.store,
    publisher: rt.publisher,
    snapshot,
    result: { findings: [], closedResourceIds: input.instanceIds, rulesRun: [...RULE_IDS] },
    ruleIds: RULE_IDS,
    now: new Date(input.at),
    clock: rt.clock,
    maxAlertsPerRun: rt.env.maxAlertsPerRun,
    exporter: input.member ? undefined : rt.exporterFor(input.region),
  });
  rt.logger.info('findings closed', {
    region: input.region,
    instanceIds: input.instanceIds,
    closed: report.counts.closed,
  });
  return report;
}

/** The VPC of a network resource named by a CloudTrail event; undefined if it cannot be read (then the region is audited). */
export async function vpcOf(ec2: EC2Client, resource: NetworkResource): Promise<string | undefined> {
  try {
    switch (resource.type) {
      case 'vpc':
        return resource.id;
      case 'security-group':
        return (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [resource.id] })))
          .SecurityGroups?.[0]?.VpcId;
      case 'route-table':
        return (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [resource.id] })))
          .RouteTables?.[0]?.VpcId;
      case 'network-acl':
        return (await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [resource.id] })))
          .NetworkAcls?.[0]?.VpcId;
      case 'vpc-endpoint':
        return (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [resource.id] })))
          .VpcEndpoints?.[0]?.VpcId;
      case 'subnet':
        return (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [resource.id] }))).Subnets?.[0]?.VpcId;
    }
  } catch {
    return undefined;
  }
}
