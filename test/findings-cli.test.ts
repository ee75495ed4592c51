import { RULES, RULE_IDS } from '../rules';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { main } from '../scripts/ssm-audit/cli';
import { runDemo } from '../scripts/dev/demo';
import { startLocalDynamo, type LocalDynamo } from '../scripts/ssm-audit/local-dynamodb';
import { auditSnapshot } from '../shared/engine/audit';
import { SEVERITY_RANK, type Finding } from '../shared/model';
import { recordAudit } from '../shared/pipeline/record-audit';
import { loadSnapshotFile } from '../shared/snapshot/load';
import { FindingsStore } from '../shared/store/findings-store';

/** `ssm-audit findings` against the findings table of the two demo audits (dynalite, in process). */

let local: LocalDynamo;
const sent: string[] = [];
beforeAll(async () => {
  local = await startLocalDynamo('cli-findings');
  const store = new FindingsStore({ client: local.doc, tableName: local.tableName });
  for (const file of ['demo-fleet.json', 'demo-fleet-after.json']) {
    const snapshot = await loadSnapshotFile(`test/fixtures/demo/${file}`);
    const now = new Date(snapshot.collectedAt);
    await recordAudit({
      store,
      snapshot,
      result: auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now }),
      ruleIds: RULE_IDS,
      now,
    });
  }
  const original = DynamoDBDocumentClient.prototype.send;
  jest.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(function (
    this: DynamoDBDocumentClient,
    command: { constructor: { name: string } },
  ) {
    sent.push(command.constructor.name);
    return (original as (c: unknown) => Promise<unknown>).call(this, command);
  } as never);
}, 300_000);
afterAll(async () => {
  jest.restoreAllMocks();
  await local.stop();
});
beforeEach(() => {
  sent.length = 0;
});

async function findings(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(
    ['node', 'ssm-audit', 'findings', ...args, '--endpoint-url', local.endpoint, '--table', local.tableName],
    { out: (t) => (out += t), err: (t) => (err += t), isTTY: false },
  );
  return { code, out, err };
}
const json = async (...args: string[]) => {
  const r = await findings(...args, '--format', 'json', '--explain');
  expect(r.code).toBe(0);
  // Every access pattern is served by Queries; never a Scan.
  expect(sent.length).toBeGreaterThan(0);
  expect(sent.every((name) => name === 'QueryCommand')).toBe(true);
  expect(
    r.err
      .trim()
      .split('\n')
      .every((line) => line.startsWith('Query ')),
  ).toBe(true);
  return JSON.parse(r.out) as Finding[];
};

describe('ssm-audit findings', () => {
  it('by default lists every failing finding (FAIL, ERROR, WARN), most severe first', async () => {
    const items = await json();
    expect(items.length).toBeGreaterThan(30);
    expect(new Set(items.map((f) => f.status))).toEqual(new Set(['FAIL', 'WARN']));
    const ranks = items.map((f) => SEVERITY_RANK[f.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  });

  it('--status and --severity', async () => {
    const items = await json('--status', 'fail', '--severity', 'MEDIUM');
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((f) => f.status === 'FAIL' && f.severity === 'MEDIUM')).toBe(true);
  });

  it('--status PASS (not in the sparse problem index) is served per rule', async () => {
    const items = await json('--status', 'PASS');
    expect(items.length).toBeGreaterThan(2000);
    expect(items.every((f) => f.status === 'PASS')).toBe(true);
  });

  it('--rule with and without --status', async () => {
    const failing = await json('--rule', 'network-path', '--status', 'FAIL');
    expect(failing.length).toBeGreaterThan(0);
    expect(failing.every((f) => f.ruleId === 'network-path' && f.status === 'FAIL')).toBe(true);
    const all = await json('--rule', 'network-path');
    expect(new Set(all.map((f) => f.status)).size).toBeGreaterThan(2);
  });

  it('--instance: every rule for one instance', async () => {
    const items = await json('--instance', 'i-0410695edadcb9d03');
    expect(items.map((f) => f.ruleId).sort()).toEqual(
      [...RULE_IDS]
        .filter((r) => !['hybrid-service-role', 'activations', 'instance-tier'].includes(r))
        .sort(),
    );
    expect(Object.keys(items[0]!)).toHaveLength(13);
  });

  it('--since: only findings whose status changed since then', async () => {
    const items = await json('--since', '2026-11-29T00:00:00Z', '--status', 'FAIL');
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((f) => f.evaluatedAt >= '2026-11-29')).toBe(true);
  });

  it('--history: the status history of one instance, oldest first', async () => {
    const r = await findings('--history', 'i-0410695edadcb9d03', '--format', 'json');
    const history = JSON.parse(r.out) as {
      ruleId: string;
      fromStatus: string | null;
      toStatus: string;
      changedAt: string;
    }[];
    const network = history
      .filter((h) => h.ruleId === 'network-path')
      .map((h) => `${h.fromStatus}->${h.toStatus}`);
    expect(network).toEqual(['null->PASS', 'PASS->FAIL']);
    const table = await findings('--history', 'i-0410695edadcb9d03');
    expect(table.out).toMatch(
      /History of i-0410695edadcb9d03 \(oldest first\)[\s\S]*network-path\s+PASS -> FAIL/,
    );
  });

  it('--runs: the most recent runs, newest first', async () => {
    const r = await findings('--runs');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^STARTED\s+ACCOUNT\/REGION\s+SCOPE/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^2026-11-30T10:00:00.000Z\s+123456789012\/eu-west-1\s+whole region/);
  });

  it('prints a readable table', async () => {
    const r = await findings('--status', 'ERROR,FAIL', '--rule', 'managed-status');
    expect(r.out).toMatch(/^STATUS\s+SEVERITY\s+RULE\s+RESOURCE/);
    expect(r.out).toMatch(/FAIL\s+HIGH\s+managed-status\s+i-/);
    expect(r.out).toMatch(/\d+ findings\.\n$/);
  });

  it.each([
    {
      case: 'an unknown status',
      args: ['--status', 'BROKEN'],
      expected: /invalid --status BROKEN: expected PASS, FAIL/,
    },
    {
      case: 'an unknown rule',
      args: ['--rule', 'nope'],
      expected: /unknown rule id nope; valid ids: instance-permissions/,
    },
    {
      case: 'a bad severity',
      args: ['--severity', 'huge'],
      expected: /invalid --severity huge: expected CRITICAL, HIGH/,
    },
    { case: 'a bad time', args: ['--since', 'yesterday-ish'], expected: /expected an ISO 8601 time/ },
    {
      case: 'both --history and --runs',
      args: ['--history', 'i-0410695edadcb9d03', '--runs'],
      expected: /choose --history or --runs/,
    },
  ])('rejects $case with exit 2', async ({ args, expected }) => {
    const r = await findings(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(expected);
  });

  it('names a table that does not exist', async () => {
    let err = '';
    const code = await main(
      ['node', 'ssm-audit', 'findings', '--endpoint-url', local.endpoint, '--table', 'not-deployed'],
      { out: () => undefined, err: (t) => (err += t), isTTY: false },
    );
    expect(code).toBe(2);
    expect(err).toMatch(/findings table not-deployed does not exist/);
  });
});

describe('npm run demo', () => {
  it('audits, re-audits unchanged (no writes, no alerts), audits the changed fleet and queries the table', async () => {
    let out = '';
    const tableDir = path.join(mkdtempSync(path.join(tmpdir(), 'demo-table-')), 'local-table');
    const code = await runDemo({ out: (t) => (out += t), color: false, tableDir });
    expect(code).toBe(0);
    expect(out).toContain(`The findings table stays in ${tableDir}`);
    // After the demo has ended, its table answers `ssm-audit findings --local`.
    let queried = '';
    const io = { out: (t: string) => (queried += t), err: (t: string) => (queried += t), isTTY: false };
    expect(await main(['node', 'ssm-audit', 'findings', '--local', tableDir, '--runs'], io)).toBe(0);
    expect(queried.split('\n').filter((l) => /whole region/.test(l))).toHaveLength(3);
    queried = '';
    expect(await main(['node', 'ssm-audit', 'findings', '--local', `${tableDir}-missing`], io)).toBe(2);
    expect(queried).toContain('no local findings table at');
    // …and `ssm-audit plan --local`: the plan of the latest audit, from the table alone.
    queried = '';
    expect(await main(['node', 'ssm-audit', 'plan', '--local', tableDir, '--format', 'json'], io)).toBe(0);
    const fromTable = JSON.parse(queried) as { summary: string; steps: unknown[] };
    expect(fromTable.summary).toBe(
      'after these 8 fixes, 38 of 44 running instances and 709 of 711 hybrid nodes are manageable',
    );
    expect(out).toContain(
      `After these 8 fixes, 38 of 44 running instances and 709 of 711 hybrid nodes are manageable.`,
    );
    const [first, second, third] = out.split('━━ Audit ').slice(1);
    expect(first).toMatch(/3620 findings — 3620 new/);
    expect(first).toMatch(/SNS messages: 43 \(PublishBatch requests: 5\)/);
    expect(second).toMatch(
      /0 new, 0 changed, 0 closed, 3620 unchanged\n {2}wrote 0 finding\(s\), 0 history record\(s\)/,
    );
    expect(second).toMatch(/SNS messages: none/);
    expect(second).toContain('The unchanged audit wrote no findings and sent no alerts');
    expect(third).toMatch(
      /REGRESSION\s+\[SSM readiness\] Regression: managed-status FAIL on i-0410695edadcb9d03/,
    );
    expect(third).toMatch(
      /DIGEST\s+\[SSM readiness\] 123456789012 eu-west-1: 2 new failures, 7 regressions, 20 resolved/,
    );
    expect(out).toContain('$ ssm-audit findings --rule network-path --status FAIL');
    expect(out).toMatch(/History of i-0410695edadcb9d03 \(oldest first\)/);
    expect(out).toMatch(/STARTED\s+ACCOUNT\/REGION/);
  }, 300_000);
});
