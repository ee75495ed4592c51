import { RULES } from '../rules';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aNetwork, anInstance, aSnapshot } from './support/builders';
import { main } from '../scripts/ssm-audit/cli';
import { auditSnapshot } from '../shared/engine/audit';
import { nearestKey } from '../shared/config';
import { toTable } from '../scripts/ssm-audit/report';
import { parseSnapshot } from '../shared/snapshot/load';
import { version } from '../package.json';

/**
 * Issue 11 item 5: bad input is one line naming the problem and one `hint:` line saying what to do,
 * exit 2, never the help text (that is what --help is for).
 */

const ID = 'i-0123456789abcdef0';

// Created when the file loads: the table rows below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'ssm-audit-errors-'));
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};
let snapshot: string;
beforeAll(() => {
  snapshot = file('fleet.json', aSnapshot({ instances: [anInstance({ id: ID })], ec2: aNetwork() }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', ...args], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    isTTY: false,
  });
  return { code, out, err };
}

const BUILD_HINT =
  'build a snapshot with `ssm-audit collect --region R --out FILE`, or with the AWS CLI (README "Building a snapshot with the AWS CLI")';
const SCAN_HELP = '`ssm-audit scan --help` lists the options';

describe('ssm-audit: one line and one hint for bad input, exit 2, no help text', () => {
  it.each([
    {
      case: 'an unknown --format',
      args: () => ['scan', '--snapshot', snapshot, '--format', 'xml'],
      error: 'invalid --format xml: expected table, json, csv, asff or ocsf',
      hint: SCAN_HELP,
    },
    {
      case: 'an unknown --fail-on',
      args: () => ['scan', '--snapshot', snapshot, '--fail-on', 'bogus'],
      error: 'invalid --fail-on bogus: expected WARN, FAIL, ERROR or none',
      hint: SCAN_HELP,
    },
    {
      case: 'findings --status BOGUS',
      args: () => ['findings', '--status', 'BOGUS'],
      error: 'invalid --status BOGUS: expected PASS, FAIL, WARN, NOT_APPLICABLE or ERROR',
      hint: '`ssm-audit findings --help` lists the options',
    },
    {
      case: 'findings --format xml',
      args: () => ['findings', '--format', 'xml'],
      error: 'invalid --format xml: expected table, json, csv, asff or ocsf',
      hint: '`ssm-audit findings --help` lists the options',
    },
    {
      case: '--now yesterday',
      args: () => ['scan', '--snapshot', snapshot, '--now', 'yesterday'],
      error: 'invalid --now yesterday: expected an ISO 8601 time such as 2026-11-23T10:00:00Z',
      hint: SCAN_HELP,
    },
    {
      case: '--width 20 (too narrow to read)',
      args: () => ['scan', '--snapshot', snapshot, '--width', '20'],
      error: 'invalid --width 20: expected a number of columns, 40 or more',
      hint: SCAN_HELP,
    },
    {
      case: 'a 100,000-character --format (echoed bounded)',
      args: () => ['scan', '--snapshot', snapshot, '--format', 'x'.repeat(100_000)],
      error: `invalid --format ${'x'.repeat(64)}…: expected table, json, csv, asff or ocsf`,
      hint: SCAN_HELP,
    },
    {
      case: 'raw `aws ec2 describe-instances` output instead of a snapshot',
      args: () => ['scan', '--snapshot', file('instances.json', { Reservations: [] })],
      error: `${join(dir, 'instances.json')}: not a snapshot but the output of \`aws ec2 describe-instances\` (top-level Reservations, no schemaVersion)`,
      hint: BUILD_HINT,
    },
    {
      case: 'raw `aws iam get-account-authorization-details` output',
      args: () => [
        'scan',
        '--snapshot',
        file('iam.json', { UserDetailList: [], RoleDetailList: [], Policies: [] }),
      ],
      error: `${join(dir, 'iam.json')}: not a snapshot but the output of \`aws iam get-account-authorization-details\` (top-level RoleDetailList, no schemaVersion)`,
      hint: BUILD_HINT,
    },
    {
      case: 'a snapshot file that does not exist',
      args: () => ['scan', '--snapshot', join(dir, 'absent.json')],
      error: `file not found: ${join(dir, 'absent.json')}`,
      hint: `check the path, or ${BUILD_HINT}`,
    },
    {
      case: 'a broken snapshot field',
      args: () => ['scan', '--snapshot', file('broken.json', { schemaVersion: 2 })],
      error: `${join(dir, 'broken.json')}: invalid snapshot at $.schemaVersion: Invalid input: expected 1`,
      hint: 'the format is in the README ("Snapshot format"); `ssm-audit collect --region R --out FILE` writes a valid snapshot',
    },
    {
      case: 'a misspelt --config key',
      args: () => ['scan', '--snapshot', snapshot, '--config', file('config.json', { tierWarnPercnt: 90 })],
      error: `unknown key tierWarnPercnt in ${join(dir, 'config.json')}; did you mean tierWarnPercent?`,
      hint: 'valid keys: activationExpiryWarningDays, tierWarnPercent, staleHybridDays, registrationGraceMinutes, exemptionTagKey, outputBuckets',
    },
    {
      case: 'a misspelt key of an output bucket',
      args: () => [
        'scan',
        '--snapshot',
        snapshot,
        '--config',
        file('buckets.json', { outputBuckets: [{ name: 'logs-bucket', encrpyted: true }] }),
      ],
      error: `unknown key outputBuckets[0].encrpyted in ${join(dir, 'buckets.json')}; did you mean outputBuckets[0].encrypted?`,
      hint: 'valid keys of outputBuckets[0]: name, crossAccount, encrypted',
    },
    {
      case: 'a --config key nothing like a setting',
      args: () => ['scan', '--snapshot', snapshot, '--config', file('far.json', { colour: 'red' })],
      error: `unknown key colour in ${join(dir, 'far.json')}`,
      hint: 'valid keys: activationExpiryWarningDays, tierWarnPercent, staleHybridDays, registrationGraceMinutes, exemptionTagKey, outputBuckets',
    },
    {
      case: 'a --config value of the wrong type',
      args: () => ['scan', '--snapshot', snapshot, '--config', file('type.json', { tierWarnPercent: '90' })],
      error: `invalid tierWarnPercent in ${join(dir, 'type.json')}: Invalid input: expected number, received string`,
      hint: 'tierWarnPercent takes a number from 1 to 100 (default 80)',
    },
    {
      case: 'a --config file that is an array',
      args: () => ['scan', '--snapshot', snapshot, '--config', file('array.json', [])],
      error: `invalid config in ${join(dir, 'array.json')}: Invalid input: expected object, received array`,
      hint: 'a config file is a JSON object such as {"tierWarnPercent": 90}; valid keys: activationExpiryWarningDays, tierWarnPercent, staleHybridDays, registrationGraceMinutes, exemptionTagKey, outputBuckets',
    },
    {
      case: 'a --config file that does not exist',
      args: () => ['scan', '--snapshot', snapshot, '--config', join(dir, 'no-config.json')],
      error: `file not found: ${join(dir, 'no-config.json')}`,
      hint: '--config takes a JSON file of rule settings, such as {"tierWarnPercent": 90}',
    },
    {
      case: 'no command',
      args: () => [],
      error: 'no command given',
      hint: 'try `ssm-audit scan --snapshot FILE` or `ssm-audit rules`; `ssm-audit --help` lists the commands',
    },
    {
      case: 'an unknown command',
      args: () => ['scna'],
      error: 'unknown command scna; did you mean scan?',
      hint: 'the commands are scan, collect, findings, suppress, report, plan, rules; `ssm-audit --help` describes them',
    },
    {
      case: 'an unknown option',
      args: () => ['scan', '--snapshot', snapshot, '--formt', 'json'],
      error: 'unknown option --formt; did you mean --format?',
      hint: '`ssm-audit scan --help` lists its options',
    },
    {
      case: 'a snapshot file given without --snapshot',
      args: () => ['scan', 'fleet.json'],
      error: 'unexpected argument fleet.json',
      hint: 'a snapshot file is given with --snapshot: ssm-audit scan --snapshot fleet.json',
    },
    {
      case: 'an option without its value',
      args: () => ['scan', '--snapshot'],
      error: '--snapshot <file>: the value is missing',
      hint: '`ssm-audit scan --help` lists its options',
    },
    {
      case: 'collect without --out',
      args: () => ['collect', '--region', 'eu-west-1'],
      error: 'collect needs --out <file> (where to write the snapshot JSON)',
      hint: '`ssm-audit collect --help` lists its options',
    },
  ])('$case', async ({ args, error, hint }) => {
    // Act
    const { code, out, err } = await run(args());
    // Assess
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(`ssm-audit: ${error}\nhint: ${hint}\n`);
    expect(err).not.toMatch(/Usage:|Options:/);
  });
});

describe('ssm-audit --version and --help', () => {
  it.each([['--version'], ['-V']])('%s prints the package version and exits 0', async (flag) => {
    const { code, out, err } = await run([flag]);
    expect(code).toBe(0);
    expect(out).toBe(`${version}\n`);
    expect(err).toBe('');
  });

  it('--help still prints the usage, on stdout, exit 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: ssm-audit/);
    expect(out).toContain('-V, --version');
  });
});

describe('config keys: the nearest valid key', () => {
  const KEYS = ['activationExpiryWarningDays', 'tierWarnPercent', 'staleHybridDays', 'exemptionTagKey'];
  it.each([
    { case: 'one letter missing', key: 'tierWarnPercnt', expected: 'tierWarnPercent' },
    { case: 'two letters swapped', key: 'staleHbyridDays', expected: 'staleHybridDays' },
    { case: 'another case', key: 'TIERWARNPERCENT', expected: 'tierWarnPercent' },
    { case: 'snake case', key: 'stale_hybrid_days', expected: 'staleHybridDays' },
    { case: 'nothing alike', key: 'colour', expected: undefined },
  ])('$case: $key → $expected', ({ key, expected }) => {
    expect(nearestKey(key, KEYS)).toBe(expected);
  });
});

describe('raw AWS CLI output given to parseSnapshot (any caller)', () => {
  it.each([
    { key: 'Vpcs', command: 'aws ec2 describe-vpcs' },
    { key: 'InstanceInformationList', command: 'aws ssm describe-instance-information' },
    { key: 'ActivationList', command: 'aws ssm describe-activations' },
  ])('top-level $key names `$command`', ({ key, command }) => {
    expect(() => parseSnapshot({ [key]: [] }, 'x.json')).toThrow(
      `x.json: not a snapshot but the output of \`${command}\` (top-level ${key}, no schemaVersion)`,
    );
  });

  it('a snapshot with a schemaVersion is judged as a snapshot, not as CLI output', () => {
    expect(() => parseSnapshot({ schemaVersion: 1, Reservations: [] }, 'x.json')).toThrow(
      /invalid snapshot at \$\./,
    );
  });
});

describe('the table report counts in words', () => {
  const findings = auditSnapshot(
    parseSnapshot(aSnapshot({ instances: [anInstance({ id: ID })], ec2: aNetwork() })),
    { rules: RULES, now: new Date('2026-11-23T10:00:00Z'), evaluatedAt: new Date('2026-11-23T10:00:00Z') },
  ).findings.filter((f) => f.resourceId === ID);

  it.each([
    { count: 0, expected: '0 findings on 0 resources.' },
    { count: 1, expected: '1 finding on 1 resource.' },
    { count: 5, expected: '5 findings on 1 resource.' },
  ])('$count → "$expected"', ({ count, expected }) => {
    expect(findings.length).toBeGreaterThanOrEqual(5);
    const lines = toTable(findings.slice(0, count), { color: false }).split('\n');
    expect(lines).toContain(expected);
  });
});
