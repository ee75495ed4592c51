import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { errorName, mapLimit } from '../aws/faults';
import type { Suppression, SuppressionEntry, SuppressionMatch } from '../model';
import { sameSuppression } from './diff';
import {
  FindingsStoreError,
  type AppliedChange,
  type AuditLease,
  type FindingsStore,
} from './findings-store';
import { findingSk, resourcePk } from './keys';

/**
 * Suppression entries in the findings table (DESIGN §8), one item each:
 *
 * | item              | pk            | sk         | attributes                                                        |
 * |-------------------|---------------|------------|-------------------------------------------------------------------|
 * | suppression entry | `SUPPRESSION` | `<id>`     | type, id, match, reason, owner, entryExpiresAt (ISO), createdAt,  |
 * |                   |               |            | expiresAt (TTL: the entry's expiry + 30 days, epoch seconds)      |
 *
 * One partition holds every entry: an audit reads them all with one Query (a few hundred entries are a
 * page), and the table's TTL removes an entry a month after it expired — kept that long so `suppress
 * list` still shows what just expired. The item's `expiresAt` is the table's TTL attribute (a number),
 * so the entry's own expiry is `entryExpiresAt`.
 */

export const SUPPRESSION_PK = 'SUPPRESSION';
/** Days an expired entry stays listed before DynamoDB's TTL deletes it. */
export const EXPIRED_ENTRY_KEPT_DAYS = 30;

export interface StoredSuppression extends SuppressionEntry {
  createdAt: string;
}

/** An entry id that is already taken, or one that does not exist (remove). */
export class SuppressionStoreError extends FindingsStoreError {
  override readonly name = 'SuppressionStoreError';
}

const isConditionFailure = (err: unknown) => errorName(err) === 'ConditionalCheckFailedException';

export class SuppressionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException')
        throw new FindingsStoreError(
          `findings table ${this.tableName} does not exist (${what}); deploy the stack or pass --table NAME`,
          { cause: err },
        );
      throw err;
    }
  }

  /** Stores a validated entry (the caller checks its terms and the maximum expiry); ids are unique. */
  async add(entry: SuppressionEntry, now: Date): Promise<StoredSuppression> {
    const stored: StoredSuppression = { ...entry, createdAt: now.toISOString() };
    const ttl = Math.floor(new Date(entry.expiresAt).getTime() / 1000) + EXPIRED_ENTRY_KEPT_DAYS * 86_400;
    try {
      await this.send('adding a suppression', () =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk: SUPPRESSION_PK,
              sk: entry.id,
              type: 'SUPPRESSION',
              id: entry.id,
              match: entry.match,
              reason: entry.reason,
              owner: entry.owner,
              entryExpiresAt: entry.expiresAt,
              createdAt: stored.createdAt,
              expiresAt: ttl,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (err) {
      if (isConditionFailure(err))
        throw new SuppressionStoreError(`a suppression with id ${entry.id} already exists`, { cause: err });
      throw err;
    }
    return stored;
  }

  /** Every stored entry, expired ones included until the TTL deletes them, by id. */
  async list(): Promise<StoredSuppression[]> {
    const out: StoredSuppression[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.send('reading the suppressions', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': SUPPRESSION_PK },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const entry = fromItem(item);
        if (entry) out.push(entry);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  /** The entries in force at `now` (what every audit applies). */
  async active(now: Date): Promise<StoredSuppression[]> {
    return (await this.list()).filter((e) => new Date(e.expiresAt).getTime() > now.getTime());
  }

  /** Deletes an entry; the next audit reports (and alerts) what it suppressed. */
  async remove(id: string): Promise<StoredSuppression> {
    try {
      const out = await this.send('removing a suppression', () =>
        this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { pk: SUPPRESSION_PK, sk: id },
            ConditionExpression: 'attribute_exists(pk)',
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      return fromItem(out.Attributes ?? {})!;
    } catch (err) {
      if (isConditionFailure(err))
        throw new SuppressionStoreError(`no suppression with id ${id}`, { cause: err });
      throw err;
    }
  }
}

/**
 * The client FindingsStore writes with. It keeps the client to itself; the suppression entries and the
 * `suppressed` attribute live in the same table and go through the same client (same region, endpoint
 * and credentials).
 */
const clientOf = (store: FindingsStore) => (store as unknown as { client: DynamoDBDocumentClient }).client;

/** The suppression entries of the table a FindingsStore writes to. */
export function suppressionStoreFor(store: FindingsStore): SuppressionStore {
  return new SuppressionStore(clientOf(store), store.tableName);
}

/** An item as an entry; an item that is not one (hand-edited, half-written) is skipped, never guessed. */
function fromItem(item: Record<string, unknown>): StoredSuppression | undefined {
  const { id, match, reason, owner, entryExpiresAt, createdAt } = item;
  if (
    typeof id !== 'string' ||
    typeof reason !== 'string' ||
    typeof owner !== 'string' ||
    typeof entryExpiresAt !== 'string' ||
    Number.isNaN(new Date(entryExpiresAt).getTime()) ||
    !match ||
    typeof match !== 'object'
  )
    return undefined;
  return {
    id,
    match: match as SuppressionMatch,
    reason,
    owner,
    expiresAt: entryExpiresAt,
    createdAt: typeof createdAt === 'string' ? createdAt : '',
  };
}

/**
 * Records each written finding's `suppressed` attribute on its item (SET, or REMOVE when it ended).
 *
 * FindingsStore writes the DESIGN §3 fields of a finding; `suppressed` is not one of them, so it is set
 * here, right after the finding's own conditional write, on the version that write produced (a newer
 * write in between wins and records its own). The finding's hash covers the suppression, so a run that
 * dies between the two writes leaves a finding whose hash and attribute disagree, which the next audit's
 * diff rewrites without an alert (diff.ts, diffOne). Only findings whose suppression changed cost a write.
 */
export async function recordSuppressionState(
  store: FindingsStore,
  applied: readonly AppliedChange[],
  lease?: AuditLease,
): Promise<number> {
  // Against the attribute as stored (a tombstone's too: a reopened finding must not keep a stale one).
  const writes = applied.filter(
    (a) =>
      a.change.type !== 'closed' &&
      !sameSuppression(a.change.previous?.suppressed, a.change.finding.suppressed),
  );
  if (writes.length === 0) return 0;
  if (lease) await store.keepLease(lease);
  const client = clientOf(store);
  let written = 0;
  await mapLimit(writes, 8, async ({ item, version }) => {
    const suppressed: Suppression | undefined = item.suppressed;
    try {
      await client.send(
        new UpdateCommand({
          TableName: store.tableName,
          Key: { pk: resourcePk(item.resourceId), sk: findingSk(item.accountId, item.region, item.ruleId) },
          UpdateExpression: suppressed ? 'SET #s = :s' : 'REMOVE #s',
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#s': 'suppressed', '#v': 'version' },
          ExpressionAttributeValues: { ':v': version, ...(suppressed ? { ':s': suppressed } : {}) },
        }),
      );
      written++;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  });
  return written;
}
