import type { AwsSecurityFinding, BatchImportFindingsResponse } from '@aws-sdk/client-securityhub';
import { SecurityHubImporter, type SecurityHubFindingsSink } from '../../shared/alerts/security-hub';
import { applySuppressions } from '../../shared/engine/suppressions';
import type { Finding, SuppressionEntry } from '../../shared/model';
import { SecurityHubExport } from '../../shared/pipeline/export';
import { recordAudit } from '../../shared/pipeline/record-audit';
import { FindingsStore } from '../../shared/store/findings-store';
import { ensureTable } from '../../shared/store/table';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { asffProblems } from './asff-schema';
import { aFinding, iid, result, snapshotFor } from '../support/store-fixtures';

/**
 * Security Hub export through the store's outbox (dynalite): the first whole-region audit imports every
 * open finding; afterwards only changes are sent, each accepted one once; a finding Security Hub rejects
 * (FailedFindings) or a request that fails stays pending and goes with the next audit; resolved, closed
 * and suppressed findings are archived, a regression is ACTIVE again.
 */

let local: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  local = await startLocalDynamo('export-default');
});
afterAll(async () => {
  await local.stop();
});

/** A Security Hub that records every batch and rejects the Ids it is told to (once each, or always). */
class FakeSecurityHub implements SecurityHubFindingsSink {
  readonly batches: AwsSecurityFinding[][] = [];
  reject = new Set<string>();
  down = false;
  async batchImportFindings(findings: AwsSecurityFinding[]): Promise<BatchImportFindingsResponse> {
    if (this.down)
      throw Object.assign(new Error('Service unavailable'), { name: 'InternalException', $fault: 'server' });
    this.batches.push([...findings]);
    const failed = findings.filter((f) => this.reject.has(f.Id!));
    return {
      SuccessCount: findings.length - failed.length,
      FailedCount: failed.length,
      FailedFindings: failed.map((f) => ({ Id: f.Id!, ErrorCode: 'InvalidInput', ErrorMessage: 'rejected' })),
    };
  }
  take(): AwsSecurityFinding[] {
    const all = this.batches.flat();
    this.batches.length = 0;
    return all;
  }
}

async function setup() {
  const tableName = `export-${++tables}`;
  await ensureTable(local.client, tableName);
  const store = new FindingsStore({ client: local.doc, tableName, sleep: async () => undefined });
  const hub = new FakeSecurityHub();
  const exporter = new SecurityHubExport(new SecurityHubImporter(hub, { backoff: { retries: 0 } }), {
    auditorVersion: '0.1.0',
  });
  const audit = async (at: string, findings: Finding[], closed: string[] = []) =>
    recordAudit({
      store,
      snapshot: snapshotFor({ collectedAt: at }),
      result: result(findings, closed),
      ruleIds: ['network-path'],
      now: new Date(at),
      exporter,
    });
  return { store, hub, audit };
}

const T = (day: number) => `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`;
const fleet = (at: string, statuses: Record<number, 'PASS' | 'FAIL'>) =>
  Object.entries(statuses).map(([n, status]) =>
    aFinding({ resourceId: iid(Number(n)), ruleId: 'network-path', status, evaluatedAt: at }),
  );
const view = (findings: AwsSecurityFinding[]) =>
  findings
    .map((f) => `${f.Resources![0]!.Id!.split('/').pop()} ${f.Compliance!.Status} ${f.RecordState}`)
    .sort();

describe('Security Hub export through the outbox', () => {
  it('imports everything once on first enablement (pages of 100), then only changes, never twice', async () => {
    const { hub, audit } = await setup();
    const statuses = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [i + 1, i < 10 ? 'FAIL' : 'PASS']),
    );
    const first = await audit(T(1), fleet(T(1), statuses as Record<number, 'PASS' | 'FAIL'>));
    expect(hub.batches.map((b) => b.length)).toEqual([100, 50]);
    const sent = hub.take();
    for (const f of sent) expect(asffProblems(f)).toEqual([]);
    expect(first.exports).toMatchObject({ sent: 150, accepted: 150, failed: 0, initialImport: true });

    const unchanged = await audit(T(2), fleet(T(2), statuses as Record<number, 'PASS' | 'FAIL'>));
    expect(hub.take()).toEqual([]);
    expect(unchanged.exports).toMatchObject({ sent: 0, initialImport: false });

    const fixed = { ...statuses, 1: 'PASS' } as Record<number, 'PASS' | 'FAIL'>;
    await audit(T(3), fleet(T(3), fixed));
    expect(view(hub.take())).toEqual([`${iid(1)} PASSED ARCHIVED`]);
    await audit(T(4), fleet(T(4), fixed));
    expect(hub.take()).toEqual([]);
  });

  it('archives a resolved, closed or suppressed finding and re-activates a regression', async () => {
    const { hub, audit } = await setup();
    await audit(T(1), fleet(T(1), { 1: 'FAIL', 2: 'FAIL', 3: 'FAIL' }));
    hub.take();
    // 1 resolved, 2 terminated (closed), 3 suppressed.
    const entries: SuppressionEntry[] = [
      {
        id: 'sup-1',
        match: { resourceId: iid(3) },
        reason: 'known exception',
        owner: 'platform-team',
        expiresAt: '2026-12-31T00:00:00.000Z',
      },
    ];
    const findings = applySuppressions(fleet(T(2), { 1: 'PASS', 3: 'FAIL' }), entries, {
      now: new Date(T(2)),
      tagsOf: () => undefined,
    });
    await audit(T(2), findings, [iid(2)]);
    const archived = hub.take();
    expect(view(archived)).toEqual([
      `${iid(1)} PASSED ARCHIVED`,
      `${iid(2)} FAILED ARCHIVED`,
      `${iid(3)} FAILED ARCHIVED`,
    ]);
    expect(JSON.stringify(archived)).not.toContain('"Workflow"');
    // The regression: ACTIVE again.
    const later = applySuppressions(fleet(T(3), { 1: 'FAIL', 3: 'FAIL' }), entries, {
      now: new Date(T(3)),
      tagsOf: () => undefined,
    });
    await audit(T(3), later);
    expect(view(hub.take())).toEqual([`${iid(1)} FAILED ACTIVE`]);
  });

  it('a finding Security Hub rejects, or a failed request, stays pending and goes with the next audit', async () => {
    const { hub, audit } = await setup();
    await audit(T(1), fleet(T(1), { 1: 'FAIL', 2: 'FAIL' }));
    hub.take();
    const rejectedId = `ssm-readiness/123456789012/eu-west-1/${iid(1)}/network-path`;
    hub.reject.add(rejectedId);
    const partial = await audit(T(2), fleet(T(2), { 1: 'PASS', 2: 'PASS' }));
    expect(view(hub.take())).toEqual([`${iid(1)} PASSED ARCHIVED`, `${iid(2)} PASSED ARCHIVED`]);
    expect(partial.exports).toMatchObject({ sent: 2, accepted: 1, failed: 1 });

    // Security Hub down for a whole run: nothing lost.
    hub.reject.clear();
    hub.down = true;
    const down = await audit(T(3), fleet(T(3), { 1: 'PASS', 2: 'FAIL' }));
    expect(down.exports).toMatchObject({ accepted: 0 });
    hub.down = false;

    // The next audit (nothing changed) sends exactly what is still pending: the rejected one and the
    // change Security Hub never received.
    await audit(T(4), fleet(T(4), { 1: 'PASS', 2: 'FAIL' }));
    expect(view(hub.take())).toEqual([`${iid(1)} PASSED ARCHIVED`, `${iid(2)} FAILED ACTIVE`]);
    await audit(T(5), fleet(T(5), { 1: 'PASS', 2: 'FAIL' }));
    expect(hub.take()).toEqual([]);
  });

  it('without an exporter nothing is marked, so enabling it later starts with the full import', async () => {
    const { hub, audit, store } = await setup();
    await recordAudit({
      store,
      snapshot: snapshotFor({ collectedAt: T(1) }),
      result: result(fleet(T(1), { 1: 'FAIL' })),
      ruleIds: ['network-path'],
      now: new Date(T(1)),
    });
    const later = await audit(T(2), fleet(T(2), { 1: 'FAIL' }));
    expect(later.exports).toMatchObject({ initialImport: true, sent: 1, accepted: 1 });
    expect(view(hub.take())).toEqual([`${iid(1)} FAILED ACTIVE`]);
  });
});
