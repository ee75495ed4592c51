import { alertFor, diffFindings, findingHash, type StoredFinding } from '../../shared/store/diff';
import { findingId } from '../../shared/store/keys';
import type { Finding } from '../../shared/model';
import { aFinding, iid } from '../support/store-fixtures';

/** DESIGN §4 "writes proportional to changes" and §5 "alert on transitions only": the pure diff. */

const stored = (f: Finding, extra: Partial<StoredFinding> = {}): StoredFinding => ({
  ...f,
  version: 3,
  hash: findingHash(f),
  firstSeenAt: '2026-11-01T00:00:00.000Z',
  statusChangedAt: '2026-11-01T00:00:00.000Z',
  ...extra,
});
const mapOf = (...items: StoredFinding[]) => new Map(items.map((s) => [findingId(s), s]));
const ALL_RULES = new Set(['network-path', 'managed-status']);
const listedAll = () => true;

describe('alertFor (transitions)', () => {
  it.each([
    { from: null, to: 'FAIL', expected: 'NEW_FAILURE' },
    { from: null, to: 'ERROR', expected: 'NEW_FAILURE' },
    { from: null, to: 'PASS', expected: undefined },
    { from: null, to: 'WARN', expected: undefined },
    { from: 'PASS', to: 'FAIL', expected: 'REGRESSION' },
    { from: 'WARN', to: 'FAIL', expected: 'REGRESSION' },
    { from: 'NOT_APPLICABLE', to: 'ERROR', expected: 'REGRESSION' },
    { from: 'FAIL', to: 'PASS', expected: 'RESOLVED' },
    { from: 'FAIL', to: 'WARN', expected: 'RESOLVED' },
    { from: 'ERROR', to: 'CLOSED', expected: 'RESOLVED' },
    { from: 'FAIL', to: 'ERROR', expected: undefined },
    { from: 'FAIL', to: 'FAIL', expected: undefined },
    { from: 'PASS', to: 'CLOSED', expected: undefined },
    { from: 'PASS', to: 'WARN', expected: undefined },
  ] as const)('$from -> $to: $expected', ({ from, to, expected }) => {
    expect(alertFor(from, to)).toBe(expected);
  });
});

describe('diffFindings', () => {
  const A = iid(1);
  const B = iid(2);

  it('new: a finding the table does not have', () => {
    const d = diffFindings({
      stored: mapOf(),
      findings: [aFinding({ resourceId: A, status: 'FAIL' })],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: listedAll,
    });
    expect(d.created).toHaveLength(1);
    expect(d.created[0]).toMatchObject({ type: 'new', alert: 'NEW_FAILURE', statusChanged: true });
  });

  it('unchanged: same content, only a later evaluation time', () => {
    const f = aFinding({ resourceId: A, status: 'FAIL' });
    const d = diffFindings({
      stored: mapOf(stored(f)),
      findings: [{ ...f, evaluatedAt: '2026-11-24T10:00:00.000Z' }],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: listedAll,
    });
    expect(d).toEqual({ created: [], changed: [], closed: [], unchanged: 1, newerStored: 0 });
  });

  it('unchanged: evidence with its keys in another order', () => {
    const f = aFinding({ resourceId: A, evidence: { a: 1, b: { c: 2, d: [1, 2] } } });
    const g = aFinding({ resourceId: A, evidence: { b: { d: [1, 2], c: 2 }, a: 1 } });
    expect(
      diffFindings({
        stored: mapOf(stored(f)),
        findings: [g],
        terminated: [],
        rulesRun: ALL_RULES,
        listed: listedAll,
      }).unchanged,
    ).toBe(1);
  });

  it('changed without a status change: new message, no alert', () => {
    const f = aFinding({ resourceId: A, status: 'FAIL', message: 'old' });
    const d = diffFindings({
      stored: mapOf(stored(f)),
      findings: [{ ...f, message: 'new' }],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: listedAll,
    });
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0]).toMatchObject({ type: 'changed', statusChanged: false });
    expect(d.changed[0]!.alert).toBeUndefined();
  });

  it.each([
    { from: 'PASS', to: 'FAIL', alert: 'REGRESSION' },
    { from: 'FAIL', to: 'PASS', alert: 'RESOLVED' },
    { from: 'WARN', to: 'PASS', alert: undefined },
  ] as const)('changed status $from -> $to alerts $alert', ({ from, to, alert }) => {
    const d = diffFindings({
      stored: mapOf(stored(aFinding({ resourceId: A, status: from }))),
      findings: [aFinding({ resourceId: A, status: to })],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: listedAll,
    });
    expect(d.changed[0]).toMatchObject({ statusChanged: true, alert });
  });

  it('resource gone: closed (and a failing one resolves) when the listing was complete', () => {
    const gone = stored(aFinding({ resourceId: B, status: 'FAIL' }));
    const d = diffFindings({
      stored: mapOf(gone),
      findings: [aFinding({ resourceId: A })],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: listedAll,
    });
    expect(d.closed).toEqual([
      expect.objectContaining({ type: 'closed', reason: 'RESOURCE_GONE', alert: 'RESOLVED' }),
    ]);
  });

  it('resource absent but its listing failed: left alone (a denied DescribeInstances closes nothing)', () => {
    const d = diffFindings({
      stored: mapOf(stored(aFinding({ resourceId: B, status: 'FAIL' }))),
      findings: [],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: () => false,
    });
    expect(d.closed).toEqual([]);
  });

  it('terminated instance: every finding closes with TERMINATED', () => {
    const d = diffFindings({
      stored: mapOf(
        stored(aFinding({ resourceId: B, status: 'PASS' })),
        stored(aFinding({ resourceId: B, ruleId: 'managed-status', status: 'FAIL' })),
      ),
      findings: [],
      terminated: [B],
      rulesRun: ALL_RULES,
      listed: () => false,
    });
    expect(d.closed.map((c) => [c.type === 'closed' && c.reason, c.alert])).toEqual([
      ['TERMINATED', undefined],
      ['TERMINATED', 'RESOLVED'],
    ]);
  });

  it('a rule that no longer reports a present resource closes that finding only', () => {
    const d = diffFindings({
      stored: mapOf(
        stored(aFinding({ resourceId: A })),
        stored(aFinding({ resourceId: A, ruleId: 'managed-status' })),
      ),
      findings: [aFinding({ resourceId: A })],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: () => false,
    });
    expect(d.closed).toEqual([expect.objectContaining({ reason: 'NO_LONGER_REPORTED' })]);
    expect(d.unchanged).toBe(1);
  });

  it('findings of rules this audit did not run are left alone', () => {
    const d = diffFindings({
      stored: mapOf(stored(aFinding({ resourceId: A, ruleId: 'managed-status', status: 'FAIL' }))),
      findings: [aFinding({ resourceId: A })],
      terminated: [],
      rulesRun: new Set(['network-path']),
      listed: listedAll,
    });
    expect(d.closed).toEqual([]);
  });

  it('a closed finding (tombstone) that reappears failing is a new failure, keeping its version line', () => {
    const tomb = stored(aFinding({ resourceId: A, status: 'FAIL' }), {
      closedAt: '2026-11-20T00:00:00.000Z',
      closeReason: 'RESOURCE_GONE',
    });
    const d = diffFindings({
      stored: mapOf(tomb),
      findings: [aFinding({ resourceId: A, status: 'FAIL' })],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: listedAll,
    });
    expect(d.created).toEqual([
      expect.objectContaining({ type: 'new', alert: 'NEW_FAILURE', previous: tomb }),
    ]);
    expect(d.closed).toEqual([]);
  });

  it('an audit older than what is stored neither overwrites nor closes the newer findings', () => {
    const newer = stored(
      aFinding({ resourceId: A, status: 'FAIL', evaluatedAt: '2026-11-25T00:00:00.000Z' }),
    );
    const newerGone = stored(
      aFinding({ resourceId: B, status: 'FAIL', evaluatedAt: '2026-11-25T00:00:00.000Z' }),
    );
    const d = diffFindings({
      stored: mapOf(newer, newerGone),
      findings: [aFinding({ resourceId: A, status: 'PASS', evaluatedAt: '2026-11-24T00:00:00.000Z' })],
      terminated: [],
      rulesRun: ALL_RULES,
      listed: listedAll,
      asOf: '2026-11-24T00:00:00.000Z',
    });
    expect(d).toEqual({ created: [], changed: [], closed: [], unchanged: 0, newerStored: 2 });
  });
});
