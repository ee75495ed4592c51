import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { errorName } from '../aws/faults';
import type { SuppressionEntry, SuppressionMatch } from '../model';
import { FindingsStoreError, type FindingsStore } from './findings-store';

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

