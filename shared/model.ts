/**
 * The finding contract of DESIGN §3. These names are public: `--format json`, the findings table
 * and the SNS messages all carry exactly these fields.
 */

export const STATUSES = ['PASS', 'FAIL', 'WARN', 'NOT_APPLICABLE', 'ERROR'] as const;
export type Status = (typeof STATUSES)[number];

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RESOURCE_TYPES = ['EC2Instance', 'ManagedInstance', 'Account'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/**
 * A rule's id. The ids are data of the rule registry (rules/index.ts: RULES, RULE_IDS), which shared/
 * never imports: entry points pass the rules in.
 */
export type RuleId = string;

export type Evidence = Record<string, unknown>;

export interface Finding {
  accountId: string;
  region: string;
  resourceType: ResourceType;
  resourceId: string;
  ruleId: RuleId;
  status: Status;
  severity: Severity;
  /** Stable machine code, e.g. NO_INSTANCE_PROFILE_AND_DHMC_OFF. */
  reason: string;
  /** One line for a person. */
  message: string;
  /** The facts that decided the status. */
  evidence: Evidence;
  /** A concrete console step or AWS CLI command. */
  remediation: string;
  /** The seed section the rule implements. */
  reference: string;
  evaluatedAt: string;
}

/** The field order of a finding, used by the JSON/CSV writers and by tests of the contract. */
export const FINDING_FIELDS = [
  'accountId',
  'region',
  'resourceType',
  'resourceId',
  'ruleId',
  'status',
  'severity',
  'reason',
  'message',
  'evidence',
  'remediation',
  'reference',
  'evaluatedAt',
] as const satisfies readonly (keyof Finding)[];

/** Order used by `--fail-on`: a status "at or above" the threshold makes the run fail. */
export const STATUS_RANK: Record<Status, number> = {
  PASS: 0,
  NOT_APPLICABLE: 0,
  WARN: 1,
  FAIL: 2,
  ERROR: 3,
};

export const SEVERITY_RANK: Record<Severity, number> = {
  INFORMATIONAL: 0,
  LOW: 1,
  MEDIUM: 2,
  HIGH: 3,
  CRITICAL: 4,
};
