import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AlertPublisher, LocalAlertSink } from '../../shared/alerts/publisher';
import { mapLimit } from '../../shared/aws/faults';
import { listingResourceId } from '../../shared/engine/evaluate';
import type { Finding, RuleId, Status } from '../../shared/model';
import { recordAudit } from '../../shared/pipeline/record-audit';
import { parseSnapshot } from '../../shared/snapshot/load';
import { FindingsStore } from '../../shared/store/findings-store';
import { ensureTable } from '../../shared/store/table';
import { aNetwork, anInstance, aSnapshot } from '../support/builders';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { RULES as ALL_RULES } from '../../rules';
import { auditSnapshot } from '../../shared/engine/audit';
import { ACCOUNT, REGION, aFinding, iid, result, snapshotFor } from '../support/store-fixtures';

/**
 * DESIGN §4 store guarantees, one regression row per defect measured on the v1 store: newest evaluation
 * wins (also over a newer audit that found a finding unchanged, and over a terminated close), history is
 * never lost when a run dies, one alert per transition for duplicate deliveries, a failing writer stops
 * the others, and a whole-region audit whose DescribeInstances was denied is stored like any other.
 */

let local: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  local = await startLocalDynamo('guarantees-default');
});
afterAll(async () => {
  await local.stop();
});

const RULES: RuleId[] = ['network-path', 'managed-status'];
const T0 = '2026-11-23T10:00:00.000Z';
const T1 = '2026-11-23T10:01:00.000Z';
const T2 = '2026-11-23T10:02:00.000Z';
const T3 = '2026-11-23T10:03:00.000Z';

async function freshStore(client: DynamoDBDocumentClient = local.doc, clock?: () => number) {
  const tableName = `guarantees-${++tables}`;
  await ensureTable(local.client, tableName);
  return {
    tableName,
    store: new FindingsStore({ client, tableName, sleep: async () => undefined, clock }),
  };
}

const at = (asOf: string, status: Status, id = iid(1), ruleId: RuleId = 'network-path'): Finding =>
  aFinding({ resourceId: id, ruleId, status, evaluatedAt: asOf });

/** Records a whole-region (default) or instance-scoped audit as of `asOf`. */
function record(
  store: FindingsStore,
  asOf: string,
  findings: Finding[],
  options: { sink?: LocalAlertSink; closed?: string[]; instances?: string[] } = {},
) {
  return recordAudit({
    store,
    publisher: new AlertPublisher(options.sink ?? new LocalAlertSink()),
    snapshot: snapshotFor({
      collectedAt: asOf,
      ...(options.instances ? { scope: { kind: 'instances', instanceIds: options.instances } } : {}),
    }),
    result: result(findings, options.closed),
    ruleIds: RULES,
    now: new Date(asOf),
  });
}

const kinds = (sink: LocalAlertSink) => sink.sent.map((e) => e.MessageAttributes?.kind?.StringValue);
async function stored(store: FindingsStore, id = iid(1)) {
  const item = (await store.loadResources(ACCOUNT, REGION, [id])).values().next().value;
  if (!item) throw new Error(`nothing stored for ${id}`);
  return item;
}

describe('newest evaluation wins', () => {
  it('an older FAIL recorded after a newer audit found the finding PASS and unchanged is not written', async () => {
    const { store } = await freshStore();
    await record(store, T0, [at(T0, 'PASS')]);
    const newer = await record(store, T2, [at(T2, 'PASS')]);
    expect(newer.counts).toMatchObject({ unchanged: 1, changed: 0 });
    const sink = new LocalAlertSink();
    const older = await record(store, T1, [at(T1, 'FAIL')], { sink });
    expect(older.counts).toMatchObject({ changed: 0, new: 0, superseded: 1 });
    expect(await stored(store)).toMatchObject({ status: 'PASS', version: 1 });
    expect(kinds(sink)).toEqual([]);
  });

  it('an older audit never closes a finding a newer audit reported (it no longer lists the instance)', async () => {
    const { store } = await freshStore();
    await record(store, T0, [at(T0, 'FAIL'), at(T0, 'PASS', iid(2))]);
    await record(store, T2, [at(T2, 'FAIL'), at(T2, 'PASS', iid(2))]);
    const older = await record(store, T1, [at(T1, 'PASS', iid(2))]);
    expect(older.counts.closed).toBe(0);
    expect(await stored(store)).toMatchObject({ status: 'FAIL' });
    expect((await stored(store)).closedAt).toBeUndefined();
  });

  it('a terminated close at 10:02 is not re-opened by an audit collected at 10:01, and alerts nothing again', async () => {
    const { store } = await freshStore();
    await record(store, T0, [at(T0, 'FAIL')]);
    const sink = new LocalAlertSink();
    await record(store, T2, [], { closed: [iid(1)], instances: [iid(1)], sink });
    expect(kinds(sink)).toEqual(['RESOLVED', 'DIGEST']);
    const late = new LocalAlertSink();
    const older = await record(store, T1, [at(T1, 'FAIL')], { sink: late });
    expect(older.counts).toMatchObject({ new: 0, changed: 0 });
    expect((await stored(store)).closedAt).toBe(T2);
    expect(kinds(late)).toEqual([]);
    // A newer audit that sees the instance again does re-open it.
    await record(store, T3, [at(T3, 'FAIL')]);
    expect((await stored(store)).closedAt).toBeUndefined();
  });

  it('a whole-region audit older than an instance audit leaves that instance to it, and records the rest', async () => {
    const { store } = await freshStore();
    await record(store, T0, [at(T0, 'PASS'), at(T0, 'PASS', iid(2))]);
    await record(store, T2, [at(T2, 'PASS')], { instances: [iid(1)] });
    await record(store, T1, [at(T1, 'FAIL'), at(T1, 'FAIL', iid(2))]);
    expect(await stored(store)).toMatchObject({ status: 'PASS' });
    expect(await stored(store, iid(2))).toMatchObject({ status: 'FAIL' });
  });

  it('the same event delivered twice at once: one transition, one alert, one digest', async () => {
    const { store: a } = await freshStore();
    const b = new FindingsStore({ client: local.doc, tableName: a.tableName, sleep: async () => undefined });
    await record(a, T0, [at(T0, 'PASS')]);
    const sink = new LocalAlertSink();
    const runs = await Promise.all([
      record(a, T1, [at(T1, 'FAIL')], { sink, instances: [iid(1)] }),
      record(b, T1, [at(T1, 'FAIL')], { sink, instances: [iid(1)] }),
    ]);
    expect(runs.map((r) => r.counts.changed).sort()).toEqual([0, 1]);
    expect(kinds(sink)).toEqual(['REGRESSION', 'DIGEST']);
    expect((await a.historyOf(iid(1))).map((h) => h.toStatus)).toEqual(['PASS', 'FAIL']);
  });
});

describe('history is never lost, and a failed run stops writing', () => {
  /** A document client that fails every write from the k-th on (an invocation that ended). */
  function dyingAfter(k: number) {
    let writes = 0;
    let after = 0;
    const client = {
      send: async (command: { constructor: { name: string } }) => {
        if (/^(Update|Put|BatchWrite)/.test(command.constructor.name)) {
          if (writes >= k) {
            after++;
            throw Object.assign(new Error('Task timed out'), { name: 'TimeoutError' });
          }
          writes++;
        }
        return (local.doc as unknown as { send: (c: unknown) => Promise<unknown> }).send(command);
      },
    } as unknown as DynamoDBDocumentClient;
    return { client, attemptsAfterFailure: () => after };
  }

  it('a run that dies after writing the findings leaves their history for the next run to write', async () => {
    const { store, tableName } = await freshStore();
    await record(store, T0, [at(T0, 'PASS'), at(T0, 'PASS', iid(2))]);
    // Lease (1) + watermark (1) + two finding writes; the history batch is the 5th write.
    let now = 0;
    const dying = dyingAfter(4);
    const cut = new FindingsStore({
      client: dying.client,
      tableName,
      sleep: async () => undefined,
      clock: () => now,
    });
    await expect(record(cut, T1, [at(T1, 'FAIL'), at(T1, 'FAIL', iid(2))])).rejects.toThrow(/timed out/);
    expect((await store.historyOf(iid(1))).map((h) => h.toStatus)).toEqual(['PASS']);
    now += 120_000; // the dead run's lease expires
    const next = new FindingsStore({
      client: local.doc,
      tableName,
      sleep: async () => undefined,
      clock: () => now,
    });
    const sink = new LocalAlertSink();
    const report = await record(next, T2, [at(T2, 'FAIL'), at(T2, 'FAIL', iid(2))], { sink });
    expect(report.counts).toMatchObject({ unchanged: 2 });
    for (const id of [iid(1), iid(2)])
      expect((await store.historyOf(id)).map((h) => h.toStatus)).toEqual(['PASS', 'FAIL']);
    expect(kinds(sink).filter((k) => k === 'REGRESSION')).toHaveLength(2);
    expect(await store.pendingAlerts(ACCOUNT, REGION)).toEqual([]);
  });

  it('when one write fails, no further write starts (not after recordAudit has rejected either)', async () => {
    const { tableName } = await freshStore();
    const dying = dyingAfter(3);
    const store = new FindingsStore({
      client: dying.client,
      tableName,
      writeConcurrency: 4,
      sleep: async () => undefined,
    });
    const findings = Array.from({ length: 40 }, (_, i) => at(T0, 'FAIL', iid(i + 1)));
    await expect(record(store, T0, findings)).rejects.toThrow();
    const settled = dying.attemptsAfterFailure();
    await new Promise((resolve) => setImmediate(resolve));
    // The writes in flight when the first failed (at most the concurrency), plus the lease release.
    expect(settled).toBeLessThanOrEqual(4 + 1);
    expect(dying.attemptsAfterFailure()).toBe(settled);
  });

  it('mapLimit starts no task after one has failed, and settles only when those in flight have', async () => {
    const started: number[] = [];
    let inFlight = 0;
    const run = mapLimit([1, 2, 3, 4, 5, 6, 7, 8], 2, async (n) => {
      started.push(n);
      inFlight++;
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (n === 2) throw new Error('boom');
      return n;
    });
    await expect(run).rejects.toThrow('boom');
    expect(inFlight).toBe(0);
    expect(started.length).toBeLessThanOrEqual(3);
  });
});

describe('one finding per (resource, rule)', () => {
  it('a whole-region audit whose DescribeInstances was denied is stored, alerted and summarized', async () => {
    const { store } = await freshStore();
    const snapshot = parseSnapshot({
      ...aSnapshot({ instances: [anInstance({ id: iid(1) })], ec2: aNetwork(), collectedAt: T0 }),
      calls: { 'ec2:DescribeInstances': { status: 'denied', error: 'UnauthorizedOperation' } },
    });
    delete (snapshot.ec2 as { Reservations?: unknown }).Reservations;
    const audit = auditSnapshot(snapshot, { rules: ALL_RULES, now: new Date(T0), evaluatedAt: new Date(T0) });
    const ids = audit.findings.map((f) => `${f.resourceId}#${f.ruleId}`);
    expect(new Set(ids).size).toBe(ids.length);
    const listing = audit.findings.filter((f) => f.resourceId === listingResourceId(ACCOUNT, 'ec2'));
    expect(listing.map((f) => f.ruleId)).toContain('instance-permissions');
    expect(audit.findings.some((f) => f.resourceId === ACCOUNT && f.ruleId === 'instance-permissions')).toBe(
      true,
    );
    const sink = new LocalAlertSink();
    const report = await recordAudit({
      store,
      publisher: new AlertPublisher(sink),
      snapshot,
      result: audit,
      ruleIds: ALL_RULES.map((r) => r.meta.id),
      now: new Date(T0),
    });
    expect(report.counts.new).toBe(audit.findings.length);
    expect(await store.runs(ACCOUNT, REGION)).toHaveLength(1);
    expect(kinds(sink)).toContain('NEW_FAILURE');
    expect(kinds(sink)).toContain('DIGEST');
  });
});
