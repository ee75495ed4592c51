import { RULES } from '../rules';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { auditSnapshot } from '../shared/engine/audit';
import type { Finding } from '../shared/model';
import { loadSnapshotFile, parseSnapshot } from '../shared/snapshot/load';

/**
 * scripts/ssm-audit/aws-cli-snapshot.sh, the AWS CLI recipe of the README, run against a stand-in `aws` on PATH
 * (test/support/fake-aws-cli/aws) that answers from the demo fleet in the AWS CLI's shapes and denies
 * the calls it is told to: a denied call is recorded in `calls` and its section left out, so the audit
 * reports ERROR naming the permission instead of the snapshot being rejected.
 */

const ROOT = path.join(__dirname, '..');
const DEMO = path.join(ROOT, 'test', 'fixtures', 'demo', 'demo-fleet.json');
const demo = JSON.parse(readFileSync(DEMO, 'utf8')) as { collectedAt: string; region: string };
const at = new Date(demo.collectedAt);
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aws-cli-recipe-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function buildSnapshot(deny: string[], name: string) {
  const out = path.join(dir, `${name}.json`);
  const run = spawnSync(
    'bash',
    [path.join(ROOT, 'scripts', 'ssm-audit', 'aws-cli-snapshot.sh'), demo.region, out],
    {
      env: {
        ...process.env,
        PATH: `${path.join(ROOT, 'test', 'support', 'fake-aws-cli')}${path.delimiter}${process.env.PATH}`,
        FAKE_AWS_SNAPSHOT: DEMO,
        FAKE_AWS_DENY: deny.join(','),
      },
      encoding: 'utf8',
    },
  );
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
  return { out, stderr: run.stderr };
}

const verdicts = (findings: readonly Finding[]) =>
  new Map(findings.map((f) => [`${f.resourceId} ${f.ruleId}`, `${f.status} ${f.reason}`]));

async function audit(file: string) {
  return auditSnapshot(await loadSnapshotFile(file), { rules: RULES, now: at, evaluatedAt: at }).findings;
}

it('with every call allowed, the snapshot gives the same findings as the account it was read from', async () => {
  const { out } = buildSnapshot([], 'all');
  const snapshot = JSON.parse(readFileSync(out, 'utf8')) as { calls: unknown };
  expect(snapshot.calls).toEqual({});
  expect(verdicts(await audit(out))).toEqual(verdicts(await audit(DEMO)));
});

it.each([
  {
    deny: 'ec2 describe-network-acls',
    permission: 'ec2:DescribeNetworkAcls',
    error: 'UnauthorizedOperation',
    rule: 'network-path',
  },
  {
    deny: 'iam get-account-authorization-details',
    permission: 'iam:GetAccountAuthorizationDetails',
    error: 'AccessDenied',
    rule: 'instance-permissions',
  },
  {
    deny: 'ssm describe-activations',
    permission: 'ssm:DescribeActivations',
    error: 'AccessDeniedException',
    rule: 'activations',
  },
])(
  'a denied $permission is recorded in calls, its section left out, and its findings are ERROR naming it',
  async ({ deny, permission, error, rule }) => {
    const { out, stderr } = buildSnapshot([deny], permission.replace(':', '-'));
    const snapshot = JSON.parse(readFileSync(out, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(snapshot.calls).toEqual({ [permission]: { status: 'denied', error } });
    expect(JSON.stringify(snapshot)).not.toContain('null,');
    expect(stderr).toContain(`${permission} denied`);
    const findings = await audit(out);
    const denied = findings.filter((f) => f.ruleId === rule && f.reason === 'API_CALL_DENIED');
    expect(denied.length).toBeGreaterThan(0);
    expect(denied[0]!.message).toContain(permission);
    // Nothing that needed the call is guessed: no EC2 or account finding of the rule is PASS or FAIL.
    const guessed = findings.filter(
      (f) =>
        f.ruleId === rule &&
        f.resourceType !== 'ManagedInstance' &&
        (f.status === 'PASS' || f.status === 'FAIL'),
    );
    expect(guessed).toEqual([]);
  },
);

it('the loader reads a null section as absent: with a calls entry it is denied, without one not collected', () => {
  const base = JSON.parse(readFileSync(DEMO, 'utf8')) as Record<string, Record<string, unknown>>;
  const denied = parseSnapshot({
    ...base,
    calls: { 'ec2:DescribeNetworkAcls': { status: 'denied', error: 'UnauthorizedOperation' } },
    ec2: { ...base.ec2, NetworkAcls: null },
  });
  expect(denied.ec2?.NetworkAcls).toBeUndefined();
  const findings = auditSnapshot(denied, {
    rules: RULES,
    now: at,
    evaluatedAt: at,
    ruleIds: ['network-path'],
  }).findings;
  expect(findings.some((f) => f.reason === 'API_CALL_DENIED')).toBe(true);
  const missing = parseSnapshot({ ...base, ec2: { ...base.ec2, NetworkAcls: null }, iam: null });
  const notCollected = auditSnapshot(missing, { rules: RULES, now: at, evaluatedAt: at }).findings;
  expect(notCollected.some((f) => f.reason === 'SECTION_NOT_COLLECTED')).toBe(true);
});
