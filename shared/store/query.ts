import { SEVERITY_RANK, STATUSES, type Severity, type Status } from '../model';
import type { StoredFinding } from './diff';
import type { FindingsStore, RunRecord } from './findings-store';
import { PROBLEM_STATUSES } from './keys';

/**
 * `ssm-audit findings`: each filter combination is served by Queries on the table's keys and indexes
 * (keys.ts), never a Scan. The most selective filter picks the index; the others narrow its result.
 */

export interface FindingFilters {
  status?: Status[];
  ruleId?: string;
  instance?: string;
  severity?: Severity;
  /** ISO time: findings whose status changed at or after it. */
  since?: string;
  accountId?: string;
  region?: string;
}

export interface QueryOutcome<T> {
  items: T[];
  /** The Queries made, in words (index and key), for `--explain` and the tests. */
  plan: string[];
}

const bySeverityThenId = (a: StoredFinding, b: StoredFinding) =>
  SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
  a.resourceId.localeCompare(b.resourceId) ||
  a.ruleId.localeCompare(b.ruleId);

async function scopesOf(store: FindingsStore, filters: FindingFilters, plan: string[]) {
  if (filters.accountId && filters.region) return [{ accountId: filters.accountId, region: filters.region }];
  plan.push('Query table pk=SCOPES (the audited account/regions)');
  return (await store.scopes()).filter(
    (s) =>
      (!filters.accountId || s.accountId === filters.accountId) &&
      (!filters.region || s.region === filters.region),
  );
}

export async function queryFindings(
  store: FindingsStore,
  filters: FindingFilters,
  /** The registry's rule ids (PASS and NOT_APPLICABLE are queried per rule). */
  ruleIds: readonly string[],
): Promise<QueryOutcome<StoredFinding>> {
  const plan: string[] = [];
  let items: StoredFinding[] = [];
  const statuses = filters.status?.length ? filters.status : undefined;

  if (filters.instance) {
    plan.push(`Query table pk=RES#${filters.instance} begins_with(sk, FINDING#)`);
    items = await store.findingsOfResource(filters.instance);
  } else if (filters.ruleId) {
    for (const status of statuses ?? STATUSES) {
      plan.push(`Query byRule gsi2pk=RULE#${filters.ruleId}#${status}`);
      items.push(...(await store.byRule(filters.ruleId, status)));
    }
  } else if (filters.since) {
    for (const { accountId, region } of await scopesOf(store, filters, plan)) {
      plan.push(`Query byScope gsi3pk=SCOPE#${accountId}#${region} gsi3sk >= ${filters.since}`);
      items.push(...(await store.inScope(accountId, region, filters.since)));
    }
  } else {
    // All failing findings by default: FAIL, ERROR and WARN, most severe first.
    const wanted = statuses ?? PROBLEM_STATUSES;
    for (const status of wanted) {
      if (PROBLEM_STATUSES.includes(status)) {
        plan.push(
          `Query byProblem gsi1pk=PROBLEM#${status}${filters.severity ? ` begins_with(gsi1sk, ${filters.severity})` : ''}`,
        );
        items.push(...(await store.problems(status, filters.severity)));
      } else {
        // PASS and NOT_APPLICABLE are not in the sparse byProblem index: one Query per rule.
        for (const ruleId of filters.ruleId ? [filters.ruleId] : ruleIds) {
          plan.push(`Query byRule gsi2pk=RULE#${ruleId}#${status}`);
          items.push(...(await store.byRule(ruleId, status)));
        }
      }
    }
  }

  const filtered = items.filter(
    (f) =>
      !f.closedAt &&
      (!statuses || statuses.includes(f.status)) &&
      (!filters.ruleId || f.ruleId === filters.ruleId) &&
      (!filters.severity || f.severity === filters.severity) &&
      (!filters.since || f.statusChangedAt >= filters.since) &&
      (!filters.accountId || f.accountId === filters.accountId) &&
      (!filters.region || f.region === filters.region),
  );
  return { items: filtered.sort(bySeverityThenId), plan };
}

export async function queryHistory(
  store: FindingsStore,
  resourceId: string,
): Promise<QueryOutcome<Record<string, unknown>>> {
  return {
    items: await store.historyOf(resourceId),
    plan: [`Query table pk=RES#${resourceId} begins_with(sk, HIST#)`],
  };
}

export async function queryRuns(
  store: FindingsStore,
  filters: Pick<FindingFilters, 'accountId' | 'region'>,
  limit = 10,
): Promise<QueryOutcome<RunRecord>> {
  const plan: string[] = [];
  const items: RunRecord[] = [];
  for (const { accountId, region } of await scopesOf(store, filters, plan)) {
    plan.push(`Query table pk=RUN#${accountId}#${region} (newest first, limit ${limit})`);
    items.push(...(await store.runs(accountId, region, limit)));
  }
  return { items: items.sort((a, b) => b.startedAt.localeCompare(a.startedAt)), plan };
}
