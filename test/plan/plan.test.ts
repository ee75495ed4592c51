import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RULES } from '../../rules';
import { BLOCKING_RULES, buildPlan, type FixPlan } from '../../scripts/ssm-audit/plan';
import { planScript } from '../../scripts/ssm-audit/plan-command';
import { auditSnapshot } from '../../shared/engine/audit';
import type { Finding } from '../../shared/model';
import { loadSnapshotFile } from '../../shared/snapshot/load';
import type { Snapshot } from '../../shared/snapshot/schema';
import { runCli } from '../support/cli-run';
import { applyFixes } from '../support/apply-fix';

/** `ssm-audit plan` over the demo fleet (issue 14 item 4): ranking, figures, script, and the re-audit. */

const DEMO = 'test/fixtures/demo/demo-fleet.json';

let snapshot: Snapshot;
let plan: FixPlan;

const auditOf = (s: Snapshot) => {
  const now = new Date(s.collectedAt);
  return auditSnapshot(s, { rules: RULES, now, evaluatedAt: now }).findings;
};

/** The nodes with no failing prerequisite (what a fix can change), among the plan's counted nodes. */
const withoutBlockingFailure = (findings: readonly Finding[], nodes: ReadonlySet<string>) => {
  const blocked = new Set(
    findings
      .filter((f) => (BLOCKING_RULES as readonly string[]).includes(f.ruleId))
      .filter((f) => f.status === 'FAIL' || f.status === 'ERROR')
      .map((f) => f.resourceId),
  );
  return new Set([...nodes].filter((id) => !blocked.has(id)));
};

const run = (args: string[]) => runCli('plan', args);

beforeAll(async () => {
  snapshot = await loadSnapshotFile(DEMO);
  plan = buildPlan(auditOf(snapshot), snapshot);
});

describe('the ranking over the demo fleet', () => {
  it('counts the fleet as the report does and says how far the plan gets', () => {
    expect(plan.totals).toEqual({
      EC2Instance: { total: 43, manageable: 26 },
      ManagedInstance: { total: 844, manageable: 838 },
    });
    expect(plan.steps).toHaveLength(14);
    expect(plan.steps.at(-1)!.after).toEqual({ EC2Instance: 39, ManagedInstance: 841 });
  });

  it('ranks by nodes made fully manageable, then fewest commands, then id', () => {
    const first = plan.steps.slice(0, 4).map((s) => [s.fix.id, s.unblocked.length]);
    expect(first).toEqual([
      ['hybrid-role:SSMHybridRole-kiosk', 2],
      ['vpc-endpoints:vpc-0f5f005143f23ed1f', 2],
      ['vpc-endpoints:vpc-0cd7916a123f0ce67', 2],
      ['imdsv2:eu-west-1', 1],
    ]);
    expect(plan.steps[0]!.unblocked.sort()).toEqual(['mi-04ba2b7a10112921a', 'mi-0d93087745bce83c2']);
    // Gains never grow down the list (a fix completing nothing alone is followed by the one that does).
    const gains = plan.steps.map((s) => s.unblocked.length).filter((n) => n > 0);
    expect([...gains].sort((a, b) => b - a)).toEqual(gains);
  });

  it('needs every fix of a node before counting it: reporting-1 needs the core policy and the S3 grant', () => {
    const attach = plan.steps.find(
      (s) => s.fix.id === 'attach-policy:reporting-role:AmazonSSMManagedInstanceCore',
    )!;
    const grant = plan.steps.find((s) => s.fix.id === 's3-policy:reporting-role')!;
    expect(attach.unblocked).toEqual([]);
    expect(grant.rank).toBe(attach.rank + 1);
    expect(grant.unblocked).toEqual(['i-046489cbaa6873517']);
  });

  it('lists what no fix of the plan clears: an unsupported OS, a deliberate Deny, an agent that is not running', () => {
    const held = new Map(plan.heldBack.map((h) => [h.nodeId, h.reasons.join(' ')]));
    expect(held.get('i-0633fb896ce31d15d')).toMatch(/supported-os OS_UNSUPPORTED/);
    expect(held.get('i-02f585bc7327686c4')).toMatch(/explicitly denies agent actions: a person must decide/);
    expect(held.get('i-086e7d49b48ba32c8')).toMatch(/managed-status CONNECTION_LOST/);
    expect(plan.heldBack).toHaveLength(7);
  });

  it('fills the commands with the real ids', () => {
    const endpoints = plan.steps.find((s) => s.fix.id === 'vpc-endpoints:vpc-0cd7916a123f0ce67')!.fix;
    const lines = endpoints.commands.map((c) => c.argv.join(' '));
    expect(lines).toContain(
      'aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-021425804eaefcac0 --private-dns-enabled',
    );
    expect(
      lines.some(
        (l) => l.includes('create-vpc-endpoint') && l.includes('com.amazonaws.eu-west-1.ec2messages'),
      ),
    ).toBe(true);
    const nacl = plan.steps.find((s) => s.fix.id === 'nacl-allow:acl-0857dbc7c47006eec:egress-443')!.fix;
    expect(nacl.commands[0]!.argv.join(' ')).toBe(
      'aws ec2 create-network-acl-entry --network-acl-id acl-0857dbc7c47006eec --egress --rule-number 89 --protocol tcp --port-range From=443,To=443 --cidr-block 0.0.0.0/0 --rule-action allow',
    );
    expect(plan.otherFixes.map((f) => f.id)).toContain(
      'renew-activation:85dca8b8-49cd-466f-a5c8-7663bb28d6d4',
    );
  });
});

describe('applying the plan to the snapshot', () => {
  const counted = () =>
    new Set([
      ...plan.heldBack.map((h) => h.nodeId),
      ...managedAfter(plan, 0),
      ...plan.steps.flatMap((s) => s.unblocked),
    ]);
  const managedAfter = (p: FixPlan, n: number) => {
    const before = withoutBlockingFailure(auditOf(snapshot), allNodes);
    return new Set([...before, ...p.steps.slice(0, n).flatMap((s) => s.unblocked)]);
  };
  let allNodes: Set<string>;
  beforeAll(() => {
    allNodes = new Set(
      auditOf(snapshot)
        .filter(
          (f) =>
            f.ruleId === 'managed-status' &&
            (f.status !== 'NOT_APPLICABLE' || f.reason === 'REGISTRATION_PENDING'),
        )
        .map((f) => f.resourceId),
    );
  });

  it.each([0, 1, 2, 3, 6, 10, 12, 13, 14])(
    'after the first %i fixes, the re-audit clears exactly the counted nodes',
    (n) => {
      const fixed = applyFixes(
        snapshot,
        plan.steps.slice(0, n).map((s) => s.fix),
      );
      const reaudit = withoutBlockingFailure(auditOf(fixed), allNodes);
      // Nodes held back for the agent (CONNECTION_LOST with every prerequisite passing) have no failing
      // prerequisite before or after: they are not the plan's to count.
      const agentOnly = new Set(
        plan.heldBack
          .filter((h) => h.reasons.every((r) => r.startsWith('managed-status')))
          .map((h) => h.nodeId),
      );
      const expected = managedAfter(plan, n);
      expect([...reaudit].filter((id) => !agentOnly.has(id)).sort()).toEqual(
        [...expected].filter((id) => !agentOnly.has(id)).sort(),
      );
      const row = n === 0 ? undefined : plan.steps[n - 1]!.after;
      if (row)
        expect((row.EC2Instance ?? 0) + (row.ManagedInstance ?? 0)).toBe(
          [...expected].filter((id) => !agentOnly.has(id)).length,
        );
      expect(counted().size).toBe(allNodes.size);
    },
  );
});

describe('--format sh', () => {
  let script: string;
  beforeAll(() => {
    script = planScript(plan);
  });

  it('is a reviewed bash script: strict mode, dry run by default, each fix commented with the nodes it unblocks', () => {
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!/usr/bin/env bash');
    expect(lines).toContain('set -euo pipefail');
    expect(lines).toContain('DRY_RUN=${DRY_RUN:-1}');
    expect(script).toMatch(
      /^# 1\. Let ssm\.amazonaws\.com assume the hybrid service role SSMHybridRole-kiosk\n#   \[hybrid-role:SSMHybridRole-kiosk\]\n# Unblocks 2: mi-04ba2b7a10112921a, mi-0d93087745bce83c2\n/m,
    );
    // Every command runs through run/capture; none runs bare.
    const commands = lines.filter((l) => /^(run|capture) /.test(l));
    expect(commands.length).toBe(plan.steps.reduce((n, s) => n + s.fix.commands.length, 0));
    expect(lines.filter((l) => /^aws /.test(l))).toEqual([]);
  });

  it('only prints its commands unless DRY_RUN=0 (run by bash, with no aws on the PATH)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plan-sh-'));
    const file = path.join(dir, 'plan.sh');
    writeFileSync(file, script);
    execFileSync('bash', ['-n', file]);
    const out = execFileSync('bash', [file], {
      env: { PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain(
      '+ aws ec2 create-network-acl-entry --network-acl-id acl-0857dbc7c47006eec --egress --rule-number 89',
    );
    // The security group created for new endpoints is used by the next commands (a placeholder in a dry run).
    expect(out).toMatch(
      /\+ aws ec2 create-vpc-endpoint .* --security-group-ids sg-DRYRUN --private-dns-enabled/,
    );
    expect(out.split('\n').filter((l) => l.startsWith('+ aws')).length).toBe(
      plan.steps.reduce((n, s) => n + s.fix.commands.length, 0),
    );
  });
});

describe('the plan command', () => {
  it('prints the table: before, after, then the ranked fixes', async () => {
    const { code, out } = await run(['--snapshot', DEMO, '--width', '100']);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[1]).toBe('From snapshot 2026-11-23T10:00:00Z.');
    expect(lines[2]).toBe(
      'Before any fix, 26 of 43 running instances and 838 of 844 hybrid nodes are manageable.',
    );
    expect(lines[3]).toBe(
      'After these 14 fixes, 39 of 43 running instances and 841 of 844 hybrid nodes are manageable.',
    );
    expect(out).toMatch(/^1\. Let ssm\.amazonaws\.com assume the hybrid service role SSMHybridRole-kiosk/m);
    expect(out).toContain('Not made manageable by this plan (7)');
    // Text wraps to the width; only a command may be longer.
    for (const line of lines) if (!/^\s+\$ /.test(line)) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('prints JSON with the steps and the summary', async () => {
    const { code, out } = await run(['--snapshot', DEMO, '--format', 'json']);
    expect(code).toBe(0);
    const json = JSON.parse(out) as {
      summary: string;
      steps: { fix: { id: string; commands: { line: string }[] } }[];
    };
    expect(json.summary).toBe(
      'after these 14 fixes, 39 of 43 running instances and 841 of 844 hybrid nodes are manageable',
    );
    expect(json.steps[0]!.fix.commands[0]!.line).toMatch(
      /^aws iam update-assume-role-policy --role-name SSMHybridRole-kiosk --policy-document '\{/,
    );
  });

  it('rejects a bad format and a snapshot with live options', async () => {
    const bad = await run(['--snapshot', DEMO, '--format', 'yaml']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('invalid --format yaml: expected table, json or sh');
    const both = await run(['--snapshot', DEMO, '--region', 'eu-west-1']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--snapshot plans from a saved snapshot');
  });
});

describe('instances launched from a launch template', () => {
  /** The demo fleet with the instances the IMDSv2 fix covers tagged as EC2 tags launches from a template. */
  const tagged = (versions: string[]) => {
    const copy = JSON.parse(JSON.stringify(snapshot)) as Snapshot;
    const imdsv2 = plan.steps.find((s) => s.fix.change.kind === 'imdsv2')!.fix.change as {
      instanceIds: string[];
    };
    let n = 0;
    for (const r of copy.ec2!.Reservations!)
      for (const i of r.Instances)
        if (
          imdsv2.instanceIds.includes(i.InstanceId) ||
          (n > 0 && n < versions.length && i.State.Name === 'running')
        ) {
          i.Tags = [
            ...(i.Tags ?? []),
            { Key: 'aws:ec2launchtemplate:id', Value: 'lt-0abc1234def567890' },
            { Key: 'aws:ec2launchtemplate:version', Value: versions[Math.min(n, versions.length - 1)]! },
          ];
          n++;
        }
    return copy;
  };

  it('gets a new default template version requiring IMDSv2, based on the version they were launched from', () => {
    const s = tagged(['3']);
    const fix = buildPlan(auditOf(s), s).steps.find((st) => st.fix.change.kind === 'imdsv2')!.fix;
    expect(fix.title).toMatch(
      /^Require IMDSv2 on the instances and on new launches from lt-0abc1234def567890 /,
    );
    const [create, modify, ...instances] = fix.commands;
    expect(create!.argv.slice(0, 7)).toEqual([
      'aws',
      'ec2',
      'create-launch-template-version',
      '--launch-template-id',
      'lt-0abc1234def567890',
      '--source-version',
      '3',
    ]);
    expect(JSON.parse(create!.argv[create!.argv.indexOf('--launch-template-data') + 1]!)).toEqual({
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
    });
    expect(create!.assign).toEqual({ variable: 'VERSION_LT_0ABC1234DEF567890', placeholder: '0' });
    expect(modify!.argv).toEqual([
      'aws',
      'ec2',
      'modify-launch-template',
      '--launch-template-id',
      'lt-0abc1234def567890',
      '--default-version',
      '$VERSION_LT_0ABC1234DEF567890',
    ]);
    // The running instances are still changed one by one: a template only serves later launches.
    expect(instances.map((c) => c.argv[2])).toEqual(instances.map(() => 'modify-instance-metadata-options'));
    expect(instances.length).toBeGreaterThan(0);
  });

  it('bases the new version on the default one when the instances were launched from different versions', () => {
    const s = tagged(['3']);
    // A twin of the IMDSv2 instance, launched from version 4 of the same template.
    const reservation = s.ec2!.Reservations!.find((r) =>
      r.Instances.some((i) => i.Tags?.some((t) => t.Key === 'aws:ec2launchtemplate:id')),
    )!;
    const original = reservation.Instances.find((i) =>
      i.Tags?.some((t) => t.Key === 'aws:ec2launchtemplate:id'),
    )!;
    const twin = JSON.parse(JSON.stringify(original)) as typeof original;
    twin.InstanceId = 'i-0feedfacefeedface';
    twin.Tags = twin.Tags!.map((t) => (t.Key === 'aws:ec2launchtemplate:version' ? { ...t, Value: '4' } : t));
    reservation.Instances.push(twin);
    const fix = buildPlan(auditOf(s), s).steps.find((st) => st.fix.change.kind === 'imdsv2')!.fix;
    expect(fix.change).toMatchObject({
      launchTemplates: [{ launchTemplateId: 'lt-0abc1234def567890', versions: ['3', '4'] }],
    });
    expect(fix.nodes).toContain('i-0feedfacefeedface');
    const creates = fix.commands.filter((c) => c.argv[2] === 'create-launch-template-version');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.argv[creates[0]!.argv.indexOf('--source-version') + 1]).toBe('$Default');
    // In the script, $Default is a literal for the AWS CLI, the captured version a shell variable.
    const script = planScript(buildPlan(auditOf(s), s));
    expect(script).toContain("--source-version '$Default'");
    expect(script).toContain('--default-version "$VERSION_LT_0ABC1234DEF567890"');
  });

  it('runs with DRY_RUN=0 as planned: each captured id feeds the commands after it', () => {
    const s = tagged(['3']);
    const tagPlan = buildPlan(auditOf(s), s);
    const dir = mkdtempSync(path.join(tmpdir(), 'plan-run-'));
    const log = path.join(dir, 'calls.log');
    // A stand-in for the AWS CLI: logs each call's words, answers the calls whose output is captured.
    writeFileSync(
      path.join(dir, 'aws'),
      [
        '#!/usr/bin/env bash',
        `printf '%s\\n' "$*" >> ${JSON.stringify(log)}`,
        'case "$2" in create-launch-template-version) echo 7 ;; create-security-group) echo sg-0fedcba9876543210 ;; esac',
      ].join('\n'),
      { mode: 0o755 },
    );
    const file = path.join(dir, 'plan.sh');
    writeFileSync(file, planScript(tagPlan));
    execFileSync('bash', [file], {
      env: { PATH: `${dir}:/usr/bin:/bin`, DRY_RUN: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const calls = require('node:fs').readFileSync(log, 'utf8').trimEnd().split('\n') as string[];
    const expected = tagPlan.steps.flatMap((st) =>
      st.fix.commands.map((c) =>
        c.argv
          .slice(1)
          .map((w) => (w.startsWith('$VERSION_') ? '7' : w.startsWith('$SG_') ? 'sg-0fedcba9876543210' : w))
          .join(' '),
      ),
    );
    expect(calls).toEqual(expected);
    expect(calls).toContain(
      'ec2 modify-launch-template --launch-template-id lt-0abc1234def567890 --default-version 7',
    );
  });
});
