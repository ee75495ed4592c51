import type { ResourceType, Severity, Status } from '../model';
import { ASFF_TYPES, asffId, asffResource, isArchived, type ExportableFinding } from './asff';

/**
 * Findings as OCSF "Compliance Finding" events (class_uid 2003, category 2 Findings), for the
 * OCSF-based Security Hub and security data lakes. Written against OCSF schema 1.6.0, the version AWS
 * Security Hub documents ("Security Hub currently supports findings in OCSF schema version 1.6");
 * test/security-hub/ocsf-schema.ts checks every event against the attributes that version requires.
 */

export const OCSF_VERSION = '1.6.0';
export const OCSF_CATEGORY = { uid: 2, name: 'Findings' } as const;
export const OCSF_CLASS = { uid: 2003, name: 'Compliance Finding' } as const;

export interface OcsfContext {
  partition: string;
  auditorVersion: string;
  /** The rule's title (rules/<id>.ts meta.title); shared/ never imports rules/. */
  ruleTitle?: (ruleId: string) => string | undefined;
  productName?: string;
  vendorName?: string;
}

/** Finding activity (OCSF finding.activity_id). */
export const ACTIVITY = { 1: 'Create', 2: 'Update', 3: 'Close' } as const;
type ActivityId = keyof typeof ACTIVITY;

/** OCSF severity_id; a passing finding carries no risk, as in ASFF. */
export const SEVERITY_ID: Record<Severity, { id: 1 | 2 | 3 | 4 | 5; name: string }> = {
  INFORMATIONAL: { id: 1, name: 'Informational' },
  LOW: { id: 2, name: 'Low' },
  MEDIUM: { id: 3, name: 'Medium' },
  HIGH: { id: 4, name: 'High' },
  CRITICAL: { id: 5, name: 'Critical' },
};

/**
 * compliance.status_id: 1 Pass, 2 Warning, 3 Fail; "could not evaluate" is Unknown (0) and "does not
 * apply" has no normalized value, so it is Other (99) with its own label, as OCSF asks for 99.
 */
export const COMPLIANCE_STATUS_ID: Record<Status, { id: 0 | 1 | 2 | 3 | 99; name: string }> = {
  PASS: { id: 1, name: 'Pass' },
  WARN: { id: 2, name: 'Warning' },
  FAIL: { id: 3, name: 'Fail' },
  ERROR: { id: 0, name: 'Unknown' },
  NOT_APPLICABLE: { id: 99, name: 'Not Applicable' },
};

/** The finding's lifecycle (finding.status_id): 1 New, 3 Suppressed, 4 Resolved, 5 Archived. */
export const FINDING_STATUS = {
  NEW: { id: 1, name: 'New' },
  SUPPRESSED: { id: 3, name: 'Suppressed' },
  RESOLVED: { id: 4, name: 'Resolved' },
  ARCHIVED: { id: 5, name: 'Archived' },
} as const;

/** AWS CloudFormation resource type names, as Security Hub's OCSF findings name resources. */
export const OCSF_RESOURCE_TYPE: Record<ResourceType, string> = {
  EC2Instance: 'AWS::EC2::Instance',
  ManagedInstance: 'AWS::SSM::ManagedInstance',
  Account: 'AWS::::Account',
};

const STANDARD = 'AWS Systems Manager prerequisites';

/** OCSF timestamp_t: milliseconds since the epoch (UTC). */
function epochMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function lifecycle(f: ExportableFinding) {
  if (f.suppressed) return FINDING_STATUS.SUPPRESSED;
  if (f.closedAt) return FINDING_STATUS.ARCHIVED;
  if (f.status === 'PASS' || f.status === 'NOT_APPLICABLE') return FINDING_STATUS.RESOLVED;
  return FINDING_STATUS.NEW;
}

/** Close for what Security Hub would archive (closed, suppressed, passing); Update for a stored finding seen before. */
function activityOf(f: ExportableFinding): ActivityId {
  if (isArchived(f)) return 3;
  return (f.version ?? 1) > 1 ? 2 : 1;
}

export interface OcsfComplianceFinding {
  activity_id: ActivityId;
  activity_name: string;
  category_uid: 2;
  category_name: string;
  class_uid: 2003;
  class_name: string;
  type_uid: number;
  type_name: string;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  time: number;
  message: string;
  metadata: {
    version: string;
    product: { name: string; vendor_name: string; version: string };
    profiles: string[];
  };
  cloud: {
    provider: 'AWS';
    region: string;
    cloud_partition: string;
    account: { uid: string; type_id: 10; type: 'AWS Account' };
  };
  finding_info: {
    uid: string;
    title: string;
    desc: string;
    types: string[];
    created_time?: number;
    first_seen_time?: number;
    last_seen_time?: number;
    modified_time?: number;
    analytic: { uid: string; name: string; type_id: 1; type: 'Rule' };
  };
  compliance: {
    control: string;
    standards: string[];
    status_id: number;
    status: string;
    status_code: Status;
    status_details: string[];
  };
  resources: {
    uid: string;
    uid_alt: string;
    type: string;
    region: string;
    cloud_partition: string;
    owner: { account: { uid: string; type_id: 10; type: 'AWS Account' } };
    data: Record<string, unknown>;
  }[];
  remediation: { desc: string; references?: string[] };
  unmapped?: Record<string, string>;
}

/** One finding as an OCSF Compliance Finding event. */
export function toOcsf(f: ExportableFinding, ctx: OcsfContext): OcsfComplianceFinding {
  const activity = activityOf(f);
  const severity =
    f.status === 'PASS' || f.status === 'NOT_APPLICABLE'
      ? SEVERITY_ID.INFORMATIONAL
      : SEVERITY_ID[f.severity];
  const compliance = COMPLIANCE_STATUS_ID[f.status];
  const status = lifecycle(f);
  const evaluated = epochMs(f.evaluatedAt) ?? 0;
  const firstSeen = epochMs(f.firstSeenAt) ?? evaluated;
  const modified = Math.max(evaluated, epochMs(f.statusChangedAt) ?? 0, epochMs(f.closedAt) ?? 0);
  const title = ctx.ruleTitle?.(f.ruleId) ?? `SSM readiness: ${f.ruleId}`;
  const account = { uid: f.accountId, type_id: 10 as const, type: 'AWS Account' as const };
  const unmapped: Record<string, string> = {};
  if (f.closedAt) unmapped.close_reason = f.closeReason ?? 'CLOSED';
  if (f.suppressed) {
    for (const [key, value] of Object.entries(f.suppressed))
      if ((typeof value === 'string' && value) || typeof value === 'boolean')
        unmapped[`suppression_${key}`] = String(value);
  }
  return {
    activity_id: activity,
    activity_name: ACTIVITY[activity],
    category_uid: OCSF_CATEGORY.uid,
    category_name: OCSF_CATEGORY.name,
    class_uid: OCSF_CLASS.uid,
    class_name: OCSF_CLASS.name,
    // OCSF: type_uid = class_uid * 100 + activity_id.
    type_uid: OCSF_CLASS.uid * 100 + activity,
    type_name: `${OCSF_CLASS.name}: ${ACTIVITY[activity]}`,
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    time: evaluated,
    message: f.message,
    metadata: {
      version: OCSF_VERSION,
      product: {
        name: ctx.productName ?? 'SSM Readiness Auditor',
        vendor_name: ctx.vendorName ?? 'ssm-readiness-auditor',
        version: ctx.auditorVersion,
      },
      profiles: ['cloud'],
    },
    cloud: { provider: 'AWS', region: f.region, cloud_partition: ctx.partition, account },
    finding_info: {
      uid: asffId(f),
      title: `${title} (${f.reason})`,
      desc: f.message,
      types: [...ASFF_TYPES],
      created_time: firstSeen,
      first_seen_time: firstSeen,
      last_seen_time: epochMs(f.lastSeenAt) ?? evaluated,
      modified_time: modified,
      analytic: { uid: f.ruleId, name: title, type_id: 1, type: 'Rule' },
    },
    compliance: {
      control: f.ruleId,
      standards: [STANDARD],
      status_id: compliance.id,
      status: compliance.name,
      status_code: f.status,
      status_details: [f.reason, f.message].filter((s) => s.length > 0),
    },
    resources: [
      {
        uid: f.resourceId,
        uid_alt: asffResource(f, ctx.partition).Id ?? f.resourceId,
        type: OCSF_RESOURCE_TYPE[f.resourceType],
        region: f.region,
        cloud_partition: ctx.partition,
        owner: { account },
        data: { evidence: f.evidence },
      },
    ],
    remediation: {
      desc: f.remediation.trim() || f.message,
      ...(/^https:\/\/\S+$/.test(f.reference) ? { references: [f.reference] } : {}),
    },
    ...(Object.keys(unmapped).length ? { unmapped } : {}),
  };
}
