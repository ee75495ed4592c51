import { RULES, RULE_IDS } from '../../rules';
import { auditSnapshot } from '../../shared/engine/audit';
import {
  BUILT_IN_EXEMPTIONS,
  BUILT_IN_EXPIRES_AT,
  activeExemptions,
  parseExemptionIds,
} from '../../shared/engine/exemptions';
import {
  MAX_SUPPRESSION_DAYS,
  SuppressionError,
  applySuppressions,
  parseSuppressionsDocument,
} from '../../shared/engine/suppressions';
import type { SuppressionEntry } from '../../shared/model';
import { parseSnapshot } from '../../shared/snapshot/load';
import { aNetwork, anInstance, aSnapshot } from '../support/builders';
import { ACCOUNT, REGION, aFinding, iid } from '../support/store-fixtures';

/** DESIGN §8 suppressions: validation (one line naming the JSON path), matching, expiry, built-ins. */

const NOW = new Date('2026-11-23T10:00:00.000Z');
const entry = (over: Partial<SuppressionEntry> = {}): SuppressionEntry => ({
  id: 'e1',
  match: { ruleId: 'network-path' },
  reason: 'accepted: isolated subnet',
  owner: 'platform-team',
  expiresAt: '2027-01-01T00:00:00.000Z',
  ...over,
});
const valid = { match: { ruleId: 'network-path' }, reason: 'r', owner: 'o', expiresAt: '2027-03-01' };
const parse = (doc: unknown) =>
  parseSuppressionsDocument(doc, { source: 'sup.json', now: NOW, ruleIds: RULE_IDS });

describe('suppressions file: validation', () => {
  it('accepts {"suppressions": [...]} and a bare array, normalizing dates and default ids', () => {
    expect(parse({ suppressions: [valid] })).toEqual([
      {
        id: 'sup.json#1',
        match: { ruleId: 'network-path' },
        reason: 'r',
        owner: 'o',
        expiresAt: '2027-03-01T00:00:00.000Z',
      },
    ]);
    expect(parse([{ ...valid, id: 'mine', expiresAt: '2027-03-01T12:30:00+02:00' }])[0]).toMatchObject({
      id: 'mine',
      expiresAt: '2027-03-01T10:30:00.000Z',
    });
  });

  it.each([
    {
      case: 'not a list',
      doc: { entries: [] },
      message: 'invalid suppressions file sup.json: expected {"suppressions": [ … ]} or an array of entries',
    },
    {
      case: 'missing expiresAt',
      doc: { suppressions: [{ ...valid, expiresAt: undefined }] },
      message:
        'invalid suppression in sup.json at suppressions[0].expiresAt: expiresAt is required (an entry always expires)',
    },
    {
      case: 'bad date',
      doc: { suppressions: [valid, { ...valid, expiresAt: 'next year' }] },
      message:
        'invalid suppression in sup.json at suppressions[1].expiresAt: must be a date (2027-03-01) or an ISO 8601 time',
    },
    {
      case: 'beyond the maximum',
      doc: [{ ...valid, expiresAt: '2028-01-01' }],
      message: `invalid suppression in sup.json at [0].expiresAt: 2028-01-01T00:00:00.000Z is more than ${MAX_SUPPRESSION_DAYS} days after 2026-11-23T10:00:00.000Z`,
    },
    {
      case: 'empty match',
      doc: { suppressions: [{ ...valid, match: {} }] },
      message:
        'invalid suppression in sup.json at suppressions[0].match: must name at least one of accountId, region, resourceId, ruleId, reason, tag (an empty match would suppress everything)',
    },
    {
      case: 'unknown match key',
      doc: { suppressions: [{ ...valid, match: { rule: 'network-path' } }] },
      message: 'invalid suppression in sup.json at suppressions[0].match: unknown key rule',
    },
    {
      case: 'unknown rule id',
      doc: { suppressions: [{ ...valid, match: { ruleId: 'network-paths' } }] },
      message:
        'invalid suppression in sup.json at suppressions[0].match.ruleId: unknown rule id network-paths',
    },
    {
      case: 'bad account id',
      doc: { suppressions: [{ ...valid, match: { accountId: '1234' } }] },
      message:
        'invalid suppression in sup.json at suppressions[0].match.accountId: must be a 12-digit account id',
    },
    {
      case: 'empty owner',
      doc: { suppressions: [{ ...valid, owner: '  ' }] },
      message: 'invalid suppression in sup.json at suppressions[0].owner: owner must not be empty',
    },
    {
      case: 'missing reason',
      doc: { suppressions: [{ ...valid, reason: undefined }] },
      message: 'invalid suppression in sup.json at suppressions[0].reason: reason is required',
    },
    {
      case: 'duplicate id',
      doc: {
        suppressions: [
          { ...valid, id: 'a' },
          { ...valid, id: 'a' },
        ],
      },
      message: 'invalid suppression in sup.json at suppressions[1].id: duplicate id a',
    },
    {
      case: 'tag without key',
      doc: { suppressions: [{ ...valid, match: { tag: { value: 'x' } } }] },
      message: 'invalid suppression in sup.json at suppressions[0].match.tag.key: tag.key is required',
    },
  ])('$case → one line naming the JSON path', ({ doc, message }) => {
    let error: unknown;
    try {
      parse(doc);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SuppressionError);
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toContain('\n');
    expect((error as SuppressionError).hint).toMatch(/./);
  });
});

describe('applySuppressions: matching and expiry', () => {
  const tags = new Map([
    ['env', 'dev'],
    ['Name', 'web'],
  ]);
  const tagsOf = (id: string) => (id === iid(1) ? tags : undefined);
  const fail = aFinding({ resourceId: iid(1), ruleId: 'network-path', status: 'FAIL', reason: 'NO_ROUTE' });
  const apply = (e: SuppressionEntry[], now = NOW) => applySuppressions([fail], e, { now, tagsOf })[0]!;

  it.each([
    { case: 'rule id', match: { ruleId: 'network-path' }, hit: true },
    { case: 'other rule', match: { ruleId: 'managed-status' }, hit: false },
    { case: 'resource id', match: { resourceId: iid(1) }, hit: true },
    { case: 'other resource', match: { resourceId: iid(2) }, hit: false },
    { case: 'account', match: { accountId: ACCOUNT }, hit: true },
    { case: 'other account', match: { accountId: '210987654321' }, hit: false },
    { case: 'region', match: { region: REGION }, hit: true },
    { case: 'other region', match: { region: 'us-east-1' }, hit: false },
    { case: 'reason code', match: { reason: 'NO_ROUTE' }, hit: true },
    { case: 'other reason', match: { reason: 'IGW_WITHOUT_PUBLIC_IP' }, hit: false },
    { case: 'tag key', match: { tag: { key: 'env' } }, hit: true },
    { case: 'tag key and value', match: { tag: { key: 'env', value: 'dev' } }, hit: true },
    { case: 'tag other value', match: { tag: { key: 'env', value: 'prod' } }, hit: false },
    { case: 'absent tag', match: { tag: { key: 'team' } }, hit: false },
    { case: 'every field must match', match: { ruleId: 'network-path', resourceId: iid(2) }, hit: false },
    {
      case: 'all fields',
      match: { ruleId: 'network-path', resourceId: iid(1), accountId: ACCOUNT },
      hit: true,
    },
  ])('$case: suppressed=$hit', ({ match, hit }) => {
    const out = apply([entry({ match })]);
    expect(out.status).toBe('FAIL');
    expect(out.suppressed).toEqual(
      hit
        ? {
            id: 'e1',
            reason: 'accepted: isolated subnet',
            owner: 'platform-team',
            expiresAt: '2027-01-01T00:00:00.000Z',
          }
        : undefined,
    );
  });

  it('an expired entry never matches (expiry at or before now)', () => {
    expect(apply([entry({ expiresAt: NOW.toISOString() })]).suppressed).toBeUndefined();
    expect(apply([entry({ expiresAt: '2026-11-23T10:00:00.001Z' })]).suppressed?.id).toBe('e1');
    expect(apply([entry()], new Date('2027-01-01T00:00:00.000Z')).suppressed).toBeUndefined();
  });

  it('of two matching entries the longest-running holds the finding (stable across audits)', () => {
    const out = apply([
      entry({ id: 'short', expiresAt: '2026-12-01T00:00:00.000Z' }),
      entry({ id: 'long', expiresAt: '2027-06-01T00:00:00.000Z' }),
    ]);
    expect(out.suppressed?.id).toBe('long');
  });

  it('hybrid nodes and the account have no tags: a tag entry does not match them', () => {
    const mi = aFinding({ resourceId: 'mi-0123456789abcdef0', status: 'FAIL' });
    const out = applySuppressions([mi], [entry({ match: { tag: { key: 'env' } } })], { now: NOW, tagsOf });
    expect(out[0]!.suppressed).toBeUndefined();
  });
});

describe('built-in exemptions (AWS service nodes not managed by Systems Manager by design)', () => {
  const DRS_REPLICATION = 'i-0000000000000d001';
  const DRS_RECOVERY = 'i-0000000000000d002';
  const MGN_CONVERSION = 'i-0000000000000d003';
  const snapshot = parseSnapshot(
    aSnapshot({
      ec2: aNetwork(),
      instances: [
        anInstance({
          id: DRS_REPLICATION,
          profile: null,
          tags: {
            Name: 'AWS Elastic Disaster Recovery Replication Server',
            AWSElasticDisasterRecoveryManaged: 'drs.amazonaws.com',
          },
        }),
        // A recovery instance carries the same service tag but is the customer's server: audited.
        anInstance({
          id: DRS_RECOVERY,
          profile: null,
          tags: { Name: 'payments-db', AWSElasticDisasterRecoveryManaged: 'drs.amazonaws.com' },
        }),
        anInstance({
          id: MGN_CONVERSION,
          profile: null,
          tags: {
            Name: 'AWS Application Migration Service Conversion Server',
            AWSApplicationMigrationServiceManaged: 'mgn.amazonaws.com',
          },
        }),
      ],
    }),
  );
  const audit = (disabled: string[] = []) =>
    auditSnapshot(snapshot, { rules: RULES, now: NOW, evaluatedAt: NOW, exemptions: { disabled } }).findings;

  it('every finding of a DRS replication server and an MGN conversion server is exempt, keeping its status', () => {
    const findings = audit();
    const managed = (id: string) =>
      findings.find((f) => f.resourceId === id && f.ruleId === 'managed-status')!;
    expect(managed(DRS_REPLICATION).status).toBe('FAIL');
    expect(managed(DRS_REPLICATION).suppressed).toEqual({
      id: 'drs-replication-server',
      reason: BUILT_IN_EXEMPTIONS[0]!.reason,
      owner: BUILT_IN_EXEMPTIONS[0]!.owner,
      expiresAt: BUILT_IN_EXPIRES_AT,
      builtIn: true,
    });
    expect(findings.filter((f) => f.resourceId === DRS_REPLICATION).every((f) => f.suppressed)).toBe(true);
    expect(managed(MGN_CONVERSION).suppressed?.id).toBe('mgn-replication-server');
    expect(managed(DRS_RECOVERY)).toMatchObject({ status: 'FAIL' });
    expect(findings.filter((f) => f.resourceId === DRS_RECOVERY).some((f) => f.suppressed)).toBe(false);
  });

  it('a switched-off exemption no longer applies; the other still does', () => {
    const findings = audit(['drs-replication-server']);
    expect(findings.filter((f) => f.resourceId === DRS_REPLICATION).some((f) => f.suppressed)).toBe(false);
    expect(findings.filter((f) => f.resourceId === MGN_CONVERSION).every((f) => f.suppressed)).toBe(true);
  });

  it('each built-in cites AWS documentation; ids are validated', () => {
    for (const e of BUILT_IN_EXEMPTIONS)
      for (const url of e.references) expect(url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
    expect(activeExemptions(['mgn-replication-server']).map((e) => e.id)).toEqual(['drs-replication-server']);
    expect(parseExemptionIds(' drs-replication-server ,')).toEqual(['drs-replication-server']);
    expect(() => parseExemptionIds('drs')).toThrow(
      'unknown exemption id "drs"; valid ids: drs-replication-server, mgn-replication-server',
    );
  });

  it('auditSnapshot applies suppression entries at the audit time', () => {
    const entries = [entry({ match: { resourceId: DRS_RECOVERY }, expiresAt: '2026-12-01T00:00:00.000Z' })];
    const at = (now: Date) =>
      auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now, suppressions: entries }).findings.filter(
        (f) => f.resourceId === DRS_RECOVERY,
      );
    expect(at(NOW).every((f) => f.suppressed?.id === 'e1')).toBe(true);
    expect(at(new Date('2026-12-02T00:00:00.000Z')).some((f) => f.suppressed)).toBe(false);
  });
});
