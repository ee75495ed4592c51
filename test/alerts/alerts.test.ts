import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import {
  digestMessage,
  entryBytes,
  SNS_MAX_BYTES,
  toPublishEntry,
  transitionMessage,
} from '../../shared/alerts/messages';
import { AlertPublisher, SnsAlertSink } from '../../shared/alerts/publisher';
import { FINDING_FIELDS, type Finding } from '../../shared/model';
import { recordAudit } from '../../shared/pipeline/record-audit';
import { findingHash, type PendingAlert, type StoredFinding } from '../../shared/store/diff';
import { FindingsStore } from '../../shared/store/findings-store';
import { ensureTable } from '../../shared/store/table';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { ACCOUNT, REGION, aFinding, iid, result, snapshotFor } from '../support/store-fixtures';

/** SNS alerts (DESIGN §5) with a mocked SNS client; the outbox against dynalite. */

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ssm-readiness-alerts';
const sns = mockClient(SNSClient);
let local: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  local = await startLocalDynamo('alerts-default');
});
afterAll(async () => {
  sns.restore();
  await local.stop();
});
beforeEach(() => sns.reset());

const client = () =>
  new SNSClient({ region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const publisher = () => new AlertPublisher(new SnsAlertSink(client(), TOPIC));
/** SNS accepts every entry (the default behaviour of the mock in these tests). */
const acceptAll = () =>
  sns
    .on(PublishBatchCommand)
    .callsFake((input: { PublishBatchRequestEntries: PublishBatchRequestEntry[] }) => ({
      Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `msg-${e.Id}` })),
      Failed: [],
    }));
const sentEntries = () =>
  sns.commandCalls(PublishBatchCommand).flatMap((c) => c.args[0].input.PublishBatchRequestEntries ?? []);

function stored(
  f: Finding,
  alert: Partial<PendingAlert> = {},
): { finding: StoredFinding; alert: PendingAlert } {
  const a: PendingAlert = {
    id: `${f.resourceId}#v2`,
    kind: 'REGRESSION',
    fromStatus: 'PASS',
    toStatus: f.status,
    at: '2026-11-23T10:00:00.000Z',
    runId: 'run-1',
    version: 2,
    ...alert,
  };
  return {
    finding: {
      ...f,
      version: 2,
      hash: findingHash(f),
      firstSeenAt: a.at,
      statusChangedAt: a.at,
      pendingAlerts: [a],
    },
    alert: a,
  };
}

async function freshStore() {
  const tableName = `alerts-${++tables}`;
  await ensureTable(local.client, tableName);
  return new FindingsStore({ client: local.doc, tableName, sleep: async () => undefined });
}

describe('message structure and attributes', () => {
  it('publishes MessageStructure json: readable text for email, the finding as JSON for machines', () => {
    const { finding, alert } = stored(
      aFinding({ resourceId: iid(1), status: 'FAIL', severity: 'HIGH', ruleId: 'network-path' }),
    );
    const entry = toPublishEntry(transitionMessage(finding, alert), 'm0');
    expect(entry.MessageStructure).toBe('json');
    const body = JSON.parse(entry.Message!) as { default: string; email: string };
    expect(Object.keys(body).sort()).toEqual(['default', 'email']);
    const json = JSON.parse(body.default);
    expect(json).toMatchObject({
      kind: 'REGRESSION',
      alertId: alert.id,
      transition: { from: 'PASS', to: 'FAIL' },
    });
    expect(Object.keys(json.finding)).toEqual([...FINDING_FIELDS]);
    expect(body.email).toContain('Regression: network-path on i-00000000000000001');
    expect(body.email).toContain('Status: PASS -> FAIL');
    expect(body.email).toContain('How to fix:');
    expect(entry.Subject).toBe(
      '[SSM readiness] Regression: network-path FAIL on i-00000000000000001 (eu-west-1)',
    );
    expect(entry.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'HIGH' },
      ruleId: { DataType: 'String', StringValue: 'network-path' },
      status: { DataType: 'String', StringValue: 'FAIL' },
      accountId: { DataType: 'String', StringValue: ACCOUNT },
      region: { DataType: 'String', StringValue: REGION },
      kind: { DataType: 'String', StringValue: 'REGRESSION' },
    });
  });

  it('keeps subjects ASCII, on one line and within 100 characters', () => {
    const { finding, alert } = stored(
      aFinding({ resourceId: `i-${'a'.repeat(17)}`, status: 'FAIL', ruleId: 'instance-permissions' }),
    );
    const subject = transitionMessage({ ...finding, region: 'ap-southeast-2—\n' }, alert).subject;
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('the 256 KB limit', () => {
  it('truncates evidence that would not fit, and says so', () => {
    const huge = {
      statements: Array.from(
        { length: 20_000 },
        (_, i) => `Allow arn:aws:iam::123456789012:policy/p${i} Statement[${i}]`,
      ),
    };
    const { finding, alert } = stored(aFinding({ resourceId: iid(2), status: 'FAIL', evidence: huge }));
    const message = transitionMessage(finding, alert);
    expect(entryBytes(toPublishEntry(message, 'm0'))).toBeLessThanOrEqual(SNS_MAX_BYTES);
    expect(message.json.evidenceTruncated).toBe(true);
    expect(message.text).toMatch(/evidence truncated: \d+ more characters/);
  });

  it('cuts long lists in the digest with counts of what was left out', () => {
    const transitions = Array.from({ length: 5_000 }, (_, i) =>
      stored(
        aFinding({ resourceId: iid(i), status: 'FAIL', message: `${'a long explanation '.repeat(10)}${i}` }),
        { id: `a${i}`, kind: 'NEW_FAILURE', fromStatus: null },
      ),
    );
    const digest = digestMessage({
      accountId: ACCOUNT,
      region: REGION,
      runId: 'run-1',
      scope: 'whole region',
      finishedAt: '2026-11-23T10:00:00.000Z',
      counts: { new: 5_000 },
      byStatus: { FAIL: 5_000 },
      transitions,
      summarizedAlertIds: transitions.map((t) => t.alert.id),
    });
    expect(entryBytes(toPublishEntry(digest, 'm0'))).toBeLessThanOrEqual(SNS_MAX_BYTES);
    const truncated = (digest.json.truncated as Record<string, number>).NEW_FAILURE!;
    expect(truncated).toBeGreaterThan(0);
    expect((digest.json.transitions as Record<string, unknown[]>).NEW_FAILURE!.length + truncated).toBe(
      5_000,
    );
    expect(digest.text).toContain(`… and ${truncated} more`);
    expect(digest.alertIds).toHaveLength(5_000);
  });

  it('splits a batch so that no PublishBatch request exceeds 256 KB in total', async () => {
    acceptAll();
    const big = { blob: 'x'.repeat(70_000) };
    const messages = Array.from({ length: 6 }, (_, i) => {
      const { finding, alert } = stored(aFinding({ resourceId: iid(i), status: 'FAIL', evidence: big }));
      return transitionMessage(finding, alert);
    });
    const outcome = await publisher().publish(messages);
    expect(outcome.delivered.size).toBe(6);
    const calls = sns.commandCalls(PublishBatchCommand);
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      const total = (call.args[0].input.PublishBatchRequestEntries ?? []).reduce(
        (n, e) => n + entryBytes(e),
        0,
      );
      expect(total).toBeLessThanOrEqual(SNS_MAX_BYTES);
    }
  });
});

describe('PublishBatch', () => {
  it('sends at most 10 entries per request, with ids unique within the request', async () => {
    acceptAll();
    const messages = Array.from({ length: 23 }, (_, i) => {
      const { finding, alert } = stored(aFinding({ resourceId: iid(i), status: 'FAIL' }));
      return transitionMessage(finding, alert);
    });
    const outcome = await publisher().publish(messages);
    const calls = sns.commandCalls(PublishBatchCommand);
    expect(calls.map((c) => c.args[0].input.PublishBatchRequestEntries!.length)).toEqual([10, 10, 3]);
    for (const call of calls) {
      expect(call.args[0].input.TopicArn).toBe(TOPIC);
      const ids = call.args[0].input.PublishBatchRequestEntries!.map((e) => e.Id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(outcome).toMatchObject({ messages: 23, requests: 3, failed: [] });
    expect(outcome.delivered.size).toBe(23);
  });

  it('treats a request that fails as a whole as undelivered (not lost, not delivered)', async () => {
    sns.on(PublishBatchCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const { finding, alert } = stored(aFinding({ resourceId: iid(1), status: 'FAIL' }));
    const outcome = await publisher().publish([transitionMessage(finding, alert)]);
    expect(outcome.delivered.size).toBe(0);
    expect(outcome.failed).toEqual([expect.objectContaining({ alertIds: [alert.id], error: 'Throttling' })]);
  });
});

describe('the outbox (at-least-once delivery)', () => {
  const failing = (ids: number[]) => ids.map((i) => aFinding({ resourceId: iid(i), status: 'FAIL' }));
  const run = (
    store: FindingsStore,
    findings: Finding[],
    now: string,
    extra: { maxAlertsPerRun?: number } = {},
  ) =>
    recordAudit({
      store,
      publisher: publisher(),
      snapshot: snapshotFor(),
      result: result(findings),
      ruleIds: ['network-path'],
      now: new Date(now),
      ...extra,
    });

  it('entries SNS reports as Failed stay pending and go out with the next run; delivered ones never repeat', async () => {
    const store = await freshStore();
    // SNS fails the entries about i-...2 and i-...4 the first time.
    let first = true;
    sns
      .on(PublishBatchCommand)
      .callsFake((input: { PublishBatchRequestEntries: PublishBatchRequestEntry[] }) => {
        const bad = first
          ? input.PublishBatchRequestEntries.filter((e) => /i-0000000000000000[24]/.test(e.Subject ?? ''))
          : [];
        first = false;
        return {
          Successful: input.PublishBatchRequestEntries.filter((e) => !bad.includes(e)).map((e) => ({
            Id: e.Id,
            MessageId: 'm',
          })),
          Failed: bad.map((e) => ({
            Id: e.Id,
            Code: 'InternalError',
            SenderFault: false,
            Message: 'try again',
          })),
        };
      });
    const one = await run(store, failing([1, 2, 3, 4]), '2026-11-23T10:00:00Z');
    expect(one.alerts).toMatchObject({ transitions: 4, delivered: 2, failedMessages: 2, pending: 2 });
    expect((await store.pendingAlerts(ACCOUNT, REGION)).map((f) => f.resourceId).sort()).toEqual([
      iid(2),
      iid(4),
    ]);

    sns.reset();
    acceptAll();
    // The findings did not change: only the two undelivered alerts (and a digest about them) go out.
    const two = await run(store, failing([1, 2, 3, 4]), '2026-11-24T10:00:00Z');
    expect(two.counts).toMatchObject({ unchanged: 4, new: 0 });
    const kinds = sentEntries().map((e) => [e.MessageAttributes!.kind!.StringValue, e.Subject]);
    expect(
      kinds
        .filter(([k]) => k === 'NEW_FAILURE')
        .map(([, s]) => s!.match(/i-[0-9a-f]+/)![0])
        .sort(),
    ).toEqual([iid(2), iid(4)]);
    expect(kinds.filter(([k]) => k === 'DIGEST')).toHaveLength(1);
    expect(await store.pendingAlerts(ACCOUNT, REGION)).toEqual([]);

    sns.reset();
    acceptAll();
    await run(store, failing([1, 2, 3, 4]), '2026-11-25T10:00:00Z');
    expect(sentEntries()).toEqual([]);
  });

  it('over the per-run cap, transitions are delivered in the digest and cleared with it', async () => {
    acceptAll();
    const store = await freshStore();
    const report = await run(
      store,
      failing([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
      '2026-11-23T10:00:00Z',
      { maxAlertsPerRun: 5 },
    );
    const kinds = sentEntries().map((e) => e.MessageAttributes!.kind!.StringValue);
    expect(kinds.filter((k) => k === 'NEW_FAILURE')).toHaveLength(5);
    expect(kinds.filter((k) => k === 'DIGEST')).toHaveLength(1);
    expect(report.alerts).toMatchObject({ transitions: 12, delivered: 12, pending: 0 });
    const digest = JSON.parse(
      JSON.parse(sentEntries().find((e) => e.MessageAttributes!.kind!.StringValue === 'DIGEST')!.Message!)
        .default,
    );
    expect(digest.transitions.NEW_FAILURE).toHaveLength(12);
    expect(await store.pendingAlerts(ACCOUNT, REGION)).toEqual([]);
  });

  it('without SNS the transitions wait in the outbox', async () => {
    const store = await freshStore();
    await recordAudit({
      store,
      snapshot: snapshotFor(),
      result: result(failing([1])),
      ruleIds: ['network-path'],
      now: new Date('2026-11-23T10:00:00Z'),
    });
    const pending = await store.pendingAlerts(ACCOUNT, REGION);
    expect(pending.map((p) => p.pendingAlerts?.map((a) => a.kind))).toEqual([['NEW_FAILURE']]);
  });
});
