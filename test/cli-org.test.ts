import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../scripts/ssm-audit/cli';
import type { Finding } from '../shared/model';
import { buildCollectionFleet } from './support/collection-fleet';
import {
  fakeOrganization,
  retarget,
  type FakeOrganization,
  type FakeOrganizationSpec,
} from './support/fake-organization';

/** Organization mode of the CLI (issue 12 item 6, DESIGN §7): `scan --org`, `--accounts FILE`, `collect --org`. */

const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

const PROD = 'ou-root-prod0001';
const TEAM = 'ou-prod-team0001';
const SANDBOX = 'ou-root-sandbox1';
const ROLE = 'SsmReadinessAuditorMember';

const TEMPLATE = JSON.stringify(buildCollectionFleet({ instances: 6, hybridNodes: 1 }).snapshot);

/**
 * Five accounts on two ListAccounts pages: 111… in Prod, 222… in Prod/Team (eu-central-1 not enabled),
 * 333… in Sandbox whose member role refuses the auditor, 444… suspended, 555… at the root.
 */
function organizationSpec(overrides: Partial<FakeOrganizationSpec> = {}): FakeOrganizationSpec {
  return {
    pageSize: 3,
    ous: [
      { id: PROD, name: 'Prod', parent: 'r-root' },
      { id: TEAM, name: 'Team', parent: PROD },
      { id: SANDBOX, name: 'Sandbox', parent: 'r-root' },
    ],
    accounts: [
      { id: '111111111111', name: 'prod', parent: PROD },
      { id: '222222222222', name: 'team', parent: TEAM },
      { id: '333333333333', name: 'sandbox', parent: SANDBOX },
      { id: '444444444444', name: 'old', parent: SANDBOX, state: 'SUSPENDED' },
      { id: '555555555555', name: 'shared', parent: 'r-root' },
    ],
    scps: [
      {
        id: 'p-FullAWSAccess',
        name: 'FullAWSAccess',
        document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        targets: [
          'r-root',
          PROD,
          TEAM,
          SANDBOX,
          '111111111111',
          '222222222222',
          '333333333333',
          '555555555555',
        ],
      },
    ],
    enabledRegions: ['eu-central-1', 'eu-west-1'],
    assumeDenied: ['333333333333'],
    regionDisabled: ['222222222222/eu-central-1'],
    snapshotFor: (accountId, region) => retarget(TEMPLATE, accountId, region),
    ...overrides,
  };
}

async function run(args: string[], options: { errIsTTY?: boolean } = {}) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', ...args], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    isTTY: false,
    errIsTTY: options.errIsTTY ?? false,
  });
  return { code, out, err };
}

const withoutTime = (findings: Finding[]) => findings.map(({ evaluatedAt: _t, ...rest }) => rest);
const jobsOf = (findings: Finding[]) =>
  [
    ...new Set(findings.filter((f) => f.ruleId !== 'member-access').map((f) => `${f.accountId}-${f.region}`)),
  ].sort();

describe('ssm-audit scan --org and collect --org (fake Organization)', () => {
  let dir: string;
  let fake: FakeOrganization | undefined;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssm-audit-org-'));
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    Object.assign(process.env, FAKE_CREDENTIALS, {
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
  afterEach(() => {
    fake?.restore();
    fake = undefined;
    rmSync(dir, { recursive: true, force: true });
    process.env = { ...saved };
  });

  it('audits every ACTIVE account in every enabled region; a denied role is one ERROR, a disabled region is skipped', async () => {
    // Prepare
    fake = fakeOrganization(organizationSpec());
    // Act
    const { code, out, err } = await run(['scan', '--org', '--region', 'eu-west-1', '--format', 'json']);
    // Assess
    expect(code).toBe(1);
    const findings = JSON.parse(out) as Finding[];
    expect(jobsOf(findings)).toEqual([
      '111111111111-eu-central-1',
      '111111111111-eu-west-1',
      '222222222222-eu-west-1',
      '555555555555-eu-central-1',
      '555555555555-eu-west-1',
    ]);
    // Two ListAccounts pages; the suspended account is listed but never assumed into.
    expect(fake.calls.get('organizations:ListAccounts')).toBe(2);
    expect(Object.fromEntries(fake.assumeRoleCalls)).toEqual({
      '111111111111': 1,
      '222222222222': 1,
      '333333333333': 1,
      '555555555555': 1,
    });
    const access = findings.filter((f) => f.accountId === '333333333333');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      resourceId: '333333333333:member-role',
      resourceType: 'Account',
      status: 'ERROR',
      reason: 'ASSUME_ROLE_DENIED',
    });
    expect(access[0]!.message).toContain(`arn:aws:iam::333333333333:role/${ROLE}`);
    expect(access[0]!.remediation).toMatch(
      /trust policy of arn:aws:iam::333333333333:role\/SsmReadinessAuditorMember/,
    );
    // Each audited account-region has its instances' managed-status findings.
    const managed = findings.filter((f) => f.ruleId === 'managed-status' && f.resourceType === 'EC2Instance');
    expect(managed).toHaveLength(5 * 6);
    expect(err).toContain(
      'Collected 5 of 8 account-regions (4 accounts × 2 regions: eu-central-1, eu-west-1)',
    );
    expect(err).toContain('4 AssumeRole');
    expect(err).toContain('not ACTIVE (suspended or closing): 444444444444');
    expect(err.match(/is not enabled/g)).toHaveLength(1);
    expect(err).toContain('eu-central-1 is not enabled for account 222222222222: skipped.');
  });

  it('selects accounts by OU (at any depth) and exclusions, and audits only the given regions', async () => {
    fake = fakeOrganization(organizationSpec());
    const included = await run([
      'scan',
      '--org',
      '--region',
      'eu-west-1',
      '--regions',
      'eu-west-1',
      '--include-ou',
      PROD,
      '--format',
      'json',
      '--fail-on',
      'none',
    ]);
    const excluded = await run([
      'scan',
      '--org',
      '--region',
      'eu-west-1',
      '--regions',
      'eu-west-1',
      '--exclude-ou',
      SANDBOX,
      '--exclude-account',
      '555555555555',
      '--format',
      'json',
      '--fail-on',
      'none',
    ]);
    expect(included.code).toBe(0);
    expect(jobsOf(JSON.parse(included.out))).toEqual(['111111111111-eu-west-1', '222222222222-eu-west-1']);
    expect(jobsOf(JSON.parse(excluded.out))).toEqual(['111111111111-eu-west-1', '222222222222-eu-west-1']);
    // --regions given: DescribeRegions is not asked.
    expect(fake.calls.get('ec2:DescribeRegions')).toBeUndefined();
  });

  it('each file of collect --org --out DIR scans to the findings of the --org scan for its account-region', async () => {
    // Prepare
    fake = fakeOrganization(organizationSpec());
    const out = join(dir, 'snapshots');
    // Act
    const org = await run([
      'scan',
      '--org',
      '--region',
      'eu-west-1',
      '--format',
      'json',
      '--fail-on',
      'none',
    ]);
    const collected = await run(['collect', '--org', '--region', 'eu-west-1', '--out', out]);
    // Assess
    expect(collected.code).toBe(0);
    expect(collected.err).toContain(`5 snapshots written to ${out}`);
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      '111111111111-eu-central-1.json',
      '111111111111-eu-west-1.json',
      '222222222222-eu-west-1.json',
      '555555555555-eu-central-1.json',
      '555555555555-eu-west-1.json',
    ]);
    const orgFindings = JSON.parse(org.out) as Finding[];
    for (const file of files) {
      const [account, region] = [file.slice(0, 12), file.slice(13, -'.json'.length)];
      const scanned = await run([
        'scan',
        '--snapshot',
        join(out, file),
        '--format',
        'json',
        '--fail-on',
        'none',
      ]);
      expect(scanned.err).toBe('');
      const expected = orgFindings.filter((f) => f.accountId === account && f.region === region);
      expect(expected.length).toBeGreaterThan(6 * 5);
      expect(withoutTime(JSON.parse(scanned.out))).toEqual(withoutTime(expected));
    }
  });

  it('--accounts FILE audits a static list without asking Organizations, with the external id', async () => {
    fake = fakeOrganization(organizationSpec());
    const file = join(dir, 'accounts.json');
    writeFileSync(file, JSON.stringify(['555555555555', '111111111111']));
    const { code, out } = await run([
      'scan',
      '--accounts',
      file,
      '--regions',
      'eu-west-1',
      '--external-id',
      'ext-123',
      '--format',
      'json',
      '--fail-on',
      'none',
    ]);
    expect(code).toBe(0);
    expect(jobsOf(JSON.parse(out))).toEqual(['111111111111-eu-west-1', '555555555555-eu-west-1']);
    expect([...fake.calls.keys()].filter((a) => a.startsWith('organizations:'))).toEqual([]);
    const assumeInputs = fake.mocks.sts
      .commandCalls((await import('@aws-sdk/client-sts')).AssumeRoleCommand as never)
      .map((c) => c.args[0].input as { ExternalId?: string; RoleArn?: string });
    expect(assumeInputs.map((i) => i.ExternalId)).toEqual(['ext-123', 'ext-123']);
  });

  it('prints one report with the account and region of each resource, and progress only on a terminal', async () => {
    fake = fakeOrganization(organizationSpec({ regionDisabled: [], assumeDenied: [] }));
    const tty = await run(
      ['scan', '--org', '--region', 'eu-west-1', '--regions', 'eu-west-1', '--width', '200'],
      {
        errIsTTY: true,
      },
    );
    const pipe = await run(['scan', '--org', '--region', 'eu-west-1', '--regions', 'eu-west-1', '--summary']);
    expect(tty.out).toMatch(/^SSM readiness: organization o-exampleorgid, 4 accounts × 1 region \(live, /);
    expect(tty.out).toContain('[111111111111 eu-west-1]');
    expect(tty.out).toMatch(/Most unmanaged nodes \(4 account-regions with any\)/);
    expect(tty.err).toMatch(/\r\x1b\[2K. accounts \d+\/4, account-regions \d+\/4/);
    expect(pipe.err).not.toMatch(/\x1b\[2K/);
    expect(pipe.out).toContain('Most unmanaged nodes');
  });

  it.each([
    {
      case: '--include-ou without --org',
      args: ['scan', '--include-ou', PROD],
      expected: /--include-ou selects accounts of the Organization: add --org/,
    },
    {
      case: '--regions without --org',
      args: ['scan', '--region', 'eu-west-1', '--regions', 'eu-west-1'],
      expected: /--regions is for many accounts/,
    },
    {
      case: '--org with --snapshot',
      args: ['scan', '--org', '--snapshot', 'x.json'],
      expected: /--snapshot cannot be combined/,
    },
    {
      case: 'a bad region',
      args: ['scan', '--org', '--regions', 'eu-west-1,Mars'],
      expected: /invalid --regions Mars: expected region names/,
    },
    {
      case: 'a bad concurrency',
      args: ['scan', '--org', '--concurrency', '0'],
      expected: /invalid --concurrency 0: expected a number/,
    },
    {
      case: 'a bad OU id',
      args: ['scan', '--org', '--include-ou', 'prod'],
      expected: /invalid --include-ou prod: expected an OU id/,
    },
  ])('rejects $case with one line and a hint, before any call', async ({ args, expected }) => {
    fake = fakeOrganization(organizationSpec());
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err).toMatch(expected);
    expect(err.trim().split('\n')).toHaveLength(2);
    expect(err).toMatch(/\nhint: /);
    expect(fake.totalCalls()).toBe(0);
  });

  it('rejects an account file that lists something else than account ids', async () => {
    fake = fakeOrganization(organizationSpec());
    const file = join(dir, 'accounts.txt');
    writeFileSync(file, '111111111111\n# a comment\nprod-account\n');
    const { code, err } = await run(['scan', '--accounts', file, '--region', 'eu-west-1']);
    expect(code).toBe(2);
    expect(err).toContain(`${file}: entry 2 "prod-account" is not an account id`);
    expect(err).toContain('hint: --accounts takes a file of 12-digit account ids');
  });
});
