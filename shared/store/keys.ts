import { SEVERITY_RANK, type Finding, type RuleId, type Severity, type Status } from '../model';

/**
 * The single-table layout of the findings table (DESIGN §4). Every access pattern is a Query:
 *
 * | access pattern                              | index          | partition key                    | sort key                                    |
 * |---------------------------------------------|----------------|----------------------------------|---------------------------------------------|
 * | all rules for one resource                  | table          | RES#<resourceId>                 | begins_with FINDING#                        |
 * | status history of one resource              | table          | RES#<resourceId>                 | begins_with HIST#  (time-ordered)           |
 * | all failing findings, most severe first     | byProblem      | PROBLEM#<FAIL|ERROR|WARN>        | <severity order>#<account>#<region>#…       |
 * | all findings of one rule and status         | byRule         | RULE#<ruleId>#<status>           | <account>#<region>#<resourceId>             |
 * | everything in one account/region, changes   | byScope        | SCOPE#<account>#<region>         | <statusChangedAt>#<resourceId>#<ruleId>     |
 * |   since a time                              |                |                                  |                                             |
 * | alerts not yet delivered (outbox)           | pendingAlerts  | PENDING#<account>#<region>       | <resourceId>#<ruleId>                       |
 * | summaries of recent runs                    | table          | RUN#<account>#<region>           | <startedAt>#<runId>                         |
 * | lease and watermarks of an account/region   | table          | AUDIT#<account>#<region>         | LEASE, MARK#<resourceId>                    |
 * | the fix plan's facts of an account/region   | table          | FACTS#<account>#<region>         | HEAD, PART#<asOf>#<runId>#<n>               |
 * | the account/regions ever audited            | table          | SCOPES                           | <account>#<region>                          |
 *
 * Instance and hybrid node ids are unique, so a resource's partition needs no account or region; the
 * sort key carries them for account-level resources (the account id itself), which recur per region.
 * byProblem is sparse (only FAIL, ERROR and WARN), pendingAlerts is sparse (only findings with an
 * undelivered alert), and closed findings leave byProblem/byRule/byScope.
 */

export const INDEX = {
  byProblem: 'byProblem',
  byRule: 'byRule',
  byScope: 'byScope',
  pendingAlerts: 'pendingAlerts',
} as const;

/** Statuses that are problems: indexed in byProblem. */
export const PROBLEM_STATUSES: readonly Status[] = ['FAIL', 'ERROR', 'WARN'];
/** Statuses that alert on entry and resolve on exit (DESIGN §5: new failure, regression, resolved). */
export const FAILING_STATUSES: readonly Status[] = ['FAIL', 'ERROR'];

export const resourcePk = (resourceId: string) => `RES#${resourceId}`;
export const findingSk = (accountId: string, region: string, ruleId: string) =>
  `FINDING#${accountId}#${region}#${ruleId}`;
/** Time-ordered; the version makes the key of one change fixed, so writing it again is harmless. */
export const historySk = (
  changedAt: string,
  accountId: string,
  region: string,
  ruleId: string,
  version: number,
) => `HIST#${changedAt}#${accountId}#${region}#${ruleId}#v${version}`;
/**
 * The audit bookkeeping of one account/region: the lease that serializes recording audits (with the
 * region's watermark: the collection time of the newest whole-region audit recorded) and one watermark
 * per resource that a scoped audit recorded.
 */
export const auditPk = (accountId: string, region: string) => `AUDIT#${accountId}#${region}`;
export const LEASE_SK = 'LEASE';
export const resourceMarkSk = (resourceId: string) => `MARK#${resourceId}`;
export const runPk = (accountId: string, region: string) => `RUN#${accountId}#${region}`;
export const SCOPES_PK = 'SCOPES';
export const scopeSk = (accountId: string, region: string) => `${accountId}#${region}`;

/** "0" sorts first: CRITICAL findings come first in byProblem. */
export const severityOrder = (severity: Severity) => String(4 - SEVERITY_RANK[severity]);

/** The identity of a finding: one per resource, rule, account and region. */
export const findingId = (f: { accountId: string; region: string; resourceId: string; ruleId: string }) =>
  `${f.accountId}#${f.region}#${f.resourceId}#${f.ruleId}`;

export function indexKeys(
  f: Pick<Finding, 'accountId' | 'region' | 'resourceId' | 'ruleId' | 'status' | 'severity'>,
  statusChangedAt: string,
): Record<string, string | undefined> {
  const problem = PROBLEM_STATUSES.includes(f.status);
  return {
    gsi1pk: problem ? `PROBLEM#${f.status}` : undefined,
    gsi1sk: problem
      ? `${severityOrder(f.severity)}#${f.accountId}#${f.region}#${f.resourceId}#${f.ruleId}`
      : undefined,
    gsi2pk: `RULE#${f.ruleId}#${f.status}`,
    gsi2sk: `${f.accountId}#${f.region}#${f.resourceId}`,
    gsi3pk: `SCOPE#${f.accountId}#${f.region}`,
    gsi3sk: `${statusChangedAt}#${f.resourceId}#${f.ruleId}`,
  };
}

export const pendingKeys = (f: {
  accountId: string;
  region: string;
  resourceId: string;
  ruleId: RuleId | string;
}) => ({
  gsi4pk: `PENDING#${f.accountId}#${f.region}`,
  gsi4sk: `${f.resourceId}#${f.ruleId}`,
});

/** The fix plan's facts of an account/region (plan-facts.ts): HEAD names the version of the parts. */
export const factsPk = (accountId: string, region: string) => `FACTS#${accountId}#${region}`;
export const FACTS_HEAD_SK = 'HEAD';
export const factsVersionPrefix = (version: string) => `PART#${version}#`;
export const factsPartSk = (version: string, part: number) =>
  `${factsVersionPrefix(version)}${String(part).padStart(4, '0')}`;
