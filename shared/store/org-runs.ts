import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { errorName } from '../aws/faults';

/**
 * The progress of one Organization run (DESIGN §7) in the findings table, so the job that finishes it —
 * whichever worker that is, however often SQS delivers it — sends the run's one digest:
 * - `ORGRUN#<runId>` / `RUN`: what was planned (job count, shard count, the account listing);
 * - `ORGRUN#<runId>` / `JOB#<account>#<region>`: each job's outcome, overwritten by a redelivery;
 * - `ORGRUN#<runId>` / `SHARD#<n>`: the set of finished jobs of one shard of at most SHARD_SIZE jobs.
 * Counting is idempotent: a job adds its key to its shard's string set (ADD on a set ignores a key
 * already there); the write that completes a shard adds the shard to the run's set of finished shards;
 * the write that completes that set claims the digest with a conditional write. No counter can be
 * incremented twice by a redelivered job, and no transaction is needed.
 */

export const SHARD_SIZE = 100;

export type JobStatus = 'audited' | 'access-denied' | 'region-not-enabled' | 'failed';

export interface JobOutcome {
  accountId: string;
  region: string;
  status: JobStatus;
  /** Running EC2 instances and hybrid nodes that Systems Manager cannot manage. */
  unmanaged?: number;
  findings?: number;
  error?: string;
}

export interface OrgRunPlan {
  runId: string;
  startedAt: string;
  jobs: number;
  accounts: number;
  regions: string[];
  /** Accounts listed but not ACTIVE, and whether the listing was complete. */
  inactive: string[];
  listingComplete: boolean;
  organizationId?: string;
}

export interface OrgRunRecord extends OrgRunPlan {
  shards: number;
  finishedShards?: Set<string>;
  digestClaimedAt?: string;
  digestSentAt?: string;
}

/**
 * A claim on a run's digest that was never marked sent (the claimer died, or SNS failed) may be taken
 * again after this long: the digest is sent at least once, and twice only after a crash between sending
 * and marking it sent.
 */
export const DIGEST_CLAIM_STALE_MS = 15 * 60_000;

const pk = (runId: string) => `ORGRUN#${runId}`;
const ORG_ACCOUNTS_PK = 'ORGACCOUNTS';
const LATEST_PK = 'ORGRUN#LATEST';
const SCPS_PK = 'ORGSCPS';
const jobKey = (accountId: string, region: string) => `${accountId}#${region}`;

/** The shard of a job: a stable hash of its key, so every delivery of the job counts in the same set. */
export function shardOf(accountId: string, region: string, shards: number): number {
  const digest = createHash('sha256').update(jobKey(accountId, region)).digest();
  return digest.readUInt32BE(0) % shards;
}

export class OrgRunStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { historyTtlDays?: number } = {},
  ) {}

  private expiresAt(now: Date): number {
    return Math.floor(now.getTime() / 1000) + Math.round((this.options.historyTtlDays ?? 90) * 86_400);
  }

  /** Records the plan: the run item, and each shard with the number of jobs it must see finish. */
  async start(plan: OrgRunPlan, jobKeys: readonly { accountId: string; region: string }[], now: Date) {
    const shards = Math.max(1, Math.ceil(jobKeys.length / SHARD_SIZE));
    const expected = new Array<number>(shards).fill(0);
    for (const job of jobKeys) expected[shardOf(job.accountId, job.region, shards)]! += 1;
    const expiresAt = this.expiresAt(now);
    for (let shard = 0; shard < shards; shard++) {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: pk(plan.runId), sk: `SHARD#${shard}`, expected: expected[shard], expiresAt },
        }),
      );
    }
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: pk(plan.runId), sk: 'RUN', type: 'ORGRUN', ...plan, shards, expiresAt },
      }),
    );
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: LATEST_PK, sk: 'RUN', runId: plan.runId } }),
    );
    return { shards };
  }

  async run(runId: string): Promise<OrgRunRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: pk(runId), sk: 'RUN' }, ConsistentRead: true }),
    );
    return out.Item as OrgRunRecord | undefined;
  }

  /**
   * Records a job's outcome and counts it once. Returns true when this write finished the whole run and
   * won the right to send its digest (exactly one caller ever gets true for a run).
   */
  async finishJob(runId: string, outcome: JobOutcome, now: Date): Promise<boolean> {
    const run = await this.run(runId);
    if (!run) return false;
    const key = jobKey(outcome.accountId, outcome.region);
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: pk(runId),
          sk: `JOB#${key}`,
          ...outcome,
          finishedAt: now.toISOString(),
          expiresAt: this.expiresAt(now),
        },
      }),
    );
    const shard = shardOf(outcome.accountId, outcome.region, run.shards);
    const counted = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(runId), sk: `SHARD#${shard}` },
        UpdateExpression: 'ADD done :job',
        ExpressionAttributeValues: { ':job': new Set([key]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = counted.Attributes as { done?: Set<string>; expected: number };
    if ((item.done?.size ?? 0) < item.expected) return false;
    const shardsDone = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(runId), sk: 'RUN' },
        UpdateExpression: 'ADD finishedShards :shard',
        ExpressionAttributeValues: { ':shard': new Set([String(shard)]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const record = shardsDone.Attributes as OrgRunRecord;
    if ((record.finishedShards?.size ?? 0) < record.shards) return false;
    return this.claimDigest(runId, now);
  }

  /**
   * Claims the right to send a run's digest: unsent, and unclaimed or claimed longer ago than
   * DIGEST_CLAIM_STALE_MS. True for exactly one caller at a time.
   */
  async claimDigest(runId: string, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pk(runId), sk: 'RUN' },
          UpdateExpression: 'SET digestClaimedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(digestSentAt) AND (attribute_not_exists(digestClaimedAt) OR digestClaimedAt < :stale)',
          ExpressionAttributeValues: {
            ':now': now.toISOString(),
            ':stale': new Date(now.getTime() - DIGEST_CLAIM_STALE_MS).toISOString(),
          },
        }),
      );
      return true;
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async markDigestSent(runId: string, now: Date): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(runId), sk: 'RUN' },
        UpdateExpression: 'SET digestSentAt = :now',
        ExpressionAttributeValues: { ':now': now.toISOString() },
      }),
    );
  }

  /** The newest run the planner started (the next planner finishes its digest if it never came). */
  async latestRunId(): Promise<string | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: LATEST_PK, sk: 'RUN' }, ConsistentRead: true }),
    );
    return out.Item?.runId as string | undefined;
  }

  /** Every job outcome of a run (for its digest). */
  async outcomes(runId: string): Promise<JobOutcome[]> {
    const items: JobOutcome[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :job)',
          ExpressionAttributeValues: { ':pk': pk(runId), ':job': 'JOB#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((page.Items ?? []) as JobOutcome[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** The accounts Organization runs have audited (only these can be closed when they leave). */
  async knownAccounts(): Promise<string[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ORG_ACCOUNTS_PK },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      ids.push(...(page.Items ?? []).map((item) => String(item.sk)));
      start = page.LastEvaluatedKey;
    } while (start);
    return ids;
  }

  async rememberAccounts(ids: readonly string[]): Promise<void> {
    for (const id of ids)
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: { pk: ORG_ACCOUNTS_PK, sk: id } }),
      );
  }

  async forgetAccount(id: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: ORG_ACCOUNTS_PK, sk: id } }),
    );
  }

  /**
   * The SCPs in force for an account as the newest planner read them, so that audits outside a run (an
   * event audit of a member account) judge with the same SCP layer and never flip a finding back.
   */
  async saveScps(accountId: string, scps: unknown, now: Date): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: SCPS_PK, sk: accountId, scps: JSON.stringify(scps), readAt: now.toISOString() },
      }),
    );
  }

  async scpsOf(accountId: string): Promise<unknown> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: SCPS_PK, sk: accountId } }),
    );
    return typeof out.Item?.scps === 'string' ? (JSON.parse(out.Item.scps) as unknown) : undefined;
  }
}
