import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { RULES, RULE_IDS } from '../../rules';
import { buildPlan } from '../../scripts/ssm-audit/plan';
import { planJson } from '../../scripts/ssm-audit/plan-command';
import { resourceNames } from '../../scripts/ssm-audit/report';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { auditSnapshot } from '../../shared/engine/audit';
import type { SuppressionEntry } from '../../shared/model';
import { recordAudit } from '../../shared/pipeline/record-audit';
import { loadSnapshotFile, parseSnapshot } from '../../shared/snapshot/load';
import { planFactsOf } from '../../shared/snapshot/plan-facts';
import type { Snapshot } from '../../shared/snapshot/schema';
import { FindingsStore } from '../../shared/store/findings-store';
import { encodeFacts, FACTS_PART_BYTES } from '../../shared/store/plan-facts';
import { runCli } from '../support/cli-run';
import { buildSyntheticSnapshot } from '../support/synthetic';

/**
 * `ssm-audit plan --table`: a whole-region audit keeps the facts the plan is filled in from with its
 * findings, and the plan built from the table equals the plan built from the audit's snapshot.
 */

const DEMO = 'test/fixtures/demo/demo-fleet.json';
const AFTER = 'test/fixtures/demo/demo-fleet-after.json';

const audit = (s: Snapshot, suppressions: SuppressionEntry[] = []) => {
  const now = new Date(s.collectedAt);
  return auditSnapshot(s, { rules: RULES, now, evaluatedAt: now, suppressions });
};
const roundTrip = (s: Snapshot) => parseSnapshot(JSON.parse(JSON.stringify(planFactsOf(s))));

describe('the facts a plan is filled in from', () => {
  const fleets: [string, () => Promise<Snapshot>][] = [
    ['the demo fleet', () => loadSnapshotFile(DEMO)],
    ['the demo fleet a week later', () => loadSnapshotFile(AFTER)],
    [
      'the demo fleet launched from a launch template',
      async () => {
        const s = JSON.parse(JSON.stringify(await loadSnapshotFile(DEMO))) as Snapshot;
        for (const r of s.ec2!.Reservations!)
          for (const i of r.Instances)
            i.Tags = [
              ...(i.Tags ?? []),
              { Key: 'aws:ec2launchtemplate:id', Value: 'lt-0abc1234def567890' },
              { Key: 'aws:ec2launchtemplate:version', Value: '2' },
              { Key: 'team', Value: 'not kept' },
            ];
        return parseSnapshot(s);
      },
    ],
    [
      'a synthetic fleet of 1,500 instances',
      async () => parseSnapshot(buildSyntheticSnapshot({ instances: 1500 })),
    ],
  ];
  it.each(fleets)('give %s the same plan and names as its whole snapshot', async (name, load) => {
    const snapshot = await load();
    const { findings } = audit(snapshot);
    const full = buildPlan(findings, snapshot);
    const facts = roundTrip(snapshot);
    expect(buildPlan(findings, facts)).toEqual(full);
    expect(resourceNames(facts)).toEqual(resourceNames(snapshot));
    // The fleet has fixes of every network kind the facts serve, so the comparison means something.
    expect(full.steps.length + full.otherFixes.length).toBeGreaterThan(0);
    if (name.includes('launch template'))
      expect(JSON.stringify(full)).toContain('create-launch-template-version');
    // No IAM and no endpoint policies: what the plan needs of them is in the findings' evidence.
    const kept = planFactsOf(snapshot);
    expect(kept.iam).toBeUndefined();
    expect(JSON.stringify(kept)).not.toContain('PolicyDocument');
    expect(JSON.stringify(kept).length).toBeLessThan(JSON.stringify(snapshot).length * 0.7);
  });

  it('cover every kind of network fix of the demo fleet', async () => {
    const snapshot = await loadSnapshotFile(DEMO);
    const plan = buildPlan(audit(snapshot).findings, roundTrip(snapshot));
    const kinds = new Set([...plan.steps.map((s) => s.fix), ...plan.otherFixes].map((f) => f.change.kind));
    for (const kind of ['vpc-endpoints', 'nacl-allow', 'sg-egress-443', 'renew-activation'])
      expect(kinds).toContain(kind);
  });

  it('hold back, with the reason, a node whose instance they do not know (launched after the last whole-region audit)', async () => {
    const snapshot = await loadSnapshotFile(DEMO);
    const { findings } = audit(snapshot);
    const full = buildPlan(findings, snapshot);
    const step = full.steps.find((s) => s.fix.change.kind === 'vpc-endpoints' && s.unblocked.length > 0)!;
    const newcomer = step.unblocked[0]!;
    const facts = planFactsOf(snapshot);
    for (const r of facts.ec2!.Reservations!)
      r.Instances = r.Instances.filter((i) => i.InstanceId !== newcomer);
    const plan = buildPlan(findings, parseSnapshot(facts));
    expect(plan.heldBack.find((n) => n.nodeId === newcomer)?.reasons).toEqual([
      expect.stringContaining('the instance or its VPC is not in the collected network facts'),
    ]);
    expect(plan.steps.flatMap((s) => s.unblocked)).not.toContain(newcomer);
  });

  it('of 10,000 instances fit in one or two items of the table', () => {
    const snapshot = parseSnapshot(buildSyntheticSnapshot({ instances: 10_000 }));
    const { parts, bytes } = encodeFacts(planFactsOf(snapshot));
    expect(parts.length).toBeLessThanOrEqual(2);
    expect(bytes).toBeLessThan(2 * FACTS_PART_BYTES);
  });
});

let local: LocalDynamo;
beforeAll(async () => {
  local = await startLocalDynamo('plan-facts');
}, 300_000);
afterAll(async () => {
  jest.restoreAllMocks();
  await local.stop();
});

const storeOn = () => new FindingsStore({ client: local.doc, tableName: local.tableName });
const factsOf = (region: string, collectedAt: string, extra: Record<string, unknown> = {}) => ({
  accountId: '123456789012',
  region,
  collectedAt,
  ...extra,
});

describe('the stored facts', () => {
  it('round-trip, in several parts when large, and a Query page of 1 MB is followed', async () => {
    const store = storeOn();
    // Random bytes do not compress: about 5 parts.
    const blob = randomBytes(1_200_000).toString('base64');
    const facts = factsOf('ap-south-1', '2026-11-23T10:00:00.000Z', { blob });
    const outcome = await store.savePlanFacts(facts, {
      asOf: '2026-11-23T10:00:00.000Z',
      runId: 'r1',
      now: new Date('2026-11-23T10:05:00Z'),
    });
    expect(outcome).toBe('written');
    const saved = await store.planFacts('123456789012', 'ap-south-1');
    expect(saved?.head.parts).toBeGreaterThanOrEqual(4);
    expect(saved?.facts).toEqual(facts);
    expect(saved?.head).toMatchObject({ asOf: '2026-11-23T10:00:00.000Z', collectedAt: facts.collectedAt });
  });

  it('are not written again when unchanged, never replaced by an older audit, and replaced by a newer one', async () => {
    const store = storeOn();
    const region = 'ap-south-2';
    const run = (asOf: string, runId: string) => ({ asOf, runId, now: new Date(asOf) });
    const v1 = factsOf(region, '2026-11-23T10:00:00.000Z', { v: 1 });
    expect(await store.savePlanFacts(v1, run('2026-11-23T10:00:00.000Z', 'a'))).toBe('written');
    store.resetCounters();
    expect(await store.savePlanFacts(v1, run('2026-11-24T10:00:00.000Z', 'b'))).toBe('unchanged');
    expect(store.counters.factsWrites).toBe(0);
    // An older audit recorded late keeps its hands off.
    const old = factsOf(region, '2026-11-22T10:00:00.000Z', { v: 0 });
    expect(await store.savePlanFacts(old, run('2026-11-22T10:00:00.000Z', 'c'))).toBe('superseded');
    expect((await store.planFacts('123456789012', region))?.facts).toEqual(v1);
    const v2 = factsOf(region, '2026-11-25T10:00:00.000Z', { v: 2 });
    expect(await store.savePlanFacts(v2, run('2026-11-25T10:00:00.000Z', 'd'))).toBe('written');
    expect((await store.planFacts('123456789012', region))?.facts).toEqual(v2);
    // The replaced version's parts are gone: only the head and the new version's part remain.
    const items = await local.doc.send(
      new QueryCommand({
        TableName: local.tableName,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': `FACTS#123456789012#${region}` },
      }),
    );
    expect(items.Items?.map((i) => i.sk as string).sort()).toEqual([
      'HEAD',
      'PART#2026-11-25T10:00:00.000Z#d#0000',
    ]);
  });

  it('are read whole when a newer audit replaces them between the head and the parts', async () => {
    const store = storeOn();
    const region = 'ap-south-3';
    const v1 = factsOf(region, '2026-11-23T10:00:00.000Z', { v: 1 });
    const v2 = factsOf(region, '2026-11-24T10:00:00.000Z', { v: 2 });
    await store.savePlanFacts(v1, { asOf: v1.collectedAt, runId: 'a', now: new Date(v1.collectedAt) });
    const original = DynamoDBDocumentClient.prototype.send;
    let raced = false;
    const spy = jest.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(async function (
      this: DynamoDBDocumentClient,
      command: unknown,
    ) {
      if (!raced && command instanceof QueryCommand) {
        raced = true;
        // Another audit saves newer facts (and deletes v1's parts) just before the parts are read.
        await storeOn().savePlanFacts(v2, {
          asOf: v2.collectedAt,
          runId: 'b',
          now: new Date(v2.collectedAt),
        });
      }
      return (original as (c: unknown) => Promise<unknown>).call(this, command);
    } as never);
    try {
      const saved = await store.planFacts('123456789012', region);
      expect(raced).toBe(true);
      expect(saved?.facts).toEqual(v2);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('recording an audit', () => {
  it('saves the facts with a whole-region audit only, and a failure to save them does not fail the audit', async () => {
    const store = storeOn();
    const region = 'eu-north-1';
    const moved = parseSnapshot({ ...buildSyntheticSnapshot({ instances: 30 }), region });
    const result = audit(moved);
    const first = await recordAudit({
      store,
      snapshot: moved,
      result,
      ruleIds: RULE_IDS,
      now: new Date(moved.collectedAt),
    });
    expect(first.planFacts).toBe('written');
    const again = await recordAudit({
      store,
      snapshot: moved,
      result,
      ruleIds: RULE_IDS,
      now: new Date(moved.collectedAt),
    });
    expect(again.planFacts).toBe('unchanged');
    expect(again.writes.factsWrites).toBe(0);
    // An audit of some resources only speaks for them, not for the region's network.
    const scoped = await recordAudit({
      store,
      snapshot: moved,
      result,
      ruleIds: RULE_IDS,
      resourceIds: [moved.ec2!.Reservations![0]!.Instances[0]!.InstanceId],
      now: new Date(moved.collectedAt),
    });
    expect(scoped.planFacts).toBeUndefined();

    // The facts write fails (throttled past retries): the audit stands and says so.
    const later = parseSnapshot({
      ...JSON.parse(JSON.stringify(moved)),
      collectedAt: '2026-11-24T10:00:00Z',
      ec2: { ...JSON.parse(JSON.stringify(moved.ec2)), Vpcs: moved.ec2!.Vpcs!.slice(1) },
    });
    const original = DynamoDBDocumentClient.prototype.send;
    const spy = jest.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(function (
      this: DynamoDBDocumentClient,
      command: { input?: { Item?: { pk?: string } } },
    ) {
      if (String(command.input?.Item?.pk ?? '').startsWith('FACTS#'))
        return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      return (original as (c: unknown) => Promise<unknown>).call(this, command);
    } as never);
    let failed;
    try {
      failed = await recordAudit({
        store,
        snapshot: later,
        result: audit(later),
        ruleIds: RULE_IDS,
        now: new Date(later.collectedAt),
      });
    } finally {
      spy.mockRestore();
    }
    expect(failed.planFacts).toEqual({ error: 'Rate exceeded' });
    expect(failed.counts.findings).toBeGreaterThan(0);
    const runs = await storeOn().runs('123456789012', region, 1);
    expect(runs[0]?.runId).toBe(failed.runId);
    // The earlier facts are still there, whole.
    expect((await storeOn().planFacts('123456789012', region))?.head.collectedAt).toBe(moved.collectedAt);
  });
});

const plan = (...args: string[]) => runCli('plan', args);

describe('ssm-audit plan --table', () => {
  it('plans from the table as from the snapshot of its last audit (suppressions included)', async () => {
    const store = storeOn();
    const region = 'eu-south-1';
    const move = async (file: string) =>
      parseSnapshot({ ...JSON.parse(JSON.stringify(await loadSnapshotFile(file))), region });
    const after = await move(AFTER);
    const suppressions: SuppressionEntry[] = [
      {
        id: 'legacy',
        match: { resourceId: 'i-0410695edadcb9d03' },
        reason: 'decommissioned next month',
        owner: 'ops@example.com',
        expiresAt: '2027-01-01T00:00:00Z',
        createdAt: after.collectedAt,
      },
    ];
    const result = audit(after, suppressions);
    await recordAudit({
      store,
      snapshot: after,
      result,
      ruleIds: RULE_IDS,
      now: new Date(after.collectedAt),
    });

    const args = [
      '--endpoint-url',
      local.endpoint,
      '--table',
      local.tableName,
      '--scope',
      `123456789012/${region}`,
    ];
    const json = await plan(...args, '--format', 'json');
    expect(json.err).toBe('');
    expect(json.code).toBe(0);
    const fromTable = JSON.parse(json.out) as { source: string };
    const expected = JSON.parse(planJson(buildPlan(result.findings, after))) as object;
    expect({ ...fromTable, source: undefined }).toEqual({ ...expected, source: undefined });
    expect(fromTable.source).toBe(
      `findings table ${local.tableName}, findings as of ${new Date(after.collectedAt).toISOString()}, ids as of ${new Date(after.collectedAt).toISOString()}`,
    );
    // The suppressed instance is not counted, as in the report.
    expect(JSON.stringify(fromTable)).not.toContain('i-0410695edadcb9d03');

    const table = await plan(...args, '--width', '400');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[1]).toBe(`From ${fromTable.source}.`);
    const sh = await plan(...args, '--format', 'sh');
    expect(sh.out).toContain(`(${fromTable.source})`);
  });

  it('says in one line what is missing: no facts, an ambiguous table, options of other sources', async () => {
    const store = storeOn();
    // An account-region recorded by a scoped audit only: findings, but no facts.
    const moved = parseSnapshot({ ...buildSyntheticSnapshot({ instances: 10 }), region: 'me-south-1' });
    await recordAudit({
      store,
      snapshot: moved,
      result: audit(moved),
      ruleIds: RULE_IDS,
      resourceIds: [moved.ec2!.Reservations![0]!.Instances[0]!.InstanceId],
      now: new Date(moved.collectedAt),
    });
    const table = ['--endpoint-url', local.endpoint, '--table', local.tableName];
    const none = await plan(...table, '--scope', '123456789012/me-south-1');
    expect(none.code).toBe(2);
    expect(none.err.split('\n')[0]).toBe(
      `ssm-audit: the findings table ${local.tableName} holds no plan facts for 123456789012/me-south-1`,
    );
    const several = await plan(...table);
    expect(several.code).toBe(2);
    expect(several.err).toMatch(/the findings table holds \d+ account-regions: choose one with --scope/);
    const both = await plan(...table, '--snapshot', DEMO);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--snapshot plans from a saved snapshot');
    const scopeAlone = await plan('--snapshot', DEMO, '--scope', '123456789012/eu-west-1');
    expect(scopeAlone.err).toContain('--scope chooses an account-region of the findings table');
    const now = await plan(...table, '--scope', '123456789012/me-south-1', '--now', '2026-11-23T10:00:00Z');
    expect(now.err).toContain('--now applies to a snapshot or a live scan');
  });
});
