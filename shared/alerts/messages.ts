import type { MessageAttributeValue, PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { FINDING_FIELDS, SEVERITY_RANK, type Finding, type Severity } from '../model';
import type { AlertKind, PendingAlert, StoredFinding } from '../store/diff';

/**
 * SNS messages (DESIGN §5): one per transition (new failure, regression, resolved) and one digest per
 * run. Each is published with `MessageStructure: json`: readable text for email subscriptions, the
 * structured JSON for every other protocol (`default`), and message attributes (severity, ruleId,
 * status, accountId, region, kind) that subscription filter policies can match.
 */

/** SNS's limit for one message, and for one PublishBatch request in total. */
export const SNS_MAX_BYTES = 262_144;
/** Room kept for the subject, attribute names and JSON framing of the two bodies. */
const BODY_BUDGET = SNS_MAX_BYTES - 4_096;

export type MessageKind = AlertKind | 'DIGEST';

export interface AlertAttributes {
  severity: Severity;
  ruleId: string;
  status: string;
  accountId: string;
  region: string;
  kind: MessageKind;
}

export interface AlertMessage {
  /** The outbox alert ids this message delivers (a digest delivers the alerts it summarizes). */
  alertIds: string[];
  subject: string;
  text: string;
  json: Record<string, unknown>;
  attributes: AlertAttributes;
}

const KIND_TITLE: Record<AlertKind, string> = {
  NEW_FAILURE: 'New failure',
  REGRESSION: 'Regression',
  RESOLVED: 'Resolved',
};

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
export function subjectLine(text: string): string {
  const ascii = text
    .replace(/[\u2012-\u2015]/g, '-')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

export const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

function findingFields(f: Finding): Record<string, unknown> {
  return Object.fromEntries(FINDING_FIELDS.map((field) => [field, f[field]]));
}

/** Evidence rendered for email, cut to `max` characters with a note saying so. */
function evidenceText(evidence: unknown, max: number): string {
  const text = JSON.stringify(evidence, null, 2) ?? '{}';
  return text.length <= max
    ? text
    : `${text.slice(0, max)}\n… (evidence truncated: ${text.length - max} more characters; query the findings table for all of it)`;
}

/** One transition of one finding. */
export function transitionMessage(finding: StoredFinding, alert: PendingAlert): AlertMessage {
  const closed = alert.toStatus === 'CLOSED';
  const title = KIND_TITLE[alert.kind];
  const where = `${finding.resourceId} (${finding.resourceType}) in account ${finding.accountId}, ${finding.region}`;
  const build = (evidenceBudget: number): AlertMessage => {
    const json = {
      kind: alert.kind,
      alertId: alert.id,
      transition: { from: alert.fromStatus, to: alert.toStatus, at: alert.at, runId: alert.runId },
      ...(closed ? { closeReason: finding.closeReason } : {}),
      finding: findingFields(finding),
    };
    let jsonText = JSON.stringify(json);
    let evidenceTruncated = false;
    if (byteLength(jsonText) > evidenceBudget) {
      evidenceTruncated = true;
      json.finding = {
        ...json.finding,
        evidence: { truncated: true, note: 'evidence too large for SNS; query the findings table' },
      };
      jsonText = JSON.stringify(json);
    }
    const lines = [
      `${title}: ${finding.ruleId} on ${where}`,
      '',
      `Status: ${alert.fromStatus ?? 'none'} -> ${alert.toStatus}${closed ? ` (${finding.closeReason === 'TERMINATED' ? 'instance terminated' : finding.closeReason === 'RESOURCE_GONE' ? 'resource no longer exists' : 'no longer reported'})` : ''}`,
      `Severity: ${alert.severity ?? finding.severity}    Reason: ${finding.reason}`,
      '',
      closed ? `Last finding: ${finding.message}` : finding.message,
      ...(closed || alert.kind === 'RESOLVED' ? [] : ['', 'How to fix:', finding.remediation]),
      '',
      'Evidence:',
      evidenceText(finding.evidence, evidenceTruncated ? 2_000 : Math.max(2_000, evidenceBudget / 2)),
      '',
      `Reference: ${finding.reference}`,
      `Evaluated at ${finding.evaluatedAt}; alert ${alert.id}`,
    ];
    return {
      alertIds: [alert.id],
      subject: subjectLine(
        `[SSM readiness] ${title}: ${finding.ruleId} ${alert.toStatus} on ${finding.resourceId} (${finding.region})`,
      ),
      text: lines.join('\n'),
      json: { ...json, ...(evidenceTruncated ? { evidenceTruncated } : {}) },
      attributes: {
        severity: alert.severity ?? finding.severity,
        ruleId: finding.ruleId,
        status: alert.toStatus,
        accountId: finding.accountId,
        region: finding.region,
        kind: alert.kind,
      },
    };
  };
  let message = build(BODY_BUDGET / 2);
  if (messageBytes(message) > SNS_MAX_BYTES) message = build(8_000);
  return message;
}

export interface DigestInput {
  accountId: string;
  region: string;
  runId: string;
  scope: string;
  finishedAt: string;
  counts: Record<string, number>;
  byStatus: Record<string, number>;
  /** Every transition of the run (and earlier undelivered ones summarized here). */
  transitions: { finding: StoredFinding; alert: PendingAlert }[];
  /** Transitions delivered only through this digest (over the per-run cap of individual alerts). */
  summarizedAlertIds: string[];
  /** Where the run's HTML report is published (the S3 console link), when the deployment publishes one. */
  reportUrl?: string;
}

const worst = (severities: Severity[]): Severity =>
  severities.reduce<Severity>((a, b) => (SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a), 'INFORMATIONAL');

/** One message per run with the counts and the lists of transitions, truncated to fit with counts. */
export function digestMessage(input: DigestInput): AlertMessage {
  const groups: Record<AlertKind, { finding: StoredFinding; alert: PendingAlert }[]> = {
    NEW_FAILURE: [],
    REGRESSION: [],
    RESOLVED: [],
  };
  for (const t of input.transitions) groups[t.alert.kind].push(t);
  const failing = [...groups.NEW_FAILURE, ...groups.REGRESSION];
  const severity = worst(input.transitions.map((t) => t.alert.severity ?? t.finding.severity));
  const line = (t: { finding: StoredFinding; alert: PendingAlert }) =>
    `  ${(t.alert.severity ?? t.finding.severity).padEnd(13)} ${t.finding.ruleId.padEnd(20)} ${t.finding.resourceId}: ${t.alert.fromStatus ?? 'none'} -> ${t.alert.toStatus} ${t.finding.reason}`;
  const entry = (t: { finding: StoredFinding; alert: PendingAlert }) => ({
    resourceId: t.finding.resourceId,
    ruleId: t.finding.ruleId,
    severity: t.finding.severity,
    from: t.alert.fromStatus,
    to: t.alert.toStatus,
    reason: t.finding.reason,
    message: t.finding.message,
  });
  const build = (limit: number): AlertMessage => {
    const sections: string[] = [];
    const jsonLists: Record<string, unknown> = {};
    const truncated: Record<string, number> = {};
    for (const kind of ['NEW_FAILURE', 'REGRESSION', 'RESOLVED'] as const) {
      const list = [...groups[kind]].sort(
        (a, b) =>
          SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] ||
          a.finding.resourceId.localeCompare(b.finding.resourceId),
      );
      const shown = list.slice(0, limit);
      const more = list.length - shown.length;
      if (more > 0) truncated[kind] = more;
      jsonLists[kind] = shown.map(entry);
      if (list.length)
        sections.push(
          `${KIND_TITLE[kind]} (${list.length}):`,
          ...shown.map(line),
          ...(more > 0 ? [`  … and ${more} more (query the findings table: ssm-audit findings)`] : []),
          '',
        );
    }
    const counts = input.counts;
    const text = [
      `SSM readiness audit of account ${input.accountId}, ${input.region} (${input.scope}), finished ${input.finishedAt}`,
      '',
      `Findings: ${
        Object.entries(input.byStatus)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ') || 'none'
      }`,
      `Changes: ${counts.new ?? 0} new, ${counts.changed ?? 0} changed, ${counts.closed ?? 0} closed, ${counts.unchanged ?? 0} unchanged`,
      `Transitions: ${groups.NEW_FAILURE.length} new failures, ${groups.REGRESSION.length} regressions, ${groups.RESOLVED.length} resolved`,
      '',
      ...sections,
      ...(input.reportUrl ? [`Report: ${input.reportUrl}`] : []),
      `Run ${input.runId}`,
    ].join('\n');
    return {
      alertIds: input.summarizedAlertIds,
      subject: subjectLine(
        `[SSM readiness] ${input.accountId} ${input.region}: ${groups.NEW_FAILURE.length} new failures, ${groups.REGRESSION.length} regressions, ${groups.RESOLVED.length} resolved`,
      ),
      text,
      json: {
        kind: 'DIGEST',
        runId: input.runId,
        accountId: input.accountId,
        region: input.region,
        scope: input.scope,
        finishedAt: input.finishedAt,
        counts,
        byStatus: input.byStatus,
        transitions: jsonLists,
        ...(Object.keys(truncated).length ? { truncated } : {}),
        ...(input.reportUrl ? { reportUrl: input.reportUrl } : {}),
      },
      attributes: {
        severity,
        ruleId: '*',
        status: failing.length ? 'FAIL' : 'PASS',
        accountId: input.accountId,
        region: input.region,
        kind: 'DIGEST',
      },
    };
  };
  let limit = 200;
  let message = build(limit);
  while (messageBytes(message) > SNS_MAX_BYTES && limit > 0) {
    limit = Math.floor(limit / 2);
    message = build(limit);
  }
  return message;
}

function attributesOf(attributes: AlertAttributes): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: String(v) }]),
  );
}

/** The PublishBatch entry: text for email, JSON for everything else. */
export function toPublishEntry(message: AlertMessage, id: string): PublishBatchRequestEntry {
  return {
    Id: id,
    Subject: message.subject,
    MessageStructure: 'json',
    Message: JSON.stringify({ default: JSON.stringify(message.json), email: message.text }),
    MessageAttributes: attributesOf(message.attributes),
  };
}

/** The bytes SNS counts for a message: body, subject and attributes. */
export function entryBytes(entry: PublishBatchRequestEntry): number {
  let n = byteLength(entry.Message ?? '') + byteLength(entry.Subject ?? '');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {}))
    n += byteLength(name) + byteLength(value.DataType ?? '') + byteLength(value.StringValue ?? '');
  return n;
}

export const messageBytes = (message: AlertMessage) => entryBytes(toPublishEntry(message, 'x'));
