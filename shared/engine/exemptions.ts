import type { Suppression } from '../model';

/**
 * Built-in exemptions (DESIGN §8): nodes that AWS services launch and run for themselves, which are not
 * meant to be managed by Systems Manager — yet Security Hub SSM.1 ("EC2 instances should be managed by
 * AWS Systems Manager", https://docs.aws.amazon.com/securityhub/latest/userguide/ssm-controls.html#ssm-1)
 * fails them. Only cases AWS documents are listed, each with how to recognise the node from the
 * instance's tags alone (the snapshot has them; no extra call).
 *
 * The service tag alone is not enough: Elastic Disaster Recovery and Application Migration Service tag
 * their recovery, test and cutover instances with the same key, and those are the customer's servers,
 * which should be managed. The replication and conversion servers are recognised by the service tag
 * *and* the Name the service gives them.
 */

export interface BuiltInExemption {
  id: string;
  title: string;
  /** How the auditor recognises the node, for `ssm-audit rules --exemptions`. */
  recognisedBy: string;
  /** AWS documentation pages that describe the node and the tag. */
  references: readonly string[];
  /** The `suppressed.reason` of an exempt finding. */
  reason: string;
  owner: string;
  matches(tags: ReadonlyMap<string, string>): boolean;
}

/** A built-in exemption never expires (it is switched off instead): the far end of ISO 8601 time. */
export const BUILT_IN_EXPIRES_AT = '9999-12-31T23:59:59.999Z';

const serviceNode = (tagKey: string, names: readonly string[]) => (tags: ReadonlyMap<string, string>) =>
  tags.has(tagKey) && names.includes(tags.get('Name') ?? '');

export const BUILT_IN_EXEMPTIONS: readonly BuiltInExemption[] = [
  {
    id: 'drs-replication-server',
    title: 'AWS Elastic Disaster Recovery replication and conversion servers',
    recognisedBy:
      'EC2 instance tagged AWSElasticDisasterRecoveryManaged and named "AWS Elastic Disaster Recovery Replication Server" or "AWS Elastic Disaster Recovery Conversion Server"',
    references: [
      'https://docs.aws.amazon.com/drs/latest/userguide/individual-replication-settings.html',
      'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSElasticDisasterRecoveryServiceRolePolicy.html',
    ],
    reason:
      'Replication/conversion server launched and terminated by AWS Elastic Disaster Recovery for its own use, not a managed node.',
    owner: 'built-in exemption (AWS Elastic Disaster Recovery)',
    matches: serviceNode('AWSElasticDisasterRecoveryManaged', [
      'AWS Elastic Disaster Recovery Replication Server',
      'AWS Elastic Disaster Recovery Conversion Server',
    ]),
  },
  {
    id: 'mgn-replication-server',
    title: 'AWS Application Migration Service replication and conversion servers',
    recognisedBy:
      'EC2 instance tagged AWSApplicationMigrationServiceManaged and named "AWS Application Migration Service Replication Server" or "AWS Application Migration Service Conversion Server"',
    references: [
      'https://docs.aws.amazon.com/mgn/latest/ug/replication-server-settings.html',
      'https://docs.aws.amazon.com/mgn/latest/ug/using-service-linked-roles.html',
    ],
    reason:
      'Replication/conversion server launched and terminated by AWS Application Migration Service for its own use, not a managed node.',
    owner: 'built-in exemption (AWS Application Migration Service)',
    matches: serviceNode('AWSApplicationMigrationServiceManaged', [
      'AWS Application Migration Service Replication Server',
      'AWS Application Migration Service Conversion Server',
    ]),
  },
];

export const BUILT_IN_EXEMPTION_IDS = BUILT_IN_EXEMPTIONS.map((e) => e.id);

/** Switched off through `--no-exemption ID` or this environment variable (comma-separated ids). */
export const DISABLED_EXEMPTIONS_ENV = 'SSM_AUDIT_DISABLED_EXEMPTIONS';

/** Thrown for an id that names no built-in exemption. */
export class UnknownExemptionError extends Error {
  override readonly name = 'UnknownExemptionError';
}

/** Comma-separated ids (the environment variable's form), each checked. */
export function parseExemptionIds(value: string | undefined): string[] {
  const ids = (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const bad = ids.filter((id) => !BUILT_IN_EXEMPTION_IDS.includes(id));
  if (bad.length)
    throw new UnknownExemptionError(
      `unknown exemption id${bad.length > 1 ? 's' : ''} ${bad.map((b) => JSON.stringify(b.slice(0, 60))).join(', ')}; valid ids: ${BUILT_IN_EXEMPTION_IDS.join(', ')}`,
    );
  return ids;
}

/** The built-ins in force: all but the disabled ones. */
export function activeExemptions(disabled: readonly string[] = []): BuiltInExemption[] {
  return BUILT_IN_EXEMPTIONS.filter((e) => !disabled.includes(e.id));
}

export function exemptionSuppression(exemption: BuiltInExemption): Suppression {
  return {
    id: exemption.id,
    reason: exemption.reason,
    owner: exemption.owner,
    expiresAt: BUILT_IN_EXPIRES_AT,
    builtIn: true,
  };
}
