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
  /**
   * Present only on a suppressed finding (DESIGN §8): the suppression entry or built-in exemption that
   * matched it. The finding keeps its real status; it raises no alert, is left out of failure counts and
   * exit codes, and its stored item records the entry. Not one of FINDING_FIELDS (a finding without it
   * has exactly those fields); `--format json` appends it after `evaluatedAt` when present.
   */
  suppressed?: Suppression;
}

/** What a suppressed finding carries: which entry matched, why, who owns it and until when. */
export interface Suppression {
  /** The entry's id, or the built-in exemption's id. */
  id: string;
  reason: string;
  owner: string;
  /** ISO 8601; `9999-12-31T23:59:59.999Z` for a built-in exemption (it never expires, it is switched off). */
  expiresAt: string;
  /** A built-in exemption (a node AWS documents as not managed by Systems Manager by design). */
  builtIn?: boolean;
}

/** The optional field appended to a finding's JSON after FINDING_FIELDS, when present. */
export const SUPPRESSED_FIELD = 'suppressed' as const satisfies keyof Finding;

/**
 * What a suppression entry matches: every field given must equal the finding's (at least one is given).
 * `tag` matches an EC2 instance carrying the tag key (and, with `value`, that value).
 */
export interface SuppressionMatch {
  accountId?: string;
  region?: string;
  resourceId?: string;
  ruleId?: string;
  /** A reason code, e.g. NO_INSTANCE_PROFILE_AND_DHMC_OFF. */
  reason?: string;
  tag?: { key: string; value?: string };
}

/** A suppression entry: from a `--suppressions` file, or stored in the findings table (`ssm-audit suppress`). */
export interface SuppressionEntry {
  id: string;
  match: SuppressionMatch;
  reason: string;
  owner: string;
  /** ISO 8601. Required; at most MAX_SUPPRESSION_DAYS after the entry is added. An expired entry never matches. */
  expiresAt: string;
  createdAt?: string;
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
