import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { errorName } from '../aws/faults';
import { factsPk, FACTS_HEAD_SK, factsPartSk, factsVersionPrefix } from './keys';

/**
 * The fix plan's facts of one account/region (shared/snapshot/plan-facts.ts), kept in the findings table
 * by each whole-region audit so a plan can be built from the table alone (`ssm-audit plan --table`).
 *
 * Layout: the JSON is gzipped and cut into parts of at most PART_BYTES (an item holds 400 KB), written
 * under a version (`<asOf>#<runId>`); then the HEAD item names the version, conditionally, so an older
 * audit never replaces a newer one's facts; then the parts of the version it replaced are deleted. A
 * reader takes HEAD, then the parts of its version, and starts again if a newer writer removed them in
 * between. Parts carry the history TTL, so a writer cut between the two steps leaves nothing for good.
 * An audit whose facts hash as the stored ones writes nothing.
 */

export const FACTS_PART_BYTES = 350_000;

export interface FactsHead {
  version: string;
  asOf: string;
  collectedAt: string;
  savedAt: string;
  parts: number;
  bytes: number;
  hash: string;
}

export interface StoredPlanFacts {
  head: FactsHead;
  /** The facts as saved: a snapshot in the snapshot format (parse it before use). */
  facts: unknown;
}

export type SaveFactsOutcome = 'written' | 'unchanged' | 'superseded';

interface Io {
  client: DynamoDBDocumentClient;
  tableName: string;
  send<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** Called before each write: throws when the audit's lease is lost. */
  keepLease(): Promise<void>;
  /** Epoch seconds when a part expires. */
  expiresAt: number;
  /** Counts each item written or deleted. */
  counted(): void;
}

export function encodeFacts(facts: unknown): { hash: string; parts: Buffer[]; bytes: number } {
  const json = JSON.stringify(facts);
  const zipped = gzipSync(json);
  const parts: Buffer[] = [];
  for (let i = 0; i < zipped.length; i += FACTS_PART_BYTES)
    parts.push(zipped.subarray(i, i + FACTS_PART_BYTES));
  return { hash: createHash('sha256').update(json).digest('hex'), parts, bytes: zipped.length };
}

export function decodeFacts(parts: readonly Uint8Array[]): unknown {
  return JSON.parse(gunzipSync(Buffer.concat(parts.map((p) => Buffer.from(p)))).toString('utf8'));
}

async function readHead(io: Io, accountId: string, region: string): Promise<FactsHead | undefined> {
  const out = await io.send('reading the plan facts', () =>
    io.client.send(
      new GetCommand({
        TableName: io.tableName,
        Key: { pk: factsPk(accountId, region), sk: FACTS_HEAD_SK },
        ConsistentRead: true,
      }),
    ),
  );
  return out.Item as FactsHead | undefined;
}

async function deleteParts(io: Io, accountId: string, region: string, version: string, count: number) {
  const keys = Array.from({ length: count }, (_, i) => ({
    DeleteRequest: { Key: { pk: factsPk(accountId, region), sk: factsPartSk(version, i) } },
  }));
  for (let i = 0; i < keys.length; i += 25) {
    io.counted();
    await io.send('deleting replaced plan facts', () =>
      io.client.send(new BatchWriteCommand({ RequestItems: { [io.tableName]: keys.slice(i, i + 25) } })),
    );
  }
}

export async function saveFacts(
  io: Io,
  facts: { accountId: string; region: string; collectedAt: string },
  run: { asOf: string; runId: string; now: Date },
): Promise<SaveFactsOutcome> {
  const { accountId, region } = facts;
  const head = await readHead(io, accountId, region);
  if (head && head.asOf > run.asOf) return 'superseded';
  const encoded = encodeFacts(facts);
  if (head?.hash === encoded.hash) return 'unchanged';
  const version = `${run.asOf}#${run.runId}`;
  for (const [i, data] of encoded.parts.entries()) {
    await io.keepLease();
    io.counted();
    await io.send('writing the plan facts', () =>
      io.client.send(
        new PutCommand({
          TableName: io.tableName,
          Item: {
            pk: factsPk(accountId, region),
            sk: factsPartSk(version, i),
            data,
            expiresAt: io.expiresAt,
          },
        }),
      ),
    );
  }
  const next: FactsHead = {
    version,
    asOf: run.asOf,
    collectedAt: facts.collectedAt,
    savedAt: run.now.toISOString(),
    parts: encoded.parts.length,
    bytes: encoded.bytes,
    hash: encoded.hash,
  };
  await io.keepLease();
  io.counted();
  try {
    await io.send('writing the plan facts', () =>
      io.client.send(
        new PutCommand({
          TableName: io.tableName,
          Item: { pk: factsPk(accountId, region), sk: FACTS_HEAD_SK, ...next },
          ConditionExpression: 'attribute_not_exists(pk) OR asOf <= :asOf',
          ExpressionAttributeValues: { ':asOf': run.asOf },
        }),
      ),
    );
  } catch (err) {
    if (errorName(err) !== 'ConditionalCheckFailedException') throw err;
    await deleteParts(io, accountId, region, version, encoded.parts.length).catch(() => undefined);
    return 'superseded';
  }
  // The replaced version: deleted now, else by its TTL.
  if (head && head.version !== version)
    await deleteParts(io, accountId, region, head.version, head.parts).catch(() => undefined);
  return 'written';
}

/** The newest saved facts of an account/region, or undefined when no whole-region audit saved any. */
export async function loadFacts(
  io: Pick<Io, 'client' | 'tableName' | 'send'>,
  accountId: string,
  region: string,
): Promise<StoredPlanFacts | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const head = await readHead(io as Io, accountId, region);
    if (!head) return undefined;
    // A page holds at most 1 MB: two or three parts.
    const parts: Uint8Array[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await io.send('reading the plan facts', () =>
        io.client.send(
          new QueryCommand({
            TableName: io.tableName,
            KeyConditionExpression: 'pk = :p AND begins_with(sk, :v)',
            ExpressionAttributeValues: {
              ':p': factsPk(accountId, region),
              ':v': factsVersionPrefix(head.version),
            },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        ),
      );
      parts.push(...(page.Items ?? []).map((item) => item.data as Uint8Array));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // A newer audit replaced the version between the two reads: read its head.
    if (parts.length !== head.parts) continue;
    return { head, facts: decodeFacts(parts) };
  }
  throw new Error(`the plan facts of ${accountId} ${region} kept changing while being read; try again`);
}
