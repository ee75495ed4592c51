import { z } from 'zod';

/**
 * The AWS Security Finding Format as BatchImportFindings accepts it, written from the AWS documentation
 * (not from our code):
 * - Security Hub User Guide, "Required top-level ASFF attributes": AwsAccountId, CreatedAt,
 *   Description, GeneratorId, Id, ProductArn, Resources, SchemaVersion, Severity, Title, Types,
 *   UpdatedAt.
 * - Security Hub API Reference, AwsSecurityFinding: Id and GeneratorId 1–512 characters; ProductArn
 *   12–2048; ProductName and CompanyName 1–128; Region 1–16; AwsAccountId 12; Types at most 50 items
 *   in the form namespace/category/classifier; Title 1–256; Description 1–1024; ProductFields at most
 *   50 pairs, key ≤ 128 and value ≤ 2048 characters; Resources 1–32 items; every string matches
 *   `.*\S.*`; timestamps in the formats of "Timestamps" (YYYY-MM-DDTHH:MM:SS[.fraction up to 9
 *   digits] ending with Z or an offset bounded by ±18:00).
 * - Resource: Type 1–256 (AwsEc2Instance…, or Other), Id required, Partition aws | aws-cn |
 *   aws-us-gov (the SDK adds the ISO partitions), Region 1–16. Recommendation: Text 1–512, Url.
 * - Enums: Severity.Label, Compliance.Status, RecordState.
 * - BatchImportFindings: "cannot be used to update … Note, UserDefinedFields, VerificationState,
 *   Workflow" (the customer's fields): a product never sets them, so this schema refuses them.
 * - The ASFF types taxonomy: namespaces Software and Configuration Checks, TTPs, Effects, Unusual
 *   Behaviors, Sensitive Data Identifications.
 */

const nonBlank = (min: number, max?: number) => {
  const s = z.string().min(min).regex(/\S/, 'matches .*\\S.*');
  return max === undefined ? s : s.max(max);
};

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):?(\d{2})?)$/;

/** A timestamp in one of the documented formats, a real calendar time, offset within ±18:00. */
export const asffTimestamp = z.string().refine((value) => {
  const m = TIMESTAMP.exec(value);
  if (!m) return false;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
  const sameFields =
    date.getUTCFullYear() === +y! &&
    date.getUTCMonth() === +mo! - 1 &&
    date.getUTCDate() === +d! &&
    date.getUTCHours() === +h! &&
    date.getUTCMinutes() === +mi! &&
    date.getUTCSeconds() === +s!;
  if (!sameFields) return false;
  if (m[8] === 'Z') return true;
  const offsetMinutes = +m[10]! * 60 + +(m[11] ?? 0);
  return offsetMinutes <= 18 * 60;
}, 'a timestamp in a format of the Security Hub API Reference "Timestamps"');

const TYPE_NAMESPACES = [
  'Software and Configuration Checks',
  'TTPs',
  'Effects',
  'Unusual Behaviors',
  'Sensitive Data Identifications',
];

const findingType = nonBlank(1).refine((t) => {
  const parts = t.split('/');
  return (
    parts.length >= 2 &&
    parts.length <= 3 &&
    TYPE_NAMESPACES.includes(parts[0]!) &&
    parts.every((p) => p.length > 0)
  );
}, 'namespace/category[/classifier] with a namespace of the ASFF types taxonomy');

const severity = z.strictObject({
  Label: z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
  Original: nonBlank(1).optional(),
});

const resource = z.strictObject({
  Type: nonBlank(1, 256),
  Id: nonBlank(1),
  Partition: z.enum(['aws', 'aws-cn', 'aws-us-gov', 'aws-us-iso', 'aws-us-iso-b']).optional(),
  Region: nonBlank(1, 16).optional(),
  Tags: z.record(z.string(), z.string()).optional(),
  Details: z.strictObject({ Other: z.record(nonBlank(1, 128), nonBlank(1, 1024)).optional() }).optional(),
});

const productFields = z
  .record(nonBlank(1, 128), nonBlank(1, 2048))
  .refine((fields) => Object.keys(fields).length <= 50, 'at most 50 ProductFields');

export const asffFindingSchema = z.strictObject({
  SchemaVersion: z.literal('2018-10-08'),
  Id: nonBlank(1, 512),
  ProductArn: nonBlank(12, 2048).regex(/^arn:[a-z-]+:securityhub:[a-z0-9-]+:\d{12}:product\/[^/]+\/[^/]+$/),
  ProductName: nonBlank(1, 128).optional(),
  CompanyName: nonBlank(1, 128).optional(),
  Region: nonBlank(1, 16).optional(),
  GeneratorId: nonBlank(1, 512),
  AwsAccountId: z.string().regex(/^\d{12}$/),
  Types: z.array(findingType).min(1).max(50),
  FirstObservedAt: asffTimestamp.optional(),
  LastObservedAt: asffTimestamp.optional(),
  CreatedAt: asffTimestamp,
  UpdatedAt: asffTimestamp,
  Severity: severity,
  Title: nonBlank(1, 256),
  Description: nonBlank(1, 1024),
  Remediation: z
    .strictObject({
      Recommendation: z
        .strictObject({ Text: nonBlank(1, 512).optional(), Url: z.url().optional() })
        .optional(),
    })
    .optional(),
  SourceUrl: z.url().optional(),
  ProductFields: productFields.optional(),
  Resources: z.array(resource).min(1).max(32),
  Compliance: z
    .strictObject({ Status: z.enum(['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE']).optional() })
    .optional(),
  RecordState: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  FindingProviderFields: z
    .strictObject({ Severity: severity.optional(), Types: z.array(findingType).max(50).optional() })
    .optional(),
  // Workflow, WorkflowState, Note, UserDefinedFields and VerificationState are absent on purpose: the
  // strict object refuses them.
});

export type AsffFindingShape = z.infer<typeof asffFindingSchema>;

/** The problems of a finding, one line each (empty when it is valid). */
export function asffProblems(finding: unknown): string[] {
  const result = asffFindingSchema.safeParse(finding);
  return result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
