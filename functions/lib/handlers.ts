import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { parseRuleIds, unknownRuleIdsMessage } from '../../shared/engine/audit';
import { echoList } from '../../shared/echo';
import {
  parseEnvelope,
  planForEnvelope,
  type EventEnvelope,
  type EventPlan,
} from '../../shared/events/event-plan';
import { RULE_IDS, RULES } from '../../rules';
import { renderHtmlReport } from '../../shared/report/html';
import { FINDING_FIELDS, type Finding, type Status } from '../../shared/model';
import { INSTANCE_ID, MANAGED_INSTANCE_ID, REGION_NAME } from '../../shared/snapshot/schema';
import { auditTarget, closeInstances, vpcOf, type TargetOutcome } from './audit-target';
import { accountOf, type Runtime } from './runtime';

/** The cores of the three handlers: validate the trigger, choose the scope, call the core, summarize. */

export interface InvocationContext {
  invokedFunctionArn?: string;
  awsRequestId?: string;
  getRemainingTimeInMillis?: () => number;
}

/** The invocation's remaining time, when Lambda tells it (tests and the CLI have none). */
const remainingOf = (context: InvocationContext | undefined) =>
  context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis!() : undefined;

export interface RegionSummary {
  region: string;
  scope: string;
  findings: Partial<Record<Status, number>>;
  /** Suppressed findings (not in `findings`). */
  suppressed?: number;
  apiCalls: number;
  failedCalls: string[];
  changes?: Record<string, number>;
  alerts?: Record<string, number>;
  error?: string;
  note?: string;
  rechecks?: { scheduled: number; existing: number; failed: number };
}

const summarize = (o: TargetOutcome): RegionSummary => ({
  region: o.region,
  scope: o.scope,
  findings: o.byStatus,
  ...(o.suppressed ? { suppressed: o.suppressed } : {}),
  apiCalls: o.apiCalls,
  failedCalls: o.failedCalls,
  changes: o.report?.counts,
  alerts: o.report?.alerts,
  ...(o.note ? { note: o.note } : {}),
  ...(o.rechecks ? { rechecks: o.rechecks } : {}),
});

/** A region whose audit failed as a whole (e.g. the table unreachable) does not stop the other regions. */
async function eachRegion(
  rt: Runtime,
  targets: readonly Parameters<typeof auditTarget>[1][],
  context: InvocationContext | undefined,
): Promise<{ summaries: RegionSummary[]; failed: string[]; findings: Finding[] }> {
  const summaries: RegionSummary[] = [];
  const failed: string[] = [];
  const findings: Finding[] = [];
  for (const target of targets) {
    try {
      const outcome = await auditTarget(rt, { ...target, remainingMs: remainingOf(context) });
      findings.push(...outcome.findings);
      summaries.push(summarize(outcome));
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      rt.logger.error('audit failed', { region: target.region, scope: target.scope.kind, error: message });
      summaries.push({
        region: target.region,
        scope: target.scope.kind,
        findings: {},
        apiCalls: 0,
        failedCalls: [],
        error: message,
      });
      failed.push(`${target.region}: ${message}`);
    }
  }
  return { summaries, failed, findings };
}

export class AuditFailedError extends Error {
  override readonly name = 'AuditFailedError';
}

// ---------------------------------------------------------------------------------------------------
// Scheduled audit

export async function handleScheduled(raw: unknown, rt: Runtime, context?: InvocationContext) {
  const event = parseEnvelope(raw);
  // Metrics are flushed however the invocation ends: a failing audit still reports what it measured.
  try {
    rt.logger.info('scheduled audit', { eventId: event.id, regions: rt.env.regions });
    const accountId = accountOf(context) ?? event.account;
    // The run's HTML report (deploy parameter reportBucket): located first, so the digests can link it.
    const report = rt.reports?.locate(accountId, rt.clock());
    const { summaries, failed, findings } = await eachRegion(
      rt,
      rt.env.regions.map((region) => ({
        region,
        scope: { kind: 'region' as const },
        accountId,
        ...(report ? { reportUrl: report.url } : {}),
      })),
      context,
    );
    const published = report ? await publishReport(rt, report, findings, accountId) : undefined;
    // Failing loudly after the other regions ran lets the Errors alarm fire without losing their results.
    if (failed.length) throw new AuditFailedError(`audit failed in ${failed.join('; ')}`);
    return { regions: summaries, ...(published ? { report: published } : {}) };
  } finally {
    rt.metrics.publishStoredMetrics();
  }
}

/**
 * Renders the run's findings (every region) as the self-contained HTML report and puts it in the report
 * bucket. A report that cannot be written is logged and said in the result; the audit itself stands.
 */
async function publishReport(
  rt: Runtime,
  report: { key: string; url: string },
  findings: readonly Finding[],
  accountId: string,
): Promise<{ url: string; key: string; bytes: number } | { error: string }> {
  try {
    const html = renderHtmlReport({
      title: `SSM readiness: account ${accountId}, ${rt.env.regions.join(', ')}`,
      generatedAt: rt.clock().toISOString(),
      findings,
      ruleTitles: Object.fromEntries(RULES.map((r) => [r.meta.id, r.meta.title])),
    });
    await rt.reports!.put(report.key, html);
    return { url: report.url, key: report.key, bytes: Buffer.byteLength(html) };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    rt.logger.error('report not published', { key: report.key, error });
    return { error };
  }
}

// ---------------------------------------------------------------------------------------------------
// Event audit

export async function handleEvent(raw: unknown, rt: Runtime, context?: InvocationContext) {
  // Size and depth are bounded before anything walks the event.
  const envelope = parseEnvelope(raw);
  const plan = planForEnvelope(envelope, rt.env.regions);
  try {
    return await runEventPlan(envelope, plan, rt, context);
  } finally {
    rt.metrics.publishStoredMetrics();
  }
}

async function runEventPlan(
  envelope: EventEnvelope,
  plan: EventPlan,
  rt: Runtime,
  context: InvocationContext | undefined,
) {
  // Never the whole event: its id, type and what it was mapped to.
  const detail = envelope.detail as { eventName?: unknown } | undefined;
  rt.logger.info('event received', {
    eventId: envelope.id,
    detailType: envelope['detail-type'],
    source: envelope.source,
    eventName: typeof detail?.eventName === 'string' ? detail.eventName : undefined,
    action: plan.action,
    reason: plan.reason,
  });
  // EventBridge names the account the event happened in; a test event may not, then the function's own.
  rt.metrics.addMetric(plan.action === 'ignore' ? 'EventsIgnored' : 'EventsHandled', MetricUnit.Count, 1);
  const accountId = /^\d{12}$/.test(envelope.account)
    ? envelope.account
    : (accountOf(context) ?? envelope.account);
  // An event forwarded from a member account of the Organization (DESIGN §7) is audited there, with
  // that account's member role; the function's own account with its own credentials.
  const own = accountOf(context);
  const member = own !== undefined && /^\d{12}$/.test(accountId) && accountId !== own;
  const clientsIn = (region: string) => (member ? rt.org.clientsFor(accountId, region) : undefined);
  if (member && plan.action !== 'ignore' && plan.action !== 'close') {
    try {
      await rt.org.credentials.forAccount(accountId)();
    } catch (err) {
      throw new AuditFailedError(
        `cannot audit account ${accountId}: sts:AssumeRole on ${rt.org.credentials.roleArn(accountId)} failed (${err instanceof Error ? err.name : String(err)})`,
      );
    }
  }
  let result: { action: string; reason: string; regions?: RegionSummary[]; closed?: number };
  switch (plan.action) {
    case 'ignore':
      result = { action: plan.action, reason: plan.reason };
      break;
    case 'close': {
      const report = await closeInstances(rt, {
        region: plan.region,
        accountId,
        instanceIds: plan.instanceIds,
        at: envelope.time,
        member,
      });
      result = { action: plan.action, reason: plan.reason, closed: report.counts.closed };
      break;
    }
    case 'audit-vpc-of': {
      const vpcId = await vpcOf((clientsIn(plan.region) ?? rt.clientsFor(plan.region)).ec2, plan.resource);
      const scope = vpcId ? { kind: 'vpc' as const, vpcId } : { kind: 'region' as const };
      const { summaries, failed } = await eachRegion(
        rt,
        [{ region: plan.region, scope, accountId, clients: clientsIn(plan.region) }],
        context,
      );
      if (failed.length) throw new AuditFailedError(failed.join('; '));
      result = {
        action: 'audit',
        reason: `${plan.reason} (${vpcId ?? 'VPC unknown: whole region'})`,
        regions: summaries,
      };
      break;
    }
    case 'audit': {
      const { summaries, failed } = await eachRegion(
        rt,
        plan.targets.map((t) => ({ ...t, accountId, clients: clientsIn(t.region) })),
        context,
      );
      if (failed.length) throw new AuditFailedError(failed.join('; '));
      result = { action: plan.action, reason: plan.reason, regions: summaries };
      break;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Ad-hoc audit

const resourceId = z
  .string()
  .transform((s) => s.trim())
  .refine(
    (id) => INSTANCE_ID.test(id) || MANAGED_INSTANCE_ID.test(id),
    'must be an instance id like i-0123456789abcdef0 or mi-0123456789abcdef0',
  );

export const adhocInputSchema = z
  .object({
    instanceIds: z.array(resourceId).min(1, 'needs at least one id when given').max(200).optional(),
    ruleIds: z
      .array(z.string())
      .min(1)
      .optional()
      .superRefine((ids, ctx) => {
        const unknown = (ids ?? []).filter((id) => !RULE_IDS.includes(id));
        if (unknown.length) ctx.addIssue({ code: 'custom', message: unknownRuleIdsMessage(unknown, RULES) });
      }),
    region: z.string().regex(REGION_NAME, 'must be an AWS region name like eu-west-1').optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();

export type AdhocInput = z.output<typeof adhocInputSchema>;

export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

const kindOf = (value: unknown) =>
  value === null
    ? 'null'
    : value === undefined
      ? 'nothing'
      : Array.isArray(value)
        ? 'an array'
        : `a ${typeof value}`;

/** Validates the ad-hoc payload: a JSON object (`{}` audits the whole region); anything else is an error. */
export function parseAdhocInput(raw: unknown): AdhocInput {
  // `null` or a stray string must not become a whole-region audit that stores and alerts.
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(
      `invalid input: expected a JSON object such as {"instanceIds": ["i-0123456789abcdef0"], "dryRun": true} ({} audits the whole region), got ${kindOf(raw)}`,
    );
  }
  const parsed = adhocInputSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new InvalidInputError(
      `unknown field${issue.keys.length > 1 ? 's' : ''} ${echoList(issue.keys)}; expected instanceIds, ruleIds, region, dryRun`,
    );
  }
  throw new InvalidInputError(
    `invalid ${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`,
  );
}

/**
 * A synchronous Lambda response is at most 6 MB (6,291,456 bytes): the findings get this many bytes of
 * it, the rest of the response (summary, pointer) takes a few KB.
 */
export const MAX_RESPONSE_FINDINGS_BYTES = 5_000_000;

/** The findings that need attention are listed first when not all of them fit. */
const PRIORITY: Record<Status, number> = { FAIL: 0, ERROR: 0, WARN: 1, PASS: 2, NOT_APPLICABLE: 2 };

export interface BoundedFindings {
  /** All of them in their order when they fit; else FAIL/ERROR, then WARN, then the rest, up to the budget. */
  findings: Finding[];
  omitted: number;
  omittedByStatus: Partial<Record<Status, number>>;
}

/**
 * The findings that fit in `budget` bytes of JSON, measured one finding at a time (never one string of
 * them all); no finding is measured twice, and none after the budget is known to be exceeded.
 */
export function boundFindings(
  all: readonly Finding[],
  budget = MAX_RESPONSE_FINDINGS_BYTES,
): BoundedFindings {
  const sizes: number[] = [];
  const sizeOf = (i: number) => (sizes[i] ??= Buffer.byteLength(JSON.stringify(all[i])) + 1);
  let total = 2;
  let fits = true;
  for (let i = 0; i < all.length && fits; i++) fits = (total += sizeOf(i)) <= budget;
  if (fits) return { findings: [...all], omitted: 0, omittedByStatus: {} };

  const order = all.map((_, i) => i);
  order.sort((a, b) => PRIORITY[all[a]!.status] - PRIORITY[all[b]!.status] || a - b);
  const findings: Finding[] = [];
  const omittedByStatus: Partial<Record<Status, number>> = {};
  let used = 2;
  let full = false;
  for (const i of order) {
    const finding = all[i]!;
    if (!full && used + sizeOf(i) <= budget) {
      used += sizeOf(i);
      findings.push(finding);
    } else {
      full = true;
      omittedByStatus[finding.status] = (omittedByStatus[finding.status] ?? 0) + 1;
    }
  }
  return { findings, omitted: all.length - findings.length, omittedByStatus };
}

/** Where the findings left out of a truncated response can be read in full. */
function whereTheRestIs(
  table: string,
  input: AdhocInput,
  region: string,
  accountId: string,
  omittedByStatus: Partial<Record<Status, number>>,
): string {
  if (input.dryRun) {
    const scope = input.instanceIds ? ` --instance ${input.instanceIds.join(',')}` : '';
    const rules = input.ruleIds ? ` --rule ${input.ruleIds.join(',')}` : '';
    return `dryRun stored nothing; for every finding run: ssm-audit scan --region ${region}${scope}${rules} --format json`;
  }
  const statuses = Object.keys(omittedByStatus).join(',');
  return (
    `every finding is stored in the findings table ${table}; read the rest with: ` +
    `ssm-audit findings --table ${table} --scope ${accountId}/${region} --status ${statuses} --format json` +
    ` (or: aws dynamodb query --table-name ${table} --index-name byScope --key-condition-expression "gsi3pk = :p"` +
    ` --expression-attribute-values '{":p":{"S":"SCOPE#${accountId}#${region}"}}')`
  );
}

/**
 * The ad-hoc response: the findings (exactly the DESIGN §3 fields) within `budget` bytes; when some do
 * not fit, `truncated`, how many were left out by status, and where to read them all.
 */
export function adhocResponse(
  outcome: TargetOutcome,
  input: AdhocInput,
  table: string,
  budget = MAX_RESPONSE_FINDINGS_BYTES,
) {
  // The contract fields, plus `suppressed` on a suppressed finding (DESIGN §8).
  const all = outcome.findings.map(
    (f) =>
      ({
        ...Object.fromEntries(FINDING_FIELDS.map((k) => [k, f[k]])),
        ...(f.suppressed ? { suppressed: f.suppressed } : {}),
      }) as unknown as Finding,
  );
  const bounded = boundFindings(all, budget);
  return {
    region: outcome.region,
    accountId: outcome.accountId,
    dryRun: Boolean(input.dryRun),
    summary: summarize(outcome),
    findings: bounded.findings,
    ...(bounded.omitted
      ? {
          truncated: true as const,
          omittedFindings: bounded.omitted,
          omittedByStatus: bounded.omittedByStatus,
          rest: whereTheRestIs(table, input, outcome.region, outcome.accountId, bounded.omittedByStatus),
        }
      : {}),
  };
}

export async function handleAdhoc(raw: unknown, rt: Runtime, context?: InvocationContext) {
  const input = parseAdhocInput(raw);
  const ruleIds = input.ruleIds ? parseRuleIds(input.ruleIds, RULES) : undefined;
  const region = input.region ?? rt.env.regions[0]!;
  try {
    rt.logger.info('ad-hoc audit', {
      region,
      instanceIds: input.instanceIds?.length ?? 0,
      ruleIds,
      dryRun: Boolean(input.dryRun),
    });
    const outcome = await auditTarget(rt, {
      region,
      scope: input.instanceIds ? { kind: 'instances', instanceIds: input.instanceIds } : { kind: 'region' },
      ruleIds,
      dryRun: input.dryRun,
      accountId: accountOf(context),
      remainingMs: remainingOf(context),
    });
    return adhocResponse(outcome, input, rt.env.table);
  } finally {
    rt.metrics.publishStoredMetrics();
  }
}
