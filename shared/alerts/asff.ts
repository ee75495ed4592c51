import { createHash } from 'node:crypto';
import type {
  AwsSecurityFinding,
  ComplianceStatus,
  Partition,
  RecordState,
  Resource,
  SeverityLabel,
} from '@aws-sdk/client-securityhub';
import type { Finding, ResourceType, Severity, Status } from '../model';
import type { StoredFinding } from '../store/diff';

/**
 * Findings in the AWS Security Finding Format (ASFF) for Security Hub CSPM's BatchImportFindings
 * (DESIGN §8). Pure: the caller passes the partition, the auditor's version and, when it wants to force
 * it, the record state. Limits and formats follow the AWS Security Hub API Reference
 * (AwsSecurityFinding, Resource, Recommendation) and the user guide's "Required top-level ASFF
 * attributes"; test/security-hub/asff-schema.ts checks every produced finding against them.
 */

/** The suppression an entry puts on a finding (the finding model carries it as an optional field). */
export interface SuppressionMark {
  id?: string;
  reason?: string;
  owner?: string;
  expiresAt?: string;
  /** A built-in exemption (a node AWS documents as not managed by Systems Manager by design). */
  builtIn?: boolean;
}

/**
 * What can be exported: a finding as the engine emits it (a CLI scan) or as the findings table stores
 * it, with its bookkeeping. Everything beyond the DESIGN §3 fields is optional.
 */
export type ExportableFinding = Finding &
  Partial<
    Pick<
      StoredFinding,
      'version' | 'firstSeenAt' | 'statusChangedAt' | 'previousStatus' | 'closedAt' | 'closeReason'
    >
  > & {
    /** The last audit that saw the finding unchanged, when the store records it. */
    lastSeenAt?: string;
    suppressed?: SuppressionMark;
  };

export interface AsffContext {
  /** `aws`, `aws-cn`, `aws-us-gov`…: the partition of the account the findings are imported into. */
  partition: string;
  /** Defaults to the account's default product (see defaultProductArn). */
  productArn?: string;
  auditorVersion: string;
  /** Forces the record state; by default it follows isArchived. */
  recordState?: RecordState;
  /** The rule's title (rules/<id>.ts meta.title) for the finding's Title; shared/ never imports rules/. */
  ruleTitle?: (ruleId: string) => string | undefined;
}

export const ASFF_SCHEMA_VERSION = '2018-10-08';
export const PRODUCT_NAME = 'SSM Readiness Auditor';
/** "namespace/category" of the ASFF types taxonomy: a configuration check against AWS best practice. */
export const ASFF_TYPES = ['Software and Configuration Checks/AWS Security Best Practices'] as const;

/** Limits of the AWS Security Hub API Reference (AwsSecurityFinding, Recommendation, Resource). */
export const ASFF_LIMITS = {
  id: 512,
  generatorId: 512,
  title: 256,
  description: 1024,
  recommendationText: 512,
  productFields: 50,
  productFieldKey: 128,
  productFieldValue: 2048,
  /** BatchImportFindings: "up to 240 KB per finding". */
  findingBytes: 240 * 1024,
} as const;

/** Partitions the ASFF Resource.Partition enum knows; another partition's resources leave it unset. */
const PARTITIONS: ReadonlySet<string> = new Set([
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-us-iso',
  'aws-us-iso-b',
]);

/** Security Hub CSPM's product for findings a customer imports into its own account (the "default" product). */
export const defaultProductArn = (partition: string, region: string, accountId: string) =>
  `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;

/**
 * One Id per (account, region, resource, rule): importing the same finding again updates it in Security
 * Hub instead of creating a second one. The ids we build are far below 512 characters; a longer one
 * (a foreign resource id) keeps its head and a hash, so it stays unique and stable.
 */
export function asffId(f: Pick<Finding, 'accountId' | 'region' | 'resourceId' | 'ruleId'>): string {
  const id = `ssm-readiness/${f.accountId}/${f.region}/${f.resourceId}/${f.ruleId}`;
  if (id.length <= ASFF_LIMITS.id) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 32);
  return `${id.slice(0, ASFF_LIMITS.id - hash.length - 1)}#${hash}`;
}

export const generatorId = (ruleId: string) => `ssm-readiness-auditor/${ruleId}`;

/** Statuses with nothing to act on: a passing finding is "resolved" in Security Hub's terms. */
const PASSING: ReadonlySet<Status> = new Set(['PASS', 'NOT_APPLICABLE']);

/**
 * Whether Security Hub should hold the finding as ARCHIVED: its resource is gone (closed), an entry
 * suppresses it, or it passes (resolved, or never failed). A regression makes it ACTIVE again.
 */
export const isArchived = (f: ExportableFinding): boolean =>
  Boolean(f.closedAt) || f.suppressed !== undefined || PASSING.has(f.status);

export const COMPLIANCE_STATUS: Record<Status, ComplianceStatus> = {
  PASS: 'PASSED',
  FAIL: 'FAILED',
  WARN: 'WARNING',
  // "could not evaluate" and "does not apply" are both "no result" for Security Hub.
  ERROR: 'NOT_AVAILABLE',
  NOT_APPLICABLE: 'NOT_AVAILABLE',
};

/** Our severities are Security Hub's labels; a passing finding carries no risk. */
export function severityLabel(f: Pick<Finding, 'status' | 'severity'>): SeverityLabel {
  return PASSING.has(f.status) ? 'INFORMATIONAL' : (f.severity satisfies Severity);
}

/** At most `max` characters, cut at a code point (never inside a surrogate pair), marked with "…". */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** The ISO 8601 UTC form Security Hub documents (YYYY-MM-DDTHH:MM:SS.sssZ), or undefined when unparsable. */
function timestamp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function latest(...values: (string | undefined)[]): string | undefined {
  const times = values.map(timestamp).filter((t): t is string => t !== undefined);
  return times.sort().at(-1);
}

const RESOURCE_KIND: Record<ResourceType, 'AwsEc2Instance' | 'Other'> = {
  EC2Instance: 'AwsEc2Instance',
  ManagedInstance: 'Other',
  Account: 'Other',
};

/**
 * The resource of a finding: an EC2 instance by its ARN; a hybrid node by an ARN-like id in the form of
 * Systems Manager's managed-instance ARN; the account in the form Security Hub uses for account
 * resources (AWS::::Account:<id>).
 */
export function asffResource(f: Finding, partition: string): Resource {
  const id =
    f.resourceType === 'EC2Instance'
      ? `arn:${partition}:ec2:${f.region}:${f.accountId}:instance/${f.resourceId}`
      : f.resourceType === 'ManagedInstance'
        ? `arn:${partition}:ssm:${f.region}:${f.accountId}:managed-instance/${f.resourceId}`
        : `AWS::::Account:${f.accountId}`;
  const resource: Resource = { Type: RESOURCE_KIND[f.resourceType], Id: id, Region: f.region };
  if (PARTITIONS.has(partition)) resource.Partition = partition as Partition;
  if (resource.Type === 'Other')
    resource.Details = { Other: { resourceType: f.resourceType, resourceId: f.resourceId } };
  return resource;
}

const FIELD_PREFIX = 'ssm-readiness';

/** ProductFields: string values only, at most 50 pairs, keys ≤ 128 and values ≤ 2048 characters. */
function productFields(f: ExportableFinding, ctx: AsffContext): Record<string, string> {
  const fields: [string, string | undefined][] = [
    ['ruleId', f.ruleId],
    ['reason', f.reason],
    ['status', f.status],
    ['severity', f.severity],
    ['resourceType', f.resourceType],
    ['resourceId', f.resourceId],
    ['auditorVersion', ctx.auditorVersion],
    ['evaluatedAt', f.evaluatedAt],
    ['closeReason', f.closedAt ? (f.closeReason ?? 'CLOSED') : undefined],
    ['suppressionId', f.suppressed?.id],
    ['suppressionReason', f.suppressed?.reason],
    ['suppressionOwner', f.suppressed?.owner],
    ['suppressionExpiresAt', f.suppressed?.builtIn ? undefined : f.suppressed?.expiresAt],
    ['suppressionBuiltIn', f.suppressed?.builtIn ? 'true' : undefined],
  ];
  const out: Record<string, string> = {};
  for (const [key, value] of fields) {
    if (value === undefined || value === '' || Object.keys(out).length >= ASFF_LIMITS.productFields) continue;
    out[truncate(`${FIELD_PREFIX}/${key}`, ASFF_LIMITS.productFieldKey)] = truncate(
      value,
      ASFF_LIMITS.productFieldValue,
    );
  }
  return out;
}

function description(f: ExportableFinding): string {
  const parts = [f.message.trim() || `${f.ruleId}: ${f.reason}`];
  if (f.suppressed?.builtIn)
    parts.push(
      `Exempt by the built-in exemption ${f.suppressed.id ?? ''}${f.suppressed.reason ? `: ${f.suppressed.reason}` : ''}.`,
    );
  else if (f.suppressed)
    parts.push(
      `Suppressed${f.suppressed.owner ? ` by ${f.suppressed.owner}` : ''}${
        f.suppressed.expiresAt ? ` until ${f.suppressed.expiresAt}` : ''
      }${f.suppressed.reason ? `: ${f.suppressed.reason}` : ''}.`,
    );
  if (f.closedAt) parts.push(`Closed at ${f.closedAt} (${f.closeReason ?? 'resource no longer reported'}).`);
  return truncate(parts.join(' '), ASFF_LIMITS.description);
}

/**
 * One finding in ASFF. Never sets Workflow (nor Note, UserDefinedFields, VerificationState): those are
 * the customer's, and BatchImportFindings does not update them after creation. Severity and Types also
 * go in FindingProviderFields, the place the API reads them from on an update.
 */
export function toAsff(f: ExportableFinding, ctx: AsffContext): AwsSecurityFinding {
  const evaluatedAt = timestamp(f.evaluatedAt) ?? f.evaluatedAt;
  const createdAt = timestamp(f.firstSeenAt) ?? evaluatedAt;
  const updatedAt = latest(f.evaluatedAt, f.statusChangedAt, f.closedAt) ?? evaluatedAt;
  const severity = { Label: severityLabel(f), Original: f.severity };
  const types = [...ASFF_TYPES];
  const title = ctx.ruleTitle?.(f.ruleId) ?? `SSM readiness: ${f.ruleId}`;
  const remediationText = f.remediation.trim() || f.message.trim() || f.reason;
  const finding: AwsSecurityFinding = {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: asffId(f),
    ProductArn: ctx.productArn ?? defaultProductArn(ctx.partition, f.region, f.accountId),
    ProductName: PRODUCT_NAME,
    GeneratorId: generatorId(f.ruleId),
    AwsAccountId: f.accountId,
    Region: f.region,
    Types: types,
    CreatedAt: createdAt,
    UpdatedAt: updatedAt,
    FirstObservedAt: createdAt,
    LastObservedAt: timestamp(f.lastSeenAt) ?? evaluatedAt,
    Severity: severity,
    Title: truncate(`${title} (${f.reason})`, ASFF_LIMITS.title),
    Description: description(f),
    Remediation: {
      Recommendation: {
        Text: truncate(remediationText, ASFF_LIMITS.recommendationText),
        // The AWS documentation page the rule implements; anything that is not a URL is left out.
        ...(/^https:\/\/\S+$/.test(f.reference) ? { Url: f.reference } : {}),
      },
    },
    ProductFields: productFields(f, ctx),
    Resources: [asffResource(f, ctx.partition)],
    Compliance: { Status: COMPLIANCE_STATUS[f.status] },
    FindingProviderFields: { Severity: severity, Types: types },
    RecordState: ctx.recordState ?? (isArchived(f) ? 'ARCHIVED' : 'ACTIVE'),
  };
  return finding;
}

/** The bytes a finding takes in a BatchImportFindings request body (JSON, UTF-8). */
export const asffBytes = (finding: AwsSecurityFinding) => Buffer.byteLength(JSON.stringify(finding), 'utf8');
