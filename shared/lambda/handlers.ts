import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { parseRuleIds } from '../audit';

import { eventEnvelope, parseAtEdge, planForEnvelope } from '../events/event-plan';
import { FINDING_FIELDS, RULE_IDS, type Finding, type RuleId, type Status } from '../model';
import { INSTANCE_ID, MANAGED_INSTANCE_ID, REGION_NAME } from '../snapshot/schema';
import { auditTarget, closeInstances, vpcOf, type TargetOutcome } from './audit-target';
import { accountOf, type Runtime } from './runtime';

/** The cores of the three handlers: validate the trigger, choose the scope, call the core, summarize. */

export interface InvocationContext {
  invokedFunctionArn?: string;
  awsRequestId?: string;
}

export interface RegionSummary {
  region: string;
  scope: string;
  findings: Partial<Record<Status, number>>;
  apiCalls: number;
  failedCalls: string[];
  changes?: Record<string, number>;
  alerts?: Record<string, number>;
  error?: string;
}

const summarize = (o: TargetOutcome): RegionSummary => ({
  region: o.region,
  scope: o.scope,
  findings: o.byStatus,
  apiCalls: o.apiCalls,
  failedCalls: o.failedCalls,
  changes: o.report?.counts,
  alerts: o.report?.alerts,
});

/** A region whose audit failed as a whole (e.g. the table unreachable) does not stop the other regions. */
async function eachRegion(
  rt: Runtime,
  targets: readonly Parameters<typeof auditTarget>[1][],
): Promise<{ summaries: RegionSummary[]; failed: string[] }> {
  const summaries: RegionSummary[] = [];
  const failed: string[] = [];
  for (const target of targets) {
    try {
      summaries.push(summarize(await auditTarget(rt, target)));
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
  return { summaries, failed };
}

export class AuditFailedError extends Error {
  override readonly name = 'AuditFailedError';
}

// ---------------------------------------------------------------------------------------------------
// Scheduled audit

export async function handleScheduled(raw: unknown, rt: Runtime, context?: InvocationContext) {
  const event = parseAtEdge(raw, eventEnvelope, 'event');
  rt.logger.info('scheduled audit', { eventId: event.id, regions: rt.env.regions });
  const accountId = accountOf(context) ?? event.account;
  const { summaries, failed } = await eachRegion(
    rt,
    rt.env.regions.map((region) => ({ region, scope: { kind: 'region' as const }, accountId })),
  );
  rt.metrics.publishStoredMetrics();
  // Failing loudly after the other regions ran lets the Errors alarm fire without losing their results.
  if (failed.length) throw new AuditFailedError(`audit failed in ${failed.join('; ')}`);
  return { regions: summaries };
}

// ---------------------------------------------------------------------------------------------------
// Event audit

export async function handleEvent(raw: unknown, rt: Runtime, context?: InvocationContext) {
  const envelope = parseAtEdge(raw, eventEnvelope, 'event');
  const plan = planForEnvelope(envelope, rt.env.regions);
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
      });
      result = { action: plan.action, reason: plan.reason, closed: report.counts.closed };
      break;
    }
    case 'audit-vpc-of': {
      const vpcId = await vpcOf(rt.clientsFor(plan.region).ec2, plan.resource);
      const scope = vpcId ? { kind: 'vpc' as const, vpcId } : { kind: 'region' as const };
      const { summaries, failed } = await eachRegion(rt, [{ region: plan.region, scope, accountId }]);
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
        plan.targets.map((t) => ({ ...t, accountId })),
      );
      if (failed.length) throw new AuditFailedError(failed.join('; '));
      result = { action: plan.action, reason: plan.reason, regions: summaries };
      break;
    }
  }
  rt.metrics.publishStoredMetrics();
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
        const unknown = (ids ?? []).filter((id) => !RULE_IDS.includes(id as RuleId));
        if (unknown.length)
          ctx.addIssue({
            code: 'custom',
            message: `unknown rule id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid ids: ${RULE_IDS.join(', ')}`,
          });
      }),
    region: z.string().regex(REGION_NAME, 'must be an AWS region name like eu-west-1').optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();

export type AdhocInput = z.output<typeof adhocInputSchema>;

export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

/** Lambda returns at most 6 MB: above this, only the findings that need attention are listed. */
const MAX_RESPONSE_BYTES = 5_000_000;

export async function handleAdhoc(raw: unknown, rt: Runtime, context?: InvocationContext) {
  const parsed = adhocInputSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field =
      issue.code === 'unrecognized_keys'
        ? issue.keys.join(', ')
        : issue.path.length
          ? issue.path.join('.')
          : '(input)';
    throw new InvalidInputError(
      issue.code === 'unrecognized_keys'
        ? `unknown field ${field}; expected instanceIds, ruleIds, region, dryRun`
        : `invalid ${field}: ${issue.message}`,
    );
  }
  const input = parsed.data;
  const ruleIds = input.ruleIds ? parseRuleIds(input.ruleIds) : undefined;
  const region = input.region ?? rt.env.regions[0]!;
  rt.logger.info('ad-hoc audit', {
    region,
    instanceIds: input.instanceIds?.length ?? 0,
    ruleIds,
    dryRun: Boolean(input.dryRun),
  });
  let outcome: TargetOutcome;
  try {
    outcome = await auditTarget(rt, {
      region,
      scope: input.instanceIds ? { kind: 'instances', instanceIds: input.instanceIds } : { kind: 'region' },
      ruleIds,
      dryRun: input.dryRun,
      accountId: accountOf(context),
    });
  } finally {
    rt.metrics.publishStoredMetrics();
  }
  const all = outcome.findings.map(
    (f) => Object.fromEntries(FINDING_FIELDS.map((k) => [k, f[k]])) as unknown as Finding,
  );
  let findings = all;
  let omitted: number | undefined;
  if (Buffer.byteLength(JSON.stringify(all)) > MAX_RESPONSE_BYTES) {
    findings = all.filter((f) => f.status === 'FAIL' || f.status === 'ERROR' || f.status === 'WARN');
    omitted = all.length - findings.length;
  }
  return {
    region,
    accountId: outcome.accountId,
    dryRun: Boolean(input.dryRun),
    summary: summarize(outcome),
    findings,
    ...(omitted ? { omittedPassingFindings: omitted } : {}),
  };
}
