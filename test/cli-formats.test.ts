import { RULES, RULE_IDS } from '../rules';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { version } from '../package.json';
import { main } from '../scripts/ssm-audit/cli';
import { startLocalDynamo, type LocalDynamo } from '../scripts/ssm-audit/local-dynamodb';
import type { OcsfComplianceFinding } from '../shared/alerts/ocsf';
import { auditSnapshot } from '../shared/engine/audit';
import type { Finding, SuppressionEntry } from '../shared/model';
import { recordAudit } from '../shared/pipeline/record-audit';
import { loadSnapshotFile } from '../shared/snapshot/load';
import { FindingsStore } from '../shared/store/findings-store';
import { asffProblems } from './security-hub/asff-schema';
import { ocsfProblems } from './security-hub/ocsf-schema';

/**
 * Issue 13 item 2: `--format asff` (what BatchImportFindings would receive) and `--format ocsf` (OCSF
 * Compliance Finding events) in `scan` and `findings`, each a JSON array, every item valid against the
 * schemas written from the AWS and OCSF documentation.
 */

const ROOT = resolve(__dirname, '..');
const DEMO = 'test/fixtures/demo/demo-fleet.json';
const AFTER = 'test/fixtures/demo/demo-fleet-after.json';
const TITLES = new Map(RULES.map((r) => [r.meta.id, r.meta.title]));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-audit-formats-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', ...args], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    isTTY: false,
  });
  return { code, out, err };
}

const idOf = (f: Pick<Finding, 'accountId' | 'region' | 'resourceId' | 'ruleId'>) =>
  `ssm-readiness/${f.accountId}/${f.region}/${f.resourceId}/${f.ruleId}`;

describe('scan --format asff', () => {
  let findings: Finding[];
  let asff: AwsSecurityFinding[];
  beforeAll(async () => {
    const json = await cli('scan', '--snapshot', DEMO, '--format', 'json');
    findings = JSON.parse(json.out) as Finding[];
    const r = await cli('scan', '--snapshot', DEMO, '--format', 'asff');
    expect(r.err).toBe('');
    expect(r.code).toBe(1); // the demo fleet fails, as with every other format
    asff = JSON.parse(r.out) as AwsSecurityFinding[];
  }, 120_000);

  it('is one valid AwsSecurityFinding per finding of the demo fleet', () => {
    expect(asff).toHaveLength(findings.length);
    expect(findings.length).toBeGreaterThan(1000);
    const problems = asff.flatMap((f) => asffProblems(f).map((p) => `${f.Id}: ${p}`));
    expect(problems).toEqual([]);
    expect(new Set(asff.map((f) => f.Id)).size).toBe(asff.length);
    expect(asff.map((f) => f.Id)).toEqual(findings.map(idOf));
  });

  it('archives what passes and keeps what fails active, with the rule title, partition and version', () => {
    const byId = new Map(findings.map((f) => [idOf(f), f]));
    for (const item of asff) {
      const f = byId.get(item.Id!)!;
      const passing = f.status === 'PASS' || f.status === 'NOT_APPLICABLE' || f.suppressed !== undefined;
      expect(item.RecordState).toBe(passing ? 'ARCHIVED' : 'ACTIVE');
      expect(item.Compliance?.Status).toBe(
        {
          PASS: 'PASSED',
          FAIL: 'FAILED',
          WARN: 'WARNING',
          ERROR: 'NOT_AVAILABLE',
          NOT_APPLICABLE: 'NOT_AVAILABLE',
        }[f.status],
      );
      expect(item.Title).toBe(`${TITLES.get(f.ruleId)} (${f.reason})`);
      expect(item.ProductArn).toBe(`arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default`);
      expect(item.ProductFields?.['ssm-readiness/auditorVersion']).toBe(version);
      expect(item).not.toHaveProperty('Workflow');
    }
    const failing = asff.filter((f) => f.Compliance?.Status === 'FAILED');
    expect(failing.length).toBeGreaterThan(30);
    expect(failing.every((f) => f.RecordState === 'ACTIVE')).toBe(true);
    expect(asff.find((f) => f.Resources?.[0]?.Type === 'AwsEc2Instance')?.Resources?.[0]?.Id).toMatch(
      /^arn:aws:ec2:eu-west-1:123456789012:instance\/i-[0-9a-f]+$/,
    );
  });

  it('takes the partition from the snapshot (aws-cn)', async () => {
    const snapshot = JSON.parse(readFileSync(DEMO, 'utf8')) as Record<string, unknown>;
    const file = join(dir, 'cn.json');
    writeFileSync(file, JSON.stringify({ ...snapshot, region: 'cn-north-1', partition: 'aws-cn' }));
    const r = await cli('scan', '--snapshot', file, '--format', 'asff', '--rule', 'instance-permissions');
    expect(r.err).toBe('');
    const items = JSON.parse(r.out) as AwsSecurityFinding[];
    expect(items.length).toBeGreaterThan(10);
    for (const item of items) {
      expect(asffProblems(item)).toEqual([]);
      expect(item.ProductArn).toBe(
        'arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default',
      );
      expect(item.Resources?.[0]?.Partition).toBe('aws-cn');
    }
  });

  it('archives a suppressed failure and names its entry', async () => {
    const id = findings.find((f) => f.ruleId === 'managed-status' && f.status === 'FAIL')!.resourceId;
    const file = join(dir, 'suppressions.json');
    writeFileSync(
      file,
      JSON.stringify({
        suppressions: [
          {
            id: 'accepted-risk',
            match: { resourceId: id, ruleId: 'managed-status' },
            reason: 'replaced next sprint',
            owner: 'ops@example.com',
            expiresAt: '2027-01-15T00:00:00Z',
          },
        ],
      }),
    );
    const r = await cli(
      'scan',
      '--snapshot',
      DEMO,
      '--format',
      'asff',
      '--suppressions',
      file,
      '--instance',
      id,
    );
    const items = JSON.parse(r.out) as AwsSecurityFinding[];
    const item = items.find((f) => f.Id?.endsWith(`/${id}/managed-status`))!;
    expect(asffProblems(item)).toEqual([]);
    expect(item.Compliance?.Status).toBe('FAILED');
    expect(item.RecordState).toBe('ARCHIVED');
    expect(item.ProductFields?.['ssm-readiness/suppressionId']).toBe('accepted-risk');
  });
});

describe('scan --format ocsf', () => {
  it('is one valid OCSF Compliance Finding per finding, with compliance status and finding status', async () => {
    const json = await cli('scan', '--snapshot', AFTER, '--format', 'json');
    const findings = JSON.parse(json.out) as Finding[];
    const r = await cli('scan', '--snapshot', AFTER, '--format', 'ocsf');
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    const events = JSON.parse(r.out) as OcsfComplianceFinding[];
    expect(events).toHaveLength(findings.length);
    const problems = events.flatMap((e, i) => ocsfProblems(e).map((p) => `${i}: ${p}`));
    expect(problems).toEqual([]);
    events.forEach((e, i) => {
      const f = findings[i]!;
      expect(e.class_uid).toBe(2003);
      expect(e.finding_info.uid).toBe(idOf(f));
      expect(e.finding_info.title).toContain(TITLES.get(f.ruleId)!);
      expect(e.compliance.status_id).toBe(
        { PASS: 1, WARN: 2, FAIL: 3, ERROR: 0, NOT_APPLICABLE: 99 }[f.status],
      );
      expect(e.metadata.product.version).toBe(version);
    });
    expect(events.filter((e) => e.compliance.status_id === 3 && e.status_id === 1).length).toBeGreaterThan(
      30,
    );
  });
});

describe('a bad --format', () => {
  it.each(['scan', 'findings'])(
    '%s: one line naming every format, asff and ocsf included',
    async (command) => {
      const r = await cli(command, '--format', 'xml');
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toBe(
        `ssm-audit: invalid --format xml: expected table, json, csv, asff or ocsf\nhint: \`ssm-audit ${command} --help\` lists the options\n`,
      );
    },
  );
});

describe('the bundled bin', () => {
  it('writes ASFF without loading the AWS SDK (type-only imports are erased)', () => {
    const list = join(dir, 'modules.txt');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('AWS_') && k !== 'NODE_OPTIONS') env[k] = v;
    Object.assign(env, { AWS_EC2_METADATA_DISABLED: 'true', NO_COLOR: '1', LOADED_MODULES_OUT: list });
    const child = spawnSync(
      process.execPath,
      [
        '--require',
        join(ROOT, 'test/support/loaded-modules.js'),
        'scripts/ssm-audit/bin.js',
        'scan',
        '--snapshot',
        DEMO,
        '--format',
        'asff',
        '--rule',
        'network-path',
      ],
      { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.status).toBe(1);
    const items = JSON.parse(child.stdout) as AwsSecurityFinding[];
    expect(items.length).toBeGreaterThan(10);
    expect(items.flatMap(asffProblems)).toEqual([]);
    const modules = readFileSync(list, 'utf8').trim().split('\n');
    expect(modules).toContain(join(ROOT, 'dist/ssm-audit.js'));
    expect(modules.filter((m) => m.includes('/node_modules/@aws-sdk/'))).toEqual([]);
    expect(modules.filter((m) => m.includes('/node_modules/@smithy/'))).toEqual([]);
  });
});

describe('findings --format asff|ocsf (the findings table, on dynalite)', () => {
  let local: LocalDynamo;
  // The first audit as of 2026-11-23, the second a week later, with one failing instance suppressed.
  const SUPPRESSED = 'i-038c7712e2df5ffd3';
  beforeAll(async () => {
    local = await startLocalDynamo('cli-formats');
    const store = new FindingsStore({ client: local.doc, tableName: local.tableName });
    const record = async (file: string, suppressions: SuppressionEntry[], region?: string) => {
      const loaded = await loadSnapshotFile(file);
      const snapshot = region ? { ...loaded, region } : loaded;
      const now = new Date(snapshot.collectedAt);
      await recordAudit({
        store,
        snapshot,
        result: auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now, suppressions }),
        ruleIds: RULE_IDS,
        now,
      });
    };
    await record(DEMO, []);
    await record(AFTER, [
      {
        id: 'legacy-build-host',
        match: { resourceId: SUPPRESSED },
        reason: 'decommissioned next month',
        owner: 'ci-team@example.com',
        expiresAt: '2026-12-30T10:00:00.000Z',
      },
    ]);
    // The same fleet in a China region: its findings belong to the aws-cn partition.
    await record(DEMO, [], 'cn-north-1');
  }, 300_000);
  afterAll(async () => {
    await local.stop();
  });

  const findings = async (...args: string[]) =>
    cli('findings', ...args, '--endpoint-url', local.endpoint, '--table', local.tableName);

  it('asff: the failing findings, valid, ACTIVE, with the table first-seen time', async () => {
    const r = await findings('--format', 'asff', '--scope', '123456789012/eu-west-1');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const items = JSON.parse(r.out) as AwsSecurityFinding[];
    expect(items.length).toBeGreaterThan(30);
    expect(items.flatMap((f) => asffProblems(f).map((p) => `${f.Id}: ${p}`))).toEqual([]);
    for (const item of items) {
      expect(item.Region).toBe('eu-west-1');
      expect(item.ProductArn).toBe('arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default');
      expect(['FAILED', 'WARNING', 'NOT_AVAILABLE']).toContain(item.Compliance?.Status);
    }
    // A failure of both audits: first seen by the first one, still open and active after the second.
    const lasting = items.find(
      (f) => f.Id === `ssm-readiness/123456789012/eu-west-1/i-017f76cc3eb68ce47/managed-status`,
    )!;
    expect(lasting.RecordState).toBe('ACTIVE');
    expect(lasting.CreatedAt).toBe('2026-11-23T10:00:00.000Z');
    expect(lasting.FirstObservedAt).toBe('2026-11-23T10:00:00.000Z');
    // The suppressed instance's failures stay failures, archived, with their entry.
    const suppressed = items.filter((f) => f.Id?.includes(`/${SUPPRESSED}/`));
    expect(suppressed.length).toBeGreaterThan(0);
    for (const f of suppressed) {
      expect(f.RecordState).toBe('ARCHIVED');
      expect(f.ProductFields?.['ssm-readiness/suppressionId']).toBe('legacy-build-host');
    }
    expect(suppressed.map((f) => f.Compliance?.Status)).toContain('FAILED');
    expect(
      items.filter((f) => !f.Id?.includes(`/${SUPPRESSED}/`)).every((f) => f.RecordState === 'ACTIVE'),
    ).toBe(true);
  });

  it('asff: passing findings are ARCHIVED; the partition follows the region (cn-* is aws-cn)', async () => {
    const r = await findings('--format', 'asff', '--status', 'PASS', '--rule', 'managed-status');
    expect(r.code).toBe(0);
    const items = JSON.parse(r.out) as AwsSecurityFinding[];
    expect(items.flatMap(asffProblems)).toEqual([]);
    expect(items.every((f) => f.RecordState === 'ARCHIVED' && f.Compliance?.Status === 'PASSED')).toBe(true);
    const cn = items.filter((f) => f.Region === 'cn-north-1');
    expect(cn.length).toBeGreaterThan(5);
    for (const f of cn) {
      expect(f.ProductArn).toBe(
        'arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default',
      );
      expect(f.Resources?.[0]?.Id).toMatch(/^arn:aws-cn:/);
    }
    expect(
      items.filter((f) => f.Region === 'eu-west-1').every((f) => f.ProductArn?.startsWith('arn:aws:')),
    ).toBe(true);
  });

  it('ocsf: valid Compliance Finding events of the stored findings', async () => {
    const r = await findings('--format', 'ocsf', '--scope', '123456789012/eu-west-1', '--status', 'FAIL');
    expect(r.code).toBe(0);
    const events = JSON.parse(r.out) as OcsfComplianceFinding[];
    expect(events.length).toBeGreaterThan(30);
    expect(events.flatMap((e) => ocsfProblems(e))).toEqual([]);
    expect(events.every((e) => e.compliance.status_id === 3)).toBe(true);
    const suppressed = events.filter((e) => e.finding_info.uid.includes(`/${SUPPRESSED}/`));
    expect(suppressed.length).toBeGreaterThan(0);
    expect(suppressed.every((e) => e.status === 'Suppressed')).toBe(true);
  });

  it('--history and --runs have no ASFF/OCSF form: one line and a hint', async () => {
    const r = await findings('--format', 'asff', '--history', 'i-017f76cc3eb68ce47');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'ssm-audit: --format asff applies to findings, not to --history\nhint: use --format table, json or csv with --history and --runs\n',
    );
  });
});
