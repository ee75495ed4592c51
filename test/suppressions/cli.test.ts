import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type Io } from '../../scripts/ssm-audit/cli';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import { parseMatch } from '../../scripts/ssm-audit/suppress-command';
import { FINDING_FIELDS, type Finding } from '../../shared/model';
import { POLICY_ARNS } from '../../shared/knowledge/ssm-requirements';
import { aNetwork, anInstance, aRole, aSnapshot, instanceInfo } from '../support/builders';

/** The CLI side of suppressions: `scan --suppressions FILE`, `--no-exemption`, `rules --exemptions`, `suppress`. */

const GOOD = 'i-0123456789abcdef0';
const BAD = 'i-0fedcba9876543210';
const DRS = 'i-0d0d0d0d0d0d0d0d0';
const COLLECTED = '2026-11-23T10:00:00Z';
const PRESENT = new Date('2026-11-23T12:00:00.000Z');

let dir: string;
let snapshotFile: string;
let local: LocalDynamo;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-audit-suppress-'));
  snapshotFile = join(dir, 'fleet.json');
  const snapshot = aSnapshot({
    collectedAt: COLLECTED,
    instances: [
      anInstance({ id: GOOD }),
      anInstance({ id: BAD, profile: null, privateIp: '10.0.1.11' }),
      anInstance({
        id: DRS,
        profile: null,
        privateIp: '10.0.1.12',
        tags: {
          Name: 'AWS Elastic Disaster Recovery Replication Server',
          AWSElasticDisasterRecoveryManaged: 'drs.amazonaws.com',
        },
      }),
    ],
    ec2: aNetwork(),
    infos: [instanceInfo({ id: GOOD })],
    roles: [
      aRole({ name: 'SSMInstanceProfile', profiles: ['SSMInstanceProfile'], managed: [POLICY_ARNS.core] }),
    ],
  });
  writeFileSync(snapshotFile, JSON.stringify(snapshot));
  local = await startLocalDynamo('suppress-cli');
}, 300_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await local.stop();
});

async function run(args: string[]) {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t), err: (t) => (err += t), isTTY: false, now: () => PRESENT };
  const code = await main(['node', 'ssm-audit', ...args], io);
  return { code, out, err };
}
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const badEntries = {
  suppressions: [
    {
      id: 'no-profile',
      match: { resourceId: BAD },
      reason: 'decommissioned next sprint',
      owner: 'team-a',
      expiresAt: '2027-01-01',
    },
  ],
};

describe('scan --suppressions FILE', () => {
  it('without suppressions BAD fails the gate; suppressing all of BAD passes it, and the JSON says so', async () => {
    expect((await run(['scan', '--snapshot', snapshotFile, '--format', 'json'])).code).toBe(1);
    const sup = file('bad.json', badEntries);
    const { code, out, err } = await run([
      'scan',
      '--snapshot',
      snapshotFile,
      '--format',
      'json',
      '--suppressions',
      sup,
    ]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const findings = JSON.parse(out) as Finding[];
    const bad = findings.filter((f) => f.resourceId === BAD);
    expect(bad.length).toBeGreaterThan(0);
    for (const f of bad) {
      expect(Object.keys(f)).toEqual([...FINDING_FIELDS, 'suppressed']);
      expect(f.suppressed).toEqual({
        id: 'no-profile',
        reason: 'decommissioned next sprint',
        owner: 'team-a',
        expiresAt: '2027-01-01T00:00:00.000Z',
      });
    }
    expect(bad.find((f) => f.ruleId === 'managed-status')?.status).toBe('FAIL');
    // The DRS replication server is exempt by default; GOOD is not suppressed and has exactly the contract fields.
    expect(findings.filter((f) => f.resourceId === DRS).every((f) => f.suppressed?.builtIn)).toBe(true);
    for (const f of findings.filter((f) => f.resourceId === GOOD))
      expect(Object.keys(f)).toEqual([...FINDING_FIELDS]);
  });

  it('the table lists suppressed findings apart, with the entry, and leaves them out of the counts', async () => {
    const sup = file('bad2.json', badEntries);
    const { code, out } = await run([
      'scan',
      '--snapshot',
      snapshotFile,
      '--suppressions',
      sup,
      '--width',
      '200',
    ]);
    expect(code).toBe(0);
    expect(out).toContain('All 1 running instance can be managed by Systems Manager.');
    expect(out).toMatch(/Suppressed \(\d+ findings on 2 resources; not counted above, no alert\)/);
    expect(out).toContain(
      'suppression no-profile: decommissioned next sprint (owner team-a, expires 2027-01-01T00:00:00.000Z)',
    );
    expect(out).toContain('built-in exemption drs-replication-server');
  });

  it('an expired entry suppresses nothing and says so on stderr', async () => {
    const sup = file('expired.json', [{ ...badEntries.suppressions[0], expiresAt: '2026-11-01' }]);
    const { code, err } = await run(['scan', '--snapshot', snapshotFile, '--suppressions', sup, '--summary']);
    expect(code).toBe(1);
    expect(err).toBe(
      'ssm-audit: suppression no-profile has expired as of 2026-11-23T10:00:00.000Z: it suppresses nothing\n',
    );
  });

  it.each([
    {
      case: 'a field with the wrong type',
      content: { suppressions: [{ ...badEntries.suppressions[0], owner: 7 }] },
      line: 'at suppressions[0].owner: owner must be a string',
    },
    {
      case: 'an expiry beyond the maximum, counted from the present',
      content: { suppressions: [{ ...badEntries.suppressions[0], expiresAt: '2027-12-01' }] },
      line: 'at suppressions[0].expiresAt: 2027-12-01T00:00:00.000Z is more than 365 days after 2026-11-23T12:00:00.000Z',
    },
    { case: 'not JSON', content: '{"suppressions": [', line: 'is not valid JSON' },
  ])('$case → exit 2, one line naming the problem and a hint', async ({ content, line }) => {
    const sup = file('broken.json', content);
    const { code, out, err } = await run(['scan', '--snapshot', snapshotFile, '--suppressions', sup]);
    expect(code).toBe(2);
    expect(out).toBe('');
    const lines = err.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(line);
    expect(lines[0]).toMatch(/^ssm-audit: /);
    expect(lines[1]).toMatch(/^hint: /);
  });

  it('a missing file is one line', async () => {
    const { code, err } = await run([
      'scan',
      '--snapshot',
      snapshotFile,
      '--suppressions',
      join(dir, 'nope.json'),
    ]);
    expect(code).toBe(2);
    expect(err.split('\n')[0]).toBe(`ssm-audit: file not found: ${join(dir, 'nope.json')}`);
  });
});

describe('built-in exemptions on the command line', () => {
  it('--no-exemption switches one off: the DRS server fails the gate again', async () => {
    const sup = file('bad3.json', badEntries);
    const on = await run(['scan', '--snapshot', snapshotFile, '--suppressions', sup, '--format', 'json']);
    expect(on.code).toBe(0);
    const off = await run([
      'scan',
      '--snapshot',
      snapshotFile,
      '--suppressions',
      sup,
      '--format',
      'json',
      '--no-exemption',
      'drs-replication-server',
    ]);
    expect(off.code).toBe(1);
    expect(
      (JSON.parse(off.out) as Finding[]).filter((f) => f.resourceId === DRS).some((f) => f.suppressed),
    ).toBe(false);
  });

  it('an unknown exemption id is bad input naming the valid ones', async () => {
    const { code, err } = await run(['scan', '--snapshot', snapshotFile, '--no-exemption', 'drs']);
    expect(code).toBe(2);
    expect(err).toBe(
      'ssm-audit: --no-exemption: unknown exemption id "drs"; valid ids: drs-replication-server, mgn-replication-server\n' +
        'hint: the built-in exemptions are drs-replication-server, mgn-replication-server; `ssm-audit rules --exemptions` describes them\n',
    );
  });

  it('rules --exemptions lists each built-in with how it is recognised and its AWS documentation', async () => {
    const { code, out } = await run(['rules', '--exemptions']);
    expect(code).toBe(0);
    expect(out).toContain(
      'drs-replication-server [on] — AWS Elastic Disaster Recovery replication and conversion servers',
    );
    expect(out).toContain('mgn-replication-server [on]');
    expect(out).toContain(
      'https://docs.aws.amazon.com/drs/latest/userguide/individual-replication-settings.html',
    );
    expect(out).toContain('https://docs.aws.amazon.com/mgn/latest/ug/replication-server-settings.html');
  });
});

describe('ssm-audit suppress add|list|remove (the findings table)', () => {
  const table = ['--endpoint-url', '', '--table', 'suppress-cli'];
  beforeAll(() => {
    table[1] = local.endpoint;
  });

  it('adds, lists and removes an entry', async () => {
    const added = await run([
      'suppress',
      'add',
      '--match',
      'rule=network-path,resource=i-0fedcba9876543210',
      '--match',
      'tag=env=dev',
      '--reason',
      'isolated subnet',
      '--owner',
      'team-a',
      '--expires',
      '2027-03-01',
      '--id',
      'sup-test',
      ...table,
    ]);
    expect(added).toMatchObject({ code: 0, err: '' });
    expect(added.out).toBe(
      'Added suppression sup-test (resource=i-0fedcba9876543210,rule=network-path,tag=env=dev), owner team-a, until 2027-03-01T00:00:00.000Z. Every audit from now on applies it.\n',
    );
    const listed = await run(['suppress', 'list', '--format', 'json', ...table]);
    expect(JSON.parse(listed.out)).toEqual([
      {
        id: 'sup-test',
        match: { resourceId: BAD, ruleId: 'network-path', tag: { key: 'env', value: 'dev' } },
        reason: 'isolated subnet',
        owner: 'team-a',
        expiresAt: '2027-03-01T00:00:00.000Z',
        createdAt: PRESENT.toISOString(),
        active: true,
      },
    ]);
    expect((await run(['suppress', 'list', ...table])).out).toContain('1 suppression, 1 in force.');
    const removed = await run(['suppress', 'remove', 'sup-test', ...table]);
    expect(removed).toMatchObject({ code: 0 });
    expect((await run(['suppress', 'list', ...table])).out).toBe('No suppressions.\n');
  });

  it.each([
    {
      case: 'an expiry beyond the maximum',
      args: ['--match', 'rule=network-path', '--expires', '2028-01-01'],
      line: 'ssm-audit: invalid --expires: 2028-01-01T00:00:00.000Z is more than 365 days after 2026-11-23T12:00:00.000Z',
    },
    {
      case: 'an unknown rule',
      args: ['--match', 'rule=network-paths', '--expires', '2027-01-01'],
      line: 'ssm-audit: invalid --match rule: unknown rule id network-paths',
    },
    {
      case: 'an unknown match key',
      args: ['--match', 'rules=network-path', '--expires', '2027-01-01'],
      line: 'ssm-audit: invalid --match rules=network-path: unknown key rules',
    },
    {
      case: 'an unreadable date',
      args: ['--match', 'rule=network-path', '--expires', 'soon'],
      line: 'ssm-audit: invalid --expires: must be a date (2027-03-01) or an ISO 8601 time',
    },
  ])('add with $case is bad input: one line and a hint, nothing stored', async ({ args, line }) => {
    const { code, err } = await run(['suppress', 'add', '--reason', 'r', '--owner', 'o', ...args, ...table]);
    expect(code).toBe(2);
    const lines = err.trimEnd().split('\n');
    expect(lines[0]).toBe(line);
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines).toHaveLength(2);
    expect((await run(['suppress', 'list', ...table])).out).toBe('No suppressions.\n');
  });

  it('a duplicate id and an unknown id to remove are one-line errors', async () => {
    const add = ['suppress', 'add', '--match', 'rule=network-path', '--reason', 'r', '--owner', 'o'];
    expect((await run([...add, '--expires', '2027-01-01', '--id', 'dup', ...table])).code).toBe(0);
    const again = await run([...add, '--expires', '2027-01-01', '--id', 'dup', ...table]);
    expect(again.code).toBe(2);
    expect(again.err.split('\n')[0]).toBe('ssm-audit: a suppression with id dup already exists');
    const missing = await run(['suppress', 'remove', 'nope', ...table]);
    expect(missing.code).toBe(2);
    expect(missing.err.split('\n')[0]).toBe('ssm-audit: no suppression with id nope');
    await run(['suppress', 'remove', 'dup', ...table]);
  });

  it('parses --match pairs, tags with and without a value', () => {
    expect(parseMatch(['account=123456789012,region=eu-west-1', 'reason=NO_ROUTE,tag=team'])).toEqual({
      accountId: '123456789012',
      region: 'eu-west-1',
      reason: 'NO_ROUTE',
      tag: { key: 'team' },
    });
    expect(() => parseMatch(['rule=a,rule=b'])).toThrow('invalid --match: rule given twice');
  });
});
