import { z } from 'zod';

/**
 * The OCSF 1.6.0 "Compliance Finding" class (class_uid 2003), written from the schema's definition
 * files (events/base_event.json, events/findings/finding.json, events/findings/compliance_finding.json,
 * objects/*.json, dictionary.json) — the version AWS Security Hub documents it supports:
 * - base event: activity_id, category_uid, class_uid, metadata, severity_id, time, type_uid required;
 *   type_uid = class_uid × 100 + activity_id; category Findings is uid 2, the class uid 2003;
 *   severity_id 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other,
 *   `severity` its caption; time is timestamp_t (milliseconds since the epoch).
 * - finding: activity_id 1 Create, 2 Update, 3 Close (plus 0/99); finding_info required; status_id
 *   1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 5 Archived, 6 Deleted (plus 0/99).
 * - compliance finding: compliance required; remediation and resources recommended.
 * - compliance object: status_id 1 Pass, 2 Warning, 3 Fail (plus 0 Unknown / 99 Other, whose label
 *   is the source's); standards and requirements are string arrays; control a string.
 * - finding_info: uid required; title, desc strings; types string array; *_time timestamp_t.
 * - metadata: product and version required; product (an _entity: name or uid at least) with
 *   vendor_name and version; profiles lists applied profiles (the cloud profile makes `cloud`
 *   required).
 * - cloud: provider required; region; account (uid; type_id 10 = AWS Account).
 * - resource_details: name or uid at least; type, region, cloud_partition, owner, data (json).
 * - remediation: desc required; references a string array.
 */

const str = z.string().min(1);
const timestamp = z.number().int().nonnegative();

const ACTIVITY: Record<number, string> = { 0: 'Unknown', 1: 'Create', 2: 'Update', 3: 'Close', 99: 'Other' };
const SEVERITY: Record<number, string> = {
  0: 'Unknown',
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
  6: 'Fatal',
  99: 'Other',
};
const FINDING_STATUS: Record<number, string> = {
  0: 'Unknown',
  1: 'New',
  2: 'In Progress',
  3: 'Suppressed',
  4: 'Resolved',
  5: 'Archived',
  6: 'Deleted',
  99: 'Other',
};
const COMPLIANCE_STATUS: Record<number, string> = {
  0: 'Unknown',
  1: 'Pass',
  2: 'Warning',
  3: 'Fail',
  99: 'Other',
};

const enumId = (values: Record<number, string>) =>
  z
    .number()
    .int()
    .refine((id) => id in values, `one of ${Object.keys(values).join(', ')}`);

/** An OCSF caption must match its id's caption, except for 99 Other, where it is the source's label. */
const captionMatches = (values: Record<number, string>, id: number, caption: string | undefined) =>
  caption === undefined || id === 99 || values[id] === caption;

const account = z.object({
  uid: str,
  type_id: z.literal(10).optional(),
  type: z.literal('AWS Account').optional(),
});

const resource = z
  .object({
    uid: str.optional(),
    name: str.optional(),
    uid_alt: str.optional(),
    type: str.optional(),
    region: str.optional(),
    cloud_partition: str.optional(),
    owner: z.object({ account: account.optional(), uid: str.optional(), name: str.optional() }).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((r) => r.uid !== undefined || r.name !== undefined, 'a resource has a name or a uid');

export const ocsfComplianceFindingSchema = z
  .strictObject({
    activity_id: enumId(ACTIVITY),
    activity_name: str.optional(),
    category_uid: z.literal(2),
    category_name: z.literal('Findings').optional(),
    class_uid: z.literal(2003),
    class_name: z.literal('Compliance Finding').optional(),
    type_uid: z.number().int(),
    type_name: str.optional(),
    severity_id: enumId(SEVERITY),
    severity: str.optional(),
    status_id: enumId(FINDING_STATUS).optional(),
    status: str.optional(),
    time: timestamp,
    message: z.string().optional(),
    metadata: z.strictObject({
      version: z.string().regex(/^\d+\.\d+\.\d+$/),
      product: z
        .strictObject({
          name: str.optional(),
          uid: str.optional(),
          vendor_name: str.optional(),
          version: str.optional(),
        })
        .refine((p) => p.name !== undefined || p.uid !== undefined, 'a product has a name or a uid'),
      profiles: z.array(str).optional(),
      uid: str.optional(),
    }),
    cloud: z.strictObject({
      provider: str,
      region: str.optional(),
      cloud_partition: str.optional(),
      account: account.optional(),
    }),
    finding_info: z.strictObject({
      uid: str,
      title: str.optional(),
      desc: z.string().optional(),
      types: z.array(str).optional(),
      created_time: timestamp.optional(),
      first_seen_time: timestamp.optional(),
      last_seen_time: timestamp.optional(),
      modified_time: timestamp.optional(),
      analytic: z
        .strictObject({
          uid: str.optional(),
          name: str.optional(),
          type_id: enumId({ 0: '', 1: 'Rule', 99: '' }),
          type: str.optional(),
        })
        .optional(),
    }),
    compliance: z
      .strictObject({
        control: str.optional(),
        standards: z.array(str).optional(),
        requirements: z.array(str).optional(),
        status_id: enumId(COMPLIANCE_STATUS).optional(),
        status: str.optional(),
        status_code: str.optional(),
        status_details: z.array(str).optional(),
      })
      .refine(
        (c) => c.status_id === undefined || captionMatches(COMPLIANCE_STATUS, c.status_id, c.status),
        'compliance.status is the caption of compliance.status_id',
      ),
    resources: z.array(resource).min(1).optional(),
    remediation: z.strictObject({ desc: str, references: z.array(str).optional() }).optional(),
    unmapped: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((e) => e.type_uid === e.class_uid * 100 + e.activity_id, 'type_uid = class_uid * 100 + activity_id')
  .refine(
    (e) => captionMatches(ACTIVITY, e.activity_id, e.activity_name),
    'activity_name is the caption of activity_id',
  )
  .refine(
    (e) => captionMatches(SEVERITY, e.severity_id, e.severity),
    'severity is the caption of severity_id',
  )
  .refine(
    (e) => e.status_id === undefined || captionMatches(FINDING_STATUS, e.status_id, e.status),
    'status is the caption of status_id',
  )
  .refine(
    (e) => !e.metadata.profiles || e.metadata.profiles.includes('cloud'),
    'the cloud profile is declared',
  );

export function ocsfProblems(event: unknown): string[] {
  const result = ocsfComplianceFindingSchema.safeParse(event);
  return result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
