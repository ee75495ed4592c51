import {
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { errorName, isThrottled, mapLimit } from '../collect/faults';
import type { Finding, RuleId, Severity, Status } from '../model';
import { FINDING_FIELDS } from '../model';
import {
  alertFor,
  diffOne,
  findingHash,
  type Change,
  type CloseReason,
  type PendingAlert,
  type StoredFinding,
} from './diff';
import {
  INDEX,
  SCOPES_PK,
  findingId,
  findingSk,
  historySk,
  indexKeys,
  pendingKeys,
  resourcePk,
  runPk,
  scopeSk,
  severityOrder,
} from './keys';

/** A failure of the findings table that the caller cannot work around (missing table, exhausted retries). */
export class FindingsStoreError extends Error {
  override readonly name = 'FindingsStoreError';
}

export interface FindingsStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** History records and closed findings expire after this many days (DynamoDB TTL). Default 90. */
  historyTtlDays?: number;
  /** Conditional writes in flight at once. Default 16. */
  writeConcurrency?: number;
  /** Attempts for a write that loses a race to an overlapping audit. Default 5. */
  maxConflictRetries?: number;
  /** Attempts for a BatchWriteItem chunk whose UnprocessedItems keep coming back. Default 8. */
  maxBatchAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** What the store wrote, for the run summary and the benchmark. */
export interface WriteCounters {
  /** Conditional writes of findings (one per new, changed or closed finding; retries included). */
  findingWrites: number;
  /** History records written (one per status change). */
  historyRecords: number;
  /** BatchWriteItem requests (history, run summary), including retries of unprocessed items. */
  batchRequests: number;
  unprocessedRetries: number;
  /** Writes that clear delivered alerts from the outbox. */
  alertClears: number;
  runRecords: number;
  /** Conditional writes that lost a race and were re-decided. */
  conflicts: number;
}

export interface AppliedChange {
  change: Change;
  /** The version the write produced. */
  version: number;
  /** The alert recorded with the write, if the transition alerts. */
  alert?: PendingAlert;
  /** The item as written (for alert messages). */
  item: StoredFinding;
}

export interface ApplyResult {
  applied: AppliedChange[];
  /** Changes another audit had already made, or made newer (left as stored). */
  superseded: number;
}

export interface RunRecord {
  runId: string;
  accountId: string;
  region: string;
  startedAt: string;
  finishedAt: string;
  scope: string;
  rules: string[];
  counts: Record<string, number>;
  byStatus: Partial<Record<Status, number>>;
  writes: WriteCounters;
  alerts: Record<string, number>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isConditionFailure = (err: unknown) => errorName(err) === 'ConditionalCheckFailedException';

/**
 * The findings table: load the stored findings of an audit's coverage, apply a diff with conditional
 * writes (a version attribute; a write that loses a race re-reads and re-decides, and never overwrites a
 * newer evaluation with an older one), keep a TTL'd history record per status change, an outbox of
 * undelivered alerts on the findings themselves, a summary per run, and serve the query access patterns.
 */
export class FindingsStore {
  readonly tableName: string;
  readonly counters: WriteCounters = {
    findingWrites: 0,
    historyRecords: 0,
    batchRequests: 0,
    unprocessedRetries: 0,
    alertClears: 0,
    runRecords: 0,
    conflicts: 0,
  };
  private readonly client: DynamoDBDocumentClient;
  private readonly ttlSeconds: number;
  private readonly writeConcurrency: number;
  private readonly maxConflictRetries: number;
  private readonly maxBatchAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: FindingsStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.ttlSeconds = Math.round((options.historyTtlDays ?? 90) * 86_400);
    this.writeConcurrency = options.writeConcurrency ?? 16;
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    this.maxBatchAttempts = options.maxBatchAttempts ?? 8;
    this.sleep = options.sleep ?? defaultSleep;
  }

  resetCounters(): void {
    for (const key of Object.keys(this.counters) as (keyof WriteCounters)[]) this.counters[key] = 0;
  }

  private expiresAt(now: Date): number {
    return Math.floor(now.getTime() / 1000) + this.ttlSeconds;
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') {
        throw new FindingsStoreError(
          `findings table ${this.tableName} does not exist (${what}); deploy the stack or pass --table NAME`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  private async queryAll(
    input: Omit<QueryCommandInput, 'TableName'>,
    what: string,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.send(what, () =>
        this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey })),
      );
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  // ------------------------------------------------------------------------------------------------
  // Loading the stored state of an audit's coverage

  /** Every open finding of one account and region (byScope index). */
  async loadRegion(accountId: string, region: string): Promise<Map<string, StoredFinding>> {
    const items = await this.queryAll(
      {
        IndexName: INDEX.byScope,
        KeyConditionExpression: 'gsi3pk = :p',
        ExpressionAttributeValues: { ':p': `SCOPE#${accountId}#${region}` },
      },
      'loading the findings of the region',
    );
    return new Map(
      items.map((item) => [findingId(item as unknown as Finding), item as unknown as StoredFinding]),
    );
  }

  /** The findings (open and closed) of these resources, read consistently from the table. */
  async loadResources(
    accountId: string,
    region: string,
    resourceIds: readonly string[],
  ): Promise<Map<string, StoredFinding>> {
    const out = new Map<string, StoredFinding>();
    await mapLimit([...new Set(resourceIds)], 8, async (resourceId) => {
      const items = await this.queryAll(
        {
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
          ExpressionAttributeValues: {
            ':p': resourcePk(resourceId),
            ':s': `FINDING#${accountId}#${region}#`,
          },
          ConsistentRead: true,
        },
        `loading the findings of ${resourceId}`,
      );
      for (const item of items)
        out.set(findingId(item as unknown as Finding), item as unknown as StoredFinding);
    });
    return out;
  }

  private async getFinding(f: { accountId: string; region: string; resourceId: string; ruleId: string }) {
    const got = await this.send('reading a finding', () =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: resourcePk(f.resourceId), sk: findingSk(f.accountId, f.region, f.ruleId) },
          ConsistentRead: true,
        }),
      ),
    );
    return got.Item as StoredFinding | undefined;
  }

  // ------------------------------------------------------------------------------------------------
  // Applying a diff

  /** Writes the changes with conditional writes; history records are written in batches afterwards. */
  async apply(changes: readonly Change[], run: { runId: string; now: Date }): Promise<ApplyResult> {
    const applied: AppliedChange[] = [];
    let superseded = 0;
    await mapLimit(changes, this.writeConcurrency, async (change) => {
      const result = await this.writeChange(change, run);
      if (result) applied.push(result);
      else superseded++;
    });
    await this.writeHistory(applied, run);
    return { applied, superseded };
  }

  private async writeChange(
    initial: Change,
    run: { runId: string; now: Date },
  ): Promise<AppliedChange | undefined> {
    let change: Change = initial;
    for (let attempt = 0; ; attempt++) {
      const { input, item, alert } = this.updateFor(change, run);
      try {
        this.counters.findingWrites++;
        await this.send('writing a finding', () => this.client.send(new UpdateCommand(input)));
        return { change, version: item.version, alert, item };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        this.counters.conflicts++;
        if (attempt >= this.maxConflictRetries) {
          throw new FindingsStoreError(
            `finding ${change.id} kept changing under overlapping audits (${attempt + 1} attempts)`,
            { cause: err },
          );
        }
        // Another audit wrote this finding since we read it: re-read and decide again.
        const fresh = await this.getFinding(change.type === 'closed' ? change.previous : change.finding);
        const next = this.redecide(change, fresh, run.now.toISOString());
        if (!next) return undefined;
        change = next;
      }
    }
  }

  /** After a lost race: the same change against the fresh item, or nothing if it is moot or stale. */
  private redecide(change: Change, fresh: StoredFinding | undefined, runAt: string): Change | undefined {
    if (change.type === 'closed') {
      if (!fresh || fresh.closedAt) return undefined;
      // An evaluation newer than this run reported the finding after this run found it gone: it wins.
      if (fresh.evaluatedAt > runAt) return undefined;
      return { ...change, previous: fresh, alert: alertFor(fresh.status, 'CLOSED') };
    }
    if (fresh && fresh.evaluatedAt > change.finding.evaluatedAt) return undefined;
    return diffOne(change.finding, fresh);
  }

  private updateFor(
    change: Change,
    run: { runId: string; now: Date },
  ): { input: ConstructorParameters<typeof UpdateCommand>[0]; item: StoredFinding; alert?: PendingAlert } {
    const now = run.now.toISOString();
    const previous = change.previous;
    const version = (previous?.version ?? 0) + 1;
    const base = change.type === 'closed' ? change.previous : change.finding;
    const id = findingId(base);
    const alert: PendingAlert | undefined = change.alert
      ? {
          id: `${id}#v${version}`,
          kind: change.alert,
          fromStatus: previous && !previous.closedAt ? previous.status : null,
          toStatus: change.type === 'closed' ? 'CLOSED' : change.finding.status,
          at: now,
          runId: run.runId,
          version,
          severity:
            change.alert === 'RESOLVED' && previous
              ? previous.severity
              : change.type === 'closed'
                ? base.severity
                : change.finding.severity,
        }
      : undefined;

    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    let n = 0;
    const set = (attribute: string, value: unknown) => {
      const k = `#a${n}`;
      const v = `:v${n++}`;
      names[k] = attribute;
      values[v] = value;
      sets.push(`${k} = ${v}`);
    };
    const remove = (attribute: string) => {
      const k = `#a${n++}`;
      names[k] = attribute;
      removes.push(k);
    };

    let item: StoredFinding;
    if (change.type === 'closed') {
      const reason: CloseReason = change.reason;
      item = {
        ...change.previous,
        version,
        closedAt: now,
        closeReason: reason,
        previousStatus: change.previous.status,
        statusChangedAt: now,
        lastRunId: run.runId,
      };
      set('version', version);
      set('closedAt', now);
      set('closeReason', reason);
      set('previousStatus', change.previous.status);
      set('statusChangedAt', now);
      set('lastRunId', run.runId);
      // A closed finding is a tombstone: out of every query index, gone after the TTL.
      set('expiresAt', this.expiresAt(run.now));
      for (const key of ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk']) remove(key);
    } else {
      const f = change.finding;
      const statusChangedAt = change.statusChanged ? now : (previous?.statusChangedAt ?? now);
      item = {
        ...f,
        version,
        hash: findingHash(f),
        firstSeenAt: previous?.firstSeenAt ?? now,
        statusChangedAt,
        previousStatus: previous && !previous.closedAt ? previous.status : null,
        lastRunId: run.runId,
      };
      for (const field of FINDING_FIELDS) set(field, f[field]);
      set('type', 'FINDING');
      set('version', version);
      set('hash', item.hash);
      set('firstSeenAt', item.firstSeenAt);
      set('statusChangedAt', statusChangedAt);
      set('previousStatus', item.previousStatus);
      set('lastRunId', run.runId);
      for (const [key, value] of Object.entries(indexKeys(f, statusChangedAt))) {
        if (value === undefined) remove(key);
        else set(key, value);
      }
      for (const key of ['closedAt', 'closeReason', 'expiresAt']) if (previous?.closedAt) remove(key);
    }
    if (alert) {
      // The outbox: the alert is recorded in the same write as the transition, so it cannot be lost.
      const k = `#a${n}`;
      names[k] = 'pendingAlerts';
      values[':alert'] = [alert];
      values[':none'] = [];
      sets.push(`${k} = list_append(if_not_exists(${k}, :none), :alert)`);
      n++;
      for (const [key, value] of Object.entries(pendingKeys(base))) set(key, value);
      item.pendingAlerts = [...(previous?.pendingAlerts ?? []), alert];
    }
    const condition = previous ? '#ver = :expected' : 'attribute_not_exists(pk)';
    if (previous) {
      names['#ver'] = 'version';
      values[':expected'] = previous.version;
    }
    return {
      input: {
        TableName: this.tableName,
        Key: { pk: resourcePk(base.resourceId), sk: findingSk(base.accountId, base.region, base.ruleId) },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      item,
      alert,
    };
  }

  private async writeHistory(
    applied: readonly AppliedChange[],
    run: { runId: string; now: Date },
  ): Promise<void> {
    const now = run.now.toISOString();
    const expiresAt = this.expiresAt(run.now);
    const records = applied
      .filter((a) => a.change.statusChanged)
      .map(({ change, version }) => {
        const base = change.type === 'closed' ? change.previous : change.finding;
        const fromStatus = change.previous && !change.previous.closedAt ? change.previous.status : null;
        return {
          pk: resourcePk(base.resourceId),
          sk: historySk(now, base.accountId, base.region, base.ruleId),
          type: 'HISTORY',
          accountId: base.accountId,
          region: base.region,
          resourceId: base.resourceId,
          resourceType: base.resourceType,
          ruleId: base.ruleId,
          fromStatus,
          toStatus: change.type === 'closed' ? 'CLOSED' : change.finding.status,
          severity: base.severity,
          reason: change.type === 'closed' ? change.reason : change.finding.reason,
          message:
            change.type === 'closed'
              ? `Closed (${change.reason === 'TERMINATED' ? 'instance terminated' : change.reason === 'RESOURCE_GONE' ? 'resource no longer exists' : 'rule no longer reports it'}); was ${change.previous.status}: ${change.previous.message}`
              : change.finding.message,
          changedAt: now,
          runId: run.runId,
          version,
          expiresAt,
        };
      });
    this.counters.historyRecords += records.length;
    await this.batchPut(records);
  }

  /** BatchWriteItem in chunks of 25; UnprocessedItems are retried with exponential backoff. */
  async batchPut(items: readonly Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= this.maxBatchAttempts) {
          throw new FindingsStoreError(
            `DynamoDB left ${requests.length} item(s) unprocessed after ${attempt} attempts; nothing already written is lost, re-run the audit`,
          );
        }
        if (attempt > 0) {
          this.counters.unprocessedRetries++;
          await this.sleep(Math.min(5_000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
        }
        this.counters.batchRequests++;
        let unprocessed: typeof requests;
        try {
          const out = await this.send('writing a batch', () =>
            this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } })),
          );
          unprocessed = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        } catch (err) {
          if (!isThrottled(err) && errorName(err) !== 'ProvisionedThroughputExceededException') throw err;
          unprocessed = requests;
        }
        requests = unprocessed;
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // The outbox of alerts

  /** Findings of one account/region with undelivered alerts (from this or earlier runs). */
  async pendingAlerts(accountId: string, region: string): Promise<StoredFinding[]> {
    const items = await this.queryAll(
      {
        IndexName: INDEX.pendingAlerts,
        KeyConditionExpression: 'gsi4pk = :p',
        ExpressionAttributeValues: { ':p': `PENDING#${accountId}#${region}` },
      },
      'reading pending alerts',
    );
    return items as unknown as StoredFinding[];
  }

  /** Removes delivered alerts from their findings' outbox (conditional; re-read and retried on a race). */
  async clearAlerts(
    delivered: ReadonlyMap<string, { finding: StoredFinding; alertIds: Set<string> }>,
  ): Promise<void> {
    await mapLimit([...delivered.values()], this.writeConcurrency, async ({ finding, alertIds }) => {
      let current: StoredFinding | undefined = finding;
      for (let attempt = 0; current; attempt++) {
        const remaining = (current.pendingAlerts ?? []).filter((a) => !alertIds.has(a.id));
        if (remaining.length === (current.pendingAlerts ?? []).length) return;
        const input = {
          TableName: this.tableName,
          Key: {
            pk: resourcePk(current.resourceId),
            sk: findingSk(current.accountId, current.region, current.ruleId),
          },
          UpdateExpression:
            remaining.length === 0
              ? 'REMOVE pendingAlerts, gsi4pk, gsi4sk'
              : 'SET pendingAlerts = :remaining',
          ConditionExpression: '#ver = :v',
          ExpressionAttributeNames: { '#ver': 'version' },
          ExpressionAttributeValues: {
            ':v': current.version,
            ...(remaining.length ? { ':remaining': remaining } : {}),
          },
        };
        try {
          this.counters.alertClears++;
          await this.send('clearing delivered alerts', () => this.client.send(new UpdateCommand(input)));
          return;
        } catch (err) {
          if (!isConditionFailure(err) || attempt >= this.maxConflictRetries) throw err;
          this.counters.conflicts++;
          current = await this.getFinding(current);
        }
      }
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Runs

  async putRun(record: RunRecord, now: Date): Promise<void> {
    this.counters.runRecords++;
    await this.batchPut([
      {
        pk: runPk(record.accountId, record.region),
        sk: `${record.startedAt}#${record.runId}`,
        type: 'RUN',
        ...record,
        expiresAt: this.expiresAt(now),
      },
      // The registry of audited account/regions, so queries across them stay Queries.
      {
        pk: SCOPES_PK,
        sk: scopeSk(record.accountId, record.region),
        accountId: record.accountId,
        region: record.region,
        lastRunAt: record.finishedAt,
      },
    ]);
  }

  // ------------------------------------------------------------------------------------------------
  // Queries (every one a Query on a key or index; see keys.ts)

  /** All rules' findings for one resource (closed ones left out). */
  async findingsOfResource(resourceId: string): Promise<StoredFinding[]> {
    const items = await this.queryAll(
      {
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
        FilterExpression: 'attribute_not_exists(closedAt)',
        ExpressionAttributeValues: { ':p': resourcePk(resourceId), ':s': 'FINDING#' },
      },
      `reading the findings of ${resourceId}`,
    );
    return items as unknown as StoredFinding[];
  }

  /** The status history of one resource, oldest first. */
  async historyOf(resourceId: string): Promise<Record<string, unknown>[]> {
    return this.queryAll(
      {
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':p': resourcePk(resourceId), ':s': 'HIST#' },
      },
      `reading the history of ${resourceId}`,
    );
  }

  /** Findings in one problem status (FAIL, ERROR, WARN), most severe first; optionally one severity. */
  async problems(status: Status, severity?: Severity): Promise<StoredFinding[]> {
    const items = await this.queryAll(
      {
        IndexName: INDEX.byProblem,
        KeyConditionExpression: severity ? 'gsi1pk = :p AND begins_with(gsi1sk, :s)' : 'gsi1pk = :p',
        ExpressionAttributeValues: {
          ':p': `PROBLEM#${status}`,
          ...(severity ? { ':s': `${severityOrder(severity)}#` } : {}),
        },
      },
      `reading ${status} findings`,
    );
    return items as unknown as StoredFinding[];
  }

  /** All findings of one rule in one status. */
  async byRule(ruleId: RuleId | string, status: Status): Promise<StoredFinding[]> {
    const items = await this.queryAll(
      {
        IndexName: INDEX.byRule,
        KeyConditionExpression: 'gsi2pk = :p',
        ExpressionAttributeValues: { ':p': `RULE#${ruleId}#${status}` },
      },
      `reading ${ruleId} findings`,
    );
    return items as unknown as StoredFinding[];
  }

  /** Everything in one account and region; with `since`, only findings whose status changed since then. */
  async inScope(accountId: string, region: string, since?: string): Promise<StoredFinding[]> {
    const items = await this.queryAll(
      {
        IndexName: INDEX.byScope,
        KeyConditionExpression: since ? 'gsi3pk = :p AND gsi3sk >= :since' : 'gsi3pk = :p',
        ExpressionAttributeValues: {
          ':p': `SCOPE#${accountId}#${region}`,
          ...(since ? { ':since': since } : {}),
        },
      },
      `reading the findings of ${accountId} ${region}`,
    );
    return items as unknown as StoredFinding[];
  }

  /** The account/regions that have been audited into this table. */
  async scopes(): Promise<{ accountId: string; region: string; lastRunAt?: string }[]> {
    const items = await this.queryAll(
      { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': SCOPES_PK } },
      'reading the audited account/regions',
    );
    return items as unknown as { accountId: string; region: string; lastRunAt?: string }[];
  }

  /** The most recent run summaries of one account and region, newest first. */
  async runs(accountId: string, region: string, limit = 10): Promise<RunRecord[]> {
    const page = await this.send('reading run summaries', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': runPk(accountId, region) },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (page.Items ?? []) as unknown as RunRecord[];
  }
}
