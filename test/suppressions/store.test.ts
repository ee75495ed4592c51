import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AlertPublisher, LocalAlertSink } from '../../shared/alerts/publisher';
import { applySuppressions } from '../../shared/engine/suppressions';
import type { Finding, SuppressionEntry } from '../../shared/model';
import { recordAudit } from '../../shared/pipeline/record-audit';
import { FindingsStore } from '../../shared/store/findings-store';
import { findingSk, resourcePk } from '../../shared/store/keys';
import {
  EXPIRED_ENTRY_KEPT_DAYS,
  SUPPRESSION_PK,
  SuppressionStore,
  SuppressionStoreError,
} from '../../shared/store/suppressions';
import { ensureTable } from '../../shared/store/table';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { ACCOUNT, REGION, aFinding, iid, result, snapshotFor } from '../support/store-fixtures';

/**
 * Suppressions in the findings table (dynalite): the entry items, and what recording an audit does with
 * suppressed findings — no alert while suppressed, the stored item records the entry, the run counts it
 * apart, and when the entry expires the next audit alerts exactly once.
 */

let local: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  local = await startLocalDynamo('suppressions-default');
});
afterAll(async () => {
  await local.stop();
});

async function fresh() {
  const tableName = `suppressions-${++tables}`;
  await ensureTable(local.client, tableName);
  return {
    tableName,
    store: new FindingsStore({ client: local.doc, tableName, sleep: async () => undefined }),
    suppressions: new SuppressionStore(local.doc, tableName),
  };
}

const NOW = new Date('2026-11-23T10:00:00.000Z');
const entry = (over: Partial<SuppressionEntry> = {}): SuppressionEntry => ({
  id: 'sup-1',
  match: { ruleId: 'network-path', resourceId: iid(1) },
  reason: 'isolated subnet, agent not wanted',
  owner: 'platform-team',
  expiresAt: '2026-12-01T00:00:00.000Z',
  ...over,
});

describe('SuppressionStore (items pk SUPPRESSION in the findings table)', () => {
  it('add → list → active(now) → remove, with the TTL a month after the expiry', async () => {
    const { suppressions, tableName } = await fresh();
    await suppressions.add(entry(), NOW);
    await suppressions.add(
      entry({
        id: 'sup-2',
        match: { tag: { key: 'env', value: 'dev' } },
        expiresAt: '2026-11-01T00:00:00.000Z',
      }),
      NOW,
    );
    expect(await suppressions.list()).toEqual([
      { ...entry(), createdAt: NOW.toISOString() },
      {
        ...entry({
          id: 'sup-2',
          match: { tag: { key: 'env', value: 'dev' } },
          expiresAt: '2026-11-01T00:00:00.000Z',
        }),
        createdAt: NOW.toISOString(),
      },
    ]);
    expect((await suppressions.active(NOW)).map((e) => e.id)).toEqual(['sup-1']);
    expect(await suppressions.active(new Date('2026-12-01T00:00:00.000Z'))).toEqual([]);
    const item = (
      await local.doc.send(new GetCommand({ TableName: tableName, Key: { pk: SUPPRESSION_PK, sk: 'sup-1' } }))
    ).Item!;
    expect(item).toMatchObject({ type: 'SUPPRESSION', entryExpiresAt: '2026-12-01T00:00:00.000Z' });
    expect(item.expiresAt).toBe(
      Date.parse('2026-12-01T00:00:00.000Z') / 1000 + EXPIRED_ENTRY_KEPT_DAYS * 86_400,
    );
    expect(await suppressions.remove('sup-1')).toMatchObject({ id: 'sup-1', owner: 'platform-team' });
    expect((await suppressions.list()).map((e) => e.id)).toEqual(['sup-2']);
  });

  it('a duplicate id and removing an unknown id are errors saying so', async () => {
    const { suppressions } = await fresh();
    await suppressions.add(entry(), NOW);
    const duplicate = suppressions.add(entry(), NOW);
    await expect(duplicate).rejects.toBeInstanceOf(SuppressionStoreError);
    await expect(duplicate).rejects.toThrow('a suppression with id sup-1 already exists');
    await expect(suppressions.remove('sup-9')).rejects.toThrow('no suppression with id sup-9');
  });

  it('a missing table is the one-line table error', async () => {
    const missing = new SuppressionStore(local.doc, 'no-such-table');
    await expect(missing.list()).rejects.toThrow(/findings table no-such-table does not exist/);
  });
});

describe('recording audits with suppressions', () => {
  const T = (day: number) => `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`;
  const failing = (at: string): Finding =>
    aFinding({ resourceId: iid(1), ruleId: 'network-path', status: 'FAIL', evaluatedAt: at });
  const passing = (at: string): Finding =>
    aFinding({ resourceId: iid(2), ruleId: 'network-path', status: 'PASS', evaluatedAt: at });

  async function audit(
    store: FindingsStore,
    at: string,
    entries: readonly SuppressionEntry[],
    findings: (at: string) => Finding[] = (t) => [failing(t), passing(t)],
  ) {
    const sink = new LocalAlertSink();
    const suppressed = applySuppressions(findings(at), entries, {
      now: new Date(at),
      tagsOf: () => undefined,
    });
    const report = await recordAudit({
      store,
      publisher: new AlertPublisher(sink),
      snapshot: snapshotFor({ collectedAt: at }),
      result: result(suppressed),
      ruleIds: ['network-path'],
      now: new Date(at),
    });
    return { report, kinds: sink.sent.map((e) => e.MessageAttributes?.kind?.StringValue) };
  }
  const storedItem = async (tableName: string, id = iid(1)) =>
    (
      await local.doc.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: resourcePk(id), sk: findingSk(ACCOUNT, REGION, 'network-path') },
        }),
      )
    ).Item!;

  it('suppressed from the start: no alert, stored with its entry, counted apart; expiry alerts NEW_FAILURE once', async () => {
    const { store, tableName } = await fresh();
    const entries = [entry({ expiresAt: '2026-11-10T00:00:00.000Z' })];
    const first = await audit(store, T(1), entries);
    expect(first.kinds).toEqual(['DIGEST']);
    expect(first.report.counts).toMatchObject({ new: 2, suppressed: 1 });
    expect(first.report.byStatus).toEqual({ PASS: 1 });
    expect(first.report.alerts.transitions).toBe(0);
    expect(await storedItem(tableName)).toMatchObject({
      status: 'FAIL',
      suppressed: {
        id: 'sup-1',
        reason: 'isolated subnet, agent not wanted',
        owner: 'platform-team',
        expiresAt: '2026-11-10T00:00:00.000Z',
      },
    });

    // Staying suppressed: nothing written, nothing sent.
    const again = await audit(store, T(5), entries);
    expect(again.kinds).toEqual([]);
    expect(again.report.counts).toMatchObject({ unchanged: 2, changed: 0 });

    // The entry has expired: the finding, still failing, alerts once, and its item loses the entry.
    const expired = await audit(store, T(11), entries);
    expect(expired.kinds).toEqual(['NEW_FAILURE', 'DIGEST']);
    expect(expired.report.byStatus).toEqual({ PASS: 1, FAIL: 1 });
    expect(expired.report.counts.suppressed).toBeUndefined();
    const item = await storedItem(tableName);
    expect(item.suppressed).toBeUndefined();
    expect(item.status).toBe('FAIL');

    const after = await audit(store, T(12), entries);
    expect(after.kinds).toEqual([]);
    expect(after.report.counts).toMatchObject({ unchanged: 2 });
  });

  it('a failure that becomes suppressed sends no RESOLVED; fixing it while suppressed sends nothing', async () => {
    const { store, tableName } = await fresh();
    expect((await audit(store, T(1), [])).kinds).toEqual(['NEW_FAILURE', 'DIGEST']);
    const suppressedNow = await audit(store, T(2), [entry()]);
    expect(suppressedNow.kinds).toEqual(['DIGEST']);
    expect(suppressedNow.report.counts).toMatchObject({ changed: 1, statusChanges: 0, suppressed: 1 });
    expect((await storedItem(tableName)).suppressed).toMatchObject({ id: 'sup-1' });
    // Fixed while suppressed: a stored change, no alert.
    const fixed = await audit(store, T(3), [entry()], (t) => [
      { ...failing(t), status: 'PASS', severity: 'INFORMATIONAL' },
      passing(t),
    ]);
    expect(fixed.kinds).toEqual(['DIGEST']);
    expect(fixed.report.counts).toMatchObject({ changed: 1, statusChanges: 1 });
    // The entry is removed while the finding passes: nothing to alert.
    const removed = await audit(store, T(4), [], (t) => [
      { ...failing(t), status: 'PASS', severity: 'INFORMATIONAL' },
      passing(t),
    ]);
    expect(removed.kinds).toEqual(['DIGEST']);
    expect((await storedItem(tableName)).suppressed).toBeUndefined();
  });

  it('an item whose suppressed attribute disagrees with its hash (an older store, a hand edit) is repaired by the next audit, alerting nothing twice', async () => {
    const { store, tableName } = await fresh();
    const entries = [entry({ expiresAt: '2026-11-10T00:00:00.000Z' })];
    await audit(store, T(1), entries);
    const expired = await audit(store, T(11), entries);
    expect(expired.kinds).toEqual(['NEW_FAILURE', 'DIGEST']);
    // The item still carries the ended suppression although its hash says otherwise.
    const key = { pk: resourcePk(iid(1)), sk: findingSk(ACCOUNT, REGION, 'network-path') };
    await local.doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET suppressed = :s',
        ExpressionAttributeValues: { ':s': { ...entries[0]!, match: undefined } },
      }),
    );
    const repair = await audit(store, T(12), entries);
    expect(repair.kinds).toEqual(['DIGEST']);
    expect(repair.report.counts).toMatchObject({ changed: 1, statusChanges: 0 });
    expect((await storedItem(tableName)).suppressed).toBeUndefined();
    expect((await audit(store, T(13), entries)).kinds).toEqual([]);
  });

  it('a suppressed finding whose resource is gone closes without a RESOLVED alert', async () => {
    const { store } = await fresh();
    await audit(store, T(1), [entry()]);
    const gone = await audit(store, T(2), [entry()], (t) => [passing(t)]);
    expect(gone.report.counts).toMatchObject({ closed: 1 });
    expect(gone.kinds).toEqual(['DIGEST']);
  });
});
