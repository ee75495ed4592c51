import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AlertPublisher, LocalAlertSink } from '../../shared/alerts/publisher';
import { PER_RESOURCE_LOAD_LIMIT, recordAudit } from '../../shared/pipeline/record-audit';
import { diffFindings, findingHash } from '../../shared/store/diff';
import { FindingsStore, FindingsStoreError } from '../../shared/store/findings-store';
import { FINDINGS_TABLE_DEFINITION, ensureTable } from '../../shared/store/table';
import type { Finding, RuleId } from '../../shared/model';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { ACCOUNT, REGION, aFinding, iid, result, snapshotFor } from '../support/store-fixtures';

/** The findings store against a real DynamoDB API (dynalite, in process on 127.0.0.1). */

let local: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  local = await startLocalDynamo('unused-default');
});
afterAll(async () => {
  await local.stop();
});

const noSleep = async () => undefined;
async function freshStore(options: { client?: DynamoDBDocumentClient; historyTtlDays?: number } = {}) {
  const tableName = `findings-${++tables}`;
  await ensureTable(local.client, tableName);
  return new FindingsStore({
    client: options.client ?? local.doc,
    tableName,
    sleep: noSleep,
    historyTtlDays: options.historyTtlDays,
  });
}

const RULES: RuleId[] = ['network-path', 'managed-status'];
const NOW = new Date('2026-11-23T10:00:00.000Z');
const later = (days: number) => new Date(NOW.getTime() + days * 86_400_000);

async function record(
  store: FindingsStore,
  findings: Finding[],
  options: {
    now?: Date;
    closed?: string[];
    sink?: LocalAlertSink;
    snapshot?: ReturnType<typeof snapshotFor>;
    resourceIds?: string[];
  } = {},
) {
  const sink = options.sink ?? new LocalAlertSink();
  const report = await recordAudit({
    store,
    publisher: new AlertPublisher(sink),
    snapshot: options.snapshot ?? snapshotFor(),
    // As the engine does: an audit's findings are evaluated at its time.
    result: result(
      options.now ? findings.map((f) => ({ ...f, evaluatedAt: options.now!.toISOString() })) : findings,
      options.closed,
    ),
    ruleIds: RULES,
    resourceIds: options.resourceIds,
    now: options.now ?? NOW,
  });
  return { report, sink };
}

describe('the table definition', () => {
  it('is on-demand with TTL, point-in-time recovery, encryption at rest and the four query indexes', () => {
    expect(FINDINGS_TABLE_DEFINITION).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(FINDINGS_TABLE_DEFINITION.GlobalSecondaryIndexes.map((i) => i.IndexName)).toEqual([
      'byProblem',
      'byRule',
      'byScope',
      'pendingAlerts',
    ]);
  });
});

describe('recording audits', () => {
  const fleet = (status: (n: number) => Finding['status'] = () => 'PASS', n = 30) =>
    Array.from({ length: n }, (_, i) => [
      aFinding({ resourceId: iid(i), status: status(i) }),
      aFinding({ resourceId: iid(i), ruleId: 'managed-status' }),
    ]).flat();

  it('first run writes every finding and its first history record; an unchanged run writes no finding', async () => {
    const store = await freshStore();
    const first = await record(
      store,
      fleet((i) => (i < 3 ? 'FAIL' : 'PASS')),
    );
    expect(first.report.counts).toMatchObject({ new: 60, changed: 0, unchanged: 0, closed: 0 });
    expect(first.report.writes).toMatchObject({ findingWrites: 60, historyRecords: 60 });
    expect(first.report.alerts).toMatchObject({ transitions: 3, delivered: 3 });

    const again = await record(
      store,
      fleet((i) => (i < 3 ? 'FAIL' : 'PASS')),
      { now: later(1) },
    );
    expect(again.report.counts).toMatchObject({ new: 0, changed: 0, unchanged: 60, closed: 0 });
    expect(again.report.writes).toMatchObject({
      findingWrites: 0,
      historyRecords: 0,
      alertClears: 0,
      runRecords: 1,
    });
    // An unchanged failure never alerts again, and an unchanged run sends nothing at all.
    expect(again.sink.sent).toEqual([]);
  });

  it('writes only what changed: one finding write and one history record (with TTL) per status change', async () => {
    const store = await freshStore({ historyTtlDays: 30 });
    await record(store, fleet());
    const { report } = await record(
      store,
      fleet((i) => (i === 7 ? 'FAIL' : 'PASS')),
      { now: later(1) },
    );
    expect(report.counts).toMatchObject({ new: 0, changed: 1, unchanged: 59 });
    expect(report.writes).toMatchObject({ findingWrites: 1, historyRecords: 1 });
    const history = await store.historyOf(iid(7));
    const last = history[history.length - 1]!;
    expect(last).toMatchObject({ fromStatus: 'PASS', toStatus: 'FAIL', ruleId: 'network-path' });
    expect(last.expiresAt).toBe(Math.floor(later(1).getTime() / 1000) + 30 * 86_400);
    const [item] = (await store.findingsOfResource(iid(7))).filter((f) => f.ruleId === 'network-path');
    expect(item).toMatchObject({
      status: 'FAIL',
      version: 2,
      previousStatus: 'PASS',
      statusChangedAt: later(1).toISOString(),
    });
  });

  it('closes the findings of a resource that is gone: tombstone with TTL, history, resolved alert', async () => {
    const store = await freshStore();
    await record(
      store,
      fleet((i) => (i === 4 ? 'FAIL' : 'PASS'), 5),
    );
    const { report, sink } = await record(
      store,
      fleet(() => 'PASS', 4),
      { now: later(1) },
    );
    expect(report.counts).toMatchObject({ closed: 2, unchanged: 8 });
    expect(await store.findingsOfResource(iid(4))).toEqual([]);
    expect((await store.inScope(ACCOUNT, REGION)).some((f) => f.resourceId === iid(4))).toBe(false);
    expect((await store.problems('FAIL')).some((f) => f.resourceId === iid(4))).toBe(false);
    const history = await store.historyOf(iid(4));
    expect(history.filter((h) => h.toStatus === 'CLOSED')).toHaveLength(2);
    const alert = sink.sent.find((e) => e.MessageAttributes?.kind?.StringValue === 'RESOLVED');
    expect(alert?.MessageAttributes?.status?.StringValue).toBe('CLOSED');
    expect(alert?.MessageAttributes?.severity?.StringValue).toBe('HIGH');
  });

  it('a resolved alert carries the severity of the failure it resolves (for severity filter policies)', async () => {
    const store = await freshStore();
    await record(store, [aFinding({ resourceId: iid(9), status: 'FAIL', severity: 'CRITICAL' })]);
    const { sink } = await record(store, [aFinding({ resourceId: iid(9), status: 'PASS' })], {
      now: later(1),
    });
    const resolved = sink.sent.find((e) => e.MessageAttributes?.kind?.StringValue === 'RESOLVED');
    expect(resolved?.MessageAttributes?.severity?.StringValue).toBe('CRITICAL');
    expect(resolved?.MessageAttributes?.status?.StringValue).toBe('PASS');
  });

  it('closes the findings of a terminated instance, but nothing when the instance list could not be read', async () => {
    const store = await freshStore();
    await record(
      store,
      fleet(() => 'FAIL', 3),
    );
    const denied = snapshotFor({
      calls: { 'ec2:DescribeInstances': { status: 'denied', error: 'UnauthorizedOperation' } },
    });
    const blind = await record(store, [], { snapshot: denied, now: later(1) });
    expect(blind.report.counts).toMatchObject({ closed: 0 });
    const terminated = await record(
      store,
      fleet(() => 'FAIL', 2),
      { closed: [iid(2)], now: later(2) },
    );
    expect(terminated.report.counts).toMatchObject({ closed: 2, unchanged: 4 });
    const history = await store.historyOf(iid(2));
    expect(history.at(-1)).toMatchObject({ toStatus: 'CLOSED', reason: 'TERMINATED' });
  });

  it('an instance-scoped audit touches only that instance and closes it when it no longer exists', async () => {
    const store = await freshStore();
    await record(
      store,
      fleet(() => 'PASS', 3),
    );
    const { report } = await record(store, [], { resourceIds: [iid(1)], now: later(1) });
    expect(report.counts).toMatchObject({ closed: 2 });
    expect(await store.findingsOfResource(iid(1))).toEqual([]);
    expect(await store.findingsOfResource(iid(2))).toHaveLength(2);
  });

  it('a scope of many resources loads them with one paginated Query, not one Query per resource', async () => {
    let queries = 0;
    const counting = {
      send: (command: { constructor: { name: string } }) => {
        if (command.constructor.name === 'QueryCommand') queries++;
        return local.doc.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = await freshStore({ client: counting });
    const many = fleet(() => 'PASS', PER_RESOURCE_LOAD_LIMIT + 50);
    await record(store, many);
    const ids = Array.from({ length: PER_RESOURCE_LOAD_LIMIT + 50 }, (_, i) => iid(i));
    queries = 0;
    const changed = many.map((f) =>
      f.resourceId === iid(7) && f.ruleId === 'network-path' ? { ...f, status: 'FAIL' as const } : f,
    );
    const { report } = await record(store, changed, { resourceIds: ids, now: later(1) });
    expect(report.counts).toMatchObject({ changed: 1, unchanged: many.length - 1, closed: 0 });
    // The byScope load (one page here) and the outbox query, not 150 per-resource Queries.
    expect(queries).toBeLessThanOrEqual(3);
  });
});

describe('overlapping audits (conditional writes)', () => {
  it('a stale audit never overwrites a newer one, and the transition is written and alerted once', async () => {
    const store = await freshStore();
    const id = iid(1);
    await record(store, [aFinding({ resourceId: id, status: 'PASS' })]);
    // Both audits read the same stored state...
    const storedA = await store.loadRegion(ACCOUNT, REGION);
    const storedB = await store.loadRegion(ACCOUNT, REGION);
    const newer = aFinding({ resourceId: id, status: 'FAIL', evaluatedAt: later(2).toISOString() });
    const older = aFinding({ resourceId: id, status: 'WARN', evaluatedAt: later(1).toISOString() });
    const diff = (stored: typeof storedA, f: Finding) =>
      diffFindings({ stored, findings: [f], terminated: [], rulesRun: new Set(RULES), listed: () => true });
    // ...the newer one writes first, then the older one tries.
    const a = await store.apply(diff(storedA, newer).changed, { runId: 'run-a', now: later(2) });
    const b = await store.apply(diff(storedB, older).changed, { runId: 'run-b', now: later(1) });
    expect(a.applied).toHaveLength(1);
    expect(b).toMatchObject({ applied: [], superseded: 1 });
    expect(store.counters.conflicts).toBe(1);
    const [item] = await store.findingsOfResource(id);
    expect(item).toMatchObject({ status: 'FAIL', version: 2, lastRunId: 'run-a' });
    expect(item!.pendingAlerts?.map((p) => p.kind)).toEqual(['REGRESSION']);
  });

  it('two audits reaching the same result concurrently write it once', async () => {
    const store = await freshStore();
    const id = iid(2);
    await record(store, [aFinding({ resourceId: id, status: 'PASS' })]);
    const stored = await store.loadRegion(ACCOUNT, REGION);
    const failing = aFinding({ resourceId: id, status: 'FAIL', evaluatedAt: later(1).toISOString() });
    const changes = diffFindings({
      stored,
      findings: [failing],
      terminated: [],
      rulesRun: new Set(RULES),
      listed: () => true,
    }).changed;
    const [x, y] = await Promise.all([
      store.apply(changes, { runId: 'run-x', now: later(1) }),
      store.apply(changes, { runId: 'run-y', now: later(1) }),
    ]);
    expect(x.applied.length + y.applied.length).toBe(1);
    expect(x.superseded + y.superseded).toBe(1);
    const [item] = await store.findingsOfResource(id);
    expect(item!.version).toBe(2);
    expect(item!.pendingAlerts).toHaveLength(1);
    expect((await store.historyOf(id)).filter((h) => h.toStatus === 'FAIL')).toHaveLength(1);
  });

  it('a write that lost the race to a different result is re-decided against it', async () => {
    const store = await freshStore();
    const id = iid(3);
    await record(store, [aFinding({ resourceId: id, status: 'PASS' })]);
    const stale = await store.loadRegion(ACCOUNT, REGION);
    await record(store, [aFinding({ resourceId: id, status: 'WARN', evaluatedAt: later(1).toISOString() })], {
      now: later(1),
    });
    const newest = aFinding({ resourceId: id, status: 'FAIL', evaluatedAt: later(2).toISOString() });
    const changes = diffFindings({
      stored: stale,
      findings: [newest],
      terminated: [],
      rulesRun: new Set(RULES),
      listed: () => true,
    }).changed;
    const applied = await store.apply(changes, { runId: 'run-z', now: later(2) });
    expect(applied.applied).toHaveLength(1);
    const [item] = await store.findingsOfResource(id);
    expect(item).toMatchObject({ status: 'FAIL', version: 3, previousStatus: 'WARN' });
  });
});

describe('BatchWriteItem', () => {
  /** A document client whose BatchWriteItem leaves items unprocessed, as DynamoDB does under load. */
  function unprocessing(times: number) {
    let left = times;
    let calls = 0;
    const client = {
      send: async (command: unknown) => {
        if (command instanceof BatchWriteCommand && left > 0) {
          left--;
          calls++;
          const table = Object.keys(command.input.RequestItems!)[0]!;
          const requests = command.input.RequestItems![table]!;
          const half = Math.floor(requests.length / 2);
          if (half > 0)
            await local.doc.send(
              new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, half) } }),
            );
          return { UnprocessedItems: { [table]: requests.slice(half) }, $metadata: {} };
        }
        return local.doc.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    return { client, calls: () => calls };
  }

  it('writes in chunks of 25 and retries UnprocessedItems until all are written', async () => {
    const flaky = unprocessing(3);
    const store = await freshStore({ client: flaky.client });
    const findings = Array.from({ length: 60 }, (_, i) => aFinding({ resourceId: iid(100 + i) }));
    const { report } = await record(store, findings);
    expect(flaky.calls()).toBe(3);
    expect(report.writes.unprocessedRetries).toBe(3);
    // 60 history records = 3 chunks (25, 25, 10) + 3 retries, + the run summary.
    expect(report.writes.batchRequests).toBe(3 + 3 + 1);
    for (const f of findings) expect(await store.historyOf(f.resourceId)).toHaveLength(1);
  });

  it('gives up with a clear error after bounded attempts; the findings already written stay', async () => {
    const flaky = unprocessing(1_000);
    const store = await freshStore({ client: flaky.client });
    const findings = [aFinding({ resourceId: iid(200), status: 'FAIL' })];
    const error = await record(store, findings).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(FindingsStoreError);
    expect((error as Error).message).toMatch(
      /left 1 item\(s\) unprocessed after 8 attempts; nothing already written is lost/,
    );
    expect(await store.findingsOfResource(iid(200))).toEqual([
      expect.objectContaining({ status: 'FAIL', hash: findingHash(findings[0]!) }),
    ]);
  });
});

describe('queries (each a Query on a key or index)', () => {
  let store: FindingsStore;
  beforeAll(async () => {
    store = await freshStore();
    await record(store, [
      aFinding({ resourceId: iid(1), status: 'FAIL', severity: 'CRITICAL' }),
      aFinding({ resourceId: iid(2), status: 'FAIL', severity: 'LOW' }),
      aFinding({ resourceId: iid(3), status: 'FAIL', severity: 'HIGH' }),
      aFinding({ resourceId: iid(3), ruleId: 'managed-status', status: 'PASS' }),
      aFinding({ resourceId: iid(4), status: 'ERROR', severity: 'HIGH' }),
      aFinding({ resourceId: iid(5), status: 'WARN', severity: 'MEDIUM' }),
      aFinding({ resourceId: iid(6), status: 'PASS', region: 'us-east-1' }),
    ]);
    await record(
      store,
      [
        aFinding({ resourceId: iid(3), status: 'PASS', evaluatedAt: later(3).toISOString() }),
        aFinding({ resourceId: iid(3), ruleId: 'managed-status', status: 'PASS' }),
      ],
      {
        now: later(3),
        resourceIds: [iid(3)],
      },
    );
  });

  it('all rules for one resource', async () => {
    expect((await store.findingsOfResource(iid(3))).map((f) => [f.ruleId, f.status]).sort()).toEqual([
      ['managed-status', 'PASS'],
      ['network-path', 'PASS'],
    ]);
  });

  it('all failing findings, most severe first, and by severity', async () => {
    expect((await store.problems('FAIL')).map((f) => [f.resourceId, f.severity])).toEqual([
      [iid(1), 'CRITICAL'],
      [iid(2), 'LOW'],
    ]);
    expect((await store.problems('FAIL', 'LOW')).map((f) => f.resourceId)).toEqual([iid(2)]);
    expect((await store.problems('ERROR')).map((f) => f.resourceId)).toEqual([iid(4)]);
  });

  it('all findings of one rule and status', async () => {
    expect((await store.byRule('network-path', 'WARN')).map((f) => f.resourceId)).toEqual([iid(5)]);
    expect((await store.byRule('network-path', 'PASS')).map((f) => f.resourceId).sort()).toEqual(
      [iid(3), iid(6)].sort(),
    );
  });

  it('everything in one account and region, and what changed since a time', async () => {
    expect((await store.inScope(ACCOUNT, REGION)).length).toBe(6);
    expect((await store.inScope(ACCOUNT, 'us-east-1')).map((f) => f.resourceId)).toEqual([iid(6)]);
    expect(
      (await store.inScope(ACCOUNT, REGION, later(1).toISOString())).map((f) => [f.resourceId, f.status]),
    ).toEqual([[iid(3), 'PASS']]);
  });

  it('the status history of one resource, oldest first', async () => {
    expect((await store.historyOf(iid(3))).map((h) => [h.ruleId, h.fromStatus, h.toStatus])).toEqual([
      ['managed-status', null, 'PASS'],
      ['network-path', null, 'FAIL'],
      ['network-path', 'FAIL', 'PASS'],
    ]);
  });

  it('the audited account/regions and their recent runs, newest first', async () => {
    expect((await store.scopes()).map((s) => `${s.accountId} ${s.region}`).sort()).toEqual([
      `${ACCOUNT} ${REGION}`,
    ]);
    const runs = await store.runs(ACCOUNT, REGION);
    expect(runs.map((r) => r.startedAt)).toEqual([later(3).toISOString(), NOW.toISOString()]);
    expect(runs[0]).toMatchObject({ scope: iid(3), counts: { changed: 1, unchanged: 1 } });
  });
});

it('names the table when it does not exist', async () => {
  const store = new FindingsStore({ client: local.doc, tableName: 'no-such-table' });
  await expect(store.findingsOfResource(iid(1))).rejects.toThrow(
    /findings table no-such-table does not exist .*pass --table NAME/,
  );
});
