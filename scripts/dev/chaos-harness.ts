/**
 * The fault table of `npm run chaos` (DESIGN §4): the store's guarantees checked against a real DynamoDB
 * API (dynalite on 127.0.0.1) and a mocked SNS, under overlapping audits, a run that dies after any single
 * write, SNS outages, a crash between publishing and clearing, duplicate events and cut runs.
 *
 * Every scenario runs in its own account id of one table and is checked against an oracle:
 * - wrong: a finding whose stored state is not the verdict of the newest audit that covered it;
 * - history lost: a finding whose history records do not chain from "none" to its stored state, or that
 *   still has uncopied history after the runs finished;
 * - alerts duplicated: a transition alerted more than once (or an alert for no recorded transition);
 *   alerts missing: a transition that alerts but was never delivered.
 * A message re-sent because the run died between SNS accepting it and the outbox being cleared carries
 * the same alert id (subscribers deduplicate on it): it is counted as "redelivered", not duplicated.
 */
import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AlertPublisher, SnsAlertSink } from '../../shared/alerts/publisher';
import type { Finding, RuleId, Status } from '../../shared/model';
import { recordAudit } from '../../shared/pipeline/record-audit';
import { parseSnapshot } from '../../shared/snapshot/load';
import { alertFor, type StoredFinding } from '../../shared/store/diff';
import { FindingsStore } from '../../shared/store/findings-store';
import { findingId } from '../../shared/store/keys';
import { seededRandom } from '../../test/support/deterministic';
import { startLocalDynamo, type LocalDynamo } from '../ssm-audit/local-dynamodb';

export interface FaultRow {
  fault: string;
  runs: number;
  findings: number;
  wrong: number;
  historyLost: number;
  duplicated: number;
  missing: number;
  /** Same alert id sent again after a crash between publish and clear (informational). */
  redelivered: number;
}

export interface ChaosOptions {
  seed?: number;
  /** Rounds of 2–3 concurrent audits. Default 100. */
  overlapRounds?: number;
  /** Rounds of a cut run followed by the next run. Default 20. */
  timeoutRounds?: number;
  log?: (line: string) => void;
}

const REGION = 'eu-west-1';
const RULES: RuleId[] = ['network-path', 'managed-status'];
const STATUSES: Status[] = ['PASS', 'FAIL', 'WARN', 'ERROR', 'NOT_APPLICABLE'];
const BASE_TIME = Date.parse('2026-11-23T10:00:00.000Z');
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:chaos';

/** The fleet generators' seeded generator, so every failure is reproducible with its seed. */
const prng = (seed: number) => seededRandom(seed).next;
type Random = ReturnType<typeof prng>;
const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const at = (minutes: number) => new Date(BASE_TIME + minutes * 60_000).toISOString();
const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One audit as the engine would hand it to the store. */
interface AuditSpec {
  accountId: string;
  asOf: string;
  kind: 'region' | 'resources' | 'close';
  /** Resources this audit speaks for. */
  covers: string[];
  terminated: string[];
  statuses: Map<string, Status>;
}

function findingOf(spec: AuditSpec, resourceId: string, ruleId: RuleId, status: Status): Finding {
  const problem = status !== 'PASS' && status !== 'NOT_APPLICABLE';
  return {
    accountId: spec.accountId,
    region: REGION,
    resourceType: 'EC2Instance',
    resourceId,
    ruleId,
    status,
    severity: problem ? 'HIGH' : 'INFORMATIONAL',
    reason: `${status}_REASON`,
    message: `${resourceId} ${ruleId} is ${status}.`,
    evidence: { status },
    remediation: problem ? 'Fix it.' : 'No action needed.',
    reference: 'https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-prereqs.html',
    evaluatedAt: spec.asOf,
  };
}

const key = (resourceId: string, ruleId: string) => `${resourceId}#${ruleId}`;

function randomAudit(
  random: Random,
  accountId: string,
  asOf: string,
  fleet: readonly string[],
  kind: AuditSpec['kind'],
): AuditSpec {
  const covers =
    kind === 'region'
      ? [...fleet]
      : kind === 'close'
        ? [pick(random, fleet)]
        : fleet.filter(() => random() < 0.4).slice(0, 3);
  if (covers.length === 0) covers.push(pick(random, fleet));
  const terminated =
    kind === 'close' ? [...covers] : covers.filter(() => kind === 'region' && random() < 0.1);
  const statuses = new Map<string, Status>();
  for (const id of covers)
    if (!terminated.includes(id))
      for (const rule of RULES) statuses.set(key(id, rule), pick(random, STATUSES));
  return { accountId, asOf, kind, covers, terminated, statuses };
}

/** The expected final state per finding: the newest covering audit's verdict (`CLOSED` if terminated). */
function oracle(audits: readonly AuditSpec[]): Map<string, Status | 'CLOSED'> {
  const newest = new Map<string, { asOf: string; state: Status | 'CLOSED' }>();
  for (const audit of audits) {
    for (const id of audit.covers) {
      for (const rule of RULES) {
        const k = key(id, rule);
        const state = audit.terminated.includes(id) ? 'CLOSED' : audit.statuses.get(k);
        if (!state) continue;
        const known = newest.get(k);
        if (!known || known.asOf < audit.asOf) newest.set(k, { asOf: audit.asOf, state });
      }
    }
  }
  return new Map([...newest].map(([k, v]) => [k, v.state]));
}

/** A DynamoDB client as one Lambda invocation sees it: it may be slow, and it may die. */
class Process {
  writes = 0;
  dead = false;
  constructor(
    private readonly base: DynamoDBDocumentClient,
    private readonly options: { dieAfterWrites?: number; delay?: () => number } = {},
  ) {}
  readonly client = {
    send: async (command: { constructor: { name: string } }) => {
      if (this.dead) throw Object.assign(new Error('the invocation has ended'), { name: 'InvocationEnded' });
      const delay = this.options.delay?.();
      if (delay) await tick(delay);
      if (/^(Update|Put|Delete|BatchWrite)/.test(command.constructor.name)) {
        if (this.options.dieAfterWrites !== undefined && this.writes >= this.options.dieAfterWrites) {
          this.dead = true;
          throw Object.assign(new Error('Task timed out'), { name: 'InvocationEnded' });
        }
        this.writes++;
      }
      if (this.dead) throw Object.assign(new Error('the invocation has ended'), { name: 'InvocationEnded' });
      return (this.base as unknown as { send: (c: unknown) => Promise<unknown> }).send(command);
    },
  } as unknown as DynamoDBDocumentClient;
}

interface Delivery {
  accountId: string;
  alertId?: string;
  kind: string;
}

/** SNS as the mock answers it: every accepted entry is recorded; it can be down or die after accepting. */
class Topic {
  readonly deliveries: Delivery[] = [];
  down = false;
  /** Called after SNS accepted a batch (to end the invocation before it clears its outbox). */
  afterAccept?: () => void;
  private readonly mock = mockClient(SNSClient);
  constructor() {
    this.mock
      .on(PublishBatchCommand)
      .callsFake((input: { PublishBatchRequestEntries: PublishBatchRequestEntry[] }) => {
        if (this.down)
          throw Object.assign(new Error('Service Unavailable'), {
            name: 'InternalErrorException',
            $metadata: { httpStatusCode: 500 },
          });
        for (const entry of input.PublishBatchRequestEntries) {
          const attributes = entry.MessageAttributes ?? {};
          const body = JSON.parse(JSON.parse(entry.Message ?? '{}').default ?? '{}') as { alertId?: string };
          this.deliveries.push({
            accountId: attributes.accountId?.StringValue ?? '',
            kind: attributes.kind?.StringValue ?? '',
            alertId: body.alertId,
          });
        }
        const ok = {
          Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
          Failed: [],
        };
        this.afterAccept?.();
        return ok;
      });
  }
  restore() {
    this.mock.restore();
  }
  publisher() {
    return new AlertPublisher(
      new SnsAlertSink(
        new SNSClient({ region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
        TOPIC,
      ),
    );
  }
}

class Chaos {
  private accounts = 0;
  private readonly clock = { now: BASE_TIME };
  constructor(
    readonly local: LocalDynamo,
    readonly topic: Topic,
  ) {}

  newAccount(): string {
    return String(100_000_000_000 + ++this.accounts);
  }

  store(process: Process): FindingsStore {
    return new FindingsStore({
      client: process.client,
      tableName: this.local.tableName,
      clock: () => this.clock.now,
      leaseMs: 60_000,
      // Waiting for the lease in virtual time would never end: poll on the real clock, briefly.
      sleep: (ms) => tick(Math.min(ms, 3)),
      maxBatchAttempts: 3,
    });
  }

  /** Time passes beyond any lease a dead invocation left behind. */
  leasesExpire(): void {
    this.clock.now += 61_000;
  }

  async record(spec: AuditSpec, process: Process, options: { publish?: boolean } = {}) {
    const snapshot = parseSnapshot({
      schemaVersion: 1,
      accountId: spec.accountId,
      region: REGION,
      collectedAt: spec.asOf,
      ...(spec.kind === 'region'
        ? { ec2: { Reservations: [] } }
        : { scope: { kind: 'instances', instanceIds: spec.covers } }),
    });
    const findings = [...spec.statuses].map(([k, status]) => {
      const [resourceId, ruleId] = k.split('#') as [string, RuleId];
      return findingOf(spec, resourceId, ruleId, status);
    });
    return recordAudit({
      store: this.store(process),
      publisher: options.publish === false ? undefined : this.topic.publisher(),
      snapshot,
      result: { findings, closedResourceIds: spec.terminated, rulesRun: RULES },
      ruleIds: RULES,
      now: new Date(spec.asOf),
      maxAlertsPerRun: 1_000,
    });
  }

  /**
   * Records an audit whose invocation may die; returns the alert ids SNS accepted from it (if it died
   * after publishing and before clearing, the next run sends them again, under the same ids).
   */
  async recordDying(spec: AuditSpec, process: Process): Promise<Set<string>> {
    const before = this.topic.deliveries.length;
    await this.record(spec, process).catch(() => undefined);
    return new Set(
      this.topic.deliveries
        .slice(before)
        .filter((d) => d.accountId === spec.accountId)
        .flatMap((d) => (d.alertId ? [d.alertId] : [])),
    );
  }

  /** Checks one account against its audits; `redeliverable` are alert ids SNS accepted just before a crash. */
  async check(
    accountId: string,
    fleet: readonly string[],
    audits: readonly AuditSpec[],
    redeliverable: ReadonlySet<string> = new Set(),
  ) {
    const store = this.store(new Process(this.local.doc));
    const expected = oracle(audits);
    const out = {
      findings: 0,
      wrong: 0,
      historyLost: 0,
      duplicated: 0,
      missing: 0,
      redelivered: 0,
      problems: [] as string[],
    };
    const delivered = new Map<string, number>();
    for (const d of this.topic.deliveries)
      if (d.accountId === accountId && d.alertId)
        delivered.set(d.alertId, (delivered.get(d.alertId) ?? 0) + 1);
    const expectedAlerts = new Set<string>();
    for (const resourceId of fleet) {
      const items = (await store.loadResources(accountId, REGION, [resourceId])) as Map<
        string,
        StoredFinding
      >;
      const history = await store.historyOf(resourceId);
      for (const rule of RULES) {
        const k = key(resourceId, rule);
        const want = expected.get(k);
        const item = items.get(findingId({ accountId, region: REGION, resourceId, ruleId: rule }));
        const got = item ? (item.closedAt ? 'CLOSED' : item.status) : undefined;
        if (want === undefined && got === undefined) continue;
        out.findings++;
        if (want !== got && !(want === 'CLOSED' && got === undefined)) {
          out.wrong++;
          out.problems.push(`${k}: stored ${got ?? 'nothing'}, newest audit says ${want ?? 'nothing'}`);
        }
        const records = history
          .filter((h) => h.ruleId === rule && h.accountId === accountId)
          .sort((a, b) => Number(a.version) - Number(b.version));
        let previous: string | null = null;
        let chained = true;
        for (const r of records) {
          if ((r.fromStatus ?? null) !== previous) chained = false;
          previous = r.toStatus === 'CLOSED' ? null : (r.toStatus as string);
          const kind = alertFor((r.fromStatus as Status | null) ?? null, r.toStatus as Status | 'CLOSED');
          if (kind)
            expectedAlerts.add(
              `${findingId({ accountId, region: REGION, resourceId, ruleId: rule })}#v${String(r.version)}`,
            );
        }
        const last = records.at(-1)?.toStatus;
        if (!chained || (got !== undefined && last !== got) || (item?.pendingHistory?.length ?? 0) > 0) {
          out.historyLost++;
          out.problems.push(
            `${k}: history ${records.map((r) => `${String(r.fromStatus)}→${String(r.toStatus)}`).join(', ')} does not end at ${got}`,
          );
        }
      }
    }
    for (const id of expectedAlerts) {
      const n = delivered.get(id) ?? 0;
      if (n === 0) {
        out.missing++;
        out.problems.push(`alert ${id} never delivered`);
      } else if (n > 1) {
        if (redeliverable.has(id) && n === 2) out.redelivered++;
        else {
          out.duplicated++;
          out.problems.push(`alert ${id} delivered ${n} times`);
        }
      }
    }
    for (const id of delivered.keys())
      if (!expectedAlerts.has(id)) {
        out.duplicated++;
        out.problems.push(`alert ${id} delivered for no recorded transition`);
      }
    return out;
  }
}

function emptyRow(fault: string): FaultRow {
  return { fault, runs: 0, findings: 0, wrong: 0, historyLost: 0, duplicated: 0, missing: 0, redelivered: 0 };
}
function add(row: FaultRow, c: Awaited<ReturnType<Chaos['check']>>, problems: string[]) {
  row.findings += c.findings;
  row.wrong += c.wrong;
  row.historyLost += c.historyLost;
  row.duplicated += c.duplicated;
  row.missing += c.missing;
  row.redelivered += c.redelivered;
  problems.push(...c.problems.map((p) => `${row.fault}: ${p}`));
}

const fleetOf = (n: number) => Array.from({ length: n }, (_, i) => iid(i + 1));

export async function runChaos(
  options: ChaosOptions = {},
): Promise<{ rows: FaultRow[]; problems: string[] }> {
  const seed = options.seed ?? 20261123;
  const random = prng(seed);
  const local = await startLocalDynamo('chaos');
  const topic = new Topic();
  const chaos = new Chaos(local, topic);
  const rows: FaultRow[] = [];
  const problems: string[] = [];
  const log = options.log ?? (() => undefined);
  try {
    // 1. Overlapping audits: 2–3 concurrent audits (whole region, a few instances, a terminated close),
    //    in random order with random latency on every request.
    {
      const row = emptyRow('overlapping audits (2–3 concurrent, random kinds and order)');
      for (let round = 0; round < (options.overlapRounds ?? 100); round++) {
        const accountId = chaos.newAccount();
        const fleet = fleetOf(4);
        const seedAudit = randomAudit(random, accountId, at(0), fleet, 'region');
        await chaos.record(seedAudit, new Process(local.doc));
        const n = 2 + Math.floor(random() * 2);
        const audits = Array.from({ length: n }, (_, i) =>
          randomAudit(
            random,
            accountId,
            at(1 + i),
            fleet,
            pick(random, ['region', 'region', 'resources', 'close'] as const),
          ),
        );
        // Shuffle the start order; a later collection may start recording first.
        audits.sort(() => random() - 0.5);
        await Promise.all(
          audits.map(async (audit, i) => {
            await tick(Math.floor(random() * 3) + i);
            return chaos.record(audit, new Process(local.doc, { delay: () => Math.floor(random() * 3) }));
          }),
        );
        row.runs += n + 1;
        add(row, await chaos.check(accountId, fleet, [seedAudit, ...audits]), problems);
      }
      rows.push(row);
      log(`overlapping audits: ${row.runs} runs`);
    }

    // 2. A run that dies after write k, for every k of a small run, then the next run.
    {
      const row = emptyRow('run dies after write k (every k), then the next run');
      const make = (accountId: string) => {
        const fleet = fleetOf(3);
        const r = prng(seed + 2);
        const first = randomAudit(r, accountId, at(0), fleet, 'region');
        const second = randomAudit(r, accountId, at(1), fleet, 'region');
        // The second changes every finding's status so that every write kind occurs.
        for (const [k, s] of first.statuses) second.statuses.set(k, s === 'FAIL' ? 'PASS' : 'FAIL');
        second.terminated = [fleet[2]!];
        second.statuses.delete(key(fleet[2]!, RULES[0]!));
        second.statuses.delete(key(fleet[2]!, RULES[1]!));
        const next = { ...second, asOf: at(2) };
        return { fleet, first, second, next };
      };
      const probe = chaos.newAccount();
      const plan = make(probe);
      await chaos.record(plan.first, new Process(local.doc));
      const counting = new Process(local.doc);
      await chaos.record(plan.second, counting);
      const total = counting.writes;
      for (let k = 0; k < total; k++) {
        const accountId = chaos.newAccount();
        const p = make(accountId);
        await chaos.record(p.first, new Process(local.doc));
        const dying = new Process(local.doc, { dieAfterWrites: k });
        const sent = await chaos.recordDying(p.second, dying);
        chaos.leasesExpire();
        await chaos.record(p.next, new Process(local.doc));
        row.runs += 3;
        add(row, await chaos.check(accountId, p.fleet, [p.first, p.second, p.next], sent), problems);
      }
      rows.push(row);
      log(`aborts: ${total} write indexes`);
    }

    /**
     * Audit A is recorded; audit B meets the fault (returning the alert ids SNS accepted from it, if
     * it died after that); the dead run's lease expires; audit C (B's view, collected later) completes.
     */
    const faultyMiddleRun = async (
      fault: string,
      rounds: number,
      fleetSize: number,
      recordB: (b: AuditSpec) => Promise<Set<string>>,
    ) => {
      const row = emptyRow(fault);
      for (let round = 0; round < rounds; round++) {
        const accountId = chaos.newAccount();
        const fleet = fleetOf(fleetSize);
        const a = randomAudit(random, accountId, at(0), fleet, 'region');
        const b = randomAudit(random, accountId, at(1), fleet, 'region');
        const c = { ...b, asOf: at(2) };
        await chaos.record(a, new Process(local.doc));
        const sent = await recordB(b);
        chaos.leasesExpire();
        await chaos.record(c, new Process(local.doc));
        row.runs += 3;
        add(row, await chaos.check(accountId, fleet, [a, b, c], sent), problems);
      }
      rows.push(row);
    };

    // 3. SNS down for one run (the whole request fails), then up again.
    await faultyMiddleRun('SNS outage during a run', 10, 4, async (b) => {
      topic.down = true;
      try {
        await chaos.record(b, new Process(local.doc));
      } finally {
        topic.down = false;
      }
      return new Set();
    });

    // 4. The invocation ends right after SNS accepted its alerts, before the outbox is cleared.
    // A random audit B may change nothing an alert reports (then nothing is published, rightly); the
    // fault must still have been exercised in some round, or the row proves nothing.
    let crashedAfterPublish = 0;
    await faultyMiddleRun('crash between publish and clear', 10, 4, async (b) => {
      const dying = new Process(local.doc);
      topic.afterAccept = () => {
        dying.dead = true;
      };
      try {
        const sent = await chaos.recordDying(b, dying);
        if (sent.size > 0) crashedAfterPublish++;
        return sent;
      } finally {
        topic.afterAccept = undefined;
      }
    });
    if (crashedAfterPublish === 0)
      problems.push('publish/clear crash: no round published anything, so the fault was never exercised');

    // 5. The same event delivered twice, concurrently (EventBridge is at-least-once).
    {
      const row = emptyRow('duplicate events delivered concurrently');
      for (let round = 0; round < 15; round++) {
        const accountId = chaos.newAccount();
        const fleet = fleetOf(4);
        const a = randomAudit(random, accountId, at(0), fleet, 'region');
        await chaos.record(a, new Process(local.doc));
        const event = randomAudit(random, accountId, at(1), fleet, round % 2 ? 'close' : 'resources');
        const before = topic.deliveries.length;
        const reports = await Promise.all([
          chaos.record(event, new Process(local.doc, { delay: () => Math.floor(random() * 3) })),
          chaos.record(event, new Process(local.doc, { delay: () => Math.floor(random() * 3) })),
        ]);
        const digests = topic.deliveries
          .slice(before)
          .filter((d) => d.accountId === accountId && d.kind === 'DIGEST').length;
        const changed = reports.filter(
          (r) => (r.counts.new ?? 0) + (r.counts.changed ?? 0) + (r.counts.closed ?? 0) > 0,
        ).length;
        if (digests > changed || changed > 1) {
          row.duplicated++;
          problems.push(`duplicate event: ${digests} digests for ${changed} changing runs`);
        }
        row.runs += 3;
        add(row, await chaos.check(accountId, fleet, [a, event]), problems);
      }
      rows.push(row);
    }

    // 6. A run cut by the Lambda timeout at a random point of a larger run; the next run completes it.
    await faultyMiddleRun(
      'Lambda timeout mid-run, next run completes',
      options.timeoutRounds ?? 20,
      12,
      (b) => chaos.recordDying(b, new Process(local.doc, { dieAfterWrites: Math.floor(random() * 30) })),
    );
  } finally {
    topic.restore();
    await local.stop();
  }
  return { rows, problems };
}

export function formatTable(rows: readonly FaultRow[]): string {
  const header = [
    'fault',
    'runs',
    'findings checked',
    'wrong',
    'history lost',
    'alerts duplicated',
    'alerts missing',
    'redelivered (same alert id)',
  ];
  const body = rows.map((r) =>
    [r.fault, r.runs, r.findings, r.wrong, r.historyLost, r.duplicated, r.missing, r.redelivered].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export const failures = (rows: readonly FaultRow[]) =>
  rows.reduce((n, r) => n + r.wrong + r.historyLost + r.duplicated + r.missing, 0);
