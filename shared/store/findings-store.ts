import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { errorName, isThrottled, mapLimit } from '../aws/faults';
import type { Finding, RuleId, Severity, Status } from '../model';
import { FINDING_FIELDS } from '../model';
import {
  alertForClose,
  diffOne,
  findingHash,
  type Change,
  type CloseReason,
  type HistoryRecord,
  type PendingAlert,
  type StoredFinding,
} from './diff';
import {
  INDEX,
  LEASE_SK,
  SCOPES_PK,
  auditPk,
  resourceMarkSk,
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
import { loadFacts, saveFacts, type SaveFactsOutcome, type StoredPlanFacts } from './plan-facts';

/** A failure of the findings table that the caller cannot work around (missing table, exhausted retries). */
export class FindingsStoreError extends Error {
  override readonly name: string = 'FindingsStoreError';
}

/** This run no longer holds the account/region's lease (it expired and another audit took it): it stops. */
export class LeaseLostError extends FindingsStoreError {
  override readonly name = 'LeaseLostError';
}

/** The right to record an audit of one account/region, until `until` (the store's clock, ms). */
export interface AuditLease {
  accountId: string;
  region: string;
  runId: string;
  until: number;
}

/** What newer audits already recorded: a finding they cover is theirs to decide. */
export interface Watermarks {
  /** The collection time of the newest whole-region audit recorded. */
  region?: string;
  /** Per resource, the collection time of the newest scoped audit that recorded it. */
  resources: Map<string, string>;
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
  /** The lease clock (epoch ms). Default: the system clock. */
  clock?: () => number;
  /** How long a lease lasts without renewal. Default 60 s (renewed while the run writes). */
  leaseMs?: number;
  /** How long an audit waits for another audit of the same account/region to finish. Default 3 min. */
  leaseWaitMs?: number;
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
  /** Lease and watermark writes (O(1) per audit; O(resources) for a scoped audit's watermarks). */
  leaseWrites: number;
  /** Items of the fix plan's facts written or deleted (none when they are unchanged). */
  factsWrites: number;
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
  /** The collection time the audit is as of (what "newest evaluation wins" compares). */
  asOf?: string;
  finishedAt: string;
  scope: string;
  rules: string[];
  counts: Record<string, number>;
  byStatus: Partial<Record<Status, number>>;
  writes: WriteCounters;
  alerts: Record<string, number>;
  /** Security Hub export of this run (absent when export is off). */
  exports?: {
    target: string;
    sent: number;
    accepted: number;
    failed: number;
    initialImport: boolean;
    errors?: { id: string; error: string }[];
  };
  /** The fix plan's facts of a whole-region audit: saved, unchanged, kept from a newer audit, or why not. */
  planFacts?: SaveFactsOutcome | { error: string };
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
    leaseWrites: 0,
    factsWrites: 0,
  };
  private readonly client: DynamoDBDocumentClient;
  private readonly ttlSeconds: number;
  private readonly writeConcurrency: number;
  private readonly maxConflictRetries: number;
  private readonly maxBatchAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  readonly leaseMs: number;
  private readonly leaseWaitMs: number;

  constructor(options: FindingsStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.ttlSeconds = Math.round((options.historyTtlDays ?? 90) * 86_400);
    this.writeConcurrency = options.writeConcurrency ?? 16;
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    this.maxBatchAttempts = options.maxBatchAttempts ?? 8;
    this.sleep = options.sleep ?? defaultSleep;
    this.clock = options.clock ?? Date.now;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.leaseWaitMs = options.leaseWaitMs ?? 180_000;
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
  // The lease and the watermarks (DESIGN §4 "newest evaluation wins")
  //
  // DynamoDB's conditional writes check one item; a newer audit that found a finding unchanged writes
  // nothing to it, so the finding alone cannot tell an older audit that it is stale. Recording audits of
  // one account/region therefore take turns, through a lease on one item (a conditional write), and each
  // records how new it was: the region's watermark (whole-region audits) or one per resource (scoped
  // audits). Under the lease an audit leaves alone everything a newer audit covered. The lease lives in
  // the table itself, so the guarantee holds for every writer (scheduled, event and ad-hoc functions,
  // Lambda retries, the CLI) whatever queue, if any, delivered the work. A holder renews it at half-life
  // and stops when it cannot, so a run that outlived its lease never writes over the one that took it.

  /** Takes the account/region's lease, waiting (bounded) while another audit holds it. */
  async acquireLease(accountId: string, region: string, runId: string): Promise<AuditLease> {
    const started = this.clock();
    for (let attempt = 0; ; attempt++) {
      const now = this.clock();
      const until = now + this.leaseMs;
      try {
        this.counters.leaseWrites++;
        await this.send('taking the audit lease', () =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: auditPk(accountId, region), sk: LEASE_SK },
              UpdateExpression: 'SET holder = :me, leaseUntil = :until',
              ConditionExpression: 'attribute_not_exists(holder) OR leaseUntil < :now OR holder = :me',
              ExpressionAttributeValues: { ':me': runId, ':until': until, ':now': now },
            }),
          ),
        );
        return { accountId, region, runId, until };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        if (now - started >= this.leaseWaitMs) {
          throw new FindingsStoreError(
            `another audit of ${accountId} ${region} is still recording its findings after ${Math.round(
              (now - started) / 1000,
            )} s; nothing was written, retry the audit`,
          );
        }
        await this.sleep(Math.min(2_000, 25 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2));
      }
    }
  }

  /**
   * Before each write: the lease must have room left for the write (renewed at half-life). A run that
   * lost its lease stops instead of writing over the audit that took it.
   */
  async keepLease(lease: AuditLease): Promise<void> {
    const now = this.clock();
    if (lease.until - now > this.leaseMs / 2) return;
    const until = now + this.leaseMs;
    try {
      this.counters.leaseWrites++;
      await this.send('renewing the audit lease', () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: auditPk(lease.accountId, lease.region), sk: LEASE_SK },
            UpdateExpression: 'SET leaseUntil = :until',
            ConditionExpression: 'holder = :me AND leaseUntil >= :now',
            ExpressionAttributeValues: { ':me': lease.runId, ':until': until, ':now': now },
          }),
        ),
      );
      lease.until = until;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      throw new LeaseLostError(
        `the audit of ${lease.accountId} ${lease.region} lost its lease (it ran past it and another audit took over); it stopped writing, the next audit completes the work`,
      );
    }
  }

  /** Gives the lease back (a no-op if it was lost). */
  async releaseLease(lease: AuditLease): Promise<void> {
    try {
      this.counters.leaseWrites++;
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: auditPk(lease.accountId, lease.region), sk: LEASE_SK },
          UpdateExpression: 'REMOVE holder, leaseUntil',
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': lease.runId },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** The region's and the resources' watermarks (one consistent Query). */
  async watermarks(accountId: string, region: string): Promise<Watermarks> {
    const items = await this.queryAll(
      {
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': auditPk(accountId, region) },
        ConsistentRead: true,
      },
      'reading the audit watermarks',
    );
    const out: Watermarks = { resources: new Map() };
    for (const item of items) {
      const asOf = typeof item.asOf === 'string' ? item.asOf : undefined;
      if (!asOf) continue;
      if (item.sk === LEASE_SK) out.region = asOf;
      else if (typeof item.resourceId === 'string') out.resources.set(item.resourceId, asOf);
    }
    return out;
  }

  /**
   * Records that an audit as of `asOf` decides these findings: the region's watermark for a whole-region
   * audit, one per resource for a scoped one. Written before any finding, under the lease.
   */
  async markAudit(
    lease: AuditLease,
    asOf: string,
    coverage: { kind: 'region' } | { kind: 'resources'; resourceIds: readonly string[] },
    now: Date,
  ): Promise<void> {
    await this.keepLease(lease);
    if (coverage.kind === 'region') {
      this.counters.leaseWrites++;
      await this.send('recording the audit watermark', () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: auditPk(lease.accountId, lease.region), sk: LEASE_SK },
            UpdateExpression: 'SET asOf = :t',
            ConditionExpression: 'holder = :me AND (attribute_not_exists(asOf) OR asOf <= :t)',
            ExpressionAttributeValues: { ':me': lease.runId, ':t': asOf },
          }),
        ),
      ).catch((err: unknown) => {
        if (isConditionFailure(err))
          throw new LeaseLostError(`the audit of ${lease.accountId} ${lease.region} lost its lease`);
        throw err;
      });
      return;
    }
    const expiresAt = this.expiresAt(now);
    const items = [...new Set(coverage.resourceIds)].map((resourceId) => ({
      pk: auditPk(lease.accountId, lease.region),
      sk: resourceMarkSk(resourceId),
      resourceId,
      asOf,
      expiresAt,
    }));
    this.counters.leaseWrites += items.length;
    await this.batchPut(items, lease);
  }

  // ------------------------------------------------------------------------------------------------
  // Applying a diff

  /**
   * Writes the changes with conditional writes, each carrying its history record and alert (the outbox),
   * then copies the history records to their own items. With a lease, every write first checks it.
   */
  async apply(
    changes: readonly Change[],
    run: { runId: string; now: Date; lease?: AuditLease; exportChanges?: boolean },
  ): Promise<ApplyResult> {
    const applied: AppliedChange[] = [];
    let superseded = 0;
    await mapLimit(changes, this.writeConcurrency, async (change) => {
      const result = await this.writeChange(change, run);
      if (result) applied.push(result);
      else superseded++;
    });
    await this.writeHistory(
      applied.flatMap((a) => a.item.pendingHistory ?? []),
      run.lease,
    );
    return { applied, superseded };
  }

  private async writeChange(
    initial: Change,
    run: { runId: string; now: Date; lease?: AuditLease; exportChanges?: boolean },
  ): Promise<AppliedChange | undefined> {
    let change: Change = initial;
    for (let attempt = 0; ; attempt++) {
      const { input, item, alert } = this.updateFor(change, run);
      try {
        if (run.lease) await this.keepLease(run.lease);
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
      return { ...change, previous: fresh, alert: alertForClose(fresh) };
    }
    if (fresh && fresh.evaluatedAt > change.finding.evaluatedAt) return undefined;
    return diffOne(change.finding, fresh);
  }

  private updateFor(
    change: Change,
    run: { runId: string; now: Date; exportChanges?: boolean },
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
      // The suppression travels in the same conditional write as the finding (DESIGN §8).
      if (f.suppressed) set('suppressed', f.suppressed);
      else if (previous?.suppressed) remove('suppressed');
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
    const history = change.statusChanged ? this.historyFor(change, run, version) : undefined;
    if (history) {
      // The history record travels with the change (same write), so a run that dies cannot lose it.
      const k = `#a${n++}`;
      names[k] = 'pendingHistory';
      values[':history'] = [history];
      values[':noHistory'] = [];
      sets.push(`${k} = list_append(if_not_exists(${k}, :noHistory), :history)`);
      item.pendingHistory = [...(previous?.pendingHistory ?? []), history];
    }
    // Security Hub export on (DESIGN §8): the change is marked for export in the same write, so it
    // cannot be lost before it is imported.
    if (run.exportChanges) {
      // The export outbox: this version is to be imported into Security Hub (cleared once it is).
      set('pendingExport', version);
      item.pendingExport = version;
    }
    if (alert || history || run.exportChanges)
      for (const [key, value] of Object.entries(pendingKeys(base))) set(key, value);
    if (alert) {
      // The outbox: the alert is recorded in the same write as the transition, so it cannot be lost.
      const k = `#a${n}`;
      names[k] = 'pendingAlerts';
      values[':alert'] = [alert];
      values[':none'] = [];
      sets.push(`${k} = list_append(if_not_exists(${k}, :none), :alert)`);
      n++;
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

  private historyFor(change: Change, run: { runId: string; now: Date }, version: number): HistoryRecord {
    const now = run.now.toISOString();
    const base = change.type === 'closed' ? change.previous : change.finding;
    const fromStatus = change.previous && !change.previous.closedAt ? change.previous.status : null;
    return {
      pk: resourcePk(base.resourceId),
      sk: historySk(now, base.accountId, base.region, base.ruleId, version),
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
      expiresAt: this.expiresAt(run.now),
    };
  }

  /** Copies history records to their own items (idempotent: a record's key is fixed by its change). */
  async writeHistory(records: readonly HistoryRecord[], lease?: AuditLease): Promise<void> {
    this.counters.historyRecords += records.length;
    await this.batchPut(records as unknown as Record<string, unknown>[], lease);
  }

  /** BatchWriteItem in chunks of 25; UnprocessedItems are retried with exponential backoff. */
  async batchPut(items: readonly Record<string, unknown>[], lease?: AuditLease): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      if (lease) await this.keepLease(lease);
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

  /**
   * Findings of one account/region with an undelivered alert or an uncopied history record (from this
   * or earlier runs). The index is eventually consistent, so each hit is read again consistently: an
   * outbox another run has just emptied is not delivered twice.
   */
  async pendingAlerts(
    accountId: string,
    region: string,
    /** Items the caller wrote itself, by findingId: not read again unless the index has a newer version. */
    known: ReadonlyMap<string, StoredFinding> = new Map(),
  ): Promise<StoredFinding[]> {
    const hits = (await this.queryAll(
      {
        IndexName: INDEX.pendingAlerts,
        KeyConditionExpression: 'gsi4pk = :p',
        ExpressionAttributeValues: { ':p': `PENDING#${accountId}#${region}` },
      },
      'reading pending alerts',
    )) as unknown as StoredFinding[];
    const items = hits.filter((item) => (known.get(findingId(item))?.version ?? -1) < item.version);
    const fresh = await mapLimit(items, this.writeConcurrency, (item) => this.getFinding(item));
    return fresh.filter(
      (f): f is StoredFinding =>
        !!f &&
        ((f.pendingAlerts?.length ?? 0) > 0 ||
          (f.pendingHistory?.length ?? 0) > 0 ||
          f.pendingExport !== undefined),
    );
  }

  /**
   * Empties the outbox of what was done: delivered alerts and copied history records (conditional on the
   * version; re-read and retried on a race). Undelivered alerts stay for the next run.
   */
  async clearOutbox(
    done: ReadonlyMap<
      string,
      {
        finding: StoredFinding;
        alertIds: ReadonlySet<string>;
        historyKeys: ReadonlySet<string>;
        /** The version Security Hub has imported (clears `pendingExport` up to it). */
        exportedVersion?: number;
      }
    >,
    lease?: AuditLease,
  ): Promise<void> {
    await mapLimit(
      [...done.values()],
      this.writeConcurrency,
      async ({ finding, alertIds, historyKeys, exportedVersion }) => {
        let current: StoredFinding | undefined = finding;
        for (let attempt = 0; current; attempt++) {
          const alerts = current.pendingAlerts ?? [];
          const history = current.pendingHistory ?? [];
          const alertsLeft = alerts.filter((a) => !alertIds.has(a.id));
          const historyLeft = history.filter((h) => !historyKeys.has(h.sk));
          // A newer version written since the import stays pending.
          const exportLeft =
            current.pendingExport !== undefined &&
            (exportedVersion === undefined || current.pendingExport > exportedVersion);
          const exportCleared = current.pendingExport !== undefined && !exportLeft;
          if (alertsLeft.length === alerts.length && historyLeft.length === history.length && !exportCleared)
            return;
          const sets: string[] = [];
          const removes: string[] = [];
          const values: Record<string, unknown> = { ':v': current.version };
          if (alertsLeft.length) {
            sets.push('pendingAlerts = :alerts');
            values[':alerts'] = alertsLeft;
          } else removes.push('pendingAlerts');
          if (historyLeft.length) {
            sets.push('pendingHistory = :history');
            values[':history'] = historyLeft;
          } else removes.push('pendingHistory');
          if (exportCleared) removes.push('pendingExport');
          if (!alertsLeft.length && !historyLeft.length && !exportLeft) removes.push('gsi4pk', 'gsi4sk');
          const input = {
            TableName: this.tableName,
            Key: {
              pk: resourcePk(current.resourceId),
              sk: findingSk(current.accountId, current.region, current.ruleId),
            },
            UpdateExpression: `${sets.length ? `SET ${sets.join(', ')} ` : ''}${removes.length ? `REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: '#ver = :v',
            ExpressionAttributeNames: { '#ver': 'version' },
            ExpressionAttributeValues: values,
          };
          try {
            if (lease) await this.keepLease(lease);
            this.counters.alertClears++;
            await this.send('clearing the outbox', () => this.client.send(new UpdateCommand(input)));
            return;
          } catch (err) {
            if (!isConditionFailure(err) || attempt >= this.maxConflictRetries) throw err;
            this.counters.conflicts++;
            current = await this.getFinding(current);
          }
        }
      },
    );
  }

  // ------------------------------------------------------------------------------------------------
  // Security Hub export: whether an account/region has had its initial full import

  async exportStartedAt(accountId: string, region: string): Promise<string | undefined> {
    const out = await this.send('reading the export marker', () =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `EXPORT#${accountId}#${region}`, sk: 'SECURITYHUB' },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item?.importedAt as string | undefined;
  }

  async markExportStarted(accountId: string, region: string, now: Date, lease?: AuditLease): Promise<void> {
    if (lease) await this.keepLease(lease);
    await this.send('writing the export marker', () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `EXPORT#${accountId}#${region}`, sk: 'SECURITYHUB', importedAt: now.toISOString() },
        }),
      ),
    );
  }

  // ------------------------------------------------------------------------------------------------
  // The fix plan's facts (plan-facts.ts)

  /** Saves the facts a whole-region audit collected, unless a newer audit's are stored or they are unchanged. */
  async savePlanFacts(
    facts: { accountId: string; region: string; collectedAt: string },
    run: { asOf: string; runId: string; now: Date; lease?: AuditLease },
  ): Promise<SaveFactsOutcome> {
    return saveFacts(
      {
        client: this.client,
        tableName: this.tableName,
        send: (what, fn) => this.send(what, fn),
        keepLease: async () => {
          if (run.lease) await this.keepLease(run.lease);
        },
        expiresAt: this.expiresAt(run.now),
        counted: () => {
          this.counters.factsWrites++;
        },
      },
      facts,
      run,
    );
  }

  async planFacts(accountId: string, region: string): Promise<StoredPlanFacts | undefined> {
    return loadFacts(
      { client: this.client, tableName: this.tableName, send: (what, fn) => this.send(what, fn) },
      accountId,
      region,
    );
  }

  // ------------------------------------------------------------------------------------------------
  // Runs

  async putRun(record: RunRecord, now: Date, lease?: AuditLease): Promise<void> {
    this.counters.runRecords++;
    await this.batchPut(
      [
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
      ],
      lease,
    );
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
